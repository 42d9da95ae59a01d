#!/usr/bin/env bash
# Builds every binding of tmbridge and runs every conformance-vector runner and binding
# test suite: Rust (native), Python (pyo3), the Node addon (napi-rs), WASM in Node, WASM
# in headless Chromium and WASM in wasmtime (raw ABI). Installs what it needs, once:
# the wasm32 target here, npm packages, a .venv with maturin, pytest and mypy, and
# Debian's chromium through scripts/install-tools.sh.
#
# Idempotent; safe to rerun. Honours CARGO_TARGET_DIR.
# Environment:
#   TMBRIDGE_QUICK=1   WASM builds without fat LTO (faster; sizes are then not final)
#   TMBRIDGE_SKIP_BROWSER=1  skip the Chromium runs (e.g. no apt on this machine)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TERM_COLOR=never
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
WASM_TARGET=wasm32-unknown-unknown
if [ "${TMBRIDGE_QUICK:-0}" = 1 ]; then
  export CARGO_PROFILE_WASM_RELEASE_LTO=false CARGO_PROFILE_WASM_RELEASE_CODEGEN_UNITS=16
fi

TIMES=()
step() { # step "name" command...: runs it and records its wall time
  local name=$1 start end
  shift
  echo "==> $name"
  start=$(date +%s)
  "$@"
  end=$(date +%s)
  TIMES+=("$(printf '%5ss  %s' $((end - start)) "$name")")
}
FAILED=()
check() { # check "name" command...: like step, but a failure is reported at the end
  local name=$1 start end rc=0
  shift
  echo "==> $name"
  start=$(date +%s)
  "$@" || rc=$?
  end=$(date +%s)
  if [ "$rc" = 0 ]; then
    TIMES+=("$(printf '%5ss  %s' $((end - start)) "$name")")
  else
    TIMES+=("$(printf '%5ss  %s  FAILED (exit %s)' $((end - start)) "$name" "$rc")")
    FAILED+=("$name")
  fi
}
# --- tools -------------------------------------------------------------------------

install_wasm_target() {
  rustup target list --installed | grep -qx "$WASM_TARGET" || rustup target add "$WASM_TARGET"
}

export PATH="$HOME/.cargo/bin:$PATH"
step "tools: wasm32 target" install_wasm_target
step "tools: chromium, .venv, node_modules (scripts/install-tools.sh)" \
  bash scripts/install-tools.sh system python node

# --- builds ------------------------------------------------------------------------

# unchanged INPUT OUTPUT: true when OUTPUT exists and was made from exactly INPUT
# (wasm-opt from npm takes ~15 s per module; skip it when cargo relinked nothing new).
STAMPS="$TARGET_DIR/tmbridge-stamps"
unchanged() { [ -f "$2" ] && cmp -s "$1" "$STAMPS/$(basename "$2").input"; }
remember() { mkdir -p "$STAMPS" && cp "$1" "$STAMPS/$(basename "$2").input"; }

build_wasm_pkg() {
  bash scripts/build-wasm-pkg.sh
}

# The npm package's size, gzip -9 per file summed (scripts/pkg-size.sh), may not grow
# past this budget: a regression fails the run. Issue 17's goal is 250 KB; the budget sits
# just above what the package measures now, so raise it only on purpose.
WASM_PKG_BUDGET=1120000
check_wasm_pkg_size() {
  if [ "${TMBRIDGE_QUICK:-0}" = 1 ]; then
    echo "(TMBRIDGE_QUICK=1: no fat LTO, the package is larger; size budget not checked)"
    return 0
  fi
  bash scripts/pkg-size.sh --budget "$WASM_PKG_BUDGET"
}

build_raw_wasm() {
  # The same profile as the package: the core compiled for it is reused, only the thin
  # ABI crate is new. No imports: for wasmtime and other hosts without JavaScript.
  cargo build -q -p tmbridge-wasm-raw --target "$WASM_TARGET" --profile wasm-release
  local raw="$TARGET_DIR/$WASM_TARGET/wasm-release/tmbridge_raw.wasm"
  mkdir -p pkg/raw
  if ! unchanged "$raw" pkg/raw/tmbridge_raw.wasm; then
    node_modules/.bin/wasm-opt -Oz --strip-debug "$raw" -o pkg/raw/tmbridge_raw.wasm
    remember "$raw" pkg/raw/tmbridge_raw.wasm
  fi
}

build_python() {
  (cd bindings/python && "$ROOT/.venv/bin/maturin" develop -q)
}

build_node_addon() {
  cargo build -q -p tmbridge-node
  cp "$TARGET_DIR/debug/libtmbridge_node.so" bindings/node/tmbridge.node
}

# The binding suites publish to the Rally simulator binary on loopback.
build_simulators() { cargo build -q -p tmbridge-simulators --bin tmbridge-simulators; }

# The runner shares the debug build of wasmtime with the CLI; the root Cargo.toml
# optimises cranelift in the dev profile, so compiling the module takes ~1 s.
RUNNER_PROFILE=()
build_wasmtime_runner() { cargo build -q -p tmbridge-wasmtime-runner --bin wasmtime-vectors "${RUNNER_PROFILE[@]}"; }

step "build: wasm pkg (cargo, wasm-bindgen web, wasm-opt -O1 -s 2)" build_wasm_pkg
step "build: raw wasm module" build_raw_wasm
check "size: WASM package within its budget (gzipped)" check_wasm_pkg_size
step "build: Python extension (maturin develop)" build_python
step "build: Node addon" build_node_addon
step "build: Rally simulator" build_simulators
step "build: wasmtime runner" build_wasmtime_runner

# --- tests -------------------------------------------------------------------------

# The zip the store gets, loaded unpacked, against the Rally and GitLab simulators.
test_extension() {
  cargo build -q -p tmbridge-simulators --bin tmbridge-simulators
  local zip
  zip=$(scripts/package-extension.sh)
  TMBRIDGE_SIMULATORS="$TARGET_DIR/debug/tmbridge-simulators" TMBRIDGE_EXTENSION_ZIP="$zip" \
    node --test tests/js/extension.test.mjs tests/js/extension-lib.test.mjs
}

check "test: vectors, Rust" cargo test -q -p tmbridge-core --test vectors
check "test: wasmtime runner (unit)" cargo test -q -p tmbridge-wasmtime-runner "${RUNNER_PROFILE[@]}"
check "test: vectors, wasmtime (raw ABI)" "$TARGET_DIR/debug/wasmtime-vectors" pkg/raw/tmbridge_raw.wasm tests/vectors
# CARGO_TARGET_DIR tells the suites where the simulator binary is.
check "test: Python (pytest incl. vectors, stubtest, tmbridge.rally against the simulator, README example)" \
  env CARGO_TARGET_DIR="$TARGET_DIR" .venv/bin/python -m pytest -q bindings/python/tests
check "test: Node addon (node:test incl. vectors, rally against the simulator, README example)" \
  env CARGO_TARGET_DIR="$TARGET_DIR" node --test bindings/node/test/
check "test: generated types under tsc --strict (typed usage, every README example)" \
  node --test tests/js/types.test.mjs
check "test: WASM in Node (incl. rally against the simulator), exports" \
  env CARGO_TARGET_DIR="$TARGET_DIR" node --test tests/js/wasm-node.test.mjs tests/js/exports.test.mjs tests/js/commonjs.test.cjs
if [ "${TMBRIDGE_SKIP_BROWSER:-0}" != 1 ]; then
  check "test: WASM in headless Chromium" node --test tests/js/browser.test.mjs
  check "test: MV3 extension (store zip) in headless Chromium vs the simulators" test_extension
fi

# --- report ------------------------------------------------------------------------

size() { printf '%-40s %9s bytes, gzip -9 %8s bytes\n' "$1" "$(wc -c < "$1")" "$(gzip -9c "$1" | wc -c)"; }
echo
echo "Sizes:"
size pkg/web/tmbridge_wasm_bg.wasm
size pkg/raw/tmbridge_raw.wasm
echo "WASM npm package: $(bash scripts/pkg-size.sh --kb) KB gzipped (budget $((WASM_PKG_BUDGET / 1000)) KB, goal 250 KB)"
[ "${TMBRIDGE_QUICK:-0}" = 1 ] && echo "(TMBRIDGE_QUICK=1: built without LTO, sizes are not final)"
echo
echo "Timings:"
printf '%s\n' "${TIMES[@]}"
if [ "${#FAILED[@]}" -gt 0 ]; then
  echo
  echo "FAILED: ${FAILED[*]}"
  exit 1
fi
echo
echo "All binding builds and suites passed."
