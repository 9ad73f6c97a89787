#!/usr/bin/env bash
# Holds the REST API to its OpenAPI document: schemathesis with every check, its stateful
# phase following the document's links, against a fresh shop with demo data, within a
# time budget (API_CHECK_SECONDS, 60 by default). Any response that breaks the document
# fails the run. Called by scripts/test after the release build, once per database.
# Usage: scripts/api_check.sh [sqlite|postgres]
set -euo pipefail
cd "$(dirname "$0")/.."
engine="${1:-sqlite}"
source bench/common.sh
budget="${API_CHECK_SECONDS:-60}"

st="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/st"
if ! "$st" --version 2>/dev/null | grep -q '4\.32\.5'; then
  say "installing schemathesis 4.32.5 (checks the API against its document)"
  python3 -m pip install --quiet schemathesis==4.32.5
fi

"$bin" migrate >/dev/null
printf 'api check password\n' | "$bin" user add --email owner@shop.example --role owner --name Owner --password-stdin >/dev/null
"$bin" demo --orders 300 --seed 5 >/dev/null
key="$("$bin" key create --label "API check" --scope write)"
# The run tests the endpoints, not the rate limiter or the lockout its bad credentials
# would start.
run_sql "UPDATE security_settings SET rate_per_credential = 100000, rate_per_ip = 100000, lockout_failures = 100000 WHERE id = 1"
start_backroom

# schemathesis for `seconds`, with every check; then any filter options.
st_run() {
  local seconds="$1"
  shift
  "$st" run "$base/api/v1/openapi.json" --url "$base" \
    --checks all --phases examples,coverage,fuzzing,stateful --max-time "$seconds" --workers 1 \
    --suppress-health-check all --seed 1 --no-color \
    -H "Authorization: Bearer $key" -H "X-Backroom-Timestamp: $(date +%s)" "$@"
}

say "schemathesis on $engine (${budget} s)"
# Revoking keys comes last: the run's own key is one of them.
keys='^/api/v1/keys/\{id\}$'
status=0
st_run "$budget" --exclude-path-regex "$keys" || status=1
st_run 10 --include-path-regex "$keys" || status=1
[ "$status" = 0 ] || tail -20 "$data/server.log"
exit "$status"
