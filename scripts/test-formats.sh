#!/usr/bin/env bash
# Fidelity of the non-JUnit readers: real Robot Framework (7, 6 and 4), behave and
# cucumber-js runs over the small suites in tests/formats/, read by `tmbridge parse`,
# compared with each tool's own summary (tests/formats/compare.py). NUnit, xUnit.net
# and TRX are checked against real published files by core/tests/formats_samples.rs.
# Allure: real allure-pytest and allure-vitest runs write allure-results folders, read
# by `tmbridge parse` and checked against what the sample tests do and the runners' own
# reports (tests/formats/compare_allure.py).
# Idempotent: scripts/install-tools.sh installs into .venv, .venv-rf6, .venv-rf4,
# .venv-allure, node_modules and tests/formats/allure-vitest/node_modules what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
bash scripts/install-tools.sh python node

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

# Allure: the suites fail, break, skip and retry on purpose; the runners' exit codes say so.
PYTHONDONTWRITEBYTECODE=1 .venv-allure/bin/python -m pytest -q -p no:cacheprovider \
  tests/formats/allure-pytest --alluredir "$OUT/allure-pytest" --junitxml "$OUT/pytest-junit.xml" \
  > "$OUT/pytest.txt" 2>&1 || true
"$TMBRIDGE" parse --format ndjson "$OUT/allure-pytest" > "$OUT/allure-pytest.ndjson"
# pytest-rerunfailures writes each attempt as a <testcase>: tmbridge warns of the count.
"$TMBRIDGE" parse --format ndjson "$OUT/pytest-junit.xml" > "$OUT/pytest-junit.ndjson" 2> /dev/null
.venv/bin/python tests/formats/compare_allure.py pytest "$OUT/allure-pytest" \
  "$OUT/allure-pytest.ndjson" "$OUT/pytest-junit.ndjson"

(cd tests/formats/allure-vitest && ALLURE_RESULTS_DIR="$OUT/allure-vitest" VITEST_JSON="$OUT/vitest.json" \
  node_modules/.bin/vitest run --config vitest.config.js > "$OUT/vitest.txt" 2>&1 || true)
"$TMBRIDGE" parse --format ndjson "$OUT/allure-vitest" > "$OUT/allure-vitest.ndjson" 2> "$OUT/allure-vitest.err"
.venv/bin/python tests/formats/compare_allure.py vitest "$OUT/allure-vitest" \
  "$OUT/allure-vitest.ndjson" "$OUT/vitest.json"
if ! grep -q 'beforeAll hook failed.*allure.global_error' "$OUT/allure-vitest.err"; then
  echo "allure-vitest: the failed beforeAll hook was not reported:" >&2
  cat "$OUT/allure-vitest.err" >&2
  exit 1
fi

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
