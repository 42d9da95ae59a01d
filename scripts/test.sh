#!/usr/bin/env bash
# The one test command: installs what is missing (idempotently) and runs every suite.
# Safe to run again and again; expensive things are cached outside the clone.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/tmbridge"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
mkdir -p "$CACHE"
step() { printf '\n==> %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

step "toolchain"
rustup target list --installed | grep -qx wasm32-unknown-unknown \
  || rustup target add wasm32-unknown-unknown
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked || cargo install cargo-fuzz

step "format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings

step "Rust tests (core and CLI)"
cargo test

step "the core builds for wasm32-unknown-unknown"
cargo build -p tmbridge-core --target wasm32-unknown-unknown

step "fuzz the JUnit reader (bounded)"
for target in $(cargo +nightly fuzz list --fuzz-dir fuzz); do
  mkdir -p "$CACHE/fuzz-corpus/$target"  # new inputs go here, not into the repository
  cargo +nightly fuzz run --fuzz-dir fuzz --target-dir "$CACHE/fuzz-target" "$target" \
    "$CACHE/fuzz-corpus/$target" "fuzz/seeds/$target" -- -max_total_time="${FUZZ_SECONDS:-20}" -rss_limit_mb=2048 \
    -artifact_prefix="$CACHE/fuzz-artifacts-" 2>&1 | tail -n 3
done

step "bindings: WASM package, Python, Node, conformance vectors in every runtime"
bash scripts/test-bindings.sh

step "tmbridge --engine wasm prints what the native engine prints"
bash scripts/check-engine-wasm.sh

step "all suites passed"
