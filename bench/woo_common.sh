# Shared by the WooCommerce benchmarks, sourced after bench/common.sh:
#   start_store ORDERS: the stand-in store (end2end/woo_mock.mjs, seed 7) on a free port,
#     its address in $store, stopped on exit with the rest;
#   connect_store: a fresh database with an owner, connected to that store as a shop owner
#     does it (`backroom woo connect … --yes`, the stand-in's default key);
#   store_rss: the stand-in's resident memory in MB;
#   query_one "SQL" / query_rows "SQL": reads the run's database (rows as a|b|c).
store=""
store_pid=""
trap '[ -n "$store_pid" ] && kill "$store_pid" 2>/dev/null; cleanup' EXIT

start_store() {
  node end2end/woo_mock.mjs --orders "$1" --seed 7 >"$data/store.out" 2>"$data/store.log" &
  store_pid=$!
  for _ in $(seq 1 600); do grep -q listening "$data/store.out" && break; sleep 0.1; done
  grep -q listening "$data/store.out" || { cat "$data/store.log"; exit 1; }
  store="http://127.0.0.1:$(awk '/listening/ {print $2}' "$data/store.out")"
  export BACKROOM_PUBLIC_URL="$base"
}

connect_store() {
  "$bin" migrate >/dev/null
  echo "bench-owner-password" | "$bin" user add --email bench@shop.example --role owner --password-stdin >/dev/null
  echo cs_e9b3dbcbae3634b5f2e03d89f2b03c59deb6762f |
    "$bin" woo connect --url "$store" --consumer-key ck_ff2a9b1394e11555ffd57c9e67a395797dfa89b4 \
      --consumer-secret-stdin --yes >"$data/connect.log" 2>&1 || { cat "$data/connect.log"; exit 1; }
}

store_rss() {
  awk '/^VmRSS:/ {printf "%d", $2 / 1024}' "/proc/$store_pid/status"
}

query_rows() {
  case "$engine" in
    sqlite) python3 -c "
import sqlite3, sys
for row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]):
    print('|'.join('' if v is None else str(v) for v in row))" "$data/backroom.db" "$1" ;;
    postgres) psql "$url" -tAc "$1" ;;
  esac
}

query_one() {
  query_rows "$1" | head -1
}
