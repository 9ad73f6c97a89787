#!/usr/bin/env bash
# Loads demo data at scale and measures what a shop manager waits for:
#   1. `backroom demo --orders N` wall time;
#   2. the dashboard page's server response time (full SSR page, p50/p95 over 100
#      requests) and the dashboard's data call alone (the server function).
# Usage: bench/dashboard.sh [sqlite|postgres]   (ORDERS=1000000 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
engine="${1:-sqlite}"
orders="${ORDERS:-1000000}"
requests="${REQUESTS:-100}"

source bench/common.sh

"$bin" migrate >/dev/null
start=$(date +%s.%N)
"$bin" demo --orders "$orders" --seed 1 2>/dev/null
load_secs=$(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')")
echo "bench-owner-password" | "$bin" user add --email bench@shop.example --role owner --password-stdin >/dev/null

start_backroom

# Sign in through the same server function the sign-in form calls.
curl -fs -o /dev/null -c "$data/cookies" -H 'sec-fetch-site: same-origin' -H 'accept: application/json' \
  --data-urlencode email=bench@shop.example --data-urlencode password=bench-owner-password "$base/api/sign_in"

measure() { # url, method
  for _ in $(seq 1 10); do curl -fs -o /dev/null -b "$data/cookies" -X "$2" -H 'sec-fetch-site: same-origin' "$1"; done
  for _ in $(seq 1 "$requests"); do
    curl -fs -o /dev/null -b "$data/cookies" -X "$2" -H 'sec-fetch-site: same-origin' -w '%{time_total}\n' "$1"
  done | python3 -c '
import sys
t = sorted(float(x) * 1000 for x in sys.stdin)
pick = lambda q: t[min(len(t) - 1, int(round(q * len(t) + 0.5)) - 1)]
print(f"p50 {pick(0.50):.1f} ms, p95 {pick(0.95):.1f} ms, max {t[-1]:.1f} ms over {len(t)} requests")'
}

echo "engine:              $engine"
echo "demo orders:         $orders"
echo "demo load time:      ${load_secs} s"
echo "dashboard page:      $(measure "$base/admin" GET)"
echo "dashboard data call: $(measure "$base/api/dashboard" POST)"
