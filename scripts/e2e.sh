#!/usr/bin/env bash
# Starts the release build of Backroom on a free port with a fresh SQLite database, runs
# the Playwright tests against it, stops it, and prints "e2e: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/backroom/target}"

data="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export BACKROOM_ADDR="127.0.0.1:$port" BACKROOM_DATA_DIR="$data" BACKROOM_DATABASE_URL="sqlite://$data/backroom.db"
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}" BACKROOM_LOG=warn
export BACKROOM_BIN="$CARGO_TARGET_DIR/release/backroom"
"$BACKROOM_BIN" serve >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do curl -fs "http://$BACKROOM_ADDR/healthz" >/dev/null && break; sleep 0.2; done

export BACKROOM_URL="http://$BACKROOM_ADDR"
node --test --test-reporter=spec end2end/tests/ 2>&1 | tee "$data/e2e.out"
status=${PIPESTATUS[0]}
passed=$(grep -Eo '^ℹ pass [0-9]+' "$data/e2e.out" | grep -Eo '[0-9]+' || echo 0)
failed=$(grep -Eo '^ℹ fail [0-9]+' "$data/e2e.out" | grep -Eo '[0-9]+' || echo 0)
echo "e2e: ${passed:-0} passed, ${failed:-0} failed"
if [ "$status" != 0 ]; then
  echo "--- server log ---"; tail -50 "$data/server.log"
fi
exit "$status"
