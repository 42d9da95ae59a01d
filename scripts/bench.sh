#!/usr/bin/env bash
# One command, one run, one table: tmbridge against what users would pick instead, in
# every runtime, on the same generated reports, measured in the same run. Ratios are
# what count (the machine's speed cancels out).
#
#   bash scripts/bench.sh            # 10 MB and 100 MB reports, 100 000 small cases,
#                                    # peak memory of streaming a 1 GB report
#   BENCH_SIZES="10" bash scripts/bench.sh
#   BENCH_MEMORY_MB=0 bash scripts/bench.sh   # skip the peak-memory rows (0), or another size
#   BENCH_PUBLISH=0 bash scripts/bench.sh     # skip publishing to the Rally simulator
#                                    # (default 10000 results, with and without /batch)
#
# Installs what it needs, idempotently and apart from the test tools: release builds of
# the CLI, the Node addon and the Python wheel (in .venv-bench with lxml and
# junitparser), and fast-xml-parser and xml2js in bench/node_modules. The WASM numbers
# use pkg/ as the test command built it (TMBRIDGE_FULL=1 bash scripts/test.sh builds the
# release sizes). The WASM-in-Chromium rows drive Debian's chromium (or $CHROMIUM_PATH)
# through playwright-core as the browser tests do (npm ci at the root if it is missing);
# without chromium they are left out.
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
have_chromium=0
if [ "$have_wasm" = 1 ]; then
  if [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
    [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error
    have_chromium=1
  else
    say "no chromium: WASM in Chromium rows left out (scripts/test-bindings.sh installs it)"
  fi
fi

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
rss() { # command... -> peak resident memory (max RSS) of the command in MiB (stdout discarded)
  local kib
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f %M -o "$work/rss" "$@" > /dev/null || { say "failed: $*"; echo -; return; }
    kib=$(tail -n 1 "$work/rss")
  else # no GNU time: VmHWM read from /proc every 20 ms while it runs (may miss the last)
    kib=$(python3 -c 'import subprocess, sys, time
p, hwm = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL), 0
while p.poll() is None:
    try:
        with open(f"/proc/{p.pid}/status") as f:
            hwm = max([hwm] + [int(l.split()[1]) for l in f if l.startswith("VmHWM:")])
    except OSError:
        pass
    time.sleep(0.02)
sys.exit(p.returncode) if p.returncode else print(hwm)' "$@") || { say "failed: $*"; echo -; return; }
  fi
  python3 -c "print(f'{$kib / 1024:.1f}')"
}
memrow() { # measure peak_mib baseline_name baseline_mib: what reading adds to the runtime
  local added=-
  [ "$2" != - ] && [ "$4" != - ] && added=$(python3 -c "print(f'{$2 - $4:.1f}')")
  row "$1" "$2" "$3" "$4" "- (the read adds $added MiB)"
}

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
  if [ "$have_chromium" = 1 ]; then
    # Timed in the page, the report's bytes already fetched into a Uint8Array.
    chrome=$(node bench/browser_peers.mjs "$file" | pick tmbridge.wasm.chromium.readJunit) \
      || { say "WASM in Chromium failed on the ${mb} MB report"; chrome=-; }
    row "WASM in Chromium readJunit ${mb} MB" "$chrome" "native tmbridge parse" "$ours" "peer/ours >= 0.5"
  fi
  rm -f "$file"
done

memory_mb=${BENCH_MEMORY_MB:-1024}
if [ "$memory_mb" -gt 0 ]; then
  # Not seconds: peak RSS in MiB of streaming one large report, in every runtime that
  # streams. For the bindings, against the same runtime with the binding loaded and no
  # read, so the goal column shows what the read adds.
  big="$work/report-${memory_mb}mb.xml"
  say "${memory_mb} MB report: peak memory"
  "$BIN/examples/gen_report" "$memory_mb" > "$big"
  row "native parse --format summary ${memory_mb} MB, peak RSS MiB" \
    "$(rss "$BIN/tmbridge" parse --format summary "$big")" "(goal: 32 MiB)" "32" "ours <= 32 MiB"
  memrow "Python read_junit ${memory_mb} MB, peak RSS MiB" \
    "$(rss .venv-bench/bin/python bench/python_peers.py "$big" tmbridge.read_junit)" \
    "python -c 'import tmbridge'" "$(rss .venv-bench/bin/python -c 'import tmbridge')"
  memrow "Node addon readJunit ${memory_mb} MB, peak RSS MiB" \
    "$(rss env TMBRIDGE_NODE_ADDON="$ADDON" node bench/node_peers.mjs "$big" tmbridge.addon.readJunit)" \
    "node, addon loaded" \
    "$(rss env TMBRIDGE_NODE_ADDON="$ADDON" node --input-type=module -e "await import('./bindings/node/index.js')")"
  if [ "$have_wasm" = 1 ]; then
    memrow "WASM in Node readJunit ${memory_mb} MB, peak RSS MiB" \
      "$(rss node bench/node_peers.mjs "$big" tmbridge.wasm.readJunit)" \
      "node, package loaded" "$(rss node --input-type=module -e "await import('./pkg/node.js')")"
  fi
  rm -f "$big"
fi

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

publish_results=${BENCH_PUBLISH:-10000}
if [ "$publish_results" != 0 ]; then
  say "publish ${publish_results} results to the Rally simulator (scripts/bench-publish.sh)"
  while IFS='|' read -r tag measure ours peer peer_s goal; do
    [ "$tag" = ROW ] && row "$measure" "$ours" "$peer" "$peer_s" "$goal"
  done < <(bash scripts/bench-publish.sh "$publish_results" | tee /dev/stderr)
fi

printf '\n| measure | tmbridge s | against | their s | ratio (their/ours) | goal |\n|---|---|---|---|---|---|\n'
for r in "${rows[@]}"; do
  IFS='|' read -r measure ours peer peer_s goal <<< "$r"
  ratio=$(python3 -c "
try: o, p = float('${ours:-0}'), float('${peer_s:-0}')
except ValueError: o = p = 0
print(f'{p / o:.2f}' if o > 0 else '-')")
  printf '| %s | %s | %s | %s | %s | %s |\n' "$measure" "$ours" "$peer" "$peer_s" "$ratio" "$goal"
done
echo
echo "ratio = their time / tmbridge time: above 1, tmbridge is faster. One run each, $(nproc) cores."
