#!/usr/bin/env bash
# Install the Debian packages Kestrel builds and tests with, if missing.
# Usage: scripts/setup-deps.sh   (needs root or sudo for apt-get)
set -euo pipefail

pkgs=(
  meson ninja-build pkg-config gcc gcc-multilib nasm
  libcapstone-dev libcmocka-dev libjson-c-dev zlib1g-dev libzstd-dev
  cpio gzip gawk gdb clang libclang-rt-14-dev python3
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup-deps: need root to install: ${missing[*]}" >&2; exit 1
  fi
fi
echo "setup-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
