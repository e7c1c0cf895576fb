#!/usr/bin/env bash
# --pcap writes a classic pcap file tshark reads: a DHCP exchange with
# dnsmasq and pings to Linux are all in it, in order, both directions.
source "$(dirname "$0")/netns.sh"
need tshark dnsmasq

tap tap0 192.168.77.1/24
bg dnsmasq $NS dnsmasq --no-daemon --conf-file=/dev/null --user=root --group=root \
    --interface=tap0 --bind-interfaces --no-ping --port=0 \
    --dhcp-range=192.168.77.50,192.168.77.60,255.255.255.0,2m \
    --dhcp-leasefile="$T/leases" --pid-file="$T/dnsmasq.pid" --log-facility=-
wait_for 10 grep -q "DHCP, IP range" "$T/dnsmasq.log" || fail "dnsmasq did not start"

timeout 60 $NS "$NEOBOOT" --log warn ping --net tap:tap0 --pcap "$T/cap.pcap" -c 3 -i 0.2 192.168.77.1 \
    > "$T/ping.out" 2>&1 || fail "ping: $(cat "$T/ping.out")"
[ -s "$T/cap.pcap" ] || fail "no capture file"
# tshark as root warns about running as root; the file is ours anyway
tshark -r "$T/cap.pcap" -T fields -e frame.number -e _ws.col.Protocol -e _ws.col.Info \
    > "$T/decoded" 2> "$T/tshark.err" || fail "tshark cannot read the file: $(cat "$T/tshark.err")"
for what in "DHCP.*Discover" "DHCP.*Offer" "DHCP.*Request" "DHCP.*ACK" "ARP" \
            "ICMP.*Echo \\(ping\\) request" "ICMP.*Echo \\(ping\\) reply"; do
    grep -qE "$what" "$T/decoded" || fail "no '$what' in the capture: $(head -n 20 "$T/decoded")"
done
req=$(grep -c "Echo (ping) request" "$T/decoded")
rep=$(grep -c "Echo (ping) reply" "$T/decoded")
[ "$req" = 3 ] && [ "$rep" = 3 ] || fail "expected 3 requests and 3 replies, got $req/$rep"
tshark -r "$T/cap.pcap" -T fields -e frame.len -e frame.cap_len 2>/dev/null | \
    awk '$1 != $2 { bad = 1 } END { exit bad }' || fail "truncated records"
pass "pcap: tshark decodes the DHCP exchange, ARP and 3 pings each way ($(wc -l < "$T/decoded") frames)"
echo "all pcap checks passed"
