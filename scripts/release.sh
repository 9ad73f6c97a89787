# Builds what `make run` serves: the release server and the release panel. Sourced after
# scripts/setup.sh, by scripts/run, scripts/test and the benchmarks that load the panel.
# cargo-leptos optimises the panel's WebAssembly again on every run (about 40 s), so the
# build is skipped when no source changed since the last one of this checkout, and the
# server binary is still the one it built (a plain `cargo build --release` makes one whose
# pages do not match the panel's files).
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
release_stamp="$LEPTOS_SITE_ROOT/.release-build"
release_bin="$CARGO_TARGET_DIR/release/backroom"
if [ -f "$release_stamp" ] && [ -x "$release_bin" ] && [ ! "$release_bin" -nt "$release_stamp" ] \
  && [ -z "$(find Cargo.toml Cargo.lock app backend frontend server style public vocabulary -newer "$release_stamp" -print -quit)" ]; then
  say "the release build is up to date"
else
  rm -f "$release_stamp"
  cargo leptos build --release
  touch "$release_stamp"
fi
