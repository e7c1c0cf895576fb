#!/usr/bin/env bash
# vsock against real host programs: socat through the hybrid-vsock bridge
# in both directions, and two NeoBoot processes over the UNIX vsock device.
# Multi-MiB transfers are checked by sha256.
source "$(dirname "$0")/lib.sh"
need socat sha256sum head

MIB=${VSOCK_TEST_MIB:-8}
head -c $((MIB * 1024 * 1024)) /dev/urandom > "$T/data"
want=$(sha "$T/data")

# 1. host -> guest: socat connects to the bridge, CONNECT 5000, echo service
bg echo "$NEOBOOT" vsock-echo --vsock-uds "$T/v.sock"
wait_for 10 test -S "$T/v.sock" || fail "bridge socket did not appear"
{ printf 'CONNECT 5000\n'; cat "$T/data"; } \
    | timeout 120 socat -t 60 - UNIX-CONNECT:"$T/v.sock" > "$T/reply"
head -n1 "$T/reply" | grep -qE '^OK [0-9]+$' || fail "no 'OK <port>' line: $(head -c 80 "$T/reply" | head -n1)"
tail -c +$(( $(head -n1 "$T/reply" | wc -c) + 1 )) "$T/reply" > "$T/echoed"
[ "$(sha "$T/echoed")" = "$want" ] || fail "host->guest echo differs ($(stat -c %s "$T/echoed") of $((MIB*1048576)) bytes)"
pass "socat -> bridge -> vsock echo: $MIB MiB intact"

# refused handshakes: no listener on the port, and garbage
out=$(printf 'CONNECT 4242\n' | timeout 10 socat -t 5 - UNIX-CONNECT:"$T/v.sock" || true)
[ -z "$out" ] || fail "CONNECT to a port without listener answered '$out'"
out=$(printf 'HELLO\n' | timeout 10 socat -t 5 - UNIX-CONNECT:"$T/v.sock" || true)
[ -z "$out" ] || fail "garbage handshake answered '$out'"
pass "bad CONNECT lines are refused"

# stats through the bridge
"$NEOBOOT" stats --vsock-uds "$T/v.sock" > "$T/stats"
grep -q '^iface vsock0: vsock up' "$T/stats" || fail "stats lacks the vsock interface"
grep -q 'LISTEN port 5000' "$T/stats" || fail "stats lacks the echo listener"
grep -q 'accepts=' "$T/stats" || fail "stats lacks vsock counters"
pass "neoboot stats over the bridge"

# 2. guest -> host: a host program listens on PATH_9000; NeoBoot connects to CID 2:9000
bg hostecho socat UNIX-LISTEN:"$T/n.sock_9000" EXEC:cat
wait_for 10 test -S "$T/n.sock_9000" || fail "host listener did not appear"
timeout 120 "$NEOBOOT" nc -v --vsock-uds "$T/n.sock" 2:9000 < "$T/data" > "$T/back" 2>"$T/nc.log" \
    || fail "nc to the host failed: $(tail -n 3 "$T/nc.log")"
[ "$(sha "$T/back")" = "$want" ] || fail "guest->host echo differs ($(stat -c %s "$T/back") bytes)"
pass "NeoBoot nc -> CID 2:9000 -> host socat: $MIB MiB intact"

if timeout 20 "$NEOBOOT" nc --vsock-uds "$T/m.sock" 2:9001 </dev/null >/dev/null 2>"$T/refused.log"; then
    fail "connect to a host port nobody listens on succeeded"
fi
grep -q "connection refused" "$T/refused.log" || fail "expected 'connection refused', got: $(cat "$T/refused.log")"
pass "guest connection to an absent host port is refused"

# 3. two NeoBoot processes over the UNIX vsock device
bg devecho "$NEOBOOT" vsock-echo --vsock-dev listen:"$T/dev.sock" --cid 3
wait_for 10 test -S "$T/dev.sock" || fail "device socket did not appear"
timeout 120 "$NEOBOOT" nc --vsock-dev connect:"$T/dev.sock" --cid 4 3:5000 < "$T/data" > "$T/dev.out" \
    2>"$T/devnc.log" || fail "nc over the vsock device failed: $(tail -n 3 "$T/devnc.log")"
[ "$(sha "$T/dev.out")" = "$want" ] || fail "two-process echo differs ($(stat -c %s "$T/dev.out") bytes)"
pass "two NeoBoot processes over the UNIX vsock device: $MIB MiB intact"
echo "all vsock bridge checks passed"
