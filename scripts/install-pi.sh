#!/usr/bin/env bash
# Install voiceguide as a system service on a Raspberry Pi (or any Debian-based box): system
# packages, a venv in /opt/voiceguide, the `voiceguide` user, the systemd unit and a default
# config in /etc/voiceguide. Safe to run again: it converges on the same result and never
# overwrites an existing config. See docs/raspberry-pi.md.
set -euo pipefail
umask 022 # the venv and config must stay readable by the service user

usage() {
  cat <<'EOF'
Usage: sudo scripts/install-pi.sh [options]

Installs voiceguide from this checkout as the system service voiceguide.service.

Options:
  --uninstall   remove the service, the venv and the voiceguide user; keep the settings
                (/etc/voiceguide, unit overrides) and the session history (/var/lib/voiceguide)
  --purge       like --uninstall, and also delete the settings and the history
  --dry-run     print every action without doing any of it
  --root DIR    install into DIR as if it were / (for tests and image building): files go
                under DIR; apt, useradd, chown and service start are printed, not run
  --skip-venv   do not create the venv or install voiceguide into it (for tests)
  --no-start    enable the service but do not start it now
  -h, --help    show this help
EOF
}

# Runtime part of scripts/setup.sh's package list (its test-only packages are left out).
APT_PACKAGES=(
  python3 python3-venv python3-dev gcc        # the venv, and builds of wheels a Pi may lack
  espeak-ng                                   # speech synthesis (driven by pyttsx3)
  libportaudio2 libasound2-plugins alsa-utils # sounddevice -> PortAudio -> ALSA
  libspeexdsp1                                # echo cancellation
)
SERVICE_USER=voiceguide
UNIT_NAME=voiceguide.service
PREFIX_DIR=/opt/voiceguide
VENV_DIR=$PREFIX_DIR/venv
UNIT_PATH=/etc/systemd/system/$UNIT_NAME
CONFIG_DIR=/etc/voiceguide
CONFIG_PATH=$CONFIG_DIR/config.yaml
STATE_DIR=/var/lib/voiceguide
CACHE_DIR=/var/cache/voiceguide
DOC_PATH=$PREFIX_DIR/share/doc/raspberry-pi.md
MODULES_LOAD_PATH=/etc/modules-load.d/voiceguide.conf
COMMAND_LINK=/usr/local/bin/voiceguide
# Exact versions of everything pip installs (tests/test_install_script.py keeps it complete).
CONSTRAINTS=constraints/pi.txt

MODE=install
PURGE=0
DRY_RUN=0
ROOT=""
SKIP_VENV=0
START=1

say() { printf 'install-pi: %s\n' "$*"; }
die() {
  printf 'install-pi: error: %s\n' "$*" >&2
  exit 1
}

while (($#)); do
  case $1 in
    --uninstall) MODE=uninstall ;;
    --purge) MODE=uninstall PURGE=1 ;;
    --dry-run) DRY_RUN=1 ;;
    --root)
      (($# >= 2)) || die "--root needs a directory"
      ROOT=$2
      shift
      ;;
    --root=*) ROOT=${1#--root=} ;;
    --skip-venv) SKIP_VENV=1 ;;
    --no-start) START=0 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done

if [[ -n $ROOT ]]; then
  ROOT=$(realpath -m -- "$ROOT")
  [[ $ROOT != / ]] || die "--root / is the running system; leave --root out instead"
fi
if ((!DRY_RUN)) && [[ -z $ROOT ]] && ((EUID != 0)); then
  die "must run as root (try: sudo $0)"
fi

CHECKOUT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ -f $CHECKOUT/pyproject.toml && -f $CHECKOUT/systemd/$UNIT_NAME && -f $CHECKOUT/$CONSTRAINTS ]] ||
  die "run this script from a voiceguide checkout ($CHECKOUT has no pyproject.toml)"

# ---- how actions are carried out ----------------------------------------------------------
quote() {
  local out
  printf -v out '%q ' "$@"
  printf '%s' "${out% }"
}

# Change something: shown and done, or only shown under --dry-run.
act() {
  if ((DRY_RUN)); then
    printf '[dry-run] %s\n' "$(quote "$@")"
    return 0
  fi
  printf '+ %s\n' "$(quote "$@")"
  "$@"
}

# Change the host itself (packages, users, ownership, running services). With --root these
# would reach outside DIR, so they are only shown.
host_act() {
  if [[ -n $ROOT ]]; then
    printf '[skipped: --root] %s\n' "$(quote "$@")"
    return 0
  fi
  act "$@"
}

# A path on the target system (under --root DIR when given).
p() { printf '%s%s' "$ROOT" "$1"; }

systemd_running() { [[ -z $ROOT && -d /run/systemd/system ]]; }

user_exists() { [[ -z $ROOT ]] && getent passwd "$SERVICE_USER" >/dev/null; }

# ---- install steps ------------------------------------------------------------------------
install_packages() {
  local missing=() pkg
  [[ -n $ROOT ]] || command -v apt-get >/dev/null ||
    die "apt-get not found: this installer is for Raspberry Pi OS, Debian and Ubuntu"
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$pkg")
  done
  if [[ -n $ROOT ]]; then
    # The root's own package database is not ours to change: show the full list it needs.
    host_act apt-get install -y --no-install-recommends "${APT_PACKAGES[@]}"
  elif ((${#missing[@]} == 0)); then
    say "system packages: all present"
  else
    say "system packages: installing ${missing[*]}"
    act apt-get update -qq
    act env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}"
  fi
}

# numpy, soxr, pocketsphinx, PyYAML, cffi, ml_dtypes, ai-edge-litert and pyopen-wakeword
# publish no 32-bit ARM wheels, so on a 32-bit userland pip would try to compile them (and
# fail, or take hours). The userland counts, not the kernel: 32-bit Raspberry Pi OS runs a
# 64-bit kernel on a Pi 4, where `uname -m` says aarch64 but `getconf LONG_BIT` says 32.
check_64bit() {
  local bits machine
  bits=$(getconf LONG_BIT 2>/dev/null || echo unknown)
  machine=$(uname -m 2>/dev/null || echo unknown)
  [[ $bits == 64 ]] ||
    die "voiceguide needs a 64-bit OS (Raspberry Pi OS 64-bit); this one has a $bits-bit" \
      "userland on $machine, and numpy, soxr, pocketsphinx and PyYAML have no 32-bit ARM wheels" \
      "(see docs/raspberry-pi.md)"
}

check_python() {
  ((SKIP_VENV)) && return 0
  command -v python3 >/dev/null || {
    ((DRY_RUN)) && return 0 # apt would have installed it
    die "python3 is missing"
  }
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    die "voiceguide needs Python 3.11 or newer (Raspberry Pi OS/Debian 12 or later); this" \
      "system has $(python3 -c 'import platform; print(platform.python_version())')"
}

create_user() {
  getent group audio >/dev/null || [[ -n $ROOT ]] || ((DRY_RUN)) ||
    die "the 'audio' group is missing; is alsa-utils installed?"
  if user_exists; then
    if id -nG "$SERVICE_USER" | tr ' ' '\n' | grep -qx audio; then
      say "user $SERVICE_USER: present"
    else
      act usermod --append --groups audio "$SERVICE_USER"
    fi
  else
    host_act useradd --system --user-group --no-create-home --home-dir "$STATE_DIR" \
      --shell /usr/sbin/nologin --groups audio --comment "voiceguide service" "$SERVICE_USER"
  fi
}

install_venv() {
  if ((SKIP_VENV)); then
    say "venv: skipped (--skip-venv); the service cannot start without $VENV_DIR"
    return 0
  fi
  if [[ -x $(p "$VENV_DIR/bin/python") ]]; then
    say "venv: $VENV_DIR exists, updating voiceguide in it"
  else
    act mkdir -p "$(p "$PREFIX_DIR")"
    act python3 -m venv "$(p "$VENV_DIR")"
  fi
  # Build from a copy: an in-tree build as root would leave root-owned build/ and
  # *.egg-info folders in the user's checkout. Downloaded models and local venvs are not
  # part of the package and are left out.
  local build=/tmp/voiceguide-build
  ((DRY_RUN)) || build=$(mktemp -d /tmp/voiceguide-build.XXXXXX)
  act tar -C "$CHECKOUT" -c -f "$build/source.tar" --exclude=./.git --exclude=./.venv \
    --exclude=./models --exclude=./build --exclude='*.egg-info' --exclude=__pycache__ \
    --exclude=./.pytest_cache --exclude=./.ruff_cache --exclude=./.hypothesis \
    --exclude=./bench/out .
  act mkdir -p "$build/source"
  act tar -C "$build/source" -x -f "$build/source.tar"
  # Every pip run takes the exact versions in $CONSTRAINTS, including pip and setuptools;
  # voiceguide (and the few dependencies that ship only as sources) are then built with that
  # setuptools instead of whatever a build-isolation environment would download.
  local pins=$CHECKOUT/$CONSTRAINTS
  act "$(p "$VENV_DIR/bin/python")" -m pip install --quiet -c "$pins" --upgrade pip setuptools
  act "$(p "$VENV_DIR/bin/python")" -m pip install --quiet -c "$pins" --no-build-isolation \
    --upgrade "$build/source"
  ((DRY_RUN)) || rm -rf "$build"
  if [[ -e $(p "$COMMAND_LINK") && ! -L $(p "$COMMAND_LINK") ]]; then
    say "left $COMMAND_LINK alone: it is not a link made by this script"
  else
    act mkdir -p "$(p "${COMMAND_LINK%/*}")"
    act ln -sfn "$VENV_DIR/bin/voiceguide" "$(p "$COMMAND_LINK")"
  fi
}

# Copy a file only when its content differs, so a second run changes nothing.
install_file() {
  local mode=$1 src=$2 dest=$3
  if cmp -s "$src" "$(p "$dest")"; then
    say "$dest: up to date"
  else
    act install -D -m "$mode" "$src" "$(p "$dest")"
  fi
}

# Like install_file, for content given on stdin.
install_text() {
  local mode=$1 dest=$2 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  install_file "$mode" "$tmp" "$dest"
  rm -f "$tmp"
}

# The unit's DeviceAllow=char-alsa is looked up in /proc/devices when the service starts, and
# the "alsa" major is only listed once the sound core is loaded. On a box whose only card is a
# USB one plugged in later, the service would otherwise start with no sound devices allowed.
modules_load() {
  cat <<'EOF'
# Written by voiceguide's install-pi.sh: load the ALSA core at boot so that
# voiceguide.service can use a USB sound card plugged in after it started.
snd
EOF
}

default_config() {
  cat <<EOF
# voiceguide settings for the system service. Every key is described in
# docs/configuration.md; anything left out keeps its default.
# scripts/install-pi.sh wrote this file once and never overwrites it.
# After a change: sudo systemctl restart voiceguide

# Where the service keeps its data (the directories systemd creates for it).
history_db: $STATE_DIR/history.db
cache_dir: $CACHE_DIR
models_dir: $STATE_DIR/models

# Speaker and microphone: part of the name, or the number, shown by \`voiceguide devices\`.
# Without these the ALSA default device is used.
#output_device: USB
#input_device: USB

#voice: en-us
#rate_wpm: 160
#volume: 0.8
#engine: pocketsphinx
log_level: info
EOF
}

install_config() {
  [[ -d $(p "$CONFIG_DIR") ]] || act mkdir -p "$(p "$CONFIG_DIR")"
  if [[ -e $(p "$CONFIG_PATH") ]]; then
    say "$CONFIG_PATH: kept (your settings are never overwritten)"
  elif ((DRY_RUN)); then
    printf '[dry-run] write the default settings to %s\n' "$(p "$CONFIG_PATH")"
  else
    printf '+ write the default settings to %s\n' "$(p "$CONFIG_PATH")"
    default_config >"$(p "$CONFIG_PATH")"
    chmod 0644 "$(p "$CONFIG_PATH")"
  fi
}

# systemd creates these at start too; making them now lets `voiceguide models install` run
# as the service user before the first start.
install_data_dirs() {
  local dir
  for dir in "$STATE_DIR" "$CACHE_DIR"; do
    [[ -d $(p "$dir") ]] || act install -d -m 0700 "$(p "$dir")"
    # -R also repairs a history kept from an earlier install whose user had another uid.
    if user_exists || ((DRY_RUN)) || [[ -n $ROOT ]]; then
      host_act chown -R "$SERVICE_USER:$SERVICE_USER" "$dir"
    fi
  done
}

enable_service() {
  if [[ -n $ROOT ]]; then
    # systemctl --root only creates the [Install] symlinks inside DIR.
    act systemctl --root="$ROOT" enable "$UNIT_NAME"
    host_act systemctl daemon-reload
    ((START)) && host_act systemctl restart "$UNIT_NAME"
    return 0
  fi
  if ! systemd_running; then
    act systemctl enable "$UNIT_NAME"
    say "systemd is not running here (chroot or container): the service starts at next boot"
    return 0
  fi
  act systemctl daemon-reload
  act systemctl enable "$UNIT_NAME"
  ((START)) || {
    say "not started (--no-start): sudo systemctl start voiceguide"
    return 0
  }
  # restart, not start: a second run must also load the freshly installed code.
  say "starting the service (the first start renders all speech and can take minutes)"
  act systemctl restart "$UNIT_NAME" ||
    die "the service did not start; see 'journalctl -u voiceguide -e' or run 'voiceguide doctor'"
}

do_install() {
  check_64bit
  install_packages
  check_python
  create_user
  install_venv
  install_file 0644 "$CHECKOUT/systemd/$UNIT_NAME" "$UNIT_PATH"
  install_file 0644 "$CHECKOUT/docs/raspberry-pi.md" "$DOC_PATH"
  modules_load | install_text 0644 "$MODULES_LOAD_PATH"
  install_config
  install_data_dirs
  enable_service
  ((DRY_RUN)) && say "dry run: nothing was changed" && return 0
  say "done. Logs: journalctl -u voiceguide -f   Check the set-up: voiceguide doctor"
}

# ---- uninstall ----------------------------------------------------------------------------
remove_path() {
  if [[ -e $(p "$1") || -L $(p "$1") ]]; then
    act rm -rf "$(p "$1")"
  fi
}

do_uninstall() {
  if [[ -n $ROOT ]]; then
    [[ -e $(p "$UNIT_PATH") ]] && act systemctl --root="$ROOT" disable "$UNIT_NAME"
    host_act systemctl stop "$UNIT_NAME"
  elif [[ -e $UNIT_PATH ]]; then
    if systemd_running; then
      act systemctl disable --now "$UNIT_NAME"
    else
      act systemctl disable "$UNIT_NAME"
    fi
  fi
  remove_path "$UNIT_PATH"
  remove_path "$MODULES_LOAD_PATH"
  systemd_running && act systemctl daemon-reload
  systemd_running && { act systemctl reset-failed "$UNIT_NAME" 2>/dev/null || true; }
  if [[ -L $(p "$COMMAND_LINK") && $(readlink "$(p "$COMMAND_LINK")") == "$VENV_DIR"/* ]]; then
    act rm -f "$(p "$COMMAND_LINK")"
  fi
  remove_path "$PREFIX_DIR"
  remove_path "$CACHE_DIR" # rebuilt on demand
  if [[ -n $ROOT ]] || user_exists; then
    host_act userdel "$SERVICE_USER"
  fi
  if ((PURGE)); then
    remove_path "$UNIT_PATH.d" # local overrides made with `systemctl edit voiceguide`
    remove_path "$CONFIG_DIR"
    remove_path "$STATE_DIR"
  else
    say "kept $CONFIG_DIR (settings) and $STATE_DIR (session history); --purge deletes them"
  fi
  say "system packages were left installed; other programs may use them"
  ((DRY_RUN)) && say "dry run: nothing was changed" && return 0
  say "voiceguide is uninstalled"
}

if [[ $MODE == install ]]; then do_install; else do_uninstall; fi
