#!/usr/bin/env bash
# httpd.wasm on hosted NeoBoot over TAP, in a network namespace of our own:
# curl (GET, HEAD, keep-alive, chunked upload), python's http.client and
# wrk (100 connections, 5 s, no errors), then hostile clients, each of
# which must get its status or a close while others are still served:
# oversized headers (431), oversized bodies (413), slowloris (closed after
# the header timeout), truncated requests, garbage (400 or close), and a
# connection flood past max-conns (503s, bounded memory: checked in the
# runtime's stats JSON), with a legit request working afterwards.
source "$(dirname "$0")/netns.sh"
source "$(dirname "$0")/sdk_lib.sh"
need curl wrk sha256sum

tap tap0 192.168.80.1/24          # httpd.wasm is 192.168.80.2
IP=192.168.80.2
BASE=http://$IP
HTTPD=("$APPS/httpd.wasm" --port 80 --max-conns 200 --header-timeout 2 --idle-timeout 20)
RUN=(run --net tap:tap0 --ip $IP/24 --allow-listen tcp:80)

# 1. load first, on the release build: wrk's latency must not be ASan's
bg httpd_fast $NS "$NEOBOOT_FAST" "${RUN[@]}" "${HTTPD[@]}"
wait_for 20 $NS curl -sf -o /dev/null "$BASE/" || fail "httpd.wasm did not come up"
wrk_check "$BASE/" "$NS"
kill "$LAST_PID"; wait "$LAST_PID" 2>/dev/null || true

# 2. the build under test for everything else
bg httpd $NS "$NEOBOOT" "${RUN[@]}" "${HTTPD[@]}"
wait_for 20 $NS curl -sf -o /dev/null "$BASE/" || fail "httpd.wasm did not come up"
curl_checks "$BASE" "$NS"
$NS $SDK_PEER http-client $IP 80 > "$T/py.log" || fail "$(cat "$T/py.log")"
pass "$(cat "$T/py.log")"

# 3. hostile clients; after each, a legit request still works
for c in big-header big-body truncated garbage "slowloris 2" "flood 400"; do
    set -- $c
    $NS $SDK_PEER hostile "$1" $IP 80 ${2:-} > "$T/hostile.log" 2>&1 || fail "hostile $c: $(tail -n 5 "$T/hostile.log")"
    # after a flood the server answers 503 until it has seen the flood's
    # connections close: allow it a moment
    wait_for 10 $NS curl -sf --max-time 5 -o /dev/null "$BASE/" || fail "a legit request failed after hostile $c"
    pass "$(cat "$T/hostile.log")"
done

# 4. bounded afterwards: connections gone, packet memory back down
wait_for 10 bash -c "[ \"\$($NS $SDK_PEER status $IP 80 server.open)\" -le 1 ]" \
    || fail "connections still open after the clients left: $($NS $SDK_PEER status $IP 80 server.open)"
read -r open peak rejected timeouts bad live peakb limit socks < <($NS $SDK_PEER status $IP 80 \
    server.open server.peak_open server.rejected server.timeouts server.bad_requests \
    runtime.packets.live_bytes runtime.packets.peak_bytes runtime.packets.limit_bytes runtime.stacks.0.sockets)
[ "$peak" -le 200 ] || fail "peak_open $peak exceeds max-conns 200"
[ "$rejected" -gt 0 ] || fail "the flood was not refused (rejected=0)"
[ "$live" -lt $((1 << 20)) ] || fail "packet memory still $live bytes after the clients left"
[ "$peakb" -lt "$limit" ] || fail "packet memory reached its limit ($peakb of $limit)"
[ "$socks" -le 8 ] || fail "$socks sockets left in the stack"
pass "stats after: open $open, peak_open $peak (max 200), rejected $rejected, timeouts $timeouts, bad requests $bad; packets live $live B, peak $peakb B of $limit; $socks sockets"
$NS curl -sf --max-time 10 "$BASE/" | grep -q "Hello from NeoBoot" || fail "final legit request"
echo "all httpd.wasm TAP checks passed"
