#!/usr/bin/env bash
# The WooCommerce webhook: Backroom connected to the stand-in store (STORE_ORDERS, 20,000
# orders, imported), then
#   1. intake: wrk posts a signed order.updated delivery (an order as the store sends it)
#      with CONNECTIONS (32) connections for DURATION (10) seconds; each is checked
#      (HMAC-SHA256 over the raw body), stored with one insert and answered;
#   2. applied: bench/loadgen's woo_deliveries sends RATE (500) deliveries a second, each
#      a different order changed (a new status, a newer date_modified_gmt), for 10 s, and
#      watches the database for each order's change: the time from its answer to its
#      change being in Backroom.
# Targets: ≥ 3,000 signed deliveries/s answered; applied within 1 s at 500/s. Store,
# Backroom, wrk and the watcher share this machine's cores.
# Usage: bench/woo_webhook.sh [sqlite|postgres]
set -euo pipefail
cd "$(dirname "$0")/.."
engine="${1:-sqlite}"
store_orders="${STORE_ORDERS:-20000}"
connections="${CONNECTIONS:-32}"
duration="${DURATION:-10}"
rate="${RATE:-500}"

source bench/common.sh
need_wrk
source bench/woo_common.sh
cargo build --release -p loadgen --bin woo_deliveries --quiet
deliveries="$CARGO_TARGET_DIR/release/woo_deliveries"

start_store "$store_orders"
start_backroom
connect_store
"$bin" woo import --wait >"$data/import.out" 2>"$data/import.log" || { tail -5 "$data/import.log"; exit 1; }
say "connected and imported: $(tail -1 "$data/import.out")"

read -r signature webhook_id < <("$deliveries" --store "$store" --backroom "$base" --orders 1 --sample "$data/delivery.json")
cat >"$data/post.lua" <<LUA
local f = io.open("$data/delivery.json", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-WC-Webhook-Topic"] = "order.updated"
wrk.headers["X-WC-Webhook-Resource"] = "order"
wrk.headers["X-WC-Webhook-Event"] = "updated"
wrk.headers["X-WC-Webhook-ID"] = "$webhook_id"
wrk.headers["X-WC-Webhook-Signature"] = "$signature"
LUA
status="$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H 'X-WC-Webhook-Topic: order.updated' \
  -H "X-WC-Webhook-Signature: $signature" --data-binary "@$data/delivery.json" "$base/webhooks/woocommerce")"
[ "$status" = 200 ] || { echo "a signed delivery was answered $status"; exit 1; }
say "1. intake: signed deliveries ($(wc -c <"$data/delivery.json") bytes) to /webhooks/woocommerce, $connections connections, ${duration}s"
wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$data/post.lua" "$base/webhooks/woocommerce"
echo "deliveries stored:  $(query_one 'SELECT COUNT(*) FROM woo_deliveries')"
say "waiting for the intake's deliveries to be applied"
for _ in $(seq 1 600); do
  [ "$(query_one 'SELECT COUNT(*) FROM woo_deliveries WHERE applied_at IS NULL')" = 0 ] && break
  sleep 0.5
done
say "2. applied: $rate changed orders a second for 10 s"
"$deliveries" --store "$store" --backroom "$base" --rate "$rate" --orders "$((rate * 10))"
