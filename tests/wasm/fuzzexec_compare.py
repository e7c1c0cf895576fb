#!/usr/bin/env python3
"""Compare a binaryen --fuzz-exec transcript with NeoBoot's.

Lines must match one for one. Within a line, tokens must be equal as
strings, except that:
  - "[trap ...]" lines compare as "[trap]" (messages are engine-specific);
  - when either token is written as a float (has '.', 'e', 'inf', 'nan'),
    both are compared as doubles: binaryen prints floats in JavaScript's
    shortest form and we print %.17g; any NaN equals any NaN, because NaN
    payloads and signs are nondeterministic in the spec;
  - non-null references compare as non-null (binaryen prints its own
    function names).
Integers (i32/i64 results and logs) are printed exactly by both and must
match exactly. Exit status 0 if equal, 1 with the differences otherwise.
"""
import re
import sys

FLOATISH = re.compile(r"[.e]|inf|nan")


def tokens(line):
    if line.startswith("[trap"):
        return ["[trap]"]
    # binaryen prints a non-null reference as "funcref" or "funcref(NAME)"
    line = re.sub(r"(funcref|anyref)\((?!null\))[^)]*\)", r"\1", line)
    return [t for t in re.split(r"[ ,()\[\]]+", line) if t]


def as_float(t):
    if "nan" in t:
        return "nan"
    try:
        return float(t)
    except ValueError:
        return None


def same(a, b):
    if a == b:
        return True
    if FLOATISH.search(a) or FLOATISH.search(b):
        fa, fb = as_float(a), as_float(b)
        return fa is not None and fa == fb
    return False


def main():
    exp = [l.rstrip("\n") for l in open(sys.argv[1]) if not l.startswith("[fuzz-exec] comparing")]
    act = [l.rstrip("\n") for l in open(sys.argv[2])]
    diffs = []
    for i in range(max(len(exp), len(act))):
        e = exp[i] if i < len(exp) else "<missing>"
        a = act[i] if i < len(act) else "<missing>"
        te, ta = tokens(e), tokens(a)
        if len(te) != len(ta) or not all(same(x, y) for x, y in zip(te, ta)):
            diffs.append("line %d:\n  binaryen: %s\n  neoboot:  %s" % (i + 1, e, a))
    if diffs:
        print("\n".join(diffs[:8]))
        return 1
    return 0


sys.exit(main())
