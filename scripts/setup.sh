#!/usr/bin/env bash
# Installs what Backroom's build and tests need, skipping what is already there.
# Sourced by scripts/run and scripts/test; safe to run again.
set -euo pipefail

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/backroom/target}"
# Faster release builds of the tools and the server; the wasm bundle has its own profile.
export CARGO_PROFILE_RELEASE_LTO="${CARGO_PROFILE_RELEASE_LTO:-false}"
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS="${CARGO_PROFILE_RELEASE_CODEGEN_UNITS:-16}"

say() { printf '==> %s\n' "$*" >&2; }

if ! rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q '0\.3\.10'; then
  say "installing cargo-leptos 0.3.10 (takes 12-18 minutes once)"
  cargo install cargo-leptos --version 0.3.10 --locked --features no_downloads
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q '0\.2\.130'; then
  say "installing wasm-bindgen-cli 0.2.130 (about 5 minutes once)"
  cargo install wasm-bindgen-cli --version 0.2.130 --force
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lock="$root/end2end/package-lock.json" installed="$root/end2end/node_modules/.package-lock.json"
if [ ! -f "$installed" ] || [ "$lock" -nt "$installed" ]; then
  say "installing the npm packages (playwright-core, axe-core, binaryen's wasm-opt)"
  (cd "$root/end2end" && npm ci --no-audit --no-fund --loglevel=error)
fi
# Debian's binaryen builds wasm that fails in the browser; npm's works.
export PATH="$root/end2end/node_modules/.bin:$PATH"

# Debian's Chromium, for what opens the panel in a browser (the tests, the page-load
# benchmark); `make run` does not need it.
need_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    say "installing Debian's chromium"
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null
    else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
  fi
}
