#!/usr/bin/env bash
# Bulk accounting sync throughput: ORDERS (2,000) demo orders sent as invoices to the
# stand-in ledger (end2end/cari_mock.mjs) answering every request after LATENCY (50) ms,
# with CONCURRENCY (16) documents in flight (BACKROOM_ACCOUNTING_CONCURRENCY). Each
# invoice is two requests (upsert the customer, create the invoice; a new customer is
# looked up first). Target: ≥ 100 invoices/s. Server, ledger and driver share the cores.
# Usage: bench/accounting.sh [sqlite|postgres]
set -euo pipefail
cd "$(dirname "$0")/.."
engine="${1:-sqlite}"
orders="${ORDERS:-2000}"
latency="${LATENCY:-50}"
concurrency="${CONCURRENCY:-16}"

source bench/common.sh
cargo build --release -p loadgen --bin accounting --quiet
driver="$CARGO_TARGET_DIR/release/accounting"

"$bin" migrate >/dev/null
echo "bench-owner-password" | "$bin" user add --email bench@shop.example --role owner --password-stdin >/dev/null
say "loading $orders demo orders ($engine)"
"$bin" demo --orders "$orders" >/dev/null

node end2end/cari_mock.mjs --latency "$latency" --key bench-key-0123456789 --company BENCH >"$data/ledger.out" &
ledger=$!
trap 'kill $ledger 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 50); do grep -q listening "$data/ledger.out" && break; sleep 0.1; done
ledger_port="$(awk '/listening/ {print $2}' "$data/ledger.out")"

export BACKROOM_ACCOUNTING_CONCURRENCY="$concurrency"
start_backroom
say "bulk sync of $orders orders: ledger latency ${latency} ms, concurrency $concurrency"
"$driver" --ledger "http://127.0.0.1:$ledger_port/api" --key bench-key-0123456789 --company BENCH --owner bench@shop.example
invoices="$(curl -fs "http://127.0.0.1:$ledger_port/_mock/state" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(len(s["invoices"]), len(set(i["referans"] for i in s["invoices"])))')"
echo "the ledger holds $invoices (invoices, distinct references)"
