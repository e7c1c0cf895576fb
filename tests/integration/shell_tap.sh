#!/usr/bin/env bash
# The console shell against real peers, driven through a pty: NeoBoot on a
# TAP in a private namespace gets its lease and names from dnsmasq, pings
# the Linux side, fetches a file from python's http.server with wget,
# checks its sha256, refuses to boot it, and shows stats.
source "$(dirname "$0")/netns.sh"
need dnsmasq sha256sum
$PY -c "import pexpect" 2>/dev/null || skip "python3-pexpect is not installed (scripts/setup.sh installs it)"

tap nbsh0 10.9.0.1/24
$NS dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
    --interface=nbsh0 --dhcp-range=10.9.0.50,10.9.0.99,2m --dhcp-leasefile="$T/leases" \
    --address=/files.test/10.9.0.1 --pid-file="$T/dnsmasq.pid" >"$T/dnsmasq.log" 2>&1 &
PIDS+=($!)
mkdir -p "$T/www"
head -c $((3 * 1024 * 1024)) /dev/urandom > "$T/www/blob.bin"
sum=$(sha256sum "$T/www/blob.bin" | cut -d' ' -f1)
(cd "$T/www" && exec $NS $PY -m http.server 8000 --bind 10.9.0.1) >"$T/http.log" 2>&1 &
PIDS+=($!)
wait_for 10 $NS bash -c "exec 3<>/dev/tcp/10.9.0.1/8000" || fail "http.server did not start"

cat > "$T/steps" <<STEPS
until 30 dhcp dhcp bound
expect 10\.9\.0\.(5[0-9]|[6-9][0-9])
send ping -c 3 10.9.0.1
expect 3 sent, 3 received
send dns files.test
expect files\.test has .*address 10\.9\.0\.1
send dns nosuchname.test
expect nosuchname\.test: not found
send wget http://files.test:8000/blob.bin
expect blob\.bin: 3145728 bytes
expect sha256 $sum
send sha256 blob.bin $sum
expect sha256: OK
send files
expect blob\.bin +3145728
send boot blob.bin console=ttyS0
expect not a Linux kernel
send wget http://files.test:8000/missing
expect HTTP 404
send stats
expect iface eth0: ethernet up
expect inet: lwIP
send help
expect wget URL
STEPS
$NS $PY "$(dirname "$0")/shell_drive.py" "$T/steps" -- "$NEOBOOT" --log warn shell --net tap:nbsh0 \
    || fail "shell session over TAP"
echo "shell over TAP: all steps held"
