#!/usr/bin/env bash
# WebAssembly engine benchmark: every kernel natively (gcc -O2), under
# NeoBoot's engine (release build), under node (TurboFan: --no-liftoff)
# and under wabt's wasm-interp, all in this one run, and a table of
# ratios. Times are the CPU time (user + system) of each process, start-up
# and compilation included, the best of REPEAT runs (wasm-interp: one run,
# it is slow). CPU time rather than wall-clock because the machines this
# runs on are shared: other load stretches wall-clock time far more.
#
#   bench/wasm/run.sh [BUILD_DIR]    (default build/release; make bench-wasm)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top/build/release}" && pwd)
kdir=$build/bench/wasm
neoboot=$build/neoboot
repeat=${REPEAT:-3}
kernels=${KERNELS:-"fib sha256 matmul crc32 sort vm strbuild"}
have_node=0; command -v node >/dev/null && have_node=1
have_interp=0; command -v wasm-interp >/dev/null && have_interp=1

# best_ms REPEAT CMD...: prints the best CPU time (user+sys) in ms; the
# command's stdout goes to $out_file.
best_ms() {
  local n=$1; shift
  local best=
  for ((r = 0; r < n; r++)); do
    local t
    # A failed attempt (the machine is shared) is retried by the next one.
    t=$( { TIMEFORMAT='%3U %3S'; time "$@" > "$out_file.try" 2>/dev/null; } 2>&1 ) || continue
    mv "$out_file.try" "$out_file"
    local ms
    ms=$(awk -v u="${t% *}" -v s="${t#* }" 'BEGIN { printf "%d", (u + s) * 1000 + 0.5 }')
    [ -z "$best" ] || [ "$ms" -lt "$best" ] && best=$ms
  done
  echo "${best:-FAIL}"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) b = 1; printf "%.1f", a / b }'; }

echo "WebAssembly engine benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, CPU time, best of $repeat)"
printf "%-9s %9s %9s %8s %9s %8s %11s %9s\n" kernel native neoboot "x nat" node "x nat" wasm-interp "interp/nb"
logs=() logi=() logn=()
work=$(mktemp -d)
for k in $kernels; do
  out_file=$work/native.txt; tn=$(best_ms "$repeat" "$kdir/$k.native")
  out_file=$work/neoboot.txt; tb=$(best_ms "$repeat" "$neoboot" wasm run "$kdir/$k.wasm")
  cmp -s "$work/native.txt" "$work/neoboot.txt" || tb="WRONG"
  tj="-"; if [ $have_node = 1 ]; then
    out_file=$work/node.txt
    tj=$(best_ms "$repeat" node --no-liftoff --no-warnings "$top/bench/wasm/node_wasi.js" "$kdir/$k.wasm")
    cmp -s "$work/native.txt" "$work/node.txt" || tj="WRONG"
  fi
  ti="-"; if [ $have_interp = 1 ]; then
    out_file=$work/interp.txt
    ti=$(best_ms 1 wasm-interp --dummy-import-func --run-all-exports "$kdir/$k.interp.wasm")
  fi
  rb=$(ratio "$tb" "$tn"); rj=$( [ "$tj" = "-" ] && echo - || ratio "$tj" "$tn")
  ri=$( [ "$ti" = "-" ] && echo - || ratio "$ti" "$tb")
  printf "%-9s %7sms %7sms %7sx %7sms %7sx %9sms %8sx\n" "$k" "$tn" "$tb" "$rb" "$tj" "$rj" "$ti" "$ri"
  logs+=("$rb"); [ "$rj" != - ] && logn+=("$rj"); [ "$ri" != - ] && logi+=("$ri")
done
geo() { printf "%s\n" "$@" | awk '{ s += log($1); n++ } END { if (n) printf "%.1f", exp(s / n); else printf "-" }'; }
printf "%-9s %9s %9s %7sx %9s %7sx %11s %8sx\n" geomean "" "" "$(geo "${logs[@]}")" "" \
  "$(geo "${logn[@]}")" "" "$(geo "${logi[@]}")"
rm -rf "$work"
