#!/usr/bin/env bash
# The main job: build Kestrel, fetch Debian's i386 installer (netboot
# kernel and initrd, unmodified) and boot it on the serial console in this
# terminal, up to its "Select a language" prompt where you can answer.
# Ctrl-C stops Kestrel.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh
meson setup build --buildtype=release >/dev/null 2>&1 || true
ninja -C build -j"$(nproc 2>/dev/null || echo 2)" kestrel >/dev/null
guests=$(scripts/fetch-guests.sh)
exec build/kestrel -m 512 -kernel "$guests/d-i-linux" -initrd "$guests/d-i-initrd.gz" \
  -append "console=ttyS0,115200n8" -nographic
