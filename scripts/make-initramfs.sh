#!/usr/bin/env bash
# Build the busybox initramfs the boot tests use, from Debian's i386
# busybox-static (fetched by scripts/fetch-guests.sh).  Its /init prints a
# marker, runs commands whose output the boot test checks, and reboots
# (Kestrel runs with -no-reboot, so that ends the run).
#
# Usage: scripts/make-initramfs.sh GUESTS_DIR OUTPUT.cpio.gz
set -euo pipefail
guests=$1
out=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work"/{bin,sbin,proc,sys,dev,etc,tmp}
cp "$guests/busybox/bin/busybox" "$work/bin/busybox"
for app in sh echo cat uname md5sum mount reboot poweroff sync seq grep sleep ls; do
  ln -s busybox "$work/bin/$app"
done
# A file whose checksum the test knows: 64 KiB of a fixed byte pattern.
LC_ALL=C awk 'BEGIN { for (i = 0; i < 65536; i++) printf "%c", i % 251 }' </dev/null \
  > "$work/etc/pattern.bin"
cat > "$work/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "KESTREL-INIT-START"
echo "UNAME: $(uname -a)"
grep -m1 '^flags' /proc/cpuinfo | sed 's/^/CPUINFO /' 2>/dev/null || grep -m1 '^flags' /proc/cpuinfo
echo "MD5: $(md5sum /etc/pattern.bin)"
n=0; for i in $(seq 1 100); do n=$((n + i)); done
echo "LOOP: $n"
echo "KESTREL-INIT-DONE"
sync
reboot -f
INIT
chmod +x "$work/init"
ln -s busybox "$work/bin/sed"
(cd "$work" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) | gzip -9n > "$out"
