#!/usr/bin/env bash
# Boot benchmark: Kestrel and qemu-system-i386 -accel tcg on the same
# kernel, initrd and command line, in one run.  Prints seconds to
# "Run /init as init process" and to the end marker for each, the ratio,
# and Kestrel's peak RSS.
#
# Usage: bench/boot.sh [BUILD_DIR]    (fetches the guests if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
guests=$(scripts/fetch-guests.sh)
initrd=$(mktemp --suffix=.cpio.gz)
trap 'rm -f "$initrd" "$initrd".*.log' EXIT
scripts/make-initramfs.sh "$guests" "$initrd"
kernel=$guests/vmlinuz-686
append="console=ttyS0"

# time_to LOG MARKER T0: seconds from T0 until MARKER shows up in LOG.
run() { # name command...
  local name=$1; shift
  local log=$initrd.$name.log
  local t0 t_init="" t_done=""
  t0=$(date +%s.%N)
  "$@" > "$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    [ -z "$t_init" ] && grep -q "Run /init as init process" "$log" && t_init=$(date +%s.%N)
    [ -z "$t_done" ] && grep -q "KESTREL-INIT-DONE" "$log" && t_done=$(date +%s.%N)
    if [ -n "$t_done" ]; then break; fi
    if (( $(echo "$(date +%s.%N) - $t0 > 600" | bc) )); then kill "$pid"; break; fi
    sleep 0.05
  done
  wait "$pid" 2>/dev/null || true
  [ -z "$t_init" ] && grep -q "Run /init as init process" "$log" && t_init=$(date +%s.%N)
  [ -z "$t_done" ] && grep -q "KESTREL-INIT-DONE" "$log" && t_done=$(date +%s.%N)
  printf '%s %s %s\n' "$name" "${t_init:+$(echo "$t_init - $t0" | bc)}" \
    "${t_done:+$(echo "$t_done - $t0" | bc)}"
}

k=$(run kestrel /usr/bin/time -f "RSS_KB %M" "$build/kestrel" -stats -m 256 -kernel "$kernel" \
    -initrd "$initrd" -append "$append" -serial stdio -nographic -no-reboot)
q=$(run qemu qemu-system-i386 -accel tcg -m 256 -kernel "$kernel" -initrd "$initrd" \
    -append "$append" -nographic -no-reboot)
read -r _ k_init k_done <<<"$k"
read -r _ q_init q_done <<<"$q"
rss=$(grep -o 'RSS_KB [0-9]*' "$initrd.kestrel.log" | awk '{print $2}')
printf '%-8s %14s %14s\n' "" "to /init (s)" "to marker (s)"
printf '%-8s %14s %14s\n' kestrel "${k_init:-n/a}" "${k_done:-n/a}"
printf '%-8s %14s %14s\n' qemu "${q_init:-n/a}" "${q_done:-n/a}"
if [ -n "${k_done:-}" ] && [ -n "${q_done:-}" ]; then
  echo "ratio kestrel/qemu to marker: $(echo "scale=2; $k_done / $q_done" | bc)"
fi
echo "kestrel peak RSS: ${rss:-n/a} KiB (guest RAM 256 MiB)"
grep -o 'kestrel: [0-9]* instructions.*' "$initrd.kestrel.log" || true
