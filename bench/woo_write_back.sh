#!/usr/bin/env bash
# Status changes written back to WooCommerce: Backroom connected to the stand-in store
# (STORE_ORDERS, 5,000 orders, imported), the store answering each request after LATENCY
# (100) ms, then CHANGES (100) orders in processing or on hold moved to completed through
# the API, one after another, as an app does. For each:
#   pending:   the PATCH's answer, which already shows the change, waiting for the store;
#   confirmed: from the PATCH until the order's page says the store took it (polled every
#              5 ms), and that minus the time the store spent on the write's own requests
#              (its read of the order and the PUT, from the stand-in's request log).
# Targets: pending p95 < 50 ms; confirmed within the store's round trips + 100 ms.
# Usage: bench/woo_write_back.sh [sqlite|postgres]
set -euo pipefail
cd "$(dirname "$0")/.."
engine="${1:-sqlite}"
store_orders="${STORE_ORDERS:-5000}"
latency="${LATENCY:-100}"
changes="${CHANGES:-100}"

source bench/common.sh
source bench/woo_common.sh

start_store "$store_orders"
"$bin" migrate >/dev/null
run_sql "UPDATE security_settings SET rate_per_credential = 1000000000, rate_per_ip = 1000000000 WHERE id = 1"
start_backroom
connect_store
"$bin" woo import --wait >"$data/import.out" 2>"$data/import.log" || { tail -5 "$data/import.log"; exit 1; }
say "connected and imported: $(tail -1 "$data/import.out")"
key="$("$bin" key create --label bench --scope write 2>/dev/null)"
curl -fs -X POST -H 'Content-Type: application/json' -d "{\"latency_ms\": $latency}" "$store/_mock/config" >/dev/null

say "$changes status changes through the API, the store answering after ${latency} ms"
python3 - "$base" "$key" "$store" "$changes" <<'PY'
import json, sys, time, urllib.request

base, key, store, changes = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def call(method, path, body=None):
    request = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("Authorization", "Bearer " + key)
    request.add_header("X-Backroom-Timestamp", str(int(time.time())))
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)

orders, cursor = [], ""
while len(orders) < changes:
    listed = call("GET", f"/api/v1/orders?status=processing,on-hold&per_page=100&cursor={cursor}")
    orders += [o["id"] for o in listed["items"]]
    cursor = listed.get("next_cursor")
    if not cursor:
        break
orders = orders[:changes]
if len(orders) < changes:
    sys.exit(f"only {len(orders)} orders in processing or on hold")

pending, confirmed = [], {}
for order in orders:
    start = time.perf_counter()
    answer = call("PATCH", f"/api/v1/orders/{order}", {"status": "completed"})
    pending.append((time.perf_counter() - start) * 1000)
    assert answer["store_writes"][-1]["state"] == "pending", answer["store_writes"]
    while True:
        state = call("GET", f"/api/v1/orders/{order}")["store_writes"][-1]["state"]
        if state != "pending":
            break
        time.sleep(0.005)
    assert state == "confirmed", state
    confirmed[order] = (time.perf_counter() - start) * 1000

with urllib.request.urlopen(store + "/_mock/state?requests=1000") as answer:
    log = json.load(answer)["requests"]
store_ms = {}
for r in log:
    parts = r["path"].rstrip("/").split("/")
    if r["path"].startswith("/wp-json/wc/v3/orders/") and len(parts) == 6 and r["method"] in ("GET", "PUT"):
        order = int(parts[-1])
        store_ms[order] = store_ms.get(order, 0) + r["duration_ms"]
over = [confirmed[o] - store_ms[o] for o in orders if o in store_ms]

def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]

print(f"pending (PATCH answered):  p50 {pct(pending, 50):.1f} ms  p95 {pct(pending, 95):.1f} ms  max {max(pending):.1f} ms")
print(f"confirmed by the store:    p50 {pct(confirmed.values(), 50):.1f} ms  p95 {pct(confirmed.values(), 95):.1f} ms")
print(f"store's own time per write: p50 {pct(store_ms.values(), 50):.1f} ms (a read of the order and the PUT)")
print(f"confirmed minus the store's time: p50 {pct(over, 50):.1f} ms  p95 {pct(over, 95):.1f} ms  ({len(over)} writes)")
PY
