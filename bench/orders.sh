#!/usr/bin/env bash
# The orders capability at scale: ORDERS (1,000,000) demo orders, then for each endpoint
#   - requests/s at saturation: wrk, CONNECTIONS (32) connections for DURATION (10s);
#   - latency at a fixed rate: bench/loadgen (open loop; percentiles measured from when
#     each request was due), for DURATION seconds.
# Endpoints and rates (the targets of the orders issue):
#   GET /api/v1/orders/{id}            random ids        ≥ 10,000 req/s; p99 < 10 ms at 2,000/s
#   GET /api/v1/orders                 first page        ≥ 3,000 req/s;  p95 < 25 ms at 500/s
#   GET /api/v1/orders?status=…&after= a filtered page   ≥ 3,000 req/s;  p95 < 25 ms at 500/s
#   GET /api/v1/orders?search=<email>, <a last name>, <a name nobody has>   (reported)
#   GET /api/v1/reports/sales?period=90d                 p95 < 20 ms at 500/s
#   GET /admin/orders                  the panel's list, server-rendered, signed in: p95 < 50 ms
#   POST /api/v1/orders/{id}/refunds   1 kuruş each, on random paid orders: p95 < 20 ms
# Server, wrk and loadgen share this machine's cores. Rate limits are raised for the run.
# Usage: bench/orders.sh [sqlite|postgres]
set -euo pipefail
cd "$(dirname "$0")/.."
engine="${1:-sqlite}"
orders="${ORDERS:-1000000}"
connections="${CONNECTIONS:-32}"
duration="${DURATION:-10}"

source bench/common.sh
need_wrk
cargo build --release -p loadgen --quiet
loadgen="$CARGO_TARGET_DIR/release/loadgen"

"$bin" migrate >/dev/null
password="bench-owner-password"
echo "$password" | "$bin" user add --email bench@shop.example --role owner --password-stdin >/dev/null
say "loading $orders demo orders ($engine)"
"$bin" demo --orders "$orders" --seed 1 | tail -1
read_key="$("$bin" key create --label bench-read --scope read 2>/dev/null)"
write_key="$("$bin" key create --label bench-write --scope write 2>/dev/null)"
run_sql "UPDATE security_settings SET rate_per_credential = 1000000000, rate_per_ip = 1000000000 WHERE id = 1"
start_backroom

# Sample ids: any order for reads; paid ones for refunds.
sample() { # SQL -> its rows, one value per line
  case "$engine" in
    sqlite) python3 -c "import sqlite3,sys; [print(r[0]) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])]" "$data/backroom.db" "$1" ;;
    postgres) psql "$url" -tAc "$1" ;;
  esac
}
sample "SELECT id FROM orders ORDER BY random() LIMIT 2000" >"$data/ids"
sample "SELECT id FROM orders WHERE status IN ('processing', 'completed') ORDER BY random() LIMIT 2000" >"$data/paid"
email="$(sample "SELECT billing_email FROM orders WHERE id = $(head -1 "$data/ids")")"
last_name="$(sample "SELECT billing_last_name FROM orders WHERE id = $(head -1 "$data/ids")" | python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read().strip()))')"
after="$(date -d "-30 days" +%F)"
read -r first_id last_id < <(awk 'NR == 1 { lo = $1; hi = $1 } { if ($1 < lo) lo = $1; if ($1 > hi) hi = $1 } END { print lo, hi }' "$data/ids")

# A panel session, signed in through the sign-in server function.
curl -fs -o /dev/null -c "$data/cookies" --data-urlencode "email=bench@shop.example" --data-urlencode "password=$password" "$base/api/sign_in"
session="$(awk '$6 == "backroom_session" { print $7 }' "$data/cookies")"
[ -n "$session" ] || { echo "could not sign in to the panel" >&2; exit 1; }

auth() { echo "Authorization: Bearer $1"; }
stamp() { echo "X-Backroom-Timestamp: $(date +%s)"; }

saturate() { # label, path (an id range is drawn per request when the path ends in /{id}), headers...
  local label="$1" path="$2"; shift 2
  local args=()
  for h in "$@"; do args+=(-H "$h"); done
  local script="$data/wrk.lua"
  if [[ "$path" == *'{id}' ]]; then
    printf 'math.randomseed(7)\nrequest = function() return wrk.format(nil, "%s" .. math.random(%s, %s)) end\n' "${path%\{id\}}" "$first_id" "$last_id" >"$script"
  else
    echo "" >"$script"
  fi
  wrk -t2 -c"$connections" -d"${duration}s" -s "$script" "${args[@]}" "$base$path" | python3 -c '
import re, sys
text = sys.stdin.read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{sys.argv[1]:<34} {rps:>8.0f} req/s at saturation ({sys.argv[2]} connections)" + (f"   NON-2xx: {errors.group(1)}" if errors else ""))
' "$label" "$connections"
}

at_rate() { # label, rate, loadgen args...
  local label="$1" rate="$2"; shift 2
  "$loadgen" --label "$label" --rate "$rate" --duration "$duration" "$@"
}

urls() { sed "s|^|$base$1|; s|\$|$2|" "$3"; }

echo "engine: $engine, $orders orders, $(nproc) cores shared by server and load generators"
echo "--- saturation"
saturate "GET /orders/{id}" "/api/v1/orders/{id}" "$(auth "$read_key")" "$(stamp)"
saturate "GET /orders (first page)" "/api/v1/orders" "$(auth "$read_key")" "$(stamp)"
saturate "GET /orders (status + date)" "/api/v1/orders?status=processing,on-hold&after=$after" "$(auth "$read_key")" "$(stamp)"
saturate "GET /orders (search by email)" "/api/v1/orders?search=$email" "$(auth "$read_key")" "$(stamp)"
saturate "GET /orders (search by name)" "/api/v1/orders?search=$last_name" "$(auth "$read_key")" "$(stamp)"
saturate "GET /orders (search, no match)" "/api/v1/orders?search=Zebulon" "$(auth "$read_key")" "$(stamp)"
saturate "GET /reports/sales?period=90d" "/api/v1/reports/sales?period=90d" "$(auth "$read_key")" "$(stamp)"
saturate "GET /admin/orders (panel page)" "/admin/orders" "Cookie: backroom_session=$session"
echo "--- fixed rate"
at_rate "GET /orders/{id}" 2000 --header "$(auth "$read_key")" --header "$(stamp)" $(urls /api/v1/orders/ "" "$data/ids")
at_rate "GET /orders (first page)" 500 --header "$(auth "$read_key")" --header "$(stamp)" "$base/api/v1/orders"
at_rate "GET /orders (status + date)" 500 --header "$(auth "$read_key")" --header "$(stamp)" "$base/api/v1/orders?status=processing,on-hold&after=$after"
at_rate "GET /orders (search by email)" 500 --header "$(auth "$read_key")" --header "$(stamp)" "$base/api/v1/orders?search=$email"
at_rate "GET /orders (search by name)" 100 --header "$(auth "$read_key")" --header "$(stamp)" "$base/api/v1/orders?search=$last_name"
at_rate "GET /orders (search, no match)" 20 --header "$(auth "$read_key")" --header "$(stamp)" "$base/api/v1/orders?search=Zebulon"
at_rate "GET /reports/sales?period=90d" 500 --header "$(auth "$read_key")" --header "$(stamp)" "$base/api/v1/reports/sales?period=90d"
at_rate "GET /admin/orders (panel page)" 100 --header "Cookie: backroom_session=$session" "$base/admin/orders"
at_rate "POST /orders/{id}/refunds" 100 --method POST --body '{"amount": 1, "restock": false}' \
  --header "$(auth "$write_key")" --header "$(stamp)" $(urls /api/v1/orders/ /refunds "$data/paid")
