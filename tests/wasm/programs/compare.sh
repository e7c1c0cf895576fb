#!/usr/bin/env bash
# Runs each test program natively and as wasm under `neoboot wasm run` with
# the same arguments and stdin, and compares stdout and the exit status.
#   compare.sh NEOBOOT BINDIR NAME...
set -u
neoboot=$1 dir=$2; shift 2
pass=0 fail=0
input=$(printf 'first line\nsecond line, longer than the first\n\nlast line without newline')
for name in "$@"; do
  args=(one "two words")
  nat_out=$(printf '%s' "$input" | "$dir/$name.native" "${args[@]}" 2>/dev/null); nat_rc=$?
  wasm_out=$(printf '%s' "$input" | "$neoboot" wasm run "$dir/$name.wasm" "${args[@]}" 2>/dev/null); wasm_rc=$?
  # argv[0] differs (the path); programs print argv[1] only.
  if [ "$nat_out" == "$wasm_out" ] && [ $nat_rc -eq $wasm_rc ]; then
    pass=$((pass + 1)); echo "ok   $name (exit $nat_rc, $(printf '%s' "$nat_out" | wc -l) lines)"
  else
    fail=$((fail + 1)); echo "FAIL $name: exit native $nat_rc, wasm $wasm_rc"
    diff <(printf '%s\n' "$nat_out") <(printf '%s\n' "$wasm_out") | head -20
  fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
