#!/usr/bin/env bash
# One command, one run, one table: tmbridge against what users would pick instead, in
# every runtime, on the same generated reports, measured in the same run. Ratios are
# what count (the machine's speed cancels out).
#
#   bash scripts/bench.sh            # 10 MB and 100 MB reports, 100 000 small cases
#   BENCH_SIZES="10" bash scripts/bench.sh
#
# Installs what it needs, idempotently and apart from the test tools: release builds of
# the CLI, the Node addon and the Python wheel (in .venv-bench with lxml and
# junitparser), and fast-xml-parser and xml2js in bench/node_modules. The WASM numbers
# use pkg/ as the test command built it (TMBRIDGE_FULL=1 bash scripts/test.sh builds the
# release sizes).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/tmbridge"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
sizes=(${BENCH_SIZES:-10 100})
small_cases=${BENCH_SMALL_CASES:-100000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say() { printf '==> %s\n' "$*" >&2; }

say "release builds (CLI, examples, Node addon)"
cargo build -q --release -p tmbridge-cli --bin tmbridge
cargo build -q --release -p tmbridge-core --example gen_report --example xml_baseline
cargo build -q --release -p tmbridge-node
ADDON="$work/tmbridge.node"
cp "$CARGO_TARGET_DIR/release/libtmbridge_node.so" "$ADDON"
BIN="$CARGO_TARGET_DIR/release"

say "peers: .venv-bench (release wheel, lxml, junitparser), bench/node_modules"
[ -x .venv-bench/bin/python ] || python3 -m venv .venv-bench
.venv-bench/bin/pip install -q --disable-pip-version-check maturin==1.16.0 lxml==5.3.0 junitparser==3.2.0
(cd bindings/python && "$ROOT/.venv-bench/bin/maturin" build -q --release --out "$work/wheel")
.venv-bench/bin/pip install -q --disable-pip-version-check --force-reinstall --no-deps "$work"/wheel/*.whl
[ -d bench/node_modules/fast-xml-parser ] && [ -d bench/node_modules/xml2js ] \
  || (cd bench && npm install --no-audit --no-fund --loglevel=error)
have_wasm=0
[ -f pkg/node.js ] && [ -f pkg/web/tmbridge_wasm_bg.wasm ] && have_wasm=1

rows=()
row() { rows+=("$1|$2|$3|$4|$5"); } # measure | ours_s | peer | peer_s | goal
secs() { # command... -> wall seconds of the command (stdout discarded)
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.3f}')"
}
pick() { awk -v n="$1" '$1 == n { print $2 }'; } # name -> seconds from a peers listing

for mb in "${sizes[@]}"; do
  file="$work/report-${mb}mb.xml"
  say "${mb} MB report"
  "$BIN/examples/gen_report" "$mb" > "$file"
  base=$(secs "$BIN/examples/xml_baseline" "$file")
  ours=$(secs "$BIN/tmbridge" parse --format summary "$file")
  row "native parse ${mb} MB" "$ours" "bare quick-xml loop" "$base" "ours <= 1.4x"
  py=$(.venv-bench/bin/python bench/python_peers.py "$file")
  for peer in lxml.iterparse junitparser; do
    row "Python read_junit ${mb} MB" "$(pick tmbridge.read_junit <<< "$py")" "$peer" "$(pick "$peer" <<< "$py")" \
      "$([ "$peer" = lxml.iterparse ] && echo 'peer/ours >= 5' || echo 'peer/ours >= 10')"
  done
  row "Python parse_junit ${mb} MB" "$(pick tmbridge.parse_junit <<< "$py")" "lxml.iterparse" "$(pick lxml.iterparse <<< "$py")" "peer/ours >= 5"
  js=$(TMBRIDGE_NODE_ADDON="$ADDON" node bench/node_peers.mjs "$file" tmbridge.addon.readJunit
       node bench/node_peers.mjs "$file" fast-xml-parser
       node bench/node_peers.mjs "$file" xml2js)
  row "Node addon readJunit ${mb} MB" "$(pick tmbridge.addon.readJunit <<< "$js")" "fast-xml-parser" "$(pick fast-xml-parser <<< "$js")" "peer/ours >= 8"
  row "Node addon readJunit ${mb} MB" "$(pick tmbridge.addon.readJunit <<< "$js")" "xml2js" "$(pick xml2js <<< "$js")" "-"
  if [ "$have_wasm" = 1 ]; then
    wasm=$(node bench/node_peers.mjs "$file" tmbridge.wasm.readJunit | pick tmbridge.wasm.readJunit)
    row "WASM in Node readJunit ${mb} MB" "$wasm" "native tmbridge parse" "$ours" "peer/ours >= 0.5"
  fi
  rm -f "$file"
done

say "${small_cases} small cases"
small="$work/small.xml"
python3 bench/gen_small.py "$small_cases" > "$small"
base=$(secs "$BIN/examples/xml_baseline" "$small")
parse=$(secs "$BIN/tmbridge" parse --format json "$small")
row "native parse --format json, ${small_cases} cases" "$parse" "bare quick-xml loop" "$base" "-"
printf '[testrail]\nurl = "https://example.testrail.io"\nproject_id = 1\nsection_id = 1\n' > "$work/testrail.toml"
map=$(secs "$BIN/tmbridge" map --target testrail --config "$work/testrail.toml" --format json \
  --now 2026-01-01T00:00:00Z "$small")
row "map --target testrail, ${small_cases} cases" "$map" "(goal: 0.2 s)" "0.2" "ours <= 0.2 s"

if [ "$have_wasm" = 1 ]; then
  # Not seconds: the WASM package's size, gzip -9 per file summed, in KB, against the goal.
  row "WASM package, gzipped KB (scripts/pkg-size.sh)" "$(bash scripts/pkg-size.sh --kb)" "(goal: 250 KB)" "250" "ours <= 250 KB"
fi

printf '\n| measure | tmbridge s | against | their s | ratio (their/ours) | goal |\n|---|---|---|---|---|---|\n'
for r in "${rows[@]}"; do
  IFS='|' read -r measure ours peer peer_s goal <<< "$r"
  ratio=$(python3 -c "o=float('${ours:-0}' or 0); p=float('${peer_s:-0}' or 0); print(f'{p / o:.2f}' if o > 0 else '-')")
  printf '| %s | %s | %s | %s | %s | %s |\n' "$measure" "$ours" "$peer" "$peer_s" "$ratio" "$goal"
done
echo
echo "ratio = their time / tmbridge time: above 1, tmbridge is faster. One run each, $(nproc) cores."
