#!/usr/bin/env bash
# A SYN flood against a listener with a small backlog (4): spoofed,
# unreachable sources, so every half-open connection would wait for an ACK
# that never comes. NeoBoot switches to SYN cookies; real clients still
# connect (through cookies) and transfer, and afterwards NeoBoot's own
# counters show memory stayed bounded: pcb pools and packet memory small.
source "$(dirname "$0")/netns.sh"
need socat
PEER="$PY $(dirname "$0")/inet_peer.py"
FLOOD_S=${INET_SYNFLOOD_SECONDS:-60}   # at most; stopped once the real clients are done
# 50000 SYNs/s by default; far beyond any real load on a boot loader. A
# flood faster than NeoBoot can process also drops real packets in the TAP
# queue (the medium): clients then connect on a retry.
RATE=${INET_SYNFLOOD_RATE:-50000}

tap tap0 192.168.77.1/24
bg serve $NS "$NEOBOOT_FAST" serve --net tap:tap0 --ip 192.168.77.2/24 --gw 192.168.77.1 \
    --echo tcp:7 --stats tcp:8 --backlog 4
wait_for 10 $NS bash -c 'exec 3<>/dev/tcp/192.168.77.2/8' || fail "NeoBoot serve did not come up"
MAC=$(grep -o "MAC [0-9a-f:]*" "$T/serve.log" | head -n1 | cut -d' ' -f2)

bg flood $NS $PEER syn-flood tap0 "$MAC" 192.168.77.2 7 "$FLOOD_S" "$RATE"
FLOODER=$LAST_PID
sleep 1
ok=0
start=$(date +%s.%N)
for i in 1 2 3 4 5; do
    if timeout 60 $NS $PEER echo-clients 192.168.77.2 7 1 1000000 > "$T/legit$i.log" 2>&1; then
        ok=$((ok + 1))
    fi
done
took=$(since "$start")
kill -0 $FLOODER 2>/dev/null || fail "the flood ended before the real clients did ($took s): make it longer"
kill $FLOODER
wait $FLOODER || true
[ $ok -eq 5 ] || fail "only $ok of 5 real clients got through: $(cat "$T"/legit*.log)"
pass "5 real clients connected and echoed 1 MB each during the flood ($took s for all five)"
pass "$(grep 'flood:' "$T/flood.log")"

$NS socat -t 5 - TCP:192.168.77.2:8 < /dev/null > "$T/stats" || fail "stats after the flood"
cookies=$(grep -o "tcp_syn_cookies_sent=[0-9]*" "$T/stats" | cut -d= -f2)
[ -n "$cookies" ] && [ "$cookies" -gt 0 ] || fail "no SYN cookies were sent: $(grep family "$T/stats")"
cookies_ok=$(grep -o "tcp_syn_cookies_ok=[0-9]*" "$T/stats" | cut -d= -f2)
peak=$(grep -o "TCP_PCB=[0-9]*/[0-9]*" "$T/stats" | cut -d/ -f2)
[ "$peak" -le 520 ] || fail "TCP pcbs peaked at $peak (half-open bound is 512)"
pkt_peak=$(grep -o "peak [0-9]* KiB" "$T/stats" | head -n1 | cut -d' ' -f2)
[ "$pkt_peak" -lt 16384 ] || fail "packet memory peaked at $pkt_peak KiB"
syn_rcvd=$(grep -o "syn_rcvd=[0-9]*" "$T/stats" | cut -d= -f2)
[ "$syn_rcvd" -le 512 ] || fail "$syn_rcvd half-open connections remain"
pass "bounded: $cookies SYN cookies sent (${cookies_ok:-0} came back as connections), TCP pcbs peak $peak, packet memory peak $pkt_peak KiB, $syn_rcvd half-open left"
grep -E "^(packets|  inet|   family|   pools)" "$T/stats" | head -n 6
echo "all SYN flood checks passed"
