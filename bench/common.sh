# Shared by the benchmarks and scripts/api_check.sh: builds the release build, gives the
# run its own database (SQLite in a temporary folder, or a fresh PostgreSQL database), a
# free port and the environment, and cleans it all up on exit. Sourced after `engine` is
# set.
#   need_wrk: installs wrk, the load generator for saturation runs, when missing;
#   run_sql "SQL": runs a statement against that database;
#   start_backroom: serves in the background and waits until /healthz answers.
source scripts/setup.sh
need_wrk() {
  command -v wrk >/dev/null && return 0
  say "installing wrk"
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null; else sudo apt-get install -y -qq wrk >/dev/null; fi
}
# The build `make run` serves, so a benchmark never leaves another in its place.
source scripts/release.sh
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
base="http://127.0.0.1:$port"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ "$engine" = postgres ] && psql "$BACKROOM_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $name" >/dev/null
  rm -rf "$data"
}
trap cleanup EXIT

# Runs one SQL statement against the run's database (e.g. to raise the rate limits).
run_sql() {
  case "$engine" in
    sqlite) python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()" "$data/backroom.db" "$1" ;;
    postgres) psql "$url" -qc "$1" >/dev/null ;;
  esac
}

start_backroom() {
  "$bin" serve >"$data/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
}
