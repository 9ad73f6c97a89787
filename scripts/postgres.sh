#!/usr/bin/env bash
# Finds a PostgreSQL server for the tests, or starts one; exports BACKROOM_TEST_POSTGRES_URL.
# Sourced by scripts/test.

pg_answers() { pg_isready -q -h 127.0.0.1 -p "$1" 2>/dev/null; }

if [ -n "${BACKROOM_TEST_POSTGRES_URL:-}" ]; then
  return 0
fi
if pg_answers 5432; then
  export BACKROOM_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/postgres"
  return 0
fi
if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  say "starting the packaged PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start 2>/dev/null || true
  for _ in $(seq 1 20); do pg_answers 5432 && break; sleep 0.5; done
  if pg_answers 5432; then
    export BACKROOM_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/postgres"
    return 0
  fi
fi
# Last resort: a private server of our own on port 5439.
if ! command -v initdb >/dev/null; then
  PATH="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1):$PATH"
fi
if ! command -v initdb >/dev/null; then
  say "installing PostgreSQL"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq postgresql >/dev/null; fi
  PATH="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1):$PATH"
fi
pgdata="$HOME/.cache/backroom/pgdata"
if ! pg_answers 5439; then
  say "starting a private PostgreSQL in $pgdata"
  run_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
  mkdir -p "$pgdata" && [ "$(id -u)" = 0 ] && chown postgres "$pgdata"
  [ -f "$pgdata/PG_VERSION" ] || run_pg "initdb -D '$pgdata' -U postgres --auth=trust >/dev/null"
  run_pg "pg_ctl -D '$pgdata' -o '-p 5439 -k /tmp' -l '$pgdata/log' -w start >/dev/null"
fi
export BACKROOM_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5439/postgres"
