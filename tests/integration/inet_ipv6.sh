#!/usr/bin/env bash
# IPv6 between NeoBoot and Linux over TAP: SLAAC from dnsmasq's router
# advertisements (ra-only), ping both ways over link-local and global
# addresses, TCP both ways (NeoBoot's echo service, NeoBoot's nc).
source "$(dirname "$0")/netns.sh"
need dnsmasq socat ping
PEER="$PY $(dirname "$0")/inet_peer.py"

$NS sysctl -qw net.ipv6.conf.default.accept_dad=0 || true
tap tap0 192.168.77.1/24 fd00:77::1/64     # NeoBoot server
tap tap1 192.168.78.1/24 fd00:78::1/64     # NeoBoot clients
bg dnsmasq $NS dnsmasq --no-daemon --conf-file=/dev/null --user=root --group=root \
    --interface=tap0 --interface=tap1 --bind-interfaces --port=0 \
    --enable-ra --ra-param=tap0,5 --ra-param=tap1,5 \
    --dhcp-range=::,constructor:tap0,ra-only,64 --dhcp-range=::,constructor:tap1,ra-only,64 \
    --pid-file="$T/dnsmasq.pid" --log-facility=-
wait_for 10 grep -q "router advertisement on" "$T/dnsmasq.log" || fail "dnsmasq did not start RAs"

# 1. SLAAC: NeoBoot forms fd00:77::/64 + EUI-64 from its MAC
bg serve $NS "$NEOBOOT" serve --net tap:tap0 --no-dhcp --echo tcp6:7 --echo tcp:7
wait_for 20 grep -q "IPv6 fd00:77::" "$T/serve.log" || fail "no SLAAC address: $(tail -n 5 "$T/serve.log")"
G=$(grep -o "IPv6 fd00:77::[0-9a-f:]*" "$T/serve.log" | head -n1 | cut -d' ' -f2)
LL=$(grep -o "IPv6 fe80::[0-9a-f:]*" "$T/serve.log" | head -n1 | cut -d' ' -f2)
[ -n "$LL" ] || fail "no link-local address logged"
pass "SLAAC: NeoBoot has $G (link-local $LL)"

# 2. Linux pings NeoBoot, global and link-local
$NS ping -6 -c 3 -i 0.2 -W 2 "$G" > "$T/p1" || fail "ping $G: $(tail -n2 "$T/p1")"
$NS ping -6 -c 3 -i 0.2 -W 2 "$LL%tap0" > "$T/p2" || fail "ping $LL%tap0: $(tail -n2 "$T/p2")"
pass "Linux pings NeoBoot over IPv6 (global and link-local)"

# 3. TCP from Linux to NeoBoot's echo, global and link-local
$NS $PEER echo-clients "$G" 7 20 200000 > "$T/e1.log" || fail "echo over $G: $(cat "$T/e1.log")"
$NS $PEER half-close "$LL%tap0" 7 1000000 > "$T/e2.log" || fail "echo over $LL: $(cat "$T/e2.log")"
pass "TCP over IPv6 to NeoBoot: $(cat "$T/e1.log"); link-local $(cat "$T/e2.log" | cut -d: -f2)"

# 4. NeoBoot pings Linux and connects to it (a second NeoBoot on tap1)
timeout 60 $NS "$NEOBOOT" --log warn ping --net tap:tap1 --no-dhcp -c 3 -i 0.2 fd00:78::1 > "$T/np1" 2>&1 \
    || fail "neoboot ping fd00:78::1: $(cat "$T/np1")"
grep -q "3 received" "$T/np1" || fail "ping: $(tail -n 2 "$T/np1")"
# Linux configures tap1's link-local address once a NeoBoot gave it carrier
wait_for 5 $NS bash -c 'ip -6 addr show dev tap1 scope link | grep -q fe80::' \
    || fail "tap1 has no link-local address"
LINUX_LL=$($NS ip -6 addr show dev tap1 scope link | grep -o "fe80::[0-9a-f:]*" | head -n1)
timeout 60 $NS "$NEOBOOT" --log warn ping --net tap:tap1 --no-dhcp -c 3 -i 0.2 "$LINUX_LL%2" > "$T/np2" 2>&1 \
    || fail "neoboot ping $LINUX_LL%2: $(cat "$T/np2")"
pass "NeoBoot pings Linux over IPv6 (fd00:78::1 and $LINUX_LL%2)"
bg echo6 $NS socat TCP6-LISTEN:8080,bind=[fd00:78::1],fork,reuseaddr EXEC:cat
wait_for 10 $NS bash -c 'ss -ltn | grep -q "fd00:78::1\]:8080"' || fail "socat did not listen"
head -c 3000000 /dev/urandom > "$T/d"
timeout 60 $NS "$NEOBOOT" --log warn nc --net tap:tap1 --no-dhcp "[fd00:78::1]:8080" < "$T/d" > "$T/d.back" 2> "$T/nc6.log" \
    || fail "nc over IPv6: $(tail -n 2 "$T/nc6.log")"
cmp -s "$T/d" "$T/d.back" || fail "nc over IPv6: echo differs"
pass "NeoBoot nc -> Linux socat over IPv6 (SLAAC address): 3 MB echoed intact"
echo "all IPv6 checks passed"
