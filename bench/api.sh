#!/usr/bin/env bash
# Measures what the API's auth and guards cost: `GET /api/v1/me` with a connection key
# and a fresh timestamp against `GET /healthz` (no auth, no database) on the same server
# in the same run, with wrk on this machine as the load generator. Rate limits are raised
# for the run (they would otherwise answer 429 after the first 120 requests).
#   1. throughput: wrk, CONNECTIONS (64) connections, DURATION (10s);
#   2. cost per request: mean latency over one connection, /api/v1/me minus /healthz.
# Usage: bench/api.sh [sqlite|postgres]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
engine="${1:-sqlite}"
connections="${CONNECTIONS:-64}"
duration="${DURATION:-10s}"
if ! command -v wrk >/dev/null; then
  say "installing wrk"
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null; else sudo apt-get install -y -qq wrk >/dev/null; fi
fi

cargo build --release -p backroom --quiet
bin="$CARGO_TARGET_DIR/release/backroom"
data="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
case "$engine" in
  sqlite) url="sqlite://$data/backroom.db" ;;
  postgres)
    source scripts/postgres.sh
    name="backroom_bench_$$"
    psql "$BACKROOM_TEST_POSTGRES_URL" -qc "CREATE DATABASE $name" >/dev/null
    url="${BACKROOM_TEST_POSTGRES_URL%/*}/$name" ;;
  *) echo "usage: $0 [sqlite|postgres]" >&2; exit 2 ;;
esac
export BACKROOM_DATABASE_URL="$url" BACKROOM_DATA_DIR="$data" BACKROOM_ADDR="127.0.0.1:$port" BACKROOM_LOG=warn
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ "$engine" = postgres ] && psql "$BACKROOM_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $name" >/dev/null
  rm -rf "$data"
}
trap cleanup EXIT

"$bin" migrate >/dev/null
echo "bench-owner-password" | "$bin" user add --email bench@shop.example --role owner --password-stdin >/dev/null
key="$("$bin" key create --label bench --scope read 2>/dev/null)"
raise="UPDATE security_settings SET rate_per_credential = 1000000000, rate_per_ip = 1000000000 WHERE id = 1"
case "$engine" in
  sqlite) python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()" "$data/backroom.db" "$raise" ;;
  postgres) psql "$url" -qc "$raise" >/dev/null ;;
esac

"$bin" serve >"$data/server.log" 2>&1 &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
auth=(-H "Authorization: Bearer $key" -H "X-Backroom-Timestamp: $(date +%s)")
curl -fs "${auth[@]}" "$base/api/v1/me" >/dev/null || { echo "the key does not work" >&2; exit 1; }

run() { # label, connections, url, headers...
  local label="$1" conns="$2" target="$3"; shift 3
  local threads=2; [ "$conns" -lt 2 ] && threads=1
  wrk -t"$threads" -c"$conns" -d"$duration" --latency "$@" "$target" | python3 -c '
import re, sys
text = sys.stdin.read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
def us(v, unit): return float(v) * {"us": 1, "ms": 1000, "s": 1e6}[unit]
m = re.search(r"Latency\s+([\d.]+)(us|ms|s)", text)
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{sys.argv[1]:<28} {rps:>10.0f} req/s   mean latency {us(*m.groups()):>8.1f} us" + (f"   NON-2xx: {errors.group(1)}" if errors else ""))
' "$label"
}
echo "engine: $engine, wrk for $duration each, server and wrk on this machine ($(nproc) cores)"
run "/healthz c=$connections" "$connections" "$base/healthz"
run "/api/v1/me c=$connections" "$connections" "$base/api/v1/me" "${auth[@]}"
run "/healthz c=1" 1 "$base/healthz"
run "/api/v1/me c=1" 1 "$base/api/v1/me" "${auth[@]}"
