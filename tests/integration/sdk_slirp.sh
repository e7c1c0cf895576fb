#!/usr/bin/env bash
# The SDK apps on hosted NeoBoot over slirp (unprivileged), reached through
# port forwards on 127.0.0.1: httpd.wasm with curl (GET, HEAD, keep-alive,
# chunked upload), python's http.client and wrk (100 connections, 5 s, no
# errors) and over vsock (socat through the hybrid bridge); echo.wasm over
# TCP with nc and over vsock with socat; fetch.wasm downloading from
# httpd.wasm (redirects, chunked, keep-alive, a streamed upload) with its
# sha256 checked.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sdk_lib.sh"
need curl wrk socat nc sha256sum
NEOBOOT_FAST=${NEOBOOT_RELEASE:-}
[ -x "$NEOBOOT_FAST" ] || NEOBOOT_FAST=$NEOBOOT

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# 1. httpd.wasm behind slirp's port forward
P=$(free_port)
bg httpd "$NEOBOOT_FAST" run --net slirp -p "$P:8080" --vsock-uds "$T/h.sock" "$APPS/httpd.wasm" \
    --port 8080 --vsock-port 5080
wait_for 20 curl -sf -o /dev/null "http://127.0.0.1:$P/" || fail "httpd.wasm did not come up"
# the same server over vsock, through the hybrid bridge
printf 'CONNECT 5080\nGET /bytes/10 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' \
    | timeout 10 socat -t 3 - UNIX-CONNECT:"$T/h.sock" > "$T/hv.out" || fail "socat to httpd over vsock"
grep -aq "^HTTP/1.1 200 OK" "$T/hv.out" && grep -aq "^Content-Length: 10" "$T/hv.out" \
    || fail "httpd over vsock: $(head -c 200 "$T/hv.out")"
pass "httpd.wasm over vsock (socat, CONNECT 5080): 200 with the body's length"
curl_checks "http://127.0.0.1:$P"
$SDK_PEER http-client 127.0.0.1 "$P" > "$T/py.log" || fail "$(cat "$T/py.log")"
pass "$(cat "$T/py.log")"
wrk_check "http://127.0.0.1:$P/"

# 2. fetch.wasm (the build under test) from httpd.wasm: a redirect chain to
#    a chunked body; sha256 printed, and equal to the body's
"$NEOBOOT" run --allow-connect "tcp:10.0.2.2:$P" "$APPS/fetch.wasm" \
    "http://10.0.2.2:$P/redirect/2" > "$T/page" 2> "$T/fetch.log" || fail "fetch /redirect/2: $(tail -n 3 "$T/fetch.log")"
grep -q "Hello from NeoBoot" "$T/page" || fail "fetch followed the redirects to the wrong page"
"$NEOBOOT" run --allow-connect "tcp:10.0.2.2:$P" "$APPS/fetch.wasm" \
    "http://10.0.2.2:$P/chunked/5000000" > "$T/got" 2> "$T/fetch.log" || fail "fetch /chunked: $(tail -n 3 "$T/fetch.log")"
printed=$(awk '/^sha256: / {print $2}' "$T/fetch.log")
[ "$printed" = "$(sha "$T/got")" ] || fail "fetch printed sha256 '$printed', the file has $(sha "$T/got")"
[ "$printed" = "$($PY -c 'import sys,hashlib; b=bytes(range(251)); print(hashlib.sha256((b*20000)[:5000000]).hexdigest())')" ] \
    || fail "fetch's body is not the pattern"
! grep -q $'\r' "$T/fetch.log" || fail "fetch drew a progress bar into a file (isatty)"
pass "fetch.wasm: 2 redirects followed; 5 MB chunked body, sha256 printed = sha256 of the output ($(grep '^fetch:' "$T/fetch.log"))"
# the client's keep-alive: three URLs (one a redirect) on one connection
a0=$($SDK_PEER status 127.0.0.1 "$P" server.accepted)
"$NEOBOOT" run --allow-connect "tcp:10.0.2.2:$P" "$APPS/fetch.wasm" "http://10.0.2.2:$P/bytes/1000" \
    "http://10.0.2.2:$P/chunked/5000" "http://10.0.2.2:$P/redirect/1" > /dev/null 2> "$T/fetch3.log" \
    || fail "fetch of 3 URLs: $(tail -n 3 "$T/fetch3.log")"
a1=$($SDK_PEER status 127.0.0.1 "$P" server.accepted)
[ $((a1 - a0)) -eq 2 ] || fail "fetch used $((a1 - a0 - 1)) connections for 3 URLs (want 1)"
# the client's streamed upload: stdin, chunked, hashed by /sink
"$NEOBOOT" run --allow-connect "tcp:10.0.2.2:$P" "$APPS/fetch.wasm" -T - "http://10.0.2.2:$P/sink" \
    < "$T/up" > "$T/sink.out" 2> "$T/fetchup.log" || fail "fetch -T -: $(tail -n 3 "$T/fetchup.log")"
[ "$(cat "$T/sink.out")" = "3000001 $(sha "$T/up")" ] || fail "fetch -T - /sink answered '$(cat "$T/sink.out")'"
pass "fetch.wasm: 3 URLs over one kept-alive connection; 3 MB streamed (chunked) upload hashed equal by /sink"
"$NEOBOOT" run "$APPS/fetch.wasm" "http://10.0.2.2:$P/" > /dev/null 2> "$T/denied.log" && fail "fetch without --allow-connect succeeded"
grep -q "permission denied" "$T/denied.log" || fail "fetch without a capability: $(tail -n 2 "$T/denied.log")"
pass "fetch.wasm without --allow-connect: 'permission denied' (NB_EACCES as text)"
kill "${PIDS[0]}" 2>/dev/null || true

# 3. echo.wasm over TCP (nc) and vsock (socat through the hybrid bridge)
E=$(free_port)
bg echo "$NEOBOOT" run --net slirp -p "$E:7000" --vsock-uds "$T/v.sock" --allow-listen tcp:7000 \
    --allow-listen vsock:5000 "$APPS/echo.wasm" --tcp 7000 --vsock 5000
wait_for 20 test -S "$T/v.sock" || fail "echo.wasm's vsock bridge did not come up"
wait_for 20 grep -q "listening on vsock" "$T/echo.log" || fail "echo.wasm did not listen"
head -c 1000000 /dev/urandom > "$T/e.in"
timeout 60 nc -N 127.0.0.1 "$E" < "$T/e.in" > "$T/e.out" || fail "nc to echo.wasm failed"
cmp -s "$T/e.in" "$T/e.out" || fail "nc: echo differs ($(stat -c %s "$T/e.out") bytes back)"
pass "echo.wasm over TCP: nc sent 1 MB and got it back intact"
printf 'CONNECT 5000\nhello over vsock\n' | timeout 20 socat -t 2 - UNIX-CONNECT:"$T/v.sock" > "$T/v.out" \
    || fail "socat to the vsock bridge failed"
head -n 1 "$T/v.out" | grep -q "^OK " || fail "bridge did not say OK: $(head -c 100 "$T/v.out")"
grep -q "^hello over vsock$" "$T/v.out" || fail "vsock echo: $(cat "$T/v.out")"
{ printf 'CONNECT 5000\n'; cat "$T/e.in"; } | timeout 60 socat -t 5 - UNIX-CONNECT:"$T/v.sock" > "$T/v.bin" \
    || fail "socat bulk transfer failed"
tail -c +"$(( $(head -n 1 "$T/v.bin" | wc -c) + 1 ))" "$T/v.bin" | cmp -s - "$T/e.in" \
    || fail "vsock echo of 1 MB differs"
pass "echo.wasm over vsock: socat through the hybrid bridge (CONNECT 5000, OK), a line and 1 MB echoed"
echo "all SDK slirp checks passed"
