# A private network namespace for an integration test (sourced first, in
# place of lib.sh, which it sources). As root (CI), the test makes a named
# namespace with `ip netns add` and runs commands in it through $NS
# ("ip netns exec NAME"); it is deleted on exit, whatever happens. Not as
# root, the script re-runs itself under `unshare -rn` (a user and network
# namespace of its own), where $NS is empty. Either way nothing outside
# the namespace is touched: traffic goes only to addresses in it.
if [ "$(id -u)" -ne 0 ] && [ -z "${NB_IN_USERNS:-}" ]; then
    if command -v unshare >/dev/null && unshare -rn true 2>/dev/null; then
        export NB_IN_USERNS=1
        exec unshare -rn bash "$0" "$@"
    fi
    echo "SKIP: not root and cannot create a user+network namespace (unshare -rn)"
    exit 77
fi

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "$(id -u)" -eq 0 ] && [ -z "${NB_IN_USERNS:-}" ]; then
    need ip
    NSNAME="nbt$$"
    ip netns add "$NSNAME" || skip "cannot create a network namespace"
    CLEANUP_CMDS+=("ip netns del $NSNAME")
    NS="ip netns exec $NSNAME"
else
    NS=""
fi
$NS ip link set lo up

# tap NAME ADDR/PREFIX [ADDR6/PREFIX]: a TAP device with the Linux side
# addressed; NeoBoot attaches to it with --net tap:NAME.
tap() {
    $NS ip tuntap add mode tap name "$1"
    $NS ip link set "$1" up
    $NS ip addr add "$2" dev "$1"
    if [ -n "${3:-}" ]; then $NS ip -6 addr add "$3" dev "$1" nodad; fi
}

# The release build when the build tree has one (big transfers), else
# the build under test.
NEOBOOT_FAST=${NEOBOOT_RELEASE:-}
[ -x "$NEOBOOT_FAST" ] || NEOBOOT_FAST=$NEOBOOT

# Python peers: Debian's python3 (the system interpreter).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# since START: seconds since a $(date +%s.%N) stamp, two decimals (awk: no bc)
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
# calc EXPR: awk arithmetic, two decimals
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }
