#!/usr/bin/env bash
# Runs real, unmodified client libraries against the contract simulators: Rally's own
# Python toolkit (pyral) against the Rally simulator behind TLS on loopback (a CA made
# for the run, trusted through REQUESTS_CA_BUNDLE), and python-gitlab against the GitLab
# simulator. Installs the pinned packages into .venv once; the simulators run on free
# ports and stop when the run ends.
#
# Idempotent; safe to rerun. Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
# pyral 1.7 needs Python >= 3.12; 1.6.0 is the newest for the Python 3.11 of the machines.
PINS=(pyral==1.6.0 python-gitlab==8.6.0)

command -v openssl >/dev/null 2>&1 || {
  if [ "$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q openssl; else sudo apt-get install -y -q openssl; fi
}
[ -x .venv/bin/python ] || python3 -m venv .venv
missing=()
for pin in "${PINS[@]}"; do
  .venv/bin/pip freeze --disable-pip-version-check 2>/dev/null | grep -qix "$pin" || missing+=("$pin")
done
if [ "${#missing[@]}" -gt 0 ]; then
  .venv/bin/pip install -q --disable-pip-version-check "${missing[@]}"
fi

cargo build -q -p tmbridge-simulators --bin tmbridge-simulators
.venv/bin/python tests/real-clients/run_real_clients.py "$TARGET_DIR/debug/tmbridge-simulators"
