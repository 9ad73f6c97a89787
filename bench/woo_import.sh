#!/usr/bin/env bash
# The WooCommerce import: the stand-in store (end2end/woo_mock.mjs) with ORDERS generated
# orders (a customer for every six, its products and coupons), a fresh database, then
# `backroom woo connect … --yes` and `backroom woo import --wait` as a shop owner runs
# them. Measures the whole import's wall time, the orders' own rate (from the import's
# cursor table), and the peak memory of the importing process (VmHWM, sampled with VmRSS
# every 0.2 s). PAGE_LATENCY (0) makes every page of the store's lists take that many
# milliseconds; CONCURRENCY sets the connection's requests at once (default: Backroom's, 2).
# Targets: ≥ 5,000 orders/s into SQLite, ≥ 3,000/s into PostgreSQL, under 200 MB at
# 1,000,000 orders. Store, Backroom and database share this machine's cores.
# Usage: bench/woo_import.sh [sqlite|postgres] [orders]
set -euo pipefail
cd "$(dirname "$0")/.."
engine="${1:-sqlite}"
orders="${2:-${ORDERS:-1000000}}"
page_latency="${PAGE_LATENCY:-0}"
concurrency="${CONCURRENCY:-}"

source bench/common.sh
source bench/woo_common.sh

start_store "$orders"
curl -fs -o /dev/null -H 'content-type: application/json' \
  -d "{\"page_latency_ms\": $page_latency}" "$store/_mock/config"
connect_store
[ -n "$concurrency" ] && run_sql "UPDATE woo_connection SET concurrency = $concurrency WHERE id = 1"
used_concurrency="$(query_one 'SELECT concurrency FROM woo_connection WHERE id = 1')"

say "importing $orders orders ($engine, page latency ${page_latency} ms, $used_concurrency requests at once)"
start=$(date +%s.%N)
"$bin" woo import --wait >"$data/import.out" 2>"$data/import.log" &
importer=$!
peak_rss=0
while kill -0 "$importer" 2>/dev/null; do
  hwm="$(awk '/^VmHWM:/ {print $2}' "/proc/$importer/status" 2>/dev/null || true)"
  rss="$(awk '/^VmRSS:/ {print $2}' "/proc/$importer/status" 2>/dev/null || true)"
  for kb in $hwm $rss; do [ "$kb" -gt "$peak_rss" ] && peak_rss=$kb; done
  sleep 0.2
done
wait "$importer" || { tail -5 "$data/import.log"; exit 1; }
wall=$(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')")

imported="$(query_one 'SELECT COUNT(*) FROM orders')"
# The orders' part as the import's cursor table timed it (whole seconds).
orders_secs="$(query_one "SELECT finished_at - started_at FROM woo_import WHERE resource = 'orders'")"
echo "engine:             $engine"
echo "store orders:       $orders (page latency ${page_latency} ms, $used_concurrency requests at once)"
echo "orders imported:    $imported"
echo "import, all of it:  ${wall} s ($(tail -1 "$data/import.out"))"
python3 - "$imported" "$orders_secs" "$wall" <<'PY'
import sys
orders, secs, wall = int(sys.argv[1]), max(int(sys.argv[2]), 1), float(sys.argv[3])
print(f"orders' part:       {secs} s, {orders / secs:,.0f} orders/s")
print(f"over the whole run: {orders / wall:,.0f} orders/s")
PY
echo "peak RSS:           $((peak_rss / 1024)) MB (backroom woo import)"
echo "stand-in's RSS:     $(store_rss) MB"
query_rows "SELECT resource, done, finished_at - started_at FROM woo_import ORDER BY started_at" |
  awk -F'|' '{printf "  %-11s %9s in %s s\n", $1, $2, $3}'
