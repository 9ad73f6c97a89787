#!/usr/bin/env bash
# Recovery messages that carry a coupon: CARTS (1,000) carts all due for their second
# message (the one with the coupon) at the same second, Backroom connected to the
# WooCommerce stand-in (end2end/woo_mock.mjs) answering each request after STORE_LATENCY
# (300) ms, the Graph API stand-in (end2end/graph_mock.mjs) at once, CONCURRENCY (8)
# WhatsApp workers. Each coupon is made in the store before its message goes. Prints the
# delay from the due second to each message's Graph API call, how many coupons the store
# made, and how many messages went without their cart's coupon.
# Target: every message sent within 60 s; coupons made = messages; none without.
# Usage: bench/whatsapp_coupons.sh [sqlite|postgres]
set -euo pipefail
cd "$(dirname "$0")/.."
engine="${1:-sqlite}"
carts="${CARTS:-1000}"
latency="${STORE_LATENCY:-300}"
concurrency="${CONCURRENCY:-8}"

source bench/common.sh
source bench/woo_common.sh
cargo build --release -p loadgen --bin whatsapp_recovery --quiet
driver="$CARGO_TARGET_DIR/release/whatsapp_recovery"

start_store 0
node end2end/graph_mock.mjs >"$data/graph.out" &
graph=$!
trap 'kill $graph 2>/dev/null; [ -n "$store_pid" ] && kill "$store_pid" 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 50); do grep -q listening "$data/graph.out" && break; sleep 0.1; done
graph_port="$(awk '/listening/ {print $2}' "$data/graph.out")"

export BACKROOM_WHATSAPP_CONCURRENCY="$concurrency"
"$bin" migrate >/dev/null
start_backroom
connect_store
"$bin" woo import --wait >"$data/import.out" 2>"$data/import.log" || { tail -5 "$data/import.log"; exit 1; }
curl -fs -X POST -H 'Content-Type: application/json' -d "{\"latency_ms\": $latency}" "$store/_mock/config" >/dev/null
say "$carts carts due at once for the message with a coupon: store latency ${latency} ms, concurrency $concurrency ($engine)"
"$driver" --graph "http://127.0.0.1:$graph_port" --owner bench@shop.example --carts "$carts" --store "$store" --lead 6
