#!/usr/bin/env bash
# WebAssembly 2.0 core spec tests: convert every *.wast of the shared suite
# with wabt's wast2json into OUT (the build directory), then run them all
# with the spectest runner. Exits 77 (ctest SKIP) when the suite or
# wast2json is missing, saying why.
#
#   conformance.sh SUITE_DIR OUT_DIR SPECTEST_BINARY
set -u
suite=$1 out=$2 runner=$3
if [ ! -d "$suite" ]; then
  echo "SKIP: spec test suite not found at $suite (set NB_SHARED to the shared folder)"
  exit 77
fi
if ! command -v wast2json >/dev/null; then
  echo "SKIP: wast2json (Debian package wabt) is not installed"
  exit 77
fi
# These use syntax that wabt 1.0.32's parser does not accept.
known_unconvertible=" comments if table_fill table_get table_grow table_set table_size "
rm -rf "$out" && mkdir -p "$out"
failed=() unexpected=0 jsons=()
for w in "$suite"/*.wast; do
  name=$(basename "$w" .wast)
  # wabt 1.0.32 enables the 2.0 features (reference types, bulk memory,
  # multi-value, ...) by default.
  if wast2json -o "$out/$name.json" "$w" >"$out/$name.err" 2>&1; then
    jsons+=("$out/$name.json")
  else
    failed+=("$name")
    case "$known_unconvertible" in
      *" $name "*) ;;
      *) echo "FAIL: $name.wast did not convert:"; head -5 "$out/$name.err"; unexpected=1 ;;
    esac
  fi
done
echo "conformance: ${#jsons[@]} files converted; not convertible by this wast2json (${#failed[@]}): ${failed[*]}"
"$runner" "${jsons[@]}" > "$out/results.txt"
rc=$?
grep -E '^FAIL' "$out/results.txt" | head -200
# Every skipped command, by file and line (all are text-format modules).
grep -E '^SKIP' "$out/results.txt"
echo "conformance: skipped by kind: $(grep -E '^SKIP' "$out/results.txt" | sed 's/.*: \(assert_[a-z]*\) with a \(text\)-format module/\1 (\2)/' | sort | uniq -c | tr -s ' ' | paste -sd, -)"
tail -n 2 "$out/results.txt"
echo "conformance: full per-file results in $out/results.txt"
[ $unexpected -eq 0 ] || exit 1
exit $rc
