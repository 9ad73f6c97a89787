#!/usr/bin/env bash
# One shop, one and two instances on one PostgreSQL: ORDERS (200,000) demo orders, then
# requests/s at saturation (wrk, CONNECTIONS (32) connections in all, for DURATION (10s))
# for one order and for the orders list's first page — first against one instance, then
# against two at once (two wrk runs side by side, half the connections each; their sum is
# reported). Everything (PostgreSQL, both servers, wrk) shares this machine's cores, so
# the second instance shows what one more process costs here, not what another machine
# would add.
# Usage: bench/instances.sh
set -euo pipefail
cd "$(dirname "$0")/.."
engine=postgres
orders="${ORDERS:-200000}"
connections="${CONNECTIONS:-32}"
duration="${DURATION:-10}"

source bench/common.sh
need_wrk

"$bin" migrate >/dev/null
echo "bench-owner-password" | "$bin" user add --email bench@shop.example --role owner --password-stdin >/dev/null
say "loading $orders demo orders"
"$bin" demo --orders "$orders" --seed 1 | tail -1
key="$("$bin" key create --label bench-read --scope read 2>/dev/null)"
run_sql "UPDATE security_settings SET rate_per_credential = 1000000000, rate_per_ip = 1000000000 WHERE id = 1"
start_backroom
second_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
second=""
trap '[ -n "$second" ] && kill "$second" 2>/dev/null && wait "$second" 2>/dev/null; cleanup' EXIT
read -r first_id last_id < <(psql "$url" -tAc "SELECT MIN(id), MAX(id) FROM orders" | tr '|' ' ')
printf 'math.randomseed(7)\nrequest = function() return wrk.format(nil, "/api/v1/orders/" .. math.random(%s, %s)) end\n' \
  "$first_id" "$last_id" >"$data/one.lua"
echo "" >"$data/list.lua"

rps() { # base, script, path, connections -> requests/s
  wrk -t1 -c"$4" -d"${duration}s" -s "$2" -H "Authorization: Bearer $key" -H "X-Backroom-Timestamp: $(date +%s)" "$1$3" |
    python3 -c 'import re, sys; t = sys.stdin.read(); e = re.search(r"Non-2xx or 3xx responses: (\d+)", t); print(float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1)), "" if not e else "NON-2xx:" + e.group(1))'
}

measure() { # label, script, path
  local one two_a two_b
  one="$(rps "$base" "$2" "$3" "$connections")"
  rps "$base" "$2" "$3" $((connections / 2)) >"$data/a" &
  local a=$!
  rps "http://127.0.0.1:$second_port" "$2" "$3" $((connections / 2)) >"$data/b"
  wait "$a"
  two_a="$(cat "$data/a")"; two_b="$(cat "$data/b")"
  python3 -c 'import sys; one, a, b = (float(x.split()[0]) for x in sys.argv[2:5]); print(f"{sys.argv[1]:<26} one instance {one:>7.0f} req/s   two instances {a + b:>7.0f} req/s ({a:.0f} + {b:.0f})", *[x for x in sys.argv[2:5] if "NON" in x])' \
    "$1" "$one" "$two_a" "$two_b"
}

BACKROOM_ADDR="127.0.0.1:$second_port" "$bin" serve >"$data/second.log" 2>&1 &
second=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$second_port/healthz" >/dev/null && break; sleep 0.1; done
echo "PostgreSQL, $orders orders, $(nproc) cores shared by PostgreSQL, the servers and wrk"
measure "GET /orders/{id}" "$data/one.lua" "/api/v1/orders/1"
measure "GET /orders (first page)" "$data/list.lua" "/api/v1/orders"
