#!/usr/bin/env bash
# The reconcile when nothing changed: Backroom connected to the stand-in store with ORDERS
# (1,000,000) orders, all imported, then `backroom woo reconcile` PASSES (3) times. Each
# pass asks for the orders, products and coupons changed since its watermark, compares
# the counts by creation time for deleted orders, and checks the webhooks. Its report
# says how long it took and how much of that was spent waiting for the store's answers;
# Backroom's time is the difference. Target: under 1 s of Backroom's time.
# Usage: bench/woo_reconcile.sh [sqlite|postgres] [orders]
set -euo pipefail
cd "$(dirname "$0")/.."
engine="${1:-sqlite}"
orders="${2:-${ORDERS:-1000000}}"
passes="${PASSES:-3}"

source bench/common.sh
source bench/woo_common.sh

start_store "$orders"
connect_store
say "importing $orders orders ($engine)"
"$bin" woo import --wait >"$data/import.out" 2>"$data/import.log" || { tail -5 "$data/import.log"; exit 1; }
echo "imported:           $(tail -1 "$data/import.out")"
for pass in $(seq 1 "$passes"); do
  "$bin" woo reconcile >"$data/reconcile.json" 2>"$data/reconcile.log" || { cat "$data/reconcile.log"; exit 1; }
  python3 - "$data/reconcile.json" "$pass" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ours = r["took_ms"] - r["store_ms"]
print(f"pass {sys.argv[2]}: {r['took_ms']} ms, of it the store {r['store_ms']} ms ({r['requests']} requests "
      f"counted): Backroom {ours} ms; changed {r['changed']}, removed {r['removed']}, caught {r['caught']}")
PY
done
