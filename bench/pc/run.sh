#!/usr/bin/env bash
# NeoBoot on pc vs iPXE in the same QEMU configuration (virtio-net over a
# TAP device in a private namespace, KVM if it works here, else TCG): time
# from QEMU start to network up, and HTTP download throughput of a 256 MiB
# file. Prints a table with ratios (bench/RESULTS.md has the method).
#   bash bench/pc/run.sh [BUILD_DIR] [-- pc_bench.py options, e.g. --runs 5]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-build/release}"
shift || true
[ "${1:-}" = "--" ] && shift
for f in "$build/neoboot" "$build/pc/neoboot.elf" "$build/apps/fetch.wasm"; do
  [ -e "$f" ] || { echo "bench/pc: $f missing (make release)"; exit 1; }
done
exec python3 "$here/pc_bench.py" --neoboot "$build/neoboot" --image "$build/pc/neoboot.elf" \
  --fetch "$build/apps/fetch.wasm" "$@"
