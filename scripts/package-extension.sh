#!/usr/bin/env bash
# Builds the browser extension's zip for the Chrome Web Store: the WASM package (the
# same build as scripts/test-bindings.sh: cargo wasm32, wasm-bindgen --target web,
# wasm-opt -Oz), then only the files the extension loads, zipped as
# dist/tmbridge-extension-<version>.zip. Prints the zip's path.
#
# Honours CARGO_TARGET_DIR and TMBRIDGE_QUICK=1 (no fat LTO: faster, larger).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$HOME/.cargo/bin:$PATH" CARGO_TERM_COLOR=never
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
EXT=pkg/extension
if [ "${TMBRIDGE_QUICK:-0}" = 1 ]; then
  export CARGO_PROFILE_WASM_RELEASE_LTO=false CARGO_PROFILE_WASM_RELEASE_CODEGEN_UNITS=16
fi

build_wasm() {
  cargo build -q -p tmbridge-wasm --target wasm32-unknown-unknown --profile wasm-release
  local raw="$TARGET_DIR/wasm32-unknown-unknown/wasm-release/tmbridge_wasm.wasm"
  local stamp="$TARGET_DIR/tmbridge-stamps/tmbridge_wasm_bg.wasm.input"
  # The same stamp as scripts/test-bindings.sh: skip wasm-bindgen and wasm-opt when
  # pkg/web and pkg/node were made from exactly this module.
  if ! { [ -f pkg/web/tmbridge_wasm_bg.wasm ] && [ -f pkg/node/tmbridge_wasm_bg.wasm ] && cmp -s "$raw" "$stamp"; }; then
    rm -rf pkg/web pkg/node
    wasm-bindgen --target web --out-dir pkg/web --out-name tmbridge_wasm "$raw"
    wasm-bindgen --target nodejs --out-dir pkg/node --out-name tmbridge_wasm "$raw"
    node_modules/.bin/wasm-opt -Oz pkg/web/tmbridge_wasm_bg.wasm -o pkg/web/tmbridge_wasm_bg.wasm
    cp pkg/web/tmbridge_wasm_bg.wasm pkg/node/tmbridge_wasm_bg.wasm
    echo '{"type":"commonjs"}' > pkg/node/package.json
    mkdir -p "$(dirname "$stamp")" && cp "$raw" "$stamp"
  fi
  cp bindings/node/api.js pkg/api.js
  rm -rf "$EXT/tmbridge"
  mkdir -p "$EXT/tmbridge/web"
  cp pkg/index.js pkg/api.js "$EXT/tmbridge/"
  cp pkg/web/tmbridge_wasm.js pkg/web/tmbridge_wasm_bg.wasm "$EXT/tmbridge/web/"
}

[ -x node_modules/.bin/wasm-opt ] || npm ci --no-audit --no-fund --loglevel=error
build_wasm >&2

# What the store gets: the pages, their scripts, the icons the manifest names and the
# WASM package; not the README, the screenshots or the icon's source.
version=$(node -p "require('./$EXT/manifest.json').version")
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
(cd "$EXT" && cp --parents manifest.json background.js sidepanel.html sidepanel.css sidepanel.js \
  options.html options.js lib/*.js icons/icon-*.png \
  tmbridge/index.js tmbridge/api.js tmbridge/web/tmbridge_wasm.js tmbridge/web/tmbridge_wasm_bg.wasm "$stage/")
node scripts/check-extension-package.mjs "$stage" >&2
mkdir -p dist
zip_path="$ROOT/dist/tmbridge-extension-$version.zip"
rm -f "$zip_path"
# -X: no extra file attributes, so the same files give the same zip.
(cd "$stage" && find . -type f | LC_ALL=C sort | zip -X -q -9 "$zip_path" -@)
echo "$zip_path"
