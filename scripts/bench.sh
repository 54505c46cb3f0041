#!/usr/bin/env bash
# make bench: runs every bench/run_*.sh; each prints a report and writes it to
# bench/results/<name>.txt (kept in git, with the machine it ran on).
set -u
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}
source scripts/env.sh
export SLM_BIN="$PWD/$BUILD/slm"
mkdir -p bench/results
rc=0
for b in bench/run_*.sh; do
    [ -f "$b" ] || continue
    [ -n "${BENCH_FILTER:-}" ] && [[ "$b" != *$BENCH_FILTER* ]] && continue
    name=$(basename "$b" .sh); name=${name#run_}
    echo "== bench $name"
    { echo "# $name — $(date -u +%Y-%m-%dT%H:%MZ), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, slm $(git rev-parse --short HEAD)";
      bash "$b"; } 2>&1 | tee "bench/results/$name.txt" || rc=1
done
exit $rc
