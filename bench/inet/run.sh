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
        b=$(echo "if ($v > $b) $v else $b" | bc -l)
    done
    printf '%.1f' "$b"
}

echo "inet bench: ${SECS} s per run, best of $REPS, $(nproc) CPUs, $(uname -r)"
# 1. the medium
pump_tx=$(best $NSA "$PUMP" tx tap1 "$SECS")
pump_rx=$(best $NSA "$PUMP" rx tap1 "$SECS")

# 2. NeoBoot over tap0
$NSA "$NB" --log warn serve --net tap:tap0 --ip 192.168.90.2/24 --sink tcp:9 \
    --source tcp:19 --source-bytes 1000000000000 --echo tcp:7 >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
    $NSA bash -c 'exec 3<>/dev/tcp/192.168.90.2/7' 2>/dev/null && break
    sleep 0.1
done
nb_rx=$(best $NSA "$TB" send 192.168.90.2 9 "$SECS")
nb_tx=$(best $NSA "$TB" recv 192.168.90.2 19 "$SECS")
nb_cps=$(best $NSA "$TB" cps 192.168.90.2 7 "$SECS")

# 3. Linux to Linux over veth
$NSB "$TB" sink 9 & PIDS+=($!)
$NSB "$TB" source 19 & PIDS+=($!)
$NSB "$TB" echo1 7 & PIDS+=($!)
sleep 0.5
ve_rx=$(best $NSA "$TB" send 192.168.91.2 9 "$SECS")
ve_tx=$(best $NSA "$TB" recv 192.168.91.2 19 "$SECS")
ve_cps=$(best $NSA "$TB" cps 192.168.91.2 7 "$SECS")

pct() { echo "scale=0; 100 * $1 / $2" | bc -l; }
printf '\n%-34s %12s %14s %8s %12s %8s\n' "" "NeoBoot" "TAP frames" "ratio" "Linux veth" "ratio"
printf '%-34s %9s MiB/s %11s MiB/s %7s%% %9s MiB/s %7s%%\n' \
    "TCP Linux -> NeoBoot (NeoBoot receives)" "$nb_rx" "$pump_rx" "$(pct "$nb_rx" "$pump_rx")" \
    "$ve_rx" "$(pct "$nb_rx" "$ve_rx")"
printf '%-34s %9s MiB/s %11s MiB/s %7s%% %9s MiB/s %7s%%\n' \
    "TCP NeoBoot -> Linux (NeoBoot sends)" "$nb_tx" "$pump_tx" "$(pct "$nb_tx" "$pump_tx")" \
    "$ve_tx" "$(pct "$nb_tx" "$ve_tx")"
printf '%-34s %9s conn/s %10s %9s %9s conn/s %6s%%\n' \
    "TCP connections per second" "$nb_cps" "-" "-" "$ve_cps" "$(pct "$nb_cps" "$ve_cps")"
echo
echo "TAP frames: tap_pump, 1514-byte frames (1500 payload) through a TAP device;"
echo "  'receives' = kernel AF_PACKET sender -> TAP fd reader, 'sends' = TAP fd writer -> kernel."
echo "Throughputs are TCP payload (tcp_bench), frame rate is 1500-byte payloads."
