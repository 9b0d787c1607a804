#!/bin/sh
# Installs the system libraries grounding needs, where this machine allows it, and names the
# exact command where it does not.
#   sh system-packages.sh run    speech (espeak-ng) and sound output (PortAudio)
#   sh system-packages.sh test   the same, plus the espeak-ng command and a PulseAudio server
#                                that the tests start privately (no sound card needed), tmux,
#                                sox, and zsh and fish for the completion tests
set -eu
purpose=${1:-run}

case "$(uname -s)" in
  Darwin)
    # sounddevice's macOS wheel bundles PortAudio; pyttsx3 speaks with macOS's own voices.
    [ "$purpose" = test ] && echo "Note: the audio tests need PulseAudio and espeak-ng, which are Linux-only; they are skipped here."
    exit 0 ;;
  MINGW*|MSYS*|CYGWIN*)
    # sounddevice's Windows wheel bundles PortAudio; pyttsx3 speaks with SAPI5.
    exit 0 ;;
esac

if command -v apt-get >/dev/null 2>&1; then
  need="libportaudio2 libespeak-ng1 espeak-ng-data"
  [ "$purpose" = test ] && need="$need espeak-ng pulseaudio pulseaudio-utils libasound2-plugins tmux sox zsh fish"
  missing=""
  for pkg in $need; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
  done
  [ -z "$missing" ] && exit 0
  install="apt-get install -y --no-install-recommends$missing"
  if [ "$(id -u)" = 0 ]; then sudo=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo "
  else
    echo "grounding needs these system packages:$missing"
    echo "Install them with: sudo apt-get update && sudo $install"
    exit 1
  fi
  echo "Installing system packages:$missing"
  DEBIAN_FRONTEND=noninteractive ${sudo}apt-get update -qq
  DEBIAN_FRONTEND=noninteractive ${sudo}$install -qq >/dev/null
elif command -v dnf >/dev/null 2>&1; then
  need="portaudio espeak-ng"
  [ "$purpose" = test ] && need="$need pulseaudio pulseaudio-utils alsa-plugins-pulseaudio sox zsh fish"
  if [ "$(id -u)" = 0 ]; then dnf install -y $need >/dev/null
  else echo "If anything is missing, install it with: sudo dnf install -y $need"; fi
else
  echo "Make sure these are installed: PortAudio, espeak-ng$( [ "$purpose" = test ] && echo ', PulseAudio with its command-line tools, the ALSA pulse plugin, sox, zsh and fish')."
fi
