#!/usr/bin/env bash
# Runs every test: cmocka unit binaries (build/tests/test_*) and end-to-end
# scripts (tests/e2e/test_*.sh).  A script exiting 77 is a visible skip.
# Ends with one summary line "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
source scripts/env.sh
export SLM_BIN="$PWD/$BUILD/slm" BUILD
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
# idle OpenMP threads sleep instead of spinning: tests share 2 cores with node, python and each other
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
pass=0; fail=0; skip=0; failed=()
filter=${TEST_FILTER:-}
run_one() {
    local name=$1; shift
    [ -n "$filter" ] && [[ "$name" != *$filter* ]] && return
    local t0=$SECONDS out rc
    out=$("$@" 2>&1); rc=$?
    local dt=$((SECONDS - t0))
    if [ $rc -eq 0 ]; then pass=$((pass+1)); echo "PASS  $name (${dt}s)"
    elif [ $rc -eq 77 ]; then skip=$((skip+1)); echo "SKIP  $name: $(echo "$out" | grep -i skip | tail -1)"
    else fail=$((fail+1)); failed+=("$name"); echo "FAIL  $name (exit $rc, ${dt}s)"; echo "$out" | tail -40 | sed 's/^/    /'
    fi
    [ -n "${VERBOSE:-}" ] && echo "$out" | sed 's/^/    /'
}
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    run_one "unit/$(basename "$t")" "$t"
done
for t in tests/e2e/test_*.sh; do
    [ -f "$t" ] || continue
    run_one "e2e/$(basename "$t" .sh)" bash "$t"
done
echo
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
