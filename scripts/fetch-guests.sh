#!/usr/bin/env bash
# Fetch Debian's i386 guest packages by name and unpack what the tests and
# the main job boot.  Uses a private apt configuration for i386 so the
# system's dpkg architectures stay untouched; downloads live in a cache
# directory outside the source tree.
#
# Usage: scripts/fetch-guests.sh            prints the cache directory
# Environment: KESTREL_CACHE (default: ~/.cache/kestrel)
set -euo pipefail

cache=${KESTREL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kestrel}
apt_dir=$cache/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$cache/debs" "$cache/guests"

apt_opts=(
  -o "APT::Architecture=i386"
  -o "APT::Architectures::=i386"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::State::status=$apt_dir/status"
  -o "Debug::NoLocking=1"
  -q
)
touch "$apt_dir/status"

# Refresh the private package lists at most once a day.
stamp=$apt_dir/lists/.updated
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ]; then
  # A list that fails to download (a mirror mid-sync) is not fatal as long
  # as the packages below are found in the others.
  apt-get "${apt_opts[@]}" update >&2 || echo "fetch-guests: apt-get update reported errors" >&2
  touch "$stamp"
fi

# The newest 6.1 kernel image packages for 686 and 686-pae.
latest() {
  apt-cache "${apt_opts[@]}" pkgnames "$1" 2>/dev/null | grep -E "$2" | sort -V | tail -n 1
}
k686=$(latest linux-image-6.1.0- '^linux-image-6\.1\.0-[0-9]+-686$')
kpae=$(latest linux-image-6.1.0- '^linux-image-6\.1\.0-[0-9]+-686-pae$')
if [ -z "$k686" ] || [ -z "$kpae" ]; then
  echo "fetch-guests: no linux-image-6.1.0-*-686 package found" >&2
  exit 1
fi

fetch() { # package -> path of its .deb in the cache
  local pkg=$1 deb
  deb=$(ls "$cache/debs/${pkg}"_*.deb 2>/dev/null | head -n 1 || true)
  if [ -z "$deb" ]; then
    (cd "$cache/debs" && apt-get "${apt_opts[@]}" download "$pkg" >&2)
    deb=$(ls "$cache/debs/${pkg}"_*.deb | head -n 1)
  fi
  echo "$deb"
}

unpack() { # package dir
  local deb
  deb=$(fetch "$1")
  if [ ! -f "$2/.unpacked" ] || [ "$(cat "$2/.unpacked")" != "$(basename "$deb")" ]; then
    rm -rf "$2"
    mkdir -p "$2"
    dpkg-deb -x "$deb" "$2"
    basename "$deb" > "$2/.unpacked"
  fi
}

unpack debian-installer-12-netboot-i386 "$cache/guests/d-i"
unpack "$k686" "$cache/guests/686"
unpack "$kpae" "$cache/guests/686-pae"
unpack busybox-static "$cache/guests/busybox"

di=$cache/guests/d-i/usr/lib/debian-installer/images/12/i386/text/debian-installer/i386
ln -sf "$di/linux" "$cache/guests/d-i-linux"
ln -sf "$di/initrd.gz" "$cache/guests/d-i-initrd.gz"
ln -sf "$(ls "$cache"/guests/686/boot/vmlinuz-*)" "$cache/guests/vmlinuz-686"
ln -sf "$(ls "$cache"/guests/686-pae/boot/vmlinuz-*)" "$cache/guests/vmlinuz-686-pae"
echo "$cache/guests"
