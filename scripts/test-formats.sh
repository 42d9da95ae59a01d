#!/usr/bin/env bash
# Fidelity of the non-JUnit readers: real Robot Framework (7, 6 and 4), behave and
# cucumber-js runs over the small suites in tests/formats/, read by `tmbridge parse`,
# compared with each tool's own summary (tests/formats/compare.py). NUnit, xUnit.net
# and TRX are checked against real published files by core/tests/formats_samples.rs.
# Idempotent: installs into .venv, .venv-rf6, .venv-rf4 and node_modules only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
ROBOT7=7.1.1
ROBOT6=6.1.1
ROBOT4=4.1.3
BEHAVE=1.2.6

pip_has() { "$1/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('$2') != '$3')" 2>/dev/null; }
[ -x .venv/bin/python ] || python3 -m venv .venv
pip_has .venv robotframework "$ROBOT7" || .venv/bin/pip install -q --disable-pip-version-check "robotframework==$ROBOT7"
pip_has .venv behave "$BEHAVE" || .venv/bin/pip install -q --disable-pip-version-check "behave==$BEHAVE"
[ -x .venv-rf6/bin/python ] || python3 -m venv .venv-rf6
pip_has .venv-rf6 robotframework "$ROBOT6" || .venv-rf6/bin/pip install -q --disable-pip-version-check "robotframework==$ROBOT6"
[ -x .venv-rf4/bin/python ] || python3 -m venv .venv-rf4
pip_has .venv-rf4 robotframework "$ROBOT4" || .venv-rf4/bin/pip install -q --disable-pip-version-check "robotframework==$ROBOT4"
[ -x node_modules/.bin/cucumber-js ] || npm ci --no-audit --no-fund --loglevel=error

cargo build -q -p tmbridge-cli
TMBRIDGE="${CARGO_TARGET_DIR:-$ROOT/target}/debug/tmbridge"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
mkdir -p "$OUT/mixed"

# The suites fail on purpose (failing, skipped, undefined, setup and teardown failures):
# the tools' exit codes say so and are not errors here.
run_robot() { # venv name
  "$1/bin/robot" --output "$OUT/$2.xml" --log NONE --report NONE --console none tests/formats/robot || true
  "$TMBRIDGE" parse --format ndjson "$OUT/$2.xml" > "$OUT/$2.ndjson"
  "$1/bin/python" tests/formats/compare.py robot "$OUT/$2.xml" "$OUT/$2.ndjson"
  cp "$OUT/$2.xml" "$OUT/mixed/$2-output"
}
run_robot .venv robot7
run_robot .venv-rf6 robot6
run_robot .venv-rf4 robot4

# behave prints its summary after any formatter's output.
(cd tests/formats && "$ROOT/.venv/bin/behave" --no-color -f json -o "$OUT/behave.json" \
  -f null features > "$OUT/behave-summary.txt" 2>&1 || true)
"$TMBRIDGE" parse --format ndjson "$OUT/behave.json" > "$OUT/behave.ndjson"
.venv/bin/python tests/formats/compare.py behave "$OUT/behave-summary.txt" "$OUT/behave.ndjson"
cp "$OUT/behave.json" "$OUT/mixed/behave-report"

node_modules/.bin/cucumber-js tests/formats/features/checkout.feature \
  --require tests/formats/cucumber-js/steps.cjs \
  --format "json:$OUT/cucumber.json" --format "summary:$OUT/cucumber-summary.txt" > /dev/null 2>&1 || true
"$TMBRIDGE" parse --format ndjson "$OUT/cucumber.json" > "$OUT/cucumber.ndjson"
.venv/bin/python tests/formats/compare.py cucumber "$OUT/cucumber-summary.txt" "$OUT/cucumber.ndjson"
cp "$OUT/cucumber.json" "$OUT/mixed/cucumber-report"

# A mixed folder, file names without extensions: the content decides the format.
cp tests/formats/samples/*.xml tests/formats/samples/*.trx "$OUT/mixed/"
"$TMBRIDGE" parse --format ndjson "$OUT"/mixed/* > "$OUT/mixed.ndjson"
expected=$(cat "$OUT"/robot7.ndjson "$OUT"/robot6.ndjson "$OUT"/robot4.ndjson "$OUT"/behave.ndjson "$OUT"/cucumber.ndjson | wc -l)
samples=$(for f in tests/formats/samples/*.xml tests/formats/samples/*.trx; do "$TMBRIDGE" parse --format ndjson "$f"; done | wc -l)
got=$(wc -l < "$OUT/mixed.ndjson")
if [ "$got" -ne $((expected + samples)) ]; then
  echo "mixed folder: read $got cases, the files one by one hold $((expected + samples))" >&2
  exit 1
fi
echo "mixed folder: $got cases from $(ls "$OUT/mixed" | wc -l) files of six formats"
