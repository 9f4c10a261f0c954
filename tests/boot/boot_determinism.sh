#!/usr/bin/env bash
# Determinism: the same guest with the same inputs (a fixed RTC start) gives
# the same result.  Two boots of the 686 kernel with the busybox initramfs
# must produce byte-identical serial output, kernel timestamps included,
# and retire the same number of instructions.
#
# Usage: boot_determinism.sh KESTREL SOURCE_ROOT
set -euo pipefail
kestrel=$1
src=$2
guests=$("$src/scripts/fetch-guests.sh")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$src/scripts/make-initramfs.sh" "$guests" "$work/initrd.cpio.gz"

boot() {
  timeout 900 "$kestrel" -rtc base=2024-01-01T00:00:00 -m 256 -kernel "$guests/vmlinuz-686" \
    -initrd "$work/initrd.cpio.gz" -append "console=ttyS0" -serial stdio -nographic \
    -no-reboot -stats > "$work/serial$1.log" 2> "$work/stats$1.log" < /dev/null
}
boot 1 & p1=$!
boot 2 & p2=$!
wait "$p1"; wait "$p2"

fail=0
if ! grep -q "KESTREL-INIT-DONE" "$work/serial1.log"; then
  echo "FAIL: the guest did not reach its end marker"; fail=1
fi
if cmp -s "$work/serial1.log" "$work/serial2.log"; then
  echo "ok: serial output identical ($(wc -c < "$work/serial1.log") bytes)"
else
  echo "FAIL: serial output differs:"; diff "$work/serial1.log" "$work/serial2.log" | head -20; fail=1
fi
n1=$(grep -o '[0-9]* instructions' "$work/stats1.log" || true)
n2=$(grep -o '[0-9]* instructions' "$work/stats2.log" || true)
if [ -n "$n1" ] && [ "$n1" = "$n2" ]; then echo "ok: $n1 retired in both runs"; else
  echo "FAIL: instruction counts '$n1' and '$n2'"; fail=1; fi
if [ "$fail" -ne 0 ]; then echo "0 passed, 1 failed"; exit 1; fi
echo "1 passed, 0 failed"
