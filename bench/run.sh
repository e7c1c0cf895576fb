#!/usr/bin/env bash
# Run every benchmark against a release build: bench/run.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build/release}
cd "$(dirname "$0")/.."
echo "== vsock"
"$build/bench/vsock_bench" "${VSOCK_BENCH_SECONDS:-2}"
for extra in bench/*/run.sh; do
    [ -x "$extra" ] || continue
    echo "== $(basename "$(dirname "$extra")")"
    "$extra" "$build"
done
