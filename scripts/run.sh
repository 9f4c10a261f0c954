#!/usr/bin/env bash
# The main job.  Until the PC machine lands (it will boot the Debian
# installer here), it builds Kestrel and runs the bare-metal benchmark
# guests on the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh
meson setup build --buildtype=release >/dev/null 2>&1 || true
ninja -C build -j"$(nproc 2>/dev/null || echo 2)" bench/mips bench/loops.bin
exec build/bench/mips build/bench/loops.bin "${1:-300}"
