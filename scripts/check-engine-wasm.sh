#!/usr/bin/env bash
# `tmbridge --engine wasm` must print exactly what the native engine prints, for parse,
# map, query and autofill, and drive every session as the native engine does (dry runs
# compared, a publish killed in one engine and finished in the other). Needs the raw WebAssembly core (built by test-bindings.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${CARGO_TARGET_DIR:-target}/debug/tmbridge"
# scripts/test.sh runs this right after `cargo test`, which built the binary; building
# only the CLI package would unify features differently and rebuild wasmtime.
[ -x "$bin" ] && [ "${TMBRIDGE_REBUILD:-0}" = 0 ] || cargo build -q -p tmbridge-cli
wasm="${TMBRIDGE_WASM:-pkg/raw/tmbridge_raw.wasm}"
[ -f "$wasm" ] || { echo "missing $wasm: run scripts/test-bindings.sh first" >&2; exit 1; }
now=(--now 2026-01-01T00:00:00Z --var pipeline_id=1234)
cases=(
  "parse --format json tests/fixtures/map/checkout-e2e.xml tests/corpus/junit/junitparser/normal.xml"
  "parse --format ndjson tests/corpus/junit/maven-surefire/surefire-report-parser__fixture__testsuitexmlparser__TEST-org.acme.FlakyTest.xml"
  "parse tests/corpus/junit/gotestsum/junitxml-report.golden tests/junit-errors/truncated.xml"
  "map --target testrail --config tests/fixtures/map/testrail.toml --format json ${now[*]} tests/fixtures/map/checkout-e2e.xml"
  "map --target rally --config tests/fixtures/map/rally.toml --format json ${now[*]} tests/fixtures/map/checkout-e2e.xml"
  "map --target qtest --config tests/fixtures/map/qtest.toml --format json ${now[*]} tests/fixtures/map/checkout-e2e.xml"
  "query check --format json Name=x AND State = Open"
  "autofill --format json --schema tests/fixtures/autofill/rally-defect-typedef.json --settings tests/fixtures/autofill/defect-form-settings.json --run tests/fixtures/autofill/failed-run.json"
)
failed=0
for args in "${cases[@]}"; do
  # shellcheck disable=SC2086
  native=$("$bin" $args 2>&1; echo "exit $?")
  # shellcheck disable=SC2086
  wasm_out=$("$bin" --engine wasm --wasm "$wasm" $args 2>&1; echo "exit $?")
  if [ "$native" = "$wasm_out" ]; then
    echo "same: tmbridge $args" | cut -c1-110
  else
    echo "DIFFERENT: tmbridge $args"; diff <(echo "$native") <(echo "$wasm_out") | head -20
    failed=1
  fi
done
# The normalised seed query, through both engines.
q='(Name contains US) AND (Creation Date >= 2013-Dec-31)'
for engine in native wasm; do
  got=$("$bin" --engine "$engine" --wasm "$wasm" query normalize --tz UTC "$q" 2>/dev/null)
  [ "$got" = '((Name contains US) AND (CreationDate >= 2013-12-31T00:00:00Z))' ] \
    || { echo "query normalize ($engine) gave: $got"; failed=1; }
done
# Sessions, against the Rally simulator on loopback.
sims="${CARGO_TARGET_DIR:-target}/debug/tmbridge-simulators"
[ -x "$sims" ] || cargo build -q -p tmbridge-simulators --bin tmbridge-simulators
python3 tests/engine/sessions_across_engines.py "$bin" "$sims" "$wasm" || failed=1
exit $failed
