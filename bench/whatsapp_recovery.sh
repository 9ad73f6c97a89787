#!/usr/bin/env bash
# The recovery scheduler: CARTS (1,000) carts all due at the same second; how long from
# that second until each one's message reaches the Graph API stand-in
# (end2end/graph_mock.mjs, answering after LATENCY (0) ms), with CONCURRENCY (8) WhatsApp
# workers (BACKROOM_WHATSAPP_CONCURRENCY). Target: under 1 s. Server, stand-in and driver
# share this machine's cores.
# Usage: bench/whatsapp_recovery.sh [sqlite|postgres]
set -euo pipefail
cd "$(dirname "$0")/.."
engine="${1:-sqlite}"
carts="${CARTS:-1000}"
latency="${LATENCY:-0}"
concurrency="${CONCURRENCY:-8}"

source bench/common.sh
cargo build --release -p loadgen --bin whatsapp_recovery --quiet
driver="$CARGO_TARGET_DIR/release/whatsapp_recovery"

"$bin" migrate >/dev/null
echo "bench-owner-password" | "$bin" user add --email bench@shop.example --role owner --password-stdin >/dev/null
node end2end/graph_mock.mjs --latency "$latency" >"$data/graph.out" &
graph=$!
trap 'kill $graph 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 50); do grep -q listening "$data/graph.out" && break; sleep 0.1; done
graph_port="$(awk '/listening/ {print $2}' "$data/graph.out")"

export BACKROOM_WHATSAPP_CONCURRENCY="$concurrency"
start_backroom
say "$carts carts due at once: Graph latency ${latency} ms, concurrency $concurrency ($engine)"
"$driver" --graph "http://127.0.0.1:$graph_port" --owner bench@shop.example --carts "$carts"
