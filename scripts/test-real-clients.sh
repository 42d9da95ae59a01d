#!/usr/bin/env bash
# Runs real, unmodified client libraries against the contract simulators: Rally's own
# Python toolkit (pyral) against the Rally simulator behind TLS on loopback (a CA made
# for the run, trusted through REQUESTS_CA_BUNDLE), and python-gitlab against the GitLab
# simulator. scripts/install-tools.sh installs the pinned packages into .venv once; the
# simulators run on free ports and stop when the run ends.
#
# Idempotent; safe to rerun. Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
bash scripts/install-tools.sh system python

cargo build -q -p tmbridge-simulators --bin tmbridge-simulators
.venv/bin/python tests/real-clients/run_real_clients.py "$TARGET_DIR/debug/tmbridge-simulators"
