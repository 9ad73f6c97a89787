#!/usr/bin/env bash
# The WhatsApp webhook's intake: wrk posts signed status deliveries (a "delivered" for one
# of 1,000 messages, Turkish text escaped as Meta escapes it) with CONNECTIONS (32)
# connections for DURATION (10) seconds. Each is checked (HMAC-SHA256 over the raw body),
# stored with one insert, then answered; the WhatsApp workers apply them in batches
# meanwhile. Target: ≥ 5,000 deliveries/s. Server and wrk share this machine's cores.
# Usage: bench/whatsapp_webhook.sh [sqlite|postgres]
set -euo pipefail
cd "$(dirname "$0")/.."
engine="${1:-sqlite}"
connections="${CONNECTIONS:-32}"
duration="${DURATION:-10}"
secret="bench-app-secret-5d41402abc4b2a76"

source bench/common.sh
need_wrk
cargo build --release -p loadgen --bin whatsapp_setup --quiet
"$bin" migrate >/dev/null
echo "bench-owner-password" | "$bin" user add --email bench@shop.example --role owner --password-stdin >/dev/null
"$CARGO_TARGET_DIR/release/whatsapp_setup" --app-secret "$secret" --owner bench@shop.example

body='{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"905320000000"},"contacts":[{"profile":{"name":"\u015eule Y\u0131lmaz"}}],"statuses":[{"id":"wamid.bench.7","status":"delivered","timestamp":"1796000000","recipient_id":"905321234567"}]}}]}]}'
signature="sha256=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" -hex | awk '{print $NF}')"
cat >"$data/post.lua" <<LUA
wrk.method = "POST"
wrk.body = [[$body]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Hub-Signature-256"] = "$signature"
LUA
start_backroom
status="$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H "X-Hub-Signature-256: $signature" --data-binary "$body" "$base/webhooks/whatsapp")"
[ "$status" = 200 ] || { echo "a signed delivery was answered $status"; exit 1; }
say "signed deliveries to /webhooks/whatsapp: $connections connections, ${duration}s"
wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$data/post.lua" "$base/webhooks/whatsapp"
run_sql "SELECT 1" >/dev/null
case "$engine" in
  sqlite) stored="$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM whatsapp_webhook_events').fetchone()[0])" "$data/backroom.db")" ;;
  postgres) stored="$(psql "$url" -tAc 'SELECT COUNT(*) FROM whatsapp_webhook_events')" ;;
esac
echo "deliveries stored: $stored"
