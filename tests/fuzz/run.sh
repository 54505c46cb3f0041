#!/usr/bin/env bash
# make fuzz [FUZZ_SECONDS=N] [FUZZ_ONLY=name]: builds every tests/fuzz/fuzz_*.c
# harness with clang -fsanitize=fuzzer,address,undefined against the library
# built with the same sanitizers (build-fuzz/), seeds each corpus with the
# project's own writers (tests/fuzz/seeds_<name>.c, if present) plus the kept
# regression inputs (tests/fuzz/corpus/<name>/), runs each harness for
# FUZZ_SECONDS (default 60) and prints executions/s and coverage.  Crashes
# are left in build-fuzz/crashes/; FUZZ_ARGS adds libFuzzer flags (e.g.
# -len_control=0 for harnesses whose inputs are programs of many ops); minimise with -minimize_crash=1, fix, and
# copy the input into tests/fuzz/corpus/<name>/ so make test replays it.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${FUZZ_SECONDS:-60}
B=build-fuzz
command -v clang >/dev/null || { echo "fuzz: clang not found (apt-get install clang libclang-rt-14-dev)"; exit 1; }
PKGS="openblas hdf5 zlib jansson inih"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
CFL="-std=c11 -O1 -g -fopenmp -D_GNU_SOURCE -I. $(pkg-config --cflags $PKGS)"
# make's recipe shell strips one level of quotes: keep them escaped for it
VER='-DSLM_VERSION=\"fuzz\"'

LIBS="$(pkg-config --libs $PKGS) -fopenmp -lm -ldl -lpthread"
# library with coverage instrumentation (no -Werror: clang warns differently than gcc)
make -s BUILD=$B CC=clang CFLAGS="$CFL $VER $SAN -fsanitize=fuzzer-no-link" LDFLAGS= SANITIZE= $B/libslm.a
mkdir -p $B/crashes
status=0
for h in tests/fuzz/fuzz_*.c; do
    name=$(basename "$h" .c); name=${name#fuzz_}
    [ -n "${FUZZ_ONLY:-}" ] && [ "$name" != "$FUZZ_ONLY" ] && continue
    clang $CFL $SAN -fsanitize=fuzzer -o $B/fuzz_$name "$h" $B/libslm.a $LIBS
    corpus=$B/corpus/$name
    mkdir -p "$corpus"
    [ -d tests/fuzz/corpus/$name ] && cp -n tests/fuzz/corpus/$name/* "$corpus"/ 2>/dev/null || true
    if [ -f tests/fuzz/seeds_$name.c ]; then
        clang $CFL -o $B/seeds_$name tests/fuzz/seeds_$name.c $B/libslm.a $LIBS $SAN -fsanitize=fuzzer-no-link
        $B/seeds_$name "$corpus"
    fi
    echo "== fuzz_$name for ${SECS}s ($(ls "$corpus" | wc -l) seeds)"
    log=$B/fuzz_$name.log
    if ! ASAN_OPTIONS=detect_leaks=1 $B/fuzz_$name -max_total_time="$SECS" -print_final_stats=1 \
            -artifact_prefix=$B/crashes/$name- -max_len=65536 ${FUZZ_ARGS:-} "$corpus" > "$log" 2>&1; then
        status=1
        echo "FINDING in fuzz_$name; see $log and $B/crashes/"
        grep -E "ERROR|SUMMARY|check failed" "$log" | head -5
    fi
    grep -E "^#[0-9]+[[:space:]]+DONE" "$log" | tail -1 || true
    grep -E "stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)" "$log" || true
done
exit $status
