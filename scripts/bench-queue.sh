#!/usr/bin/env bash
# Events per second of `tmbridge serve` (SQLite) beside `serve --queue` with 1, 2 and
# 4 workers on RabbitMQ, against the simulators, in one run. A benchmark, not part of
# scripts/test.sh. Usage: scripts/bench-queue.sh [EVENTS]   (PROFILE=release for a
# release build; the default debug build is what the test suite runs).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/tmbridge"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
bash scripts/install-tools.sh system
profile="${PROFILE:-debug}"
flag=(); [ "$profile" = release ] && flag=(--release)
cargo build -q "${flag[@]}" -p tmbridge-cli --bin tmbridge --example bench_queue
"$CARGO_TARGET_DIR/$profile/examples/bench_queue" "$CARGO_TARGET_DIR/$profile/tmbridge" "${1:-300}"
