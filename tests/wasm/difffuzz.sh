#!/usr/bin/env bash
# Differential fuzzing against binaryen's interpreter.
#
# For each seed, a seeded PRNG (python's random.Random(seed)) makes random
# bytes, binaryen's `wasm-opt -ttf` turns them into a valid module, and the
# module runs twice: in binaryen (`wasm-opt --fuzz-exec-before`) and in
# NeoBoot (`neoboot wasm fuzz-exec`, which prints the same transcript
# format). fuzzexec_compare.py compares them (trap messages, float
# spelling, NaN payloads and reference names are engine-specific; see it).
# Seeds cycle through three feature sets: the MVP; WebAssembly 2.0 without
# reference types (bulk memory, multi-value, sign-extension, non-trapping
# conversions, mutable globals); and all of 2.0. Binaryen 108's reference
# types are a pre-standard superset (typed function references, anyref as
# a supertype of funcref), so a module from the last set that wabt's own
# validator (wasm-validate) also rejects is not WebAssembly 2.0: it is
# counted as skipped, and must be rejected by NeoBoot too.
#
#   difffuzz.sh NEOBOOT SEEDS [FIRST] [WORKDIR]
set -u
neoboot=$1 seeds=$2 first=${3:-1} work=${4:-$(mktemp -d)}
if ! command -v wasm-opt >/dev/null; then
  echo "SKIP: wasm-opt (Debian package binaryen) is not installed"
  exit 77
fi
mkdir -p "$work"
F1="--enable-bulk-memory --enable-sign-ext --enable-mutable-globals --enable-nontrapping-float-to-int --enable-multivalue"
F2="$F1 --enable-reference-types"
here=$(cd "$(dirname "$0")" && pwd)
skipped=0
pass=0 fail=0
for ((seed = first; seed < first + seeds; seed++)); do
  case $((seed % 3)) in 0) feats="" ;; 1) feats=$F1 ;; 2) feats=$F2 ;; esac
  python3 -c "import random,sys; sys.stdout.buffer.write(random.Random($seed).randbytes(4000))" > "$work/s$seed.bin"
  if ! wasm-opt -ttf "$work/s$seed.bin" $feats -o "$work/s$seed.wasm" 2>"$work/s$seed.gen"; then
    echo "seed $seed: wasm-opt -ttf failed"; cat "$work/s$seed.gen"; fail=$((fail + 1)); continue
  fi
  if [ -n "$feats" ] && [ "$feats" = "$F2" ] && ! wasm-validate "$work/s$seed.wasm" >/dev/null 2>&1; then
    if "$neoboot" wasm validate "$work/s$seed.wasm" >/dev/null 2>&1; then
      echo "seed $seed: NeoBoot accepts a module that wabt's validator rejects"; fail=$((fail + 1))
    else
      skipped=$((skipped + 1)); rm -f "$work/s$seed".*
    fi
    continue
  fi
  timeout 60 wasm-opt "$work/s$seed.wasm" $feats --fuzz-exec-before -q 2>/dev/null > "$work/s$seed.expected"
  timeout 60 "$neoboot" wasm fuzz-exec "$work/s$seed.wasm" 2>"$work/s$seed.err" > "$work/s$seed.actual"
  if python3 "$here/fuzzexec_compare.py" "$work/s$seed.expected" "$work/s$seed.actual" > "$work/s$seed.diff"; then
    pass=$((pass + 1))
    rm -f "$work/s$seed".*
  else
    fail=$((fail + 1))
    echo "seed $seed: transcripts differ (files in $work):"
    cat "$work/s$seed.diff"
    head -5 "$work/s$seed.err"
  fi
done
echo "difffuzz: seeds $first..$((first + seeds - 1)) against binaryen $(wasm-opt --version | awk '{print $3}')"
echo "difffuzz: $skipped seeds skipped: binaryen's pre-standard reference types, rejected by wabt and by NeoBoot"
echo "$pass passed, $fail failed, $skipped skipped"
[ $fail -eq 0 ]
