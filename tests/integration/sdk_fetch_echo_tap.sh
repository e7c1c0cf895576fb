#!/usr/bin/env bash
# Over TAP in a network namespace of our own: fetch.wasm downloads 256 MiB
# from python's http.server (release build; time and rate reported,
# sha256 printed by fetch compared with the file's), and echo.wasm serves
# 1,000 concurrent TCP connections from one guest through nb_poll, each
# echoing and verified by a python asyncio client.
source "$(dirname "$0")/netns.sh"
source "$(dirname "$0")/sdk_lib.sh"
need sha256sum head
MIB=${SDK_FETCH_MIB:-256}
CONNS=${SDK_ECHO_CONNS:-1000}

tap tap0 192.168.84.1/24          # fetch.wasm is 192.168.84.2
tap tap1 192.168.85.1/24          # echo.wasm is 192.168.85.2

# 1. fetch.wasm: MIB MiB from python's http.server
mkdir -p "$T/www"
head -c $((MIB * 1048576)) /dev/urandom > "$T/www/f"
want=$(sha "$T/www/f")
(cd "$T/www" && exec $NS $PY -m http.server 8000 --bind 192.168.84.1) > "$T/pyhttp.log" 2>&1 &
PIDS+=($!)
wait_for 10 $NS bash -c 'exec 3<>/dev/tcp/192.168.84.1/8000' || fail "http.server did not start"
start=$(date +%s.%N)
timeout 300 $NS "$NEOBOOT_FAST" run --net tap:tap0 --ip 192.168.84.2/24 \
    --allow-connect tcp:192.168.84.1:8000 "$APPS/fetch.wasm" -q http://192.168.84.1:8000/f \
    > "$T/got" 2> "$T/fetch.log" || fail "fetch failed: $(tail -n 3 "$T/fetch.log")"
end=$(date +%s.%N)
printed=$(awk '/^sha256: / {print $2}' "$T/fetch.log")
[ "$printed" = "$want" ] || fail "fetch printed sha256 '$printed', the file's is $want"
[ "$(sha "$T/got")" = "$want" ] || fail "fetch's output differs ($(stat -c %s "$T/got") bytes)"
secs=$(echo "$end - $start" | bc -l)
pass "fetch.wasm downloaded $MIB MiB from http.server over TAP in $(printf %.2f "$secs") s ($(echo "$MIB / $secs" | bc -l | cut -c1-6) MiB/s, NeoBoot start included); sha256 printed and of the output both equal the file's; fetch says: $(grep '^fetch:' "$T/fetch.log")"
rm -f "$T/got" "$T/www/f"

# 2. echo.wasm: CONNS connections at once, one guest, one poll loop
bg echo $NS "$NEOBOOT" run --net tap:tap1 --ip 192.168.85.2/24 --allow-listen tcp:7 \
    "$APPS/echo.wasm" --tcp 7 --max-conns 4000
wait_for 20 $NS bash -c 'exec 3<>/dev/tcp/192.168.85.2/7' || fail "echo.wasm did not come up"
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null || true
timeout 180 $NS $SDK_PEER echo-many 192.168.85.2 7 "$CONNS" 4096 > "$T/many.log" 2>&1 \
    || fail "concurrent echo: $(tail -n 5 "$T/many.log")"
pass "echo.wasm: $(cat "$T/many.log")"
echo "all fetch/echo TAP checks passed"
