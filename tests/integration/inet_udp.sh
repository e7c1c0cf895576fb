#!/usr/bin/env bash
# UDP between NeoBoot and the Linux kernel over TAP: NeoBoot's echo service
# answering a Python client (1 byte to 65507 bytes, the largest IPv4
# datagram, fragmented), NeoBoot's nc talking to a Python echo server, and
# a receive buffer too small for what arrives (truncation reported, drops
# counted, nothing crashes).
source "$(dirname "$0")/netns.sh"
PEER="$PY $(dirname "$0")/inet_peer.py"

tap tap0 192.168.77.1/24 fd00:77::1/64
tap tap1 192.168.78.1/24

# 1. NeoBoot echoes datagrams from Linux, IPv4 and IPv6
bg serve $NS "$NEOBOOT" serve --net tap:tap0 --ip 192.168.77.2/24 --ip fd00:77::2 \
    --echo udp:7 --echo udp6:7 --stats tcp:8
wait_for 10 $NS bash -c 'exec 3<>/dev/tcp/192.168.77.2/8' || fail "NeoBoot serve did not come up"
$NS $PEER udp-client 192.168.77.2 7 1 100 1472 1473 8000 32768 65507 > "$T/u4.log" \
    || fail "IPv4 UDP echo: $(tail -n1 "$T/u4.log")"
pass "NeoBoot echoed IPv4 datagrams of 1 .. 65507 bytes (fragmented ones too)"
wait_for 10 $NS ping -6 -c1 -W1 fd00:77::2 >/dev/null || fail "fd00:77::2 not reachable"
$NS $PEER udp-client fd00:77::2 7 1 1452 20000 65000 > "$T/u6.log" \
    || fail "IPv6 UDP echo: $(tail -n1 "$T/u6.log")"
pass "NeoBoot echoed IPv6 datagrams of 1 .. 65000 bytes"

# 2. NeoBoot's nc -u against a Python echo server: boundaries kept
bg pyecho $NS $PEER udp-echo-server 192.168.78.1 9999
wait_for 10 $NS bash -c 'ss -lun | grep -q "192.168.78.1:9999 "' || fail "python echo server"
head -c 65507 /dev/urandom > "$T/big"
# stdin reads give one datagram each: a pipe writes "x", then 65507 bytes
( printf x; sleep 0.3; cat "$T/big" ) | timeout 30 $NS "$NEOBOOT" nc -u -v -q 1 \
    --net tap:tap1 --ip 192.168.78.2/24 192.168.78.1:9999 > "$T/nc.out" 2> "$T/nc.log" \
    || fail "nc -u: $(tail -n 2 "$T/nc.log")"
grep -q "received 2 datagrams (65508 bytes), 0 truncated" "$T/nc.log" \
    || fail "nc -u summary: $(grep 'neoboot nc:' "$T/nc.log")"
[ "$(head -c1 "$T/nc.out")" = x ] && cmp -s <(tail -c +2 "$T/nc.out") "$T/big" \
    || fail "nc -u: echoed data differs"
pass "nc -u: a 1-byte and a 65507-byte datagram round trip intact"

# 3. a receive buffer too small: truncation and drops are counted
bg small $NS "$NEOBOOT" nc -u -l -v -q 2 --rcvbuf 8192 --recv-size 1000 \
    --net tap:tap1 --ip 192.168.78.2/24 192.168.78.2:5000
SMALL=$LAST_PID
wait_for 10 grep -aq "IPv4 192.168.78.2" "$T/small.log" || fail "nc -u -l did not start"
sleep 0.5
$NS $PEER udp-blast 192.168.78.2 5000 300 3000 > /dev/null
wait $SMALL || fail "nc -u -l failed: $(tail -n 3 "$T/small.log")"
line=$(grep -a "neoboot nc: sent" "$T/small.log") || fail "no summary: $(tail -n 3 "$T/small.log")"
trunc=$(echo "$line" | sed -E 's/.* ([0-9]+) truncated.*/\1/')
drops=$(echo "$line" | sed -E 's/.* ([0-9]+) dropped.*/\1/')
recvd=$(echo "$line" | sed -E 's/.*received ([0-9]+) datagrams.*/\1/')
[ "$trunc" -gt 0 ] && [ "$trunc" = "$recvd" ] || fail "truncation not reported: $line"
[ "$drops" -gt 0 ] || fail "no drops counted with an 8 KiB buffer: $line"
[ $((recvd + drops)) -le 300 ] || fail "more datagrams than were sent: $line"
pass "8 KiB receive buffer: $recvd datagrams truncated to 1000 bytes, $drops dropped and counted"

$NS socat -t 5 - TCP:192.168.77.2:8 < /dev/null > "$T/stats"
grep -q "udp_rx=" "$T/stats" || fail "stats lacks udp counters"
pass "stats: $(grep -o 'udp_rx=[0-9]*' "$T/stats") $(grep -o 'udp_tx=[0-9]*' "$T/stats")"
echo "all inet UDP checks passed"
