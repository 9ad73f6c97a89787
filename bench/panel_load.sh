#!/usr/bin/env bash
# The panel's first visit on a phone: builds what `make run` builds (the release server
# and panel), then opens each main page in Chromium with an empty cache over a 4G-like
# network with the CPU slowed down 4x, and prints the gzipped WebAssembly and JavaScript
# each page downloaded and when it became interactive. Budget: 400 KB and 1.5 s.
# Usage: bench/panel_load.sh   (RUNS=3 visits a page, ORDERS=2000 demo orders)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
source scripts/release.sh
export BACKROOM_BIN="$CARGO_TARGET_DIR/release/backroom" LEPTOS_SITE_ROOT="$PWD/target/site"
node bench/panel_load.mjs
