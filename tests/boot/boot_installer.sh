#!/usr/bin/env bash
# The Debian installer (debian-installer-12-netboot-i386, unmodified) boots
# on the serial console to its language prompt.
#
# Usage: boot_installer.sh KESTREL SOURCE_ROOT
set -euo pipefail
kestrel=$1
src=$2
guests=$("$src/scripts/fetch-guests.sh")
work=$(mktemp -d)
log=$work/serial.log
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

"$kestrel" -m 512 -kernel "$guests/d-i-linux" -initrd "$guests/d-i-initrd.gz" \
  -append "console=ttyS0,115200n8" -serial stdio -nographic -no-reboot \
  < /dev/null > "$log" 2>&1 &
pid=$!
deadline=$((SECONDS + 1500))
while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
  if grep -aqE "Select a language|Choose language" "$log"; then
    echo "ok: the installer shows its language prompt after $SECONDS s"
    echo "1 passed, 0 failed"
    exit 0
  fi
  sleep 2
done
echo "FAIL: no language prompt (kestrel $(kill -0 "$pid" 2>/dev/null && echo still running || echo exited))"
tr -c '[:print:]\n' '.' < "$log" | tail -n 40
echo "0 passed, 1 failed"
exit 1
