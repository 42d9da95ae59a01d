#!/usr/bin/env bash
# Results per second of `tmbridge publish --target rally` against the Rally simulator:
# one TestCaseResult create per request (rally.batch_size = 0) beside WSAPI `/batch`
# requests (the default batch size), each run against a fresh simulator seeded with
# test cases TC1..TCN that the report's tests name. Release builds. A benchmark, not
# part of scripts/test.sh.
#
# Usage: scripts/bench-publish.sh [N]      (N results, default 10000)
#
# Prints, per run, the requests sent, the seconds taken, the results per second and
# the CPU seconds tmbridge itself used (the rest of the wall time is the simulator),
# then `ROW|<measure>|<ours_s>|<peer>|<peer_s>|<goal>` lines for scripts/bench.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/tmbridge"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
n="${1:-10000}"
case "$n" in '' | *[!0-9]*) echo "usage: $0 [N]" >&2; exit 2 ;; esac

cargo build -q --release -p tmbridge-cli --bin tmbridge -p tmbridge-simulators --bin tmbridge-simulators
bin="$CARGO_TARGET_DIR/release"

work="$(mktemp -d)"
sim_pid=""
cleanup() {
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# N passing tests, each naming its test case: `TC7 case 7` matches TC7.
awk -v n="$n" 'BEGIN {
  print "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
  print "<testsuite name=\"bench\" tests=\"" n "\">"
  for (i = 1; i <= n; i++) printf "  <testcase classname=\"bench.Publish\" name=\"TC%d case %d\" time=\"0.01\"/>\n", i, i
  print "</testsuite>"
}' > "$work/junit.xml"

# Starts a fresh simulator; sets sim_pid, url, key, workspace, project.
start_sim() {
  local out="$work/sim.out"
  : > "$out"
  "$bin/tmbridge-simulators" --rally 127.0.0.1:0 --gitlab 127.0.0.1:0 --qtest 127.0.0.1:0 \
    --rally-test-cases "$n" > "$out" 2>&1 &
  sim_pid=$!
  for _ in $(seq 1 600); do
    grep -q '^qtest url' "$out" && break
    kill -0 "$sim_pid" 2>/dev/null || { cat "$out" >&2; exit 1; }
    sleep 0.1
  done
  url="$(sed -n 's/^rally.url = //p' "$out")"
  key="$(sed -n 's/^rally api key (ZSESSIONID) = //p' "$out")"
  workspace="$(sed -n 's/^rally.workspace = //p' "$out")"
  project="$(sed -n 's/^rally.project = //p' "$out")"
  [ -n "$url" ] && [ -n "$key" ] || { echo "the simulator did not start" >&2; cat "$out" >&2; exit 1; }
}

stop_sim() {
  kill "$sim_pid" 2>/dev/null || true
  wait "$sim_pid" 2>/dev/null || true
  sim_pid=""
}

# Publishes the report with this batch size; sets secs.
run_one() {
  local size="$1" label="$2"
  start_sim
  local dir="$work/run-$size"
  mkdir -p "$dir"
  cat > "$dir/tmbridge.toml" <<EOF
[rally]
url = "$url"
api_key_env = "BENCH_RALLY_KEY"
workspace = "$workspace"
project = "$project"
EOF
  [ "$size" = default ] || echo "batch_size = $size" >> "$dir/tmbridge.toml"
  local t0 t1 code=0 times_out
  t0="$(date +%s.%N)"
  # `times` in the subshell gives the CPU time of its child, tmbridge alone: what the
  # client costs, apart from the simulator's share of the wall time.
  times_out="$( {
    BENCH_RALLY_KEY="$key" CI_PIPELINE_ID=9001 CI_JOB_NAME=bench \
      "$bin/tmbridge" publish --target rally --config "$dir/tmbridge.toml" \
      --outbox "$dir/outbox.sqlite3" "$work/junit.xml" > "$dir/out.txt" 2>&1 || echo "exit $?"
    times
  } )"
  t1="$(date +%s.%N)"
  code="$(printf '%s\n' "$times_out" | sed -n 's/^exit //p')"
  code="${code:-0}"
  # The second line of `times`: children's user and system time, as 1m2.345s.
  cpu="$(printf '%s\n' "$times_out" | grep -v '^exit' | sed -n 2p | awk '{
    t = 0
    for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); t += p[1] * 60 + p[2] }
    printf "%.2f", t
  }')"
  local results
  results="$(curl -fsS "$url/__sim/ledger" | python3 -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["type"] == "TestCaseResult"))')"
  stop_sim
  if [ "$code" != 0 ] || [ "$results" != "$n" ]; then
    echo "$label: tmbridge exited $code with $results of $n results in the ledger" >&2
    tail -n 20 "$dir/out.txt" >&2
    exit 1
  fi
  local requests
  requests="$(sed -n 's/^\([0-9][0-9]*\) request(s).*/\1/p' "$dir/out.txt" | tail -n 1)"
  secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
  local rate
  rate="$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')"
  printf '%-32s %8s requests  %8s s  %8s results/s  %6s s of tmbridge CPU\n' \
    "$label" "$requests" "$secs" "$rate" "$cpu"
}

echo "publish $n results to the Rally simulator (release build)"
run_one 0 "one create per request"
single="$secs"
single_cpu="$cpu"
run_one default "batches of 25 (the default)"
batched="$secs"
batched_cpu="$cpu"
echo "ROW|publish $n results to the Rally simulator|$batched|one create per request|$single|batched faster"
echo "ROW|tmbridge CPU publishing $n results, batched|$batched_cpu|one create per request|$single_cpu|batched cheaper"
