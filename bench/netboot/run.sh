#!/usr/bin/env bash
# Linux network boot, QEMU start to the init marker: NeoBoot's netboot.wasm
# vs iPXE fetching the same kernel and initramfs from the same server in
# the same run (bench/RESULTS.md has the method).
#   bash bench/netboot/run.sh [BUILD_DIR] [-- netboot_bench.py options, e.g. --runs 5]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-build/release}"
shift || true
[ "${1:-}" = "--" ] && shift
for f in "$build/neoboot" "$build/pc/neoboot.elf" "$build/apps/netboot.wasm"; do
  [ -e "$f" ] || { echo "bench/netboot: $f missing (make release)"; exit 1; }
done
exec python3 "$here/netboot_bench.py" --neoboot "$build/neoboot" --image "$build/pc/neoboot.elf" \
  --netboot "$build/apps/netboot.wasm" --kernel "$root/third_party/linux/vmlinuz" "$@"
