#!/usr/bin/env bash
# Holds the REST API to its OpenAPI document: schemathesis with every check, its stateful
# phase following the document's links, against a fresh shop with demo data, on SQLite
# and on PostgreSQL, within a time budget each (API_CHECK_SECONDS, 60 by default). Any
# response that breaks the document fails the run. Called by scripts/test after the
# release build (BACKROOM_BIN picks another), with BACKROOM_TEST_POSTGRES_URL set.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
bin="${BACKROOM_BIN:-$target/release/backroom}"
budget="${API_CHECK_SECONDS:-60}"
admin_url="${BACKROOM_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
[ -x "$bin" ] || { echo "api check: no Backroom build at $bin" >&2; exit 1; }

st="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/st"
if ! "$st" --version 2>/dev/null | grep -q '4\.32\.5'; then
  echo "==> installing schemathesis 4.32.5 (checks the API against its document)" >&2
  python3 -m pip install --quiet schemathesis==4.32.5
fi

# Runs `sql` in the shop's database.
run_sql() {
  case "$BACKROOM_DATABASE_URL" in
    sqlite:*) python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()' \
      "${BACKROOM_DATABASE_URL#sqlite://}" "$1" ;;
    *) psql -q "$BACKROOM_DATABASE_URL" -c "$1" >/dev/null ;;
  esac
}

# schemathesis against the shop on `port`, with every check, for `seconds`; then any
# filter options.
st_run() {
  local port="$1" key="$2" seconds="$3"
  shift 3
  "$st" run "http://127.0.0.1:$port/api/v1/openapi.json" --url "http://127.0.0.1:$port" \
    --checks all --phases examples,coverage,fuzzing,stateful --max-time "$seconds" --workers 1 \
    --suppress-health-check all --seed 1 --no-color \
    -H "Authorization: Bearer $key" -H "X-Backroom-Timestamp: $(date +%s)" "$@"
}

# A fresh shop with demo data, served, and checked.
check() {
  local name="$1" database_url="$2" data="$3" port server key status=0
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  export BACKROOM_DATA_DIR="$data" BACKROOM_DATABASE_URL="$database_url" BACKROOM_ADDR="127.0.0.1:$port"
  "$bin" migrate >/dev/null || return 1
  printf 'api check password\n' | "$bin" user add --email owner@shop.example --role owner --name Owner \
    --password-stdin >/dev/null || return 1
  "$bin" demo --orders 300 --seed 5 >/dev/null || return 1
  key="$("$bin" key create --label "API check" --scope write)" || return 1
  # The run tests the endpoints, not the rate limiter or the lockout its bad credentials
  # would start.
  run_sql "UPDATE security_settings SET rate_per_credential = 100000, rate_per_ip = 100000, lockout_failures = 100000 WHERE id = 1" || return 1
  "$bin" serve >"$data/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
  echo "==> schemathesis on $name (${budget} s)" >&2
  # Revoking keys comes last: the run's own key is one of them.
  local keys='^/api/v1/keys/\{id\}$'
  st_run "$port" "$key" "$budget" --exclude-path-regex "$keys" || status=$?
  st_run "$port" "$key" 10 --include-path-regex "$keys" || status=$?
  kill "$server" 2>/dev/null
  wait "$server" 2>/dev/null || true
  [ "$status" = 0 ] || tail -20 "$data/serve.log"
  return "$status"
}

sqlite_data="$(mktemp -d)"
pg_data="$(mktemp -d)"
pg_name="backroom_api_check_$$"
trap 'rm -rf "$sqlite_data" "$pg_data"; psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $pg_name" >/dev/null 2>&1 || true' EXIT
failed=0
check SQLite "sqlite://$sqlite_data/backroom.db" "$sqlite_data" || failed=1
psql -q "$admin_url" -c "CREATE DATABASE $pg_name" >/dev/null
check PostgreSQL "${admin_url%/*}/$pg_name" "$pg_data" || failed=1
exit "$failed"
