#!/usr/bin/env bash
# Set up a fresh Debian/Raspberry Pi OS machine to run voiceguide: the system packages it needs,
# then a virtual environment in .venv with voiceguide (no test or training tools: scripts/test.sh
# adds those). Safe to run again. With arguments, also installs those extra apt packages and
# pip extras: `setup.sh --apt "flite sox" --extras test,train,plot` (what scripts/test.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv python3-dev gcc        # the venv, and builds of wheels a Pi may lack
  espeak-ng                                   # speech synthesis (driven by pyttsx3)
  libportaudio2 libasound2-plugins alsa-utils # sounddevice -> PortAudio -> ALSA (pulse plugin)
  libspeexdsp1                                # echo cancellation
)
EXTRAS=""
while (($#)); do
  case $1 in
    --apt) read -r -a more <<<"$2"; APT_PACKAGES+=("${more[@]}"); shift ;;
    --extras) EXTRAS="[$2]"; shift ;;
    *) echo "setup: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".${EXTRAS}"
echo "setup: ready (.venv/bin/voiceguide)"
