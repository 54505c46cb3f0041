#!/usr/bin/env bash
# Replays the kept fuzzing corpora (tests/fuzz/corpus/<name>/: seeds written
# by slm's own writers, inputs found by make fuzz, fixed crash repros) through
# each harness tests/fuzz/fuzz_<name>.c, built with gcc and tests/fuzz/replay.c
# (no clang needed).  A crash or a failed harness check fails the test.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
LIB="$BUILD/libslm.a"
[ -f "$LIB" ] || { echo "FAIL: $LIB not built"; exit 1; }
PKGS="openblas hdf5 zlib jansson inih"
CC=${CC:-gcc}
out="$BUILD/fuzz-replay"
mkdir -p "$out"
n=0
for h in tests/fuzz/fuzz_*.c; do
    [ -f "$h" ] || continue
    name=$(basename "$h" .c); name=${name#fuzz_}
    corpus=tests/fuzz/corpus/$name
    [ -d "$corpus" ] || { echo "note: no kept corpus for $name"; continue; }
    bin="$out/fuzz_$name"
    if [ ! -x "$bin" ] || [ "$h" -nt "$bin" ] || [ "$LIB" -nt "$bin" ] || [ tests/fuzz/replay.c -nt "$bin" ]; then
        # shellcheck disable=SC2046
        "$CC" -std=c11 -O1 -g -Wall -Wextra -Werror -fopenmp -D_GNU_SOURCE -I. $(pkg-config --cflags $PKGS) \
            -o "$bin" "$h" tests/fuzz/replay.c "$LIB" $(pkg-config --libs $PKGS) -fopenmp -lm -ldl -lpthread
    fi
    # (not inside echo's arguments: there a crash would not stop the test)
    if ! res=$("$bin" "$corpus"); then echo "FAIL: replaying $corpus through fuzz_$name"; exit 1; fi
    echo "== $name: $res"
    n=$((n + 1))
done
[ $n -gt 0 ] || { echo "skip: no fuzz corpora to replay"; exit 77; }
echo "ok: $n corpora replayed"
