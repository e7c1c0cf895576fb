#!/usr/bin/env bash
# TCP through a bad wire: a seeded Python relay moves every frame between
# NeoBoot's TAP and Linux's TAP, dropping 5%, reordering and duplicating
# some. Large transfers both ways still arrive intact (sha256).
source "$(dirname "$0")/netns.sh"
need socat sha256sum
PEER="$PY $(dirname "$0")/inet_peer.py"
MIB=${INET_LOSS_MIB:-64}
UP_MIB=${INET_LOSS_UP_MIB:-4}   # lwIP sends without SACK: slow under loss (docs/inet.md)
SEED=${INET_LOSS_SEED:-1}

# tapa: NeoBoot's; its Linux side has no address and stays silent (no ARP,
# no IPv6), the relay reads and writes it with a packet socket.
$NS ip tuntap add mode tap name tapa
$NS sysctl -qw net.ipv6.conf.tapa.disable_ipv6=1
$NS ip link set tapa arp off up
# tapb: the relay holds its fd; its Linux side is the peer, 192.168.79.1.
$NS ip tuntap add mode tap name tapb
$NS sysctl -qw net.ipv6.conf.tapb.disable_ipv6=1
$NS ip link set tapb up
$NS ip addr add 192.168.79.1/24 dev tapb

# The relay is a plain wire: frames, not the 64 KiB TSO bursts NeoBoot's TAP
# driver would hand a Linux endpoint, so offloads are off here.
export NEOBOOT_TAP_OFFLOAD=0
bg relay $NS $PEER relay tapa tapb "$SEED" 0.05 0.03 0.01 600
wait_for 10 grep -q "relay ready" "$T/relay.log" || fail "relay did not start"

# Linux -> NeoBoot
head -c $((MIB * 1048576)) /dev/urandom > "$T/down"
bg src $NS socat -u OPEN:"$T/down" TCP-LISTEN:9000,bind=192.168.79.1,reuseaddr
wait_for 10 $NS bash -c 'ss -ltn | grep -q "192.168.79.1:9000 "' || fail "socat did not listen"
start=$(date +%s.%N)
timeout 400 $NS "$NEOBOOT_FAST" nc --net tap:tapa --ip 192.168.79.2/24 -w 30 192.168.79.1:9000 \
    < /dev/null > "$T/down.got" 2> "$T/nc1.log" || fail "download: $(tail -n 3 "$T/nc1.log")"
t1=$(since "$start")
[ "$(sha "$T/down.got")" = "$(sha "$T/down")" ] || fail "download differs ($(stat -c %s "$T/down.got") bytes)"
pass "Linux -> NeoBoot through 5% loss + reordering + duplication: $MIB MiB intact in ${t1%.*} s"

# NeoBoot -> Linux
head -c $((UP_MIB * 1048576)) /dev/urandom > "$T/up"
bg sink $NS socat -u TCP-LISTEN:9001,bind=192.168.79.1,reuseaddr OPEN:"$T/up.got",creat,trunc
wait_for 10 $NS bash -c 'ss -ltn | grep -q "192.168.79.1:9001 "' || fail "socat did not listen"
SINK=$LAST_PID
start=$(date +%s.%N)
timeout 400 $NS "$NEOBOOT_FAST" nc --net tap:tapa --ip 192.168.79.2/24 -w 30 192.168.79.1:9001 \
    < "$T/up" > /dev/null 2> "$T/nc2.log" || fail "upload: $(tail -n 3 "$T/nc2.log")"
wait_for 30 bash -c "! kill -0 $SINK 2>/dev/null" || fail "the sink did not finish"
t2=$(since "$start")
[ "$(sha "$T/up.got")" = "$(sha "$T/up")" ] || fail "upload differs ($(stat -c %s "$T/up.got") bytes)"
pass "NeoBoot -> Linux through the same wire: $UP_MIB MiB intact in ${t2%.*} s"
kill "${PIDS[0]}" 2>/dev/null || true
wait_for 5 grep -q "relay:" "$T/relay.log" && pass "$(grep 'relay:' "$T/relay.log")"
echo "all loss checks passed"
