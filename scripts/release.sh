# Builds what `make run` serves: the release server and the release panel. Sourced after
# scripts/setup.sh, by scripts/run, scripts/test and the benchmarks that load the panel.
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}"
cargo leptos build --release
