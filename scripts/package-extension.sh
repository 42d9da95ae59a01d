#!/usr/bin/env bash
# Builds the browser extension's zip for the Chrome Web Store: the WASM package
# (scripts/build-wasm-pkg.sh, as scripts/test-bindings.sh builds it), then only the
# files the extension loads, zipped as
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

[ -x node_modules/.bin/wasm-opt ] || npm ci --no-audit --no-fund --loglevel=error
bash scripts/build-wasm-pkg.sh >&2

# What the store gets: the pages, their scripts, the icons the manifest names and the
# WASM package; not the README, the screenshots or the icon's source.
version=$(node -p "require('./$EXT/manifest.json').version")
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
(cd "$EXT" && cp --parents manifest.json background.js sidepanel.html sidepanel.css sidepanel.js \
  options.html options.js lib/*.js icons/icon-*.png \
  tmbridge/index.js tmbridge/api.js tmbridge/errors.js tmbridge/host-loop.js tmbridge/targets.js tmbridge/web/tmbridge_wasm.js tmbridge/web/tmbridge_wasm_bg.wasm "$stage/")
node scripts/check-extension-package.mjs "$stage" >&2
mkdir -p dist
zip_path="$ROOT/dist/tmbridge-extension-$version.zip"
rm -f "$zip_path"
# -X: no extra file attributes, so the same files give the same zip.
(cd "$stage" && find . -type f | LC_ALL=C sort | zip -X -q -9 "$zip_path" -@)
echo "$zip_path"
