#!/usr/bin/env bash
# HTTP benchmark: requests per second and latency of httpd.wasm on hosted
# NeoBoot over TAP, beside nginx serving the same page, in the same run.
#
# Topology (network namespaces made here, deleted on exit):
#   nbb-client: wrk; tap0 (192.168.90.1) <-> NeoBoot (192.168.90.2)
#               veth  (192.168.91.1) <-> nbb-nginx ns: nginx (192.168.91.2)
# Both servers are one hop away from wrk, each over its own link: NeoBoot
# through a TAP device into its own TCP/IP stack, nginx through a veth
# pair into the kernel's. nginx runs one worker, as NeoBoot runs one
# thread; a row with nginx on every core is printed for reference.
# wrk: keep-alive, 100 connections, 2 threads, DURATION seconds (default 10).
#
#   bench/http/run.sh [BUILD_DIR]      (root; make bench runs it)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top/build/release}" && pwd)
DUR=${HTTP_BENCH_SECONDS:-10}
CONNS=${HTTP_BENCH_CONNS:-100}
neoboot=$build/neoboot
app=$build/apps/httpd.wasm
for c in wrk nginx ip; do
    command -v $c >/dev/null || { echo "SKIP: $c not installed (scripts/setup.sh)"; exit 0; }
done
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for network namespaces"; exit 0; }
[ -f "$app" ] || { echo "SKIP: $app missing (make release)"; exit 0; }

C=nbb-client-$$ N=nbb-nginx-$$
work=$(mktemp -d /tmp/nbbench.XXXXXX)
chmod 755 "$work"   # nginx workers run as www-data
pids=()
cleanup() {
    for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    ip netns del "$C" 2>/dev/null || true
    ip netns del "$N" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$C"
ip netns add "$N"
ip -n "$C" link set lo up
ip -n "$N" link set lo up
ip -n "$C" tuntap add mode tap name tap0
ip -n "$C" link set tap0 up
ip -n "$C" addr add 192.168.90.1/24 dev tap0
ip -n "$C" link add veth0 type veth peer name veth1 netns "$N"
ip -n "$C" addr add 192.168.91.1/24 dev veth0
ip -n "$C" link set veth0 up
ip -n "$N" addr add 192.168.91.2/24 dev veth1
ip -n "$N" link set veth1 up

wait_up() { # URL
    for _ in $(seq 100); do
        ip netns exec "$C" curl -sf -o /dev/null --max-time 1 "$1" && return 0
        sleep 0.1
    done
    echo "server at $1 did not come up: $(tail -n 3 "$work"/*.err "$work"/*.log 2>/dev/null)" >&2
    return 1
}

# the same page: fetched from httpd.wasm, served by nginx as a file
ip netns exec "$C" true
ip netns exec "$C" "$neoboot" run --net tap:tap0 --ip 192.168.90.2/24 --allow-listen tcp:80 \
    "$app" --port 80 > "$work/neoboot.log" 2>&1 &
pids+=($!)
wait_up http://192.168.90.2/
mkdir -p "$work/www"
ip netns exec "$C" curl -sf http://192.168.90.2/ -o "$work/www/index.html"

nginx_conf() { # WORKERS
    cat > "$work/nginx.conf" <<CONF
worker_processes $1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    tcp_nodelay on;
    types { text/html html; }
    client_body_temp_path $work/t1; proxy_temp_path $work/t2;
    server {
        listen 192.168.91.2:80;
        root $work/www;
        index index.html;
    }
}
CONF
}

# run_wrk URL -> "rps avg_ms p50_ms p99_ms errors"
to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.3f", v / 1000; else if (v ~ /ms$/) printf "%.3f", v + 0; else if (v ~ /s$/) printf "%.3f", v * 1000; else print v }'; }
run_wrk() {
    ip netns exec "$C" wrk -t2 -c"$CONNS" -d"${DUR}s" --latency "$1" > "$work/wrk.out" 2>&1
    local rps avg p50 p99 err
    rps=$(awk '/^Requests\/sec/ {printf "%d", $2}' "$work/wrk.out")
    avg=$(to_ms "$(awk '/^ +Latency / {print $2; exit}' "$work/wrk.out")")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$work/wrk.out")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$work/wrk.out")")
    err=0
    grep -q "Socket errors" "$work/wrk.out" && err=$(grep "Socket errors" "$work/wrk.out" | tr -d ',' | awk '{print $4+$6+$8+$10}')
    grep -q "Non-2xx" "$work/wrk.out" && err=$((err + $(awk '/Non-2xx/ {print $NF}' "$work/wrk.out")))
    echo "$rps $avg $p50 $p99 $err"
}

echo "HTTP benchmark ($(date -u +%Y-%m-%d), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)): wrk -t2 -c$CONNS -d${DUR}s, keep-alive, GET / ($(stat -c %s "$work/www/index.html") bytes)"
read -r nb_rps nb_avg nb_p50 nb_p99 nb_err < <(run_wrk http://192.168.90.2/)
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true; pids=()

rows=()
for w in 1 auto; do
    nginx_conf $w
    ip netns exec "$N" nginx -c "$work/nginx.conf" -e "$work/nginx.err" &
    pids+=($!)
    wait_up http://192.168.91.2/
    rows+=("$w $(run_wrk http://192.168.91.2/)")
    kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true; pids=()
done
read -r _ ng_rps ng_avg ng_p50 ng_p99 ng_err <<< "${rows[0]}"
read -r _ na_rps na_avg na_p50 na_p99 na_err <<< "${rows[1]}"

printf "%-30s %10s %9s %9s %9s %7s %9s\n" server req/s avg_ms p50_ms p99_ms errors "vs nginx"
row() { printf "%-30s %10s %9s %9s %9s %7s %9s\n" "$@"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "-"; else printf "%.2fx", a / b }'; }
row "httpd.wasm / NeoBoot (TAP)" "$nb_rps" "$nb_avg" "$nb_p50" "$nb_p99" "$nb_err" "$(ratio "$nb_rps" "$ng_rps")"
row "nginx, 1 worker (veth)" "$ng_rps" "$ng_avg" "$ng_p50" "$ng_p99" "$ng_err" "1.00x"
row "nginx, $(nproc) workers (veth)" "$na_rps" "$na_avg" "$na_p50" "$na_p99" "$na_err" "$(ratio "$na_rps" "$ng_rps")"
echo "(vs nginx = req/s over nginx with one worker; target for NeoBoot: at least 0.50x)"
