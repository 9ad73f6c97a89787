#!/usr/bin/env bash
# Measures what the API's auth and guards cost: `GET /api/v1/me` with a connection key
# and a fresh timestamp against `GET /healthz` (no auth, no database) on the same server
# in the same run, with wrk on this machine as the load generator. Rate limits are raised
# for the run (they would otherwise answer 429 after the first 120 requests).
#   1. throughput: wrk, CONNECTIONS (64) connections, DURATION (10s) per endpoint;
#   2. what auth + guards cost: with the machine saturated, the CPU time per request is
#      cores / (requests per second); the difference between /api/v1/me and /healthz is
#      the CPU the auth and guards add to a request (wrk's own share is the same for
#      both). Single-connection latencies are printed too, for reference.
# Usage: bench/api.sh [sqlite|postgres]
set -euo pipefail
cd "$(dirname "$0")/.."
engine="${1:-sqlite}"
connections="${CONNECTIONS:-64}"
duration="${DURATION:-10s}"

source bench/common.sh
need_wrk

"$bin" migrate >/dev/null
echo "bench-owner-password" | "$bin" user add --email bench@shop.example --role owner --password-stdin >/dev/null
key="$("$bin" key create --label bench --scope read 2>/dev/null)"
raise="UPDATE security_settings SET rate_per_credential = 1000000000, rate_per_ip = 1000000000 WHERE id = 1"
run_sql "$raise"

start_backroom
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
print(rps, file=open(sys.argv[2], "w"))
' "$label" "$data/rps"
  cat "$data/rps" > "$data/rps-$label"
}
echo "engine: $engine, wrk for $duration each, server and wrk on this machine ($(nproc) cores)"
run health "$connections" "$base/healthz"
run me "$connections" "$base/api/v1/me" "${auth[@]}"
python3 -c '
import sys
cores, health, me = int(sys.argv[1]), float(open(sys.argv[2]).read()), float(open(sys.argv[3]).read())
print(f"auth + guards: {cores * (1 / me - 1 / health) * 1e6:.1f} us of CPU per request ({cores} cores x (1/{me:.0f} - 1/{health:.0f} s))")
' "$(nproc)" "$data/rps-health" "$data/rps-me"
run health-c1 1 "$base/healthz"
run me-c1 1 "$base/api/v1/me" "${auth[@]}"
