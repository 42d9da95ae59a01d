#!/usr/bin/env bash
# Size of the WASM npm package (pkg/, as built by scripts/build-wasm-pkg.sh): every file
# `npm pack` would ship, raw and gzip -9, their gzipped sum, and the tarball's size.
#
#   bash scripts/pkg-size.sh                 # the table
#   bash scripts/pkg-size.sh --kb            # only the gzipped sum, in KB (for scripts/bench.sh)
#   bash scripts/pkg-size.sh --budget 200000 # the table; exit 1 if the gzipped sum is above
#
# The sum of gzip -9 per file is the measure (it does not depend on npm's version); the
# tarball is within a few KB of it. Issue 17's goal: at most 250 KB for the whole package.
set -euo pipefail
cd "$(dirname "$0")/../pkg"
mode=table budget=
case "${1:-}" in
  --kb) mode=kb ;;
  --budget) budget=${2:?--budget needs a number of bytes} ;;
  "") ;;
  *) echo "usage: $0 [--kb | --budget BYTES]" >&2; exit 2 ;;
esac
[ -f web/tmbridge_wasm_bg.wasm ] || { echo "pkg/ is not built: bash scripts/build-wasm-pkg.sh" >&2; exit 2; }

pack=$(npm pack --dry-run --json 2>/dev/null)
files=$(node -e 'for (const f of JSON.parse(process.argv[1])[0].files) console.log(f.path)' "$pack")
tarball=$(node -e 'console.log(JSON.parse(process.argv[1])[0].size)' "$pack")
total=0 total_gz=0 rows=
for f in $files; do
  raw=$(wc -c < "$f")
  gz=$(gzip -9c "$f" | wc -c)
  total=$((total + raw)) total_gz=$((total_gz + gz))
  rows+=$(printf '| %s | %s | %s |' "$f" "$raw" "$gz")$'\n'
done
kb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1000 }'; }

if [ "$mode" = kb ]; then
  kb "$total_gz"
  echo
  exit 0
fi
printf '| file | bytes | gzip -9 |\n|---|---|---|\n%s' "$rows"
printf '| **whole package** (%s files) | %s | **%s** (%s KB) |\n' "$(wc -w <<< "$files")" "$total" "$total_gz" "$(kb "$total_gz")"
printf '\nnpm pack tarball: %s bytes (%s KB). Goal (issue 17): at most 250 KB gzipped.\n' "$tarball" "$(kb "$tarball")"
if [ -n "$budget" ] && [ "$total_gz" -gt "$budget" ]; then
  echo "FAIL: the package is $total_gz bytes gzipped, above the budget of $budget bytes" >&2
  exit 1
fi
