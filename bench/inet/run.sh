#!/usr/bin/env bash
# TCP/IP benchmark (bench/inet/run.sh [BUILD_DIR], release build): NeoBoot's
# TCP against Linux over a TAP device, both directions and connections per
# second, beside two references measured in the same run:
#   - the raw frame rate of a TAP device (tap_pump moving 1514-byte frames,
#     no protocol: the limit of the medium), per direction;
#   - Linux to Linux over a veth pair, with the same client (tcp_bench).
# Everything runs in private network namespaces (ip netns as root, else
# unshare -rn); only addresses inside them are used. Not a test: numbers
# vary with the machine; the table shows ratios. Method: bench/RESULTS.md.
set -euo pipefail
if [ "$(id -u)" -ne 0 ] && [ -z "${NB_IN_USERNS:-}" ]; then
    export NB_IN_USERNS=1
    exec unshare -rn bash "$0" "$@"
fi
build=$(cd "${1:-build/release}" && pwd)
NB=$build/neoboot
TB=$build/bench/tcp_bench
PUMP=$build/bench/tap_pump
SECS=${INET_BENCH_SECONDS:-5}
REPS=${INET_BENCH_REPS:-3}
for f in "$NB" "$TB" "$PUMP"; do
    [ -x "$f" ] || { echo "inet bench: $f missing (make release)"; exit 1; }
done

PIDS=()
NSA="" NSB=""
cleanup() {
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -n "${A:-}" ]; then ip netns del "$A" 2>/dev/null || true; fi
    if [ -n "${B:-}" ]; then ip netns del "$B" 2>/dev/null || true; fi
}
trap cleanup EXIT
if [ -z "${NB_IN_USERNS:-}" ]; then
    A=nbbencha$$ B=nbbenchb$$
    ip netns add "$A"
    ip netns add "$B"
    NSA="ip netns exec $A" NSB="ip netns exec $B"
    $NSA ip link set lo up
    $NSB ip link set lo up
    $NSA ip link add veth0 type veth peer name veth1
    $NSA ip link set veth1 netns "$B"
else
    # one namespace: the veth peer lives in a child namespace of our own
    $NSA ip link set lo up
    $NSA ip link add veth0 type veth peer name veth1
    unshare -n sleep 100000 &
    PIDS+=($!)
    NSB="nsenter -t $! -n"
    ip link set veth1 netns "$!"
    $NSB ip link set lo up
fi
$NSA ip addr add 192.168.91.1/24 dev veth0
$NSA ip link set veth0 up
$NSB ip addr add 192.168.91.2/24 dev veth1
$NSB ip link set veth1 up
for t in tap0 tap1; do
    $NSA ip tuntap add mode tap name $t
    $NSA ip link set $t up
done
$NSA ip addr add 192.168.90.1/24 dev tap0

best() { # the best of REPS runs of a command printing "<number> <unit> ..."
    local b=0 v
    for _ in $(seq "$REPS"); do
        v=$("$@" | awk '{print $1}')
        b=$(awk -v v="$v" -v b="$b" 'BEGIN { print (v > b ? v : b) }')
    done
    printf '%.1f' "$b"
}

echo "inet bench: ${SECS} s per run, best of $REPS, $(nproc) CPUs, $(uname -r)"
# 1. the medium
pump_tx=$(best $NSA "$PUMP" tx tap1 "$SECS")
pump_rx=$(best $NSA "$PUMP" rx tap1 "$SECS")

# 2. NeoBoot over tap0: with the TAP's offloads (the default: TSO bursts
# both ways), then with one 1514-byte frame per packet like the pump
nb_run() { # prefix: rx tx cps
    $NSA "$NB" --log warn serve --net tap:tap0 --ip 192.168.90.2/24 --sink tcp:9 \
        --source tcp:19 --source-bytes 1000000000000 --echo tcp:7 >/dev/null 2>&1 &
    local pid=$!
    for _ in $(seq 50); do
        $NSA bash -c 'exec 3<>/dev/tcp/192.168.90.2/7' 2>/dev/null && break
        sleep 0.1
    done
    NBRX=$(best $NSA "$TB" send 192.168.90.2 9 "$SECS")
    NBTX=$(best $NSA "$TB" recv 192.168.90.2 19 "$SECS")
    NBCPS=$(best $NSA "$TB" cps 192.168.90.2 7 "$SECS")
    kill $pid
    wait $pid 2>/dev/null || true
}
nb_run
nb_rx=$NBRX nb_tx=$NBTX nb_cps=$NBCPS
NEOBOOT_TAP_OFFLOAD=0 nb_run
nf_rx=$NBRX nf_tx=$NBTX

# 3. Linux to Linux over veth
$NSB "$TB" sink 9 & PIDS+=($!)
$NSB "$TB" source 19 & PIDS+=($!)
$NSB "$TB" echo1 7 & PIDS+=($!)
sleep 0.5
ve_rx=$(best $NSA "$TB" send 192.168.91.2 9 "$SECS")
ve_tx=$(best $NSA "$TB" recv 192.168.91.2 19 "$SECS")
ve_cps=$(best $NSA "$TB" cps 192.168.91.2 7 "$SECS")

pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", b ? 100 * a / b : 0 }'; }
printf '\n%-24s %10s %10s %10s %10s   %s\n' "MiB/s" "NeoBoot" "NeoBoot" "TAP" "Linux" "ratios"
printf '%-24s %10s %10s %10s %10s   %s\n' "" "offloads" "1500B only" "frames" "veth" "(NeoBoot/frames, 1500B/frames, NeoBoot/veth)"
printf '%-24s %10s %10s %10s %10s   %s%% %s%% %s%%\n' "Linux -> NeoBoot (rx)" "$nb_rx" "$nf_rx" "$pump_rx" \
    "$ve_rx" "$(pct "$nb_rx" "$pump_rx")" "$(pct "$nf_rx" "$pump_rx")" "$(pct "$nb_rx" "$ve_rx")"
printf '%-24s %10s %10s %10s %10s   %s%% %s%% %s%%\n' "NeoBoot -> Linux (tx)" "$nb_tx" "$nf_tx" "$pump_tx" \
    "$ve_tx" "$(pct "$nb_tx" "$pump_tx")" "$(pct "$nf_tx" "$pump_tx")" "$(pct "$nb_tx" "$ve_tx")"
printf '%-24s %10s %10s %10s %10s   %s%% of veth\n' "connections/s" "$nb_cps" "-" "-" "$ve_cps" \
    "$(pct "$nb_cps" "$ve_cps")"
echo
echo "NeoBoot: neoboot serve (sink, source, echo) on a TAP; Linux side: tcp_bench."
echo "  offloads: TSO and checksum offload between NeoBoot and the TAP (default);"
echo "  1500B only: NEOBOOT_TAP_OFFLOAD=0, one 1514-byte frame per segment."
echo "TAP frames: tap_pump moving 1514-byte frames (1500 payload) through a TAP;"
echo "  rx: kernel AF_PACKET sender -> TAP fd reader; tx: TAP fd writer -> AF_PACKET reader."
echo "Linux veth: tcp_bench to tcp_bench across a veth pair. TCP figures are payload."
