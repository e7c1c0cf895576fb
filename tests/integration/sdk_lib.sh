# Helpers for the SDK app tests (sourced after lib.sh or netns.sh): where
# the apps are, curl checks shared by the slirp and TAP tests, and wrk.
APPS=${NB_APPS:-}
[ -n "$APPS" ] && [ -f "$APPS/httpd.wasm" ] || skip "no SDK apps in '${APPS}' (NB_APPS; the build makes <build>/apps)"
PY=${PY:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3
SDK_PEER="$PY $(dirname "${BASH_SOURCE[0]}")/sdk_peer.py"

# curl_checks URL_BASE [CMD_PREFIX]: GET, HEAD, keep-alive, chunked upload
curl_checks() {
    local base=$1 pre=${2:-}
    $pre curl -sS -f --max-time 20 "$base/" | grep -q "Hello from NeoBoot" || fail "curl GET /"
    local head
    head=$($pre curl -sS -f --max-time 20 -I "$base/") || fail "curl HEAD /"
    echo "$head" | grep -q "^HTTP/1.1 200" || fail "HEAD status: $head"
    echo "$head" | grep -qi "^Content-Length: 252" || fail "HEAD Content-Length: $head"
    # keep-alive: three requests, one connection (num_connects 1, then 0, 0)
    local nc
    nc=$($pre curl -sS -f --max-time 20 -w "%{num_connects} " -o /dev/null -o /dev/null -o /dev/null \
        "$base/" "$base/status" "$base/bytes/1000" 2>"$T/curl_ka.log") || fail "curl keep-alive"
    [ "$nc" = "1 0 0 " ] || fail "curl keep-alive made connections: '$nc'"
    $pre curl -sS -v --max-time 20 -o /dev/null -o /dev/null "$base/" "$base/" 2>&1 \
        | grep -q "Re-using existing connection" || fail "curl -v did not re-use the connection"
    # chunked upload: hashed by /sink, and echoed by /echo
    head -c 3000001 /dev/urandom > "$T/up"
    local want got
    want="3000001 $(sha "$T/up")"
    got=$($pre curl -sS -f --max-time 60 -H "Transfer-Encoding: chunked" --data-binary @"$T/up" "$base/sink") \
        || fail "curl chunked upload"
    [ "$got" = "$want" ] || fail "chunked upload: got '$got', want '$want'"
    head -c 500000 "$T/up" > "$T/up2"
    $pre curl -sS -f --max-time 60 -H "Transfer-Encoding: chunked" --data-binary @"$T/up2" "$base/echo" -o "$T/up2.back" \
        || fail "curl chunked upload to /echo"
    cmp -s "$T/up2" "$T/up2.back" || fail "chunked upload to /echo: body differs"
    got=$($pre curl -sS -f --max-time 60 -T "$T/up" "$base/sink") || fail "curl -T"
    [ "$got" = "$want" ] || fail "curl -T /sink: got '$got'"
    pass "curl: GET, HEAD, keep-alive (3 requests, num_connects '$nc'), chunked uploads (3 MB /sink sha256 equal, 500 kB /echo), -T"
}

# wrk_check URL [CMD_PREFIX]: 100 connections for 5 s; no socket errors, all 2xx
wrk_check() {
    local url=$1 pre=${2:-}
    $pre wrk -t2 -c100 -d5s --timeout 5s --latency "$url" > "$T/wrk.out" 2>&1 || fail "wrk failed: $(cat "$T/wrk.out")"
    ! grep -q "Socket errors" "$T/wrk.out" || fail "wrk: $(grep 'Socket errors' "$T/wrk.out")"
    ! grep -q "Non-2xx" "$T/wrk.out" || fail "wrk: $(grep 'Non-2xx' "$T/wrk.out")"
    local rps reqs
    rps=$(awk '/^Requests\/sec/ {print $2}' "$T/wrk.out")
    reqs=$(awk '/requests in/ {print $1}' "$T/wrk.out")
    [ -n "$rps" ] && [ "${reqs:-0}" -gt 0 ] || fail "wrk printed no rate: $(cat "$T/wrk.out")"
    WRK_RPS=$rps
    pass "wrk: 100 connections, 5 s: $reqs requests, $rps req/s, no socket errors, no non-2xx"
}
