#!/usr/bin/env bash
# Faults while writing a GGUF (core/gguf writer over core/fileio): file size
# limit (EFBIG via ulimit -f), a failing tensor producer, NaN data, an
# unwritable directory, SIGKILL in the middle of a write, and ENOSPC, EDQUOT,
# EIO, short writes, fsync and rename failures injected by an LD_PRELOAD shim.  Each time: exit
# code 1, an error naming the file (and errno where there is one), the
# previous file intact, and no temporary left beside it (except after
# SIGKILL, where nothing can clean up: the stale temporary is reported).
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
T="$BUILD/tools/gguf_writer_tool"
[ -x "$T" ] || { echo "FAIL: $T not built (make $T)"; exit 1; }
SLM=${SLM_BIN:-./slm}
tmp=$(mktemp -d /tmp/slm_gguf_faults.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
out="$tmp/model.gguf"
no_tmp() { ! ls "$out".tmp.* >/dev/null 2>&1 || fail "temporary left behind after $1: $(ls "$out".tmp.*)"; }

"$T" "$out" small || fail "writing the first file"
cp "$out" "$tmp/prev.gguf"
"$SLM" info "$out" >/dev/null || fail "first file unreadable"

# 1. file size limit: 4 MiB to write under a 1 MiB limit, SIGXFSZ ignored -> EFBIG
( trap '' XFSZ; ulimit -f 1024; exec "$T" "$out" big 4 ) 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] || fail "EFBIG: exit $rc, expected 1 ($(cat "$tmp/err"))"
grep -q "model.gguf.*File too large" "$tmp/err" || fail "EFBIG message lacks file/errno: $(cat "$tmp/err")"
cmp -s "$out" "$tmp/prev.gguf" || fail "previous file changed by the failed write (EFBIG)"
no_tmp EFBIG

# 2. the producer of a streamed tensor fails
"$T" "$out" fillfail 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] || fail "fill failure: exit $rc"
grep -q "model.gguf: producing tensor 'blk.1.w' failed" "$tmp/err" || fail "fill failure message: $(cat "$tmp/err")"
cmp -s "$out" "$tmp/prev.gguf" || fail "previous file changed (fill failure)"
no_tmp "fill failure"

# 3. NaN in F32 data
"$T" "$out" nan 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] || fail "NaN: exit $rc"
grep -q "model.gguf: tensor 't' element 100: found a NaN or Inf" "$tmp/err" || fail "NaN message: $(cat "$tmp/err")"
cmp -s "$out" "$tmp/prev.gguf" || fail "previous file changed (NaN)"
no_tmp NaN

# 4. directory that does not exist
"$T" "$tmp/nodir/x.gguf" small 2> "$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "nodir/x.gguf.*No such file or directory" "$tmp/err" || fail "missing dir: exit $rc: $(cat "$tmp/err")"

# 5. SIGKILL mid-write: the final name keeps the previous complete file
"$T" "$out" slow 2>/dev/null & pid=$!
sleep 1
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
cmp -s "$out" "$tmp/prev.gguf" || fail "previous file changed by a killed write"
"$SLM" info "$out" >/dev/null || fail "file unreadable after a killed write"
ls "$out".tmp.* >/dev/null 2>&1 && echo "note: a killed write leaves its temporary ($(ls "$out".tmp.* | xargs -n1 basename)); the next write of this path removes it (core/fileio.c; tested in test_harden_faults.sh)"

# 6. I/O errors from libc, injected with an LD_PRELOAD shim (tests/fault/shim.c)
shim="$BUILD/fault/shim.so"
mkdir -p "$BUILD/fault"
if [ ! -f "$shim" ] || [ tests/fault/shim.c -nt "$shim" ]; then
    ${CC:-gcc} -shared -fPIC -O1 -Wall -Wextra -Werror -o "$shim" tests/fault/shim.c -ldl || fail "building the shim"
fi
rm -f "$out".tmp.*
#  op     after errno  short  expected message
cases=("fwrite 3 ENOSPC 0 cannot write '$out': No space left on device"
       "fwrite 2 EIO    1 cannot write '$out': Input/output error"
       "fwrite 0 EDQUOT 0 cannot write '$out': Disk quota exceeded"
       "fsync  0 EIO    0 cannot write '$out': Input/output error"
       "fsync  1 EIO    0 cannot fsync '$out.tmp."
       "rename 0 EXDEV  0 cannot rename '$out.tmp.")
for c in "${cases[@]}"; do
    read -r op after err short msg <<< "$c"
    SLM_FAULT_OP=$op SLM_FAULT_AFTER=$after SLM_FAULT_ERRNO=$err SLM_FAULT_SHORT=$short LD_PRELOAD="$shim" \
        "$T" "$out" big 3 2> "$tmp/err"; rc=$?
    [ $rc -eq 1 ] || fail "$op/$err: exit $rc, expected 1 ($(cat "$tmp/err"))"
    grep -qF "$msg" "$tmp/err" || fail "$op/$err: message '$(cat "$tmp/err")' lacks '$msg'"
    cmp -s "$out" "$tmp/prev.gguf" || fail "previous file changed by a failed write ($op/$err)"
    no_tmp "$op/$err"
done

# 7. a good write replaces the file completely
"$T" "$out" big 2 || fail "big write"
"$SLM" info "$out" | grep -q "2 tensors, 524288 parameters" || fail "replacement file content"
echo "ok: GGUF writer faults"
