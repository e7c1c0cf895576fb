#!/usr/bin/env bash
# The default network, slirp, needs no privileges: run NeoBoot as an
# unprivileged user (when we are root and setpriv exists), get a DHCP lease
# from slirp, fetch a page from a host HTTP server on 127.0.0.1 (reached as
# 10.0.2.2), and let a host client reach NeoBoot's echo service through a
# port forward. Only the host's loopback is used.
source "$(dirname "$0")/lib.sh"
need curl socat sha256sum
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3

RUN=()
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    RUN=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    chmod 755 "$T"
fi
port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# 1. lease and a page from the host
mkdir -p "$T/www"
head -c 3000000 /dev/urandom > "$T/www/page"
chmod -R a+rX "$T/www"
HP=$(port)
(cd "$T/www" && exec $PY -m http.server "$HP" --bind 127.0.0.1) > "$T/httpd.log" 2>&1 &
PIDS+=($!)
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$HP" || fail "http.server did not start"
printf 'GET /page HTTP/1.0\r\n\r\n' | timeout 60 "${RUN[@]}" "$NEOBOOT" --log info nc -v 10.0.2.2:$HP \
    > "$T/resp" 2> "$T/nc.log" || fail "nc over slirp: $(tail -n 3 "$T/nc.log")"
grep -q "DHCP bound 10.0.2.15/24 gw 10.0.2.2 dns 10.0.2.3" "$T/nc.log" || fail "no slirp lease: $(grep dhcp "$T/nc.log")"
$PY "$(dirname "$0")/inet_peer.py" strip-http "$T/resp" "$T/page" || fail "bad response"
cmp -s "$T/page" "$T/www/page" || fail "page differs"
pass "slirp${RUN:+ (as nobody)}: DHCP lease 10.0.2.15, 3 MB page from the host's 127.0.0.1:$HP via 10.0.2.2"

# 2. a host client reaches NeoBoot's echo through a port forward
FP=$(port)
bg serve "${RUN[@]}" "$NEOBOOT" serve --echo tcp:7 --http tcp:80 -p "$FP:7" -p "127.0.0.1:$((FP + 1)):80"
wait_for 10 grep -q "NeoBoot serve:" "$T/serve.log" || fail "serve did not start: $(tail -n 3 "$T/serve.log")"
head -c 2000000 /dev/urandom > "$T/e"
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$FP" || fail "forward not listening"
timeout 60 socat -t 10 - TCP:127.0.0.1:$FP < "$T/e" > "$T/e.back" || fail "socat through the forward"
cmp -s "$T/e" "$T/e.back" || fail "echo through the forward differs"
out=$(curl -sS --max-time 30 http://127.0.0.1:$((FP + 1))/bytes/100000 | wc -c)
[ "$out" = 100000 ] || fail "curl through the forward got $out bytes"
pass "host -> 127.0.0.1:$FP -> slirp -> NeoBoot echo: 2 MB intact; curl via a second forward"
echo "all slirp checks passed"
