#!/usr/bin/env bash
# Runs `npm test` N times (default 5) in a fresh clone of this checkout's HEAD
# while stress-ng hogs both cores, and prints one line a run. The suite must
# pass every time on a busy machine: no test may depend on an idle one.
# Needs stress-ng (Debian: apt-get install stress-ng). Logs: $OUT/run-<i>.log.
set -u
N=${1:-5}
OUT=${OUT:-/tmp/suite-under-load}
repo=$(cd "$(dirname "$0")/.." && pwd)
command -v stress-ng >/dev/null || { echo "stress-ng is not installed" >&2; exit 2; }
rm -rf "$OUT" && mkdir -p "$OUT"
git clone -q "$repo" "$OUT/clone" && cd "$OUT/clone" || exit 2
npm install --no-audit --no-fund >"$OUT/install.log" 2>&1 || { echo "npm install failed" >&2; exit 2; }
stress-ng --cpu 2 --timeout 7200s >"$OUT/stress-ng.log" 2>&1 &
hog=$!
trap 'kill $hog 2>/dev/null' EXIT
failed=0
for i in $(seq 1 "$N"); do
  start=$(date +%s)
  npm test >"$OUT/run-$i.log" 2>&1
  rc=$?
  [ $rc -eq 0 ] || failed=$((failed + 1))
  echo "run $i: rc=$rc $(($(date +%s) - start))s $(grep -E '^Tests:' "$OUT/run-$i.log")"
done
exit $((failed > 0))
