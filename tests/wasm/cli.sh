#!/usr/bin/env bash
# The `neoboot wasm` command line: exit statuses and error messages for
# missing files, malformed and invalid modules, traps, deadlines (also
# while the guest sleeps), fuel, the memory limit and proc_exit.
#   cli.sh NEOBOOT FIXTURE_DIR
set -u
nb=$1 fx=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
# check NAME EXPECTED_STATUS PATTERN CMD...: status and a stderr/stdout pattern.
check() {
  local name=$1 want=$2 pattern=$3; shift 3
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -eq "$want" ] && grep -qE "$pattern" <<<"$out"; then
    pass=$((pass + 1)); echo "ok   $name"
  else
    fail=$((fail + 1)); echo "FAIL $name: status $rc (want $want), output:"; echo "$out" | head -5
  fi
}
printf 'garbage' > "$work/garbage.wasm"
printf '\0asm\1\0\0\0\1\5\1\x60\0\1\x7f\3\2\1\0\n\6\1\4\0\x42\0\x0b' > "$work/invalid.wasm"
check "missing file" 1 "cannot open .*No such file" "$nb" wasm run "$work/none.wasm"
check "malformed" 1 "malformed module at byte offset 0 .*magic" "$nb" wasm validate "$work/garbage.wasm"
check "invalid" 1 "invalid module at byte offset [0-9]+ .*type mismatch" "$nb" wasm run "$work/invalid.wasm"
check "valid" 0 "valid" "$nb" wasm validate "$fx/cli_trap.wasm"
check "trap" 134 "trap: unreachable \(in function 0 " "$nb" wasm run "$fx/cli_trap.wasm"
check "exit status" 7 "" "$nb" wasm run "$fx/cli_exit.wasm"
check "fuel" 134 "out of fuel" "$nb" wasm run --fuel 1000 "$fx/cli_spin.wasm"
check "memory limit" 1 "memory too large" "$nb" wasm run --max-memory 128K "$fx/cli_exit.wasm"
check "bad option" 2 "bad --timeout" "$nb" wasm run --timeout x "$fx/cli_spin.wasm"
start=$(date +%s%N)
check "timeout (busy)" 134 "deadline exceeded" "$nb" wasm run --timeout 0.2 "$fx/cli_spin.wasm"
check "timeout (sleeping)" 134 "deadline exceeded \(while blocked" "$nb" wasm run --timeout 0.2 "$fx/cli_sleep.wasm"
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
if [ $elapsed -lt 5000 ]; then pass=$((pass + 1)); echo "ok   timeouts took ${elapsed} ms"
else fail=$((fail + 1)); echo "FAIL timeouts took ${elapsed} ms"; fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
