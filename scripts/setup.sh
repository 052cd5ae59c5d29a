#!/usr/bin/env bash
# Set up a fresh Debian/Raspberry Pi OS machine for voiceguide: system packages, then a
# virtual environment in .venv with voiceguide and its test tools. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv python3-dev gcc        # the venv, and builds of wheels a Pi may lack
  espeak-ng                                   # speech synthesis (driven by pyttsx3)
  libportaudio2 libasound2-plugins alsa-utils # sounddevice -> PortAudio -> ALSA (pulse plugin)
  pulseaudio pulseaudio-utils                 # virtual sound cards for the audio tests
  flite sox libsox-fmt-all                    # test speech and audio measurement
  libspeexdsp1                                # echo cancellation
  systemd                                     # systemd-analyze for the unit checks
)

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
.venv/bin/python -m pip install -q -e '.[test]'
echo "setup: ready (.venv/bin/voiceguide)"
