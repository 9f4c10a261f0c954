#!/usr/bin/env bash
# Build Kestrel and run every test suite: the release build runs all suites,
# then an ASan+UBSan build runs the unit, sst, system, devices, gdb, fpu,
# frontend and trace suites.
# Usage: scripts/test.sh            (from anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh

jobs=$(nproc 2>/dev/null || echo 2)

meson setup build --buildtype=release -Dwerror=true --reconfigure >/dev/null 2>&1 ||
  meson setup build --buildtype=release -Dwerror=true
ninja -C build -j"$jobs"
meson test -C build --print-errorlogs --num-processes "$jobs"

meson setup build-asan --buildtype=debugoptimized -Dwerror=true \
  -Db_sanitize=address,undefined -Db_lundef=false --reconfigure >/dev/null 2>&1 ||
  meson setup build-asan --buildtype=debugoptimized -Dwerror=true \
    -Db_sanitize=address,undefined -Db_lundef=false
ninja -C build-asan -j"$jobs"
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 SST_STRIDE=${SST_STRIDE:-10} \
  KESTREL_FPU_CASES=${KESTREL_FPU_CASES:-3000} \
  meson test -C build-asan --print-errorlogs --num-processes "$jobs" --suite unit --suite sst --suite system --suite devices --suite gdb --suite fpu --suite frontend --suite trace
