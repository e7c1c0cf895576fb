#!/usr/bin/env bash
# DHCP and DNS from dnsmasq on the Linux side of a TAP: a lease is
# obtained, renewed (T1 4 s) and released; names resolve to A and AAAA
# records (dnsmasq --address / --host-record); a DNS server that never
# answers gives "timed out" in bounded time.
source "$(dirname "$0")/netns.sh"
need dnsmasq
PEER="$PY $(dirname "$0")/inet_peer.py"

tap tap0 192.168.77.1/24

bg dnsmasq $NS dnsmasq --no-daemon --conf-file=/dev/null --user=root --group=root \
    --interface=tap0 --bind-interfaces --listen-address=192.168.77.1 --no-ping \
    --dhcp-range=192.168.77.50,192.168.77.60,255.255.255.0,2m \
    --dhcp-option=option:T1,4 --dhcp-option=option:T2,7 \
    --dhcp-leasefile="$T/leases" --pid-file="$T/dnsmasq.pid" --log-dhcp --log-queries \
    --address=/foo.test/192.168.77.9 --host-record=bar.test,192.168.77.10,fd00:77::10 \
    --no-resolv --no-hosts --log-facility=-
wait_for 10 grep -q "DHCP, IP range" "$T/dnsmasq.log" || fail "dnsmasq did not start"

# 1. lease, renewals, release
timeout 60 $NS "$NEOBOOT" --log warn,dhcp=info dhcp --net tap:tap0 --hold 10 > "$T/dhcp.out" 2>&1 \
    || fail "neoboot dhcp: $(tail -n 3 "$T/dhcp.out")"
grep -q "inet 192.168.77.5[0-9]/24 gateway 192.168.77.1 (dhcp)" "$T/dhcp.out" \
    || fail "no DHCP address shown: $(cat "$T/dhcp.out")"
renewals=$(grep -c "DHCP renewed" "$T/dhcp.out" || true)
[ "$renewals" -ge 2 ] || fail "expected >= 2 renewals in 10 s with T1 = 4 s, got $renewals"
acks=$(grep -c "DHCPACK(tap0)" "$T/dnsmasq.log")
[ "$acks" -ge 3 ] || fail "dnsmasq saw $acks ACKs"
wait_for 5 grep -q "DHCPRELEASE(tap0)" "$T/dnsmasq.log" || fail "dnsmasq saw no DHCPRELEASE"
grep -q "dhcp bound server 192.168.77.1 lease 120s (T1 4s, T2 7s)" "$T/dhcp.out" \
    || fail "lease times not shown: $(grep dhcp "$T/dhcp.out")"
pass "DHCP: lease obtained, renewed $renewals times (dnsmasq: $acks ACKs), released"

# 2. names, through the DNS server DHCP gave us
timeout 30 $NS "$NEOBOOT" --log warn dns --net tap:tap0 foo.test > "$T/dns1" 2>&1 \
    || fail "dns foo.test: $(cat "$T/dns1")"
grep -q "foo.test has IPv4 address 192.168.77.9" "$T/dns1" || fail "foo.test: $(cat "$T/dns1")"
timeout 30 $NS "$NEOBOOT" --log warn dns --net tap:tap0 bar.test > "$T/dns2" 2>&1 \
    || fail "dns bar.test: $(cat "$T/dns2")"
grep -q "bar.test has IPv4 address 192.168.77.10" "$T/dns2" && \
    grep -q "bar.test has IPv6 address fd00:77::10" "$T/dns2" || fail "bar.test: $(cat "$T/dns2")"
timeout 30 $NS "$NEOBOOT" --log warn dns --net tap:tap0 -6 bar.test > "$T/dns3" 2>&1 \
    || fail "dns -6 bar.test: $(cat "$T/dns3")"
grep -q "IPv6 address fd00:77::10" "$T/dns3" && ! grep -q IPv4 "$T/dns3" || fail "-6: $(cat "$T/dns3")"
grep -q "query\[AAAA\] bar.test from 192.168.77.5" "$T/dnsmasq.log" || fail "dnsmasq saw no AAAA query"
pass "DNS: A and AAAA records resolved through dnsmasq"
set +e
timeout 30 $NS "$NEOBOOT" --log warn dns --net tap:tap0 nosuch.test > "$T/dns4" 2>&1
rc=$?
set -e
[ $rc -eq 1 ] && grep -q "nosuch.test: not found" "$T/dns4" || fail "unknown name: rc $rc $(cat "$T/dns4")"
pass "DNS: an unknown name fails ($(grep -o 'nosuch.test: .*' "$T/dns4"))"

# 3. a server that never answers: NB_ETIMEDOUT in bounded time
# (added after dnsmasq bound its sockets, so the address is the silent one's)
$NS ip addr add 192.168.77.3/24 dev tap0
bg blackhole $NS $PEER dns-blackhole 192.168.77.3
wait_for 10 $NS bash -c 'ss -lun | grep -q "192.168.77.3:53 "' || fail "silent DNS server"
start=$(date +%s.%N)
set +e
timeout 30 $NS "$NEOBOOT" --log warn dns --net tap:tap0 --ip 192.168.77.2/24 \
    --dns 192.168.77.3 -t 2 quiet.test > "$T/dns5" 2>&1
rc=$?
set -e
took=$(since "$start")
[ $rc -eq 1 ] || fail "silent server: exit $rc: $(cat "$T/dns5")"
grep -q "quiet.test: timed out" "$T/dns5" || fail "silent server: $(cat "$T/dns5")"
grep -q "query 1 ignored" "$T/blackhole.log" || fail "the silent server saw no query"
awk -v t="$took" 'BEGIN { exit !(t < 8) }' || fail "timeout took $took s (asked for 2 s)"
pass "DNS: a server that never answers gives 'timed out' $(grep -o 'after [0-9]* ms' "$T/dns5")"
echo "all DHCP/DNS checks passed"
