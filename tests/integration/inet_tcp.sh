#!/usr/bin/env bash
# TCP between NeoBoot and the Linux kernel over TAP, in a namespace of our
# own: a 256 MiB download from python's http.server (sha256 compared),
# curl uploading and downloading through NeoBoot's HTTP service, many
# concurrent connections, half-close, a peer's reset mid-transfer, and
# NeoBoot's stats afterwards.
source "$(dirname "$0")/netns.sh"
need curl sha256sum socat head
PEER="$PY $(dirname "$0")/inet_peer.py"
MIB=${INET_TCP_MIB:-256}

tap tap0 192.168.77.1/24     # NeoBoot server: 192.168.77.2
tap tap1 192.168.78.1/24     # NeoBoot clients: 192.168.78.2

# 1. NeoBoot downloads MIB MiB from python's http.server (release build)
mkdir -p "$T/www"
head -c $((MIB * 1048576)) /dev/urandom > "$T/www/f"
want=$(sha "$T/www/f")
(cd "$T/www" && exec $NS $PY -m http.server 8000 --bind 192.168.78.1) >"$T/httpd.log" 2>&1 &
PIDS+=($!)
wait_for 10 $NS bash -c 'exec 3<>/dev/tcp/192.168.78.1/8000' || fail "http.server did not start"
start=$(date +%s.%N)
printf 'GET /f HTTP/1.0\r\n\r\n' | timeout 300 $NS "$NEOBOOT_FAST" nc -v --net tap:tap1 \
    --ip 192.168.78.2/24 192.168.78.1:8000 > "$T/resp" 2>"$T/dl.log" \
    || fail "nc download failed: $(tail -n 3 "$T/dl.log")"
end=$(date +%s.%N)
$PEER strip-http "$T/resp" "$T/got" || fail "bad HTTP response: $(head -c 80 "$T/resp")"
[ "$(sha "$T/got")" = "$want" ] || fail "download differs ($(stat -c %s "$T/got") bytes)"
pass "NeoBoot downloaded $MIB MiB from http.server over TAP, sha256 equal ($(calc "$MIB / ($end - $start)") MiB/s)"
rm -f "$T/resp" "$T/got"

# 2. NeoBoot serves: curl uploads and downloads through its HTTP service
bg serve $NS "$NEOBOOT_FAST" serve --net tap:tap0 --ip 192.168.77.2/24 --http tcp:80 \
    --echo tcp:7 --stats tcp:8 --backlog 256
SERVE=$LAST_PID
wait_for 10 $NS bash -c 'exec 3<>/dev/tcp/192.168.77.2/7' || fail "NeoBoot serve did not come up"
head -c $((32 * 1048576)) /dev/urandom > "$T/up"
$NS curl -sS --max-time 120 --data-binary @"$T/up" -o "$T/up.back" http://192.168.77.2/echo \
    || fail "curl upload to /echo failed"
[ "$(sha "$T/up.back")" = "$(sha "$T/up")" ] || fail "curl /echo: body differs"
pass "curl uploaded 32 MiB to NeoBoot's /echo and got it back intact"
n=$($NS curl -sS --max-time 120 -T "$T/up" http://192.168.77.2/sink) || fail "curl -T /sink failed"
[ "$n" = "$((32 * 1048576))" ] || fail "/sink counted '$n' bytes"
pass "curl -T: NeoBoot's sink counted all 32 MiB"
$NS curl -sS --max-time 120 http://192.168.77.2/bytes/$((64 * 1048576)) -o "$T/down" \
    || fail "curl download failed"
[ "$(sha "$T/down")" = "$($PEER pattern $((64 * 1048576)) | sha256sum | cut -d' ' -f1)" ] \
    || fail "curl download differs from the pattern"
pass "curl downloaded 64 MiB of NeoBoot's pattern intact"

# 3. many concurrent connections, each half-closing, echo checked
$NS $PEER echo-clients 192.168.77.2 7 200 65536 > "$T/many.log" || fail "concurrent echo: $(cat "$T/many.log")"
pass "$(cat "$T/many.log")"

# 4. half-close: the server keeps sending after the client's FIN
$NS $PEER half-close 192.168.77.2 7 $((4 * 1048576)) > "$T/half.log" || fail "half-close failed"
pass "$(cat "$T/half.log")"

# 5. a reset from the peer reaches nc as NB_ECONNRESET (exit status 1)
bg rst $NS $PEER reset-server 192.168.78.1 9000 100000
wait_for 10 $NS bash -c 'ss -ltn | grep -q ":9000 "' || fail "reset server did not start"
head -c $((64 * 1048576)) /dev/zero > "$T/zero"
set +e
timeout 60 $NS "$NEOBOOT" nc --net tap:tap1 --ip 192.168.78.2/24 192.168.78.1:9000 \
    < "$T/zero" > /dev/null 2> "$T/nc_rst.log"
rc=$?
set -e
[ $rc -eq 1 ] || fail "nc exited $rc after a reset (want 1): $(tail -n 2 "$T/nc_rst.log")"
grep -q "connection reset by peer" "$T/nc_rst.log" || fail "no 'connection reset by peer': $(tail -n 2 "$T/nc_rst.log")"
pass "peer reset mid-transfer: nc says 'connection reset by peer', exit 1"

# 6. NeoBoot's own counters, read through its stats service
$NS socat -t 5 - TCP:192.168.77.2:8 < /dev/null > "$T/stats" || fail "stats service"
grep -q "inet: lwIP 2.1.3" "$T/stats" || fail "stats lacks the inet section"
grep -q "tcp_accepts=" "$T/stats" || fail "stats lacks tcp counters"
grep -q "TCP_PCB=" "$T/stats" || fail "stats lacks lwIP pool usage"
pass "stats: $(grep -o 'tcp_accepts=[0-9]*' "$T/stats"), $(grep -o 'TCP_PCB=[0-9/]*' "$T/stats")"
kill $SERVE
echo "all inet TCP checks passed"
