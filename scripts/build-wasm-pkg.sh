#!/usr/bin/env bash
# Builds the WASM package (cargo wasm32, wasm-bindgen's `web` target, wasm-opt -O1 -s 2 from
# npm) into pkg/, with the JS API and its types from bindings/node, and puts the browser
# build inside the extension's folder (pkg/extension/tmbridge), which loads it from there.
# Browsers and Node load the same module and glue (pkg/web): Node's entry (pkg/node.js)
# reads the .wasm and instantiates it synchronously, so the package ships it once.
# Skips wasm-bindgen and wasm-opt when the module did not change.
#
# Used by scripts/test-bindings.sh and scripts/package-extension.sh. Honours
# CARGO_TARGET_DIR and the CARGO_PROFILE_WASM_RELEASE_* variables the callers set.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
WASM_TARGET=wasm32-unknown-unknown
STAMP="$TARGET_DIR/tmbridge-stamps/tmbridge_wasm_bg.wasm.input"

cargo build -q -p tmbridge-wasm --target "$WASM_TARGET" --profile wasm-release
# wasm-bindgen's library at the crate's exact version, built with the workspace (tools/bindgen).
cargo build -q -p tmbridge-bindgen
bindgen="$TARGET_DIR/debug/tmbridge-bindgen"
raw="$TARGET_DIR/$WASM_TARGET/wasm-release/tmbridge_wasm.wasm"
# (pkg/node/ was the `nodejs` target's copy of the same module: gone, remove it if left.)
rm -rf pkg/node
# -O1 -s 2, not -Oz: -Oz makes the module 6% smaller but 23% larger gzipped (what a
# browser downloads and the package budget counts), and takes five times as long.
OPT=(-O1 -s 2)
if ! { [ -f pkg/web/tmbridge_wasm_bg.wasm ] && cmp -s "$raw" "$STAMP" && [ "$(cat "$STAMP.opt" 2>/dev/null)" = "${OPT[*]}" ]; }; then
  rm -rf pkg/web
  "$bindgen" --target web --out-dir pkg/web --out-name tmbridge_wasm "$raw"
  # npm's binaryen, not Debian's (its wasm-opt 108 breaks wasm-bindgen output).
  node_modules/.bin/wasm-opt "${OPT[@]}" pkg/web/tmbridge_wasm_bg.wasm -o pkg/web/tmbridge_wasm_bg.wasm
  mkdir -p "$(dirname "$STAMP")" && cp "$raw" "$STAMP" && echo "${OPT[*]}" > "$STAMP.opt"
fi
# The API and its types have one source, bindings/node.
cp bindings/node/api.js bindings/node/errors.js bindings/node/host-loop.js bindings/node/targets.js bindings/node/node-host.js pkg/
cp bindings/node/index.d.ts pkg/tmbridge.d.ts
cp bindings/node/types.d.ts pkg/types.d.ts
# The browser extension loads the browser build from inside its own folder.
rm -rf pkg/extension/tmbridge
mkdir -p pkg/extension/tmbridge/web
cp pkg/index.js pkg/api.js pkg/errors.js pkg/host-loop.js pkg/targets.js pkg/extension/tmbridge/
cp pkg/web/tmbridge_wasm.js pkg/web/tmbridge_wasm_bg.wasm pkg/extension/tmbridge/web/
