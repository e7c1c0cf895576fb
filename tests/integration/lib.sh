# Helpers for integration tests (sourced). Every wait is bounded; every
# process and temporary file started here is cleaned up on exit.
set -euo pipefail

NEOBOOT=${NEOBOOT:?path to the neoboot binary}
T=$(mktemp -d /tmp/nbtest.XXXXXX)
PIDS=()
CLEANUP_CMDS=()   # run after the processes are gone (e.g. delete a namespace)

cleanup() {
    local rc=$?
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] && kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    for c in "${CLEANUP_CMDS[@]:-}"; do
        [ -n "$c" ] && eval "$c" >/dev/null 2>&1 || true
    done
    if [ $rc -ne 0 ] && [ -d "$T" ]; then
        for f in "$T"/*.log; do
            [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }
        done
    fi
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# skip REASON: ctest treats exit 77 as skipped (SKIP_RETURN_CODE)
skip() { echo "SKIP: $*"; trap - EXIT; rm -rf "$T"; exit 77; }

need() { for c in "$@"; do command -v "$c" >/dev/null || skip "$c is not installed (scripts/setup.sh installs it)"; done; }

# bg NAME CMD...: start in the background, logging to $T/NAME.log
bg() {
    local name=$1; shift
    "$@" >"$T/$name.log" 2>&1 &
    PIDS+=($!)
    LAST_PID=$!
}

# wait_for SECONDS CMD...: retry CMD until it succeeds
wait_for() {
    local secs=$1; shift
    local end=$((SECONDS + secs))
    until "$@" 2>/dev/null; do
        [ $SECONDS -lt $end ] || return 1
        sleep 0.1
    done
}

sha() { sha256sum "$1" | cut -d' ' -f1; }
