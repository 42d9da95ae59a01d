#!/usr/bin/env bash
# Whole-file timing and peak memory of the JUnit reader, against a bare quick-xml event
# loop over the same file (measured in the same run). Usage: scripts/bench-junit.sh [MB...]
# Default sizes: 10 100 1024. Needs GNU time (/usr/bin/time) for peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-10 100 1024}")
read -r -a sizes <<< "${sizes[*]}"
target="${CARGO_TARGET_DIR:-target}"
cargo build -q --release -p tmbridge-cli -p tmbridge-core --examples --bin tmbridge
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

measure() { # prints "seconds peak_kib"
  local out
  out=$( { /usr/bin/time -f '%e %M' "$@" > /dev/null; } 2>&1 | tail -n 1)
  echo "$out"
}

printf '%-8s %-10s %-10s %-12s %-12s %-8s\n' size base_s ours_s base_peak_MB ours_peak_MB ratio
for mb in "${sizes[@]}"; do
  file="$work/report-$mb.xml"
  "$target/release/examples/gen_report" "$mb" > "$file"
  read -r base_s base_kb <<< "$(measure "$target/release/examples/xml_baseline" "$file")"
  read -r ours_s ours_kb <<< "$(measure "$target/release/tmbridge" parse --format summary "$file")"
  ratio=$(python3 -c "print(f'{$base_s / max($ours_s, 0.001):.2f}')")
  printf '%-8s %-10s %-10s %-12s %-12s %-8s\n' "${mb}MB" "$base_s" "$ours_s" \
    "$((base_kb / 1024))" "$((ours_kb / 1024))" "$ratio"
  rm -f "$file"
done
echo "ratio = baseline time / tmbridge time (1.0 = as fast as the bare event loop; goal >= 0.6)"
