#!/usr/bin/env bash
# Boot test: a Debian i386 kernel with the busybox initramfs boots to the
# marker /init prints; the commands /init runs must give the expected
# output; then the guest reboots and Kestrel (-no-reboot) exits.
#
# Usage: boot_linux.sh KESTREL SOURCE_ROOT FLAVOUR   (FLAVOUR: 686 or 686-pae)
set -euo pipefail
kestrel=$1
src=$2
flavour=$3
guests=$("$src/scripts/fetch-guests.sh")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$src/scripts/make-initramfs.sh" "$guests" "$work/initrd.cpio.gz"

log=$work/serial.log
status=0
timeout 900 "$kestrel" -m 256 -kernel "$guests/vmlinuz-$flavour" -initrd "$work/initrd.cpio.gz" \
  -append "console=ttyS0" -serial stdio -nographic -no-reboot > "$log" 2>&1 || status=$?
tr -d '\r' < "$log" > "$log.txt"

fail=0
check() { # description, grep -E pattern
  if grep -qE "$2" "$log.txt"; then echo "ok: $1"; else echo "FAIL: $1 (no /$2/)"; fail=1; fi
}
check "kernel reached /init" "Run /init as init process"
check "init marker" "^KESTREL-INIT-START"
check "uname names the Debian $flavour kernel" "^UNAME: Linux .* 6\.1\.0-[0-9]+-$flavour .* i686"
# The checksum the guest computes must be the host's for the same bytes.
want_md5=$(LC_ALL=C awk 'BEGIN { for (i = 0; i < 65536; i++) printf "%c", i % 251 }' | md5sum | cut -d' ' -f1)
check "md5sum in the guest matches the host" "^MD5: $want_md5 "
check "shell loop" "^LOOP: 5050$"
check "init finished" "^KESTREL-INIT-DONE"
# /proc/cpuinfo lists exactly the CPUID features Kestrel reports.  Linux
# adds flags of its own (cpuid, constant_tsc, ...): compare only the names
# that stand for CPUID bits.
flags=$(grep -m1 '^CPUINFO flags' "$log.txt" | sed 's/^CPUINFO flags[[:space:]]*:[[:space:]]*//' || true)
universe=" $("$kestrel" -cpuid-flags all) "
got=$(for f in $flags; do case "$universe" in *" $f "*) echo "$f";; esac; done | sort | xargs)
# Linux itself drops two bits for Kestrel's Pentium Pro signature (family 6,
# model 1, stepping 9), in arch/x86/kernel/cpu/intel.c: SEP below signature
# 0x633 (the Pentium Pro's SYSENTER is unreliable) and PAT on family 6
# models below 15 (the Pentium III PAT erratum).  Everything else CPUID
# reports must appear, and nothing more.
linux_drops=" sep pat "
want=$(for f in $("$kestrel" -cpuid-flags); do
  case "$linux_drops" in *" $f "*) ;; *) echo "$f";; esac; done | sort | xargs)
if [ -n "$flags" ] && [ "$got" = "$want" ]; then echo "ok: cpuinfo CPUID flags: $got"; else
  echo "FAIL: cpuinfo CPUID flags '$got', expected '$want' (all: '$flags')"; fail=1; fi
if [ "$status" -ne 0 ]; then echo "FAIL: kestrel exited with $status"; fail=1; fi
if [ "$fail" -ne 0 ]; then
  echo "--- serial log (last 60 lines) ---"
  tail -n 60 "$log.txt"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "1 passed, 0 failed"
