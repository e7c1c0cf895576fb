#!/usr/bin/env bash
# netboot.wasm against real peers on a TAP in a private namespace: dnsmasq
# gives the lease and, as the DHCP boot file, the manifest's URL; python's
# http.server serves the manifest, Debian's kernel and an initrd. Hosted
# NeoBoot cannot hand the machine to Linux, so --boot-out writes exactly
# what would boot: it must equal what was served. A manifest with a wrong
# digest must be refused, naming the file, after the retries. With
# --boot-qemu, NeoBoot becomes QEMU booting the verified kernel with a
# busybox initramfs whose init prints a marker and powers off.
source "$(dirname "$0")/netns.sh"
need dnsmasq sha256sum cmp
KERNEL=${NB_TEST_VMLINUZ:-}
[ -f "$KERNEL" ] || fail "no kernel at '$KERNEL' (scripts/setup.sh fetches Debian's)"
NETBOOT=${NB_APPS:?}/netboot.wasm
[ -f "$NETBOOT" ] || fail "netboot.wasm not built ($NETBOOT)"

tap nbnb0 10.9.1.1/24
mkdir -p "$T/www/boot" "$T/out"
cp "$KERNEL" "$T/www/boot/vmlinuz"
head -c 300000 /dev/urandom > "$T/www/boot/initrd.img"
k=$(sha256sum "$T/www/boot/vmlinuz" | cut -d' ' -f1)
i=$(sha256sum "$T/www/boot/initrd.img" | cut -d' ' -f1)
# manifest NAME INITRD_URL INITRD_SHA CMDLINE: www/boot/NAME.json for vmlinuz
manifest() {
    printf '{"kernel": {"url": "vmlinuz", "sha256": "%s"},\n "initrd": {"url": "%s", "sha256": "%s"},\n "cmdline": "%s"}\n' \
        "$k" "$2" "$3" "$4" > "$T/www/boot/$1.json"
}
manifest manifest /boot/initrd.img "$i" "console=ttyS0 neoboot.test=1"
manifest bad initrd.img "$k" "console=ttyS0"
$NS dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
    --interface=nbnb0 --dhcp-range=10.9.1.50,10.9.1.99,2m --dhcp-leasefile="$T/leases" \
    --dhcp-boot=http://10.9.1.1:8000/boot/manifest.json --pid-file="$T/dnsmasq.pid" \
    >"$T/dnsmasq.log" 2>&1 &
PIDS+=($!)
(cd "$T/www" && exec $NS $PY -m http.server 8000 --bind 10.9.1.1) >"$T/http.log" 2>&1 &
PIDS+=($!)
wait_for 10 $NS bash -c "exec 3<>/dev/tcp/10.9.1.1/8000" || fail "http.server did not start"

# 1. the manifest URL from DHCP; everything verified and "booted"
timeout 120 $NS "$NEOBOOT_FAST" --log warn run --net tap:nbnb0 --allow-connect tcp:10.9.1.1:8000 \
    --allow-boot --boot-out "$T/out" "$NETBOOT" > "$T/netboot.log" 2>&1 \
    || fail "netboot did not boot: $(tail -n 5 "$T/netboot.log")"
grep -q "manifest URL from DHCP's boot file: http://10.9.1.1:8000/boot/manifest.json" "$T/netboot.log" \
    || fail "netboot did not take the URL from DHCP: $(head -n 5 "$T/netboot.log")"
cmp -s "$T/out/kernel" "$T/www/boot/vmlinuz" || fail "the staged kernel differs from the served one"
cmp -s "$T/out/initrd" "$T/www/boot/initrd.img" || fail "the staged initrd differs"
[ "$(cat "$T/out/cmdline")" = "console=ttyS0 neoboot.test=1" ] || fail "cmdline: $(cat "$T/out/cmdline")"
pass "netboot: URL from DHCP, kernel and initrd fetched, verified and staged as served"

# 2. a wrong digest: refused, the file named, after the retries
rm -f "$T/out"/*
if timeout 120 $NS "$NEOBOOT_FAST" --log warn run --net tap:nbnb0 --allow-connect tcp:10.9.1.1:8000 \
    --allow-boot --boot-out "$T/out" "$NETBOOT" http://10.9.1.1:8000/boot/bad.json --retries 2 \
    > "$T/bad.log" 2>&1; then
    fail "netboot booted despite a wrong initrd digest"
fi
grep -q "giving up: boot: initrd sha256 mismatch" "$T/bad.log" || fail "no clear reason: $(tail -n 3 "$T/bad.log")"
grep -q "attempt 1 of 2 failed" "$T/bad.log" || fail "no retry: $(cat "$T/bad.log")"
[ ! -e "$T/out/kernel" ] || fail "something was booted"
pass "netboot: a wrong digest is refused with the file named, after retries"

# 3. no boot capability: refused at once, said so
if timeout 60 $NS "$NEOBOOT_FAST" --log warn run --net tap:nbnb0 --allow-connect tcp:10.9.1.1:8000 \
    "$NETBOOT" --retries 1 > "$T/nocap.log" 2>&1; then
    fail "netboot booted without the boot capability"
fi
grep -q "capability not granted" "$T/nocap.log" || fail "no capability message: $(tail -n 2 "$T/nocap.log")"
pass "netboot: without the boot capability it says so"

# 4. --boot-qemu: the verified kernel boots in QEMU (TCG) and reaches init
if ! command -v qemu-system-x86_64 >/dev/null || [ ! -x /bin/busybox ]; then
    skip "step 4 needs qemu-system-x86 and busybox-static (scripts/setup.sh installs them)"
fi
MARKER="NEOBOOT-HOSTED-BOOT-MARKER"
$PY "$(dirname "$0")/../netboot/mkinitramfs.py" /bin/busybox "$MARKER" "$T/www/boot/init.cpio" \
    || fail "mkinitramfs failed"
c=$(sha256sum "$T/www/boot/init.cpio" | cut -d' ' -f1)
manifest vm init.cpio "$c" "console=ttyS0 quiet panic=-1"
timeout 240 $NS "$NEOBOOT_FAST" --log warn run --net tap:nbnb0 --allow-connect tcp:10.9.1.1:8000 \
    --allow-boot --boot-qemu tcg "$NETBOOT" http://10.9.1.1:8000/boot/vm.json \
    < /dev/null > "$T/vm.log" 2>&1 || fail "--boot-qemu: exit status $?: $(tail -n 5 "$T/vm.log")"
grep -q "$MARKER" "$T/vm.log" || fail "--boot-qemu: no init marker: $(tail -n 8 "$T/vm.log")"
pass "netboot --boot-qemu: the verified kernel booted in QEMU to its init"
