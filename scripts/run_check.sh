#!/usr/bin/env bash
# Proves the README's first command: runs `make run` as a new user would (on a free port
# and a data folder of its own), waits for /healthz, and opens the panel in Chromium: the
# first page must hydrate with no console error. Called by scripts/test after the release
# build, so `make run` finds everything built.
set -uo pipefail
cd "$(dirname "$0")/.."
data="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
# In a process group of its own, so the server that `make run` ends in stops with it.
BACKROOM_ADDR="127.0.0.1:$port" BACKROOM_DATA_DIR="$data" setsid make run >"$data/run.log" 2>&1 &
run=$!
trap 'kill -- -$run 2>/dev/null; wait $run 2>/dev/null; rm -rf "$data"' EXIT
up=""
for _ in $(seq 1 600); do
  if curl -fs "http://127.0.0.1:$port/healthz" >/dev/null; then up=1; break; fi
  kill -0 $run 2>/dev/null || break
  sleep 0.5
done
if [ -z "$up" ]; then
  echo "make run: /healthz never answered"; tail -30 "$data/run.log"; exit 1
fi
echo "make run: /healthz answers"
BACKROOM_URL="http://127.0.0.1:$port" node end2end/run_check.mjs || { tail -30 "$data/run.log"; exit 1; }
