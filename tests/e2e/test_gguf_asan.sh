#!/usr/bin/env bash
# The GGUF mutation corpus (tests/unit/test_gguf_mutate.c), the round-trip
# tests and the kept libFuzzer corpus (tests/fuzz/corpus/gguf) under
# AddressSanitizer + UndefinedBehaviorSanitizer (any report fails).
# Only the GGUF sources are compiled (into $BUILD/asan-gguf/), so the test
# stays fast however large the rest of the library grows.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
out="$BUILD/asan-gguf"
mkdir -p "$out"
CC=${CC:-gcc}
flags=(-std=c11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I. -fopenmp
       -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
srcs=(core/base.c core/fileio.c core/mapguard.c core/gguf.c core/gguf_read.c core/gguf_write.c)
for t in test_gguf_mutate test_gguf_roundtrip; do
    if [ ! -x "$out/$t" ] || [ -n "$(find "${srcs[@]}" core/*.h "tests/unit/$t.c" -newer "$out/$t" 2>/dev/null)" ]; then
        "$CC" "${flags[@]}" -o "$out/$t" "tests/unit/$t.c" "${srcs[@]}" -lcmocka -lm
    fi
done
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in test_gguf_mutate test_gguf_roundtrip; do
    echo "== $t (ASan+UBSan)"
    log=$("$out/$t" 2>&1) || { echo "$log" | tail -60; echo "FAIL: $t under sanitizers"; exit 1; }
    if echo "$log" | grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:"; then
        echo "$log" | grep -A30 -E "Sanitizer|runtime error" | head -60
        echo "FAIL: sanitizer report in $t"
        exit 1
    fi
    echo "$log" | grep -E "mutations:|PASSED|FAILED" || true
done
# the kept fuzzing corpus through the libFuzzer harness, also under ASan+UBSan
fz="$out/fuzz_gguf_replay"
if [ ! -x "$fz" ] || [ -n "$(find "${srcs[@]}" core/*.h tests/fuzz/fuzz_gguf.c tests/fuzz/replay.c -newer "$fz" 2>/dev/null)" ]; then
    "$CC" "${flags[@]}" -o "$fz" tests/fuzz/fuzz_gguf.c tests/fuzz/replay.c "${srcs[@]}" -lm
fi
log=$("$fz" tests/fuzz/corpus/gguf 2>&1) || { echo "$log" | tail -40; echo "FAIL: corpus replay under sanitizers"; exit 1; }
echo "== fuzz corpus replay (ASan+UBSan): $(echo "$log" | tail -1)"
echo "ok: GGUF mutation corpus, round trips and fuzz corpus clean under ASan+UBSan"
