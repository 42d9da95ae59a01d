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

step "tools: Debian packages, venvs and npm packages install in the background (log: $CACHE/install-tools.log)"
# They wait on the network and on unpacking while cargo keeps the cores busy; the first
# step that needs them waits for them.
bash scripts/install-tools.sh all > "$CACHE/install-tools.log" 2>&1 &
tools_pid=$!
tools_ready() {
  wait "$tools_pid" || { tail -n 80 "$CACHE/install-tools.log"; echo "installing the test tools failed" >&2; exit 1; }
}

step "toolchain"
rustup target list --installed | grep -qx wasm32-unknown-unknown \
  || rustup target add wasm32-unknown-unknown
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked || cargo install cargo-fuzz

step "format, lints, no module cycles"
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
# The core alone, as hosts build it (no test kit): its no-unwrap/no-panic lints apply.
cargo clippy -p tmbridge-core --lib -- -D warnings
cargo clippy -p tmbridge-bindgen -- -D warnings
python3 scripts/check-module-cycles.py core/src host-cli/src tools/typegen/src tests/simulators/src \
    bindings/wasm/src bindings/wasm-raw/src bindings/python/src bindings/node/src tools/bindgen/src

step "tools installed (RabbitMQ for the serve --queue and worker suites, Chromium, venvs, npm)"
tools_ready

step "Rust tests (core and CLI; the broker suites start their own RabbitMQ node on loopback)"
cargo test

step "real clients (pyral over TLS, python-gitlab) against the simulators"; bash scripts/test-real-clients.sh

step "result formats: real Robot Framework, behave and cucumber-js runs read as each tool counts them"
bash scripts/test-formats.sh

step "fuzz every target: readers, the Rally query parser, templates, a publish session (bounded)"
# libFuzzer needs nightly flags: use the nightly toolchain when it is installed, else
# the stable compiler with RUSTC_BOOTSTRAP=1 (same flags, no download).
if rustup toolchain list | grep -q '^nightly'; then fuzz=(cargo +nightly fuzz); else fuzz=(env RUSTC_BOOTSTRAP=1 cargo fuzz); fi
# --dev: fuzz/Cargo.toml makes it opt-level 1 with debug assertions, minutes quicker to
# build than a release build, which seconds of fuzzing would not pay back.
"${fuzz[@]}" build --dev --fuzz-dir fuzz --target-dir "$CACHE/fuzz-target"
fuzz_one() {
  mkdir -p "$CACHE/fuzz-corpus/$1"  # new inputs go here, not into the repository
  "${fuzz[@]}" run --dev --fuzz-dir fuzz --target-dir "$CACHE/fuzz-target" "$1" \
    "$CACHE/fuzz-corpus/$1" "fuzz/seeds/$1" -- -max_total_time="${FUZZ_SECONDS:-15}" \
    -rss_limit_mb=2048 -artifact_prefix="$CACHE/fuzz-artifacts-" > "$CACHE/fuzz-$1.log" 2>&1
}
# Two targets at a time: each fuzzes for a fixed time on one core, so the step takes
# half as long on a 2-core machine with the same time per target.
mapfile -t fuzz_targets < <("${fuzz[@]}" list --fuzz-dir fuzz)
for ((i = 0; i < ${#fuzz_targets[@]}; i += 2)); do
  pair=("${fuzz_targets[@]:i:2}")
  pids=()
  for target in "${pair[@]}"; do fuzz_one "$target" & pids+=("$!"); done
  for j in "${!pair[@]}"; do
    target="${pair[j]}"; log="$CACHE/fuzz-$target.log"
    if ! wait "${pids[j]}"; then
      tail -n 60 "$log"; echo "fuzz target $target failed (log: $log)" >&2; exit 1
    fi
    echo "$target: $(grep -E '^Done' "$log" | tail -n 1)"
  done
done

step "bindings: the core for wasm32 (WASM package, raw module), Python, Node, conformance vectors in every runtime"
# Test builds of the WASM core skip fat LTO (minutes on 2 cores); TMBRIDGE_FULL=1 builds
# the release sizes reported in the README.
[ "${TMBRIDGE_FULL:-0}" = 1 ] || export TMBRIDGE_QUICK=1
bash scripts/test-bindings.sh

step "tmbridge --engine wasm prints what the native engine prints"
bash scripts/check-engine-wasm.sh

step "all suites passed"
