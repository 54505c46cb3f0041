#!/usr/bin/env bash
# I/O faults while slm writes each kind of output: checkpoints (slm train),
# GGUF exports (slm export), quantized models (slm quantize), datasets
# (slm data prepare) and logit dumps (slm dump-logits).  Faults: ENOSPC that
# persists (disk full), one EIO in the middle of the file, short writes, a
# file size limit (ulimit -f: EFBIG) and SIGKILL at a random moment.  Faults
# come from the LD_PRELOAD shim tests/fault/shim.c, aimed at the output file
# only (SLM_FAULT_PATH).  Each time: exit code 1, an error naming the file
# and the errno text, the previous output byte-identical, nothing under the
# final name that was not there before, no temporary left behind by a
# failed run, and none left after the next run following a SIGKILL
# (core/fileio.c removes temporaries of dead writers).  Short writes are
# legal: HDF5 retries them and the file must come out complete.
# Also: truncated and bit-flipped HDF5 files of each kind are refused with
# one clear error line (no HDF5 error stack, no crash).
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/e2e/harden_common.sh harden_faults
MKVOCAB=$B/tools/mkvocab

# ---- a tiny setup: vocabulary, dataset, checkpoints, GGUF, quantized GGUF, dump
"$MKVOCAB" "$W/vocab.gguf" || fail mkvocab
head -c 20000 /usr/share/common-licenses/GPL-3 > "$W/a.txt"
tail -c 8000 /usr/share/common-licenses/GPL-3 > "$W/b.txt"
"$SLM" data prepare --vocab "$W/vocab.gguf" --input "$W/a.txt" --out "$W/data.h5" --val-fraction 0 >/dev/null 2>&1 || fail "data prepare"
tiny_job_ini "$W/job.ini" "$W/vocab.gguf" "$W/data.h5"
"$SLM" train --config "$W/job.ini" --quiet --out "$W/run" 2>/dev/null || fail "train"
"$SLM" export --ckpt "$W/run" --out "$W/m.gguf" 2>/dev/null || fail "export"
"$SLM" quantize "$W/m.gguf" "$W/q.gguf" q8_0 >/dev/null 2>&1 || fail "quantize"

# ---- one writer under one fault
#   check NAME OUT EXPECT_RC MSG_RE cmd...   (env SLM_FAULT_* set by the caller)
# OUT's previous content (or absence) is compared after the run.
check() {
    local name=$1 out=$2 want_rc=$3 re=$4
    shift 4
    local had=0
    [ -e "$out" ] && { had=1; cp "$out" "$W/prev"; }
    "$@" > "$W/out.log" 2> "$W/err"; local rc=$?
    [ $rc -eq "$want_rc" ] || fail "$name: exit $rc, expected $want_rc: $(tail -3 "$W/err")"
    if [ "$want_rc" -ne 0 ]; then
        grep -qE "$re" "$W/err" || fail "$name: message lacks /$re/: $(grep -v '^ ' "$W/err" | tail -3)"
        grep -q "HDF5-DIAG" "$W/err" && fail "$name: HDF5's error stack was printed"
        if [ $had = 1 ]; then cmp -s "$out" "$W/prev" || fail "$name: previous $out changed"
        else [ ! -e "$out" ] || fail "$name: $out appeared although the write failed"; fi
    fi
    ls "$out".tmp.* >/dev/null 2>&1 && fail "$name: temporary left: $(ls "$out".tmp.*)"
    echo "ok: $name"
}
inject() { ( export SLM_FAULT_OP="$1" SLM_FAULT_ERRNO="$2" SLM_FAULT_AFTER="$3" SLM_FAULT_STICKY="$4" \
                 SLM_FAULT_SHORT="${5:-0}" SLM_FAULT_PATH="$6" LD_PRELOAD="$shim"; "${@:7}" ); }

PY=${SLM_PYTHON:-/usr/bin/python3}
# One EIO at every write position k of an HDF5 writer (pwrite calls on OUT's
# temporary), until a run passes all its writes: each run must either fail
# cleanly (exit 1, message with the file and errno, previous OUT intact, no
# temporary) or succeed with data identical to REF (a lost write that HDF5
# did not report would show here).  sweep NAME OUT REF STEP cmd...
sweep() {
    local name=$1 out=$2 ref=$3 step=$4 k=0 n_fail=0
    shift 4
    while :; do
        local had=0
        [ -e "$out" ] && { had=1; cp "$out" "$W/prev"; }
        SLM_FAULT_VERBOSE=1 inject pwrite EIO $k 0 0 "$(basename "$out")" "$@" > /dev/null 2> "$W/err"; local rc=$?
        ls "$out".tmp.* >/dev/null 2>&1 && fail "$name EIO at write $k: temporary left"
        grep -q "HDF5-DIAG" "$W/err" && fail "$name EIO at write $k: HDF5's error stack printed"
        if ! grep -q "shim: failing" "$W/err"; then
            [ $rc -eq 0 ] || fail "$name: clean run (no fault left to inject) exit $rc: $(tail -2 "$W/err")"
            break
        fi
        if [ $rc -eq 0 ]; then
            "$PY" scripts/h5_same_data.py "$out" "$ref" | grep -q "differ: none" ||
                fail "$name EIO at write $k: exit 0 but the data differ: $("$PY" scripts/h5_same_data.py "$out" "$ref")"
        else
            [ $rc -eq 1 ] || fail "$name EIO at write $k: exit $rc: $(tail -2 "$W/err")"
            grep -qE "$(basename "$out").*Input/output error" "$W/err" ||
                fail "$name EIO at write $k: message lacks file/errno: $(grep -v '^ ' "$W/err" | grep -v '^shim' | tail -2)"
            if [ $had = 1 ]; then cmp -s "$out" "$W/prev" || fail "$name EIO at write $k: previous $out changed"
            else [ ! -e "$out" ] || fail "$name EIO at write $k: $out appeared"; fi
            n_fail=$((n_fail + 1))
        fi
        [ -n "${SWEEP_AFTER:-}" ] && $SWEEP_AFTER
        k=$((k + step))
    done
    echo "ok: $name: EIO at $((k / step)) write positions (every ${step}th of $k): $n_fail clean failures, the rest complete and identical"
}

train_more() { "$SLM" train --config "$W/job.ini" --set train.steps="$1" --quiet --out "$W/run"; }
sum_ckpts() { sha256sum "$W"/run/ckpt-*.h5 | sed "s|$W/||"; }

# checkpoints: HDF5 writes through pwrite
for f in "pwrite ENOSPC 0 1 0 No space left on device" "pwrite EIO 3 0 0 Input/output error" \
         "fsync EIO 0 0 0 Input/output error" "rename EXDEV 0 0 0 Invalid cross-device link"; do
    read -r op err after sticky short msg <<< "$f"
    before=$(sum_ckpts)
    check "checkpoint $op/$err" "$W/run/ckpt-6.h5" 1 "ckpt-6\.h5.*$msg" \
        inject "$op" "$err" "$after" "$sticky" "$short" ckpt-6.h5 train_more 6
    [ "$(sum_ckpts)" = "$before" ] || fail "checkpoint $op/$err: earlier checkpoints changed"
done
train_more 6 2>/dev/null || fail "train to 6"
cp "$W/run/ckpt-6.h5" "$W/ckpt_ref.h5"
rm "$W/run/ckpt-6.h5"
drop6() { rm -f "$W/run/ckpt-6.h5"; }
SWEEP_AFTER=drop6 sweep "checkpoint" "$W/run/ckpt-6.h5" "$W/ckpt_ref.h5" ${CKPT_SWEEP_STEP:-7} train_more 6
# a short pwrite is retried by HDF5: the checkpoint must come out complete
check "checkpoint short writes" "$W/run/ckpt-6.h5" 0 "" inject pwrite EIO 0 0 1 ckpt-6.h5 train_more 6
"$SLM" info "$W/run/ckpt-6.h5" >/dev/null 2>&1 || fail "checkpoint after short writes unreadable"
rm "$W/run/ckpt-6.h5"
( trap '' XFSZ; ulimit -f 40; exec "$SLM" train --config "$W/job.ini" --set train.steps=6 --quiet --out "$W/run" ) 2> "$W/err"; rc=$?
[ $rc -eq 1 ] && grep -qE "ckpt-6\.h5.*File too large" "$W/err" || fail "checkpoint EFBIG: exit $rc: $(tail -2 "$W/err")"
ls "$W"/run/*.tmp.* >/dev/null 2>&1 && fail "checkpoint EFBIG: temporary left"
echo "ok: checkpoint EFBIG"

# exports and quantized models: GGUF through stdio (fwrite)
for f in "fwrite ENOSPC 2 1 0 No space left on device" "fwrite EIO 5 0 0 Input/output error" \
         "fwrite EIO 1 0 1 Input/output error" "fsync EIO 0 0 0 Input/output error"; do
    read -r op err after sticky short msg <<< "$f"
    check "export $op/$err short=$short" "$W/m.gguf" 1 "m\.gguf.*$msg" \
        inject "$op" "$err" "$after" "$sticky" "$short" m.gguf "$SLM" export --ckpt "$W/run" --out "$W/m.gguf"
    check "quantize $op/$err short=$short" "$W/q.gguf" 1 "q\.gguf.*$msg" \
        inject "$op" "$err" "$after" "$sticky" "$short" q.gguf "$SLM" quantize "$W/m.gguf" "$W/q.gguf" q8_0
done
for c in "export|m.gguf|$SLM export --ckpt $W/run --out $W/m.gguf" "quantize|q.gguf|$SLM quantize $W/m.gguf $W/q.gguf q8_0"; do
    IFS='|' read -r name out cmd <<< "$c"
    cp "$W/$out" "$W/prev"
    # shellcheck disable=SC2086
    ( trap '' XFSZ; ulimit -f 20; exec $cmd ) >/dev/null 2> "$W/err"; rc=$?
    [ $rc -eq 1 ] && grep -q "$out.*File too large" "$W/err" || fail "$name EFBIG: exit $rc: $(tail -2 "$W/err")"
    cmp -s "$W/$out" "$W/prev" || fail "$name EFBIG: previous file changed"
    ls "$W/$out".tmp.* >/dev/null 2>&1 && fail "$name EFBIG: temporary left"
    echo "ok: $name EFBIG"
done

# datasets: extending data.h5 with b.txt rewrites it through a temporary
prep() { "$SLM" data prepare --vocab "$W/vocab.gguf" --input "$W/a.txt" "$W/b.txt" --out "$W/data.h5" --val-fraction 0; }
cp "$W/data.h5" "$W/data0.h5"
prep > /dev/null 2>&1 || fail "prep"
cp "$W/data.h5" "$W/data_ref.h5"
cp "$W/data0.h5" "$W/data.h5"
sweep "dataset" "$W/data.h5" "$W/data_ref.h5" 1 prep
cp "$W/data0.h5" "$W/data.h5"
for f in "pwrite ENOSPC 0 1 No space left on device" "rename EXDEV 0 0 Invalid cross-device link"; do
    read -r op err after sticky msg <<< "$f"
    check "dataset $op/$err" "$W/data.h5" 1 "data\.h5.*$msg" inject "$op" "$err" "$after" "$sticky" 0 data.h5 prep
done

# logit dumps: written to DUMP.partial (resumable), renamed when complete
dump() { "$SLM" dump-logits --teacher "$W/m.gguf" --data "$W/data.h5" --top-k 4 --max-seqs 4 --out "$W/dump.h5"; }
check "dump pwrite/ENOSPC" "$W/dump.h5" 1 "dump\.h5.*No space left on device" inject pwrite ENOSPC 0 1 0 dump.h5 dump
rm -f "$W/dump.h5.partial"
dump >/dev/null 2>&1 || fail dump
mv "$W/dump.h5" "$W/dump_ref.h5"
# after each failure the same command resumes DUMP.partial: the result must equal a clean dump
resume_dump() {
    [ -e "$W/dump.h5" ] && return 0
    dump >/dev/null 2>"$W/err2" || fail "dump resumed after a fault: $(tail -2 "$W/err2")"
    "$PY" scripts/h5_same_data.py "$W/dump.h5" "$W/dump_ref.h5" | grep -q "differ: none" || fail "dump resumed after a fault differs from a clean dump"
    rm -f "$W/dump.h5"
}
SWEEP_AFTER=resume_dump sweep "dump" "$W/dump.h5" "$W/dump_ref.h5" ${DUMP_SWEEP_STEP:-3} dump
rm -f "$W/dump.h5"

# ---- SIGKILL at a random moment of each writer; the next run cleans up
kill_at_random() { # name out cmd... (a binary, not a shell function: SIGKILL must reach slm)
    local name=$1 out=$2
    shift 2
    local had=0
    [ -e "$out" ] && { had=1; cp "$out" "$W/prev"; }
    "$@" >/dev/null 2>&1 & local pid=$!
    sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
    kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
    if [ -e "$out" ] && ! { [ $had = 1 ] && cmp -s "$out" "$W/prev"; }; then
        "$SLM" info "$out" >/dev/null 2>&1 || fail "$name: killed write left a corrupt $out"
    fi
    [ $had = 0 ] || [ -e "$out" ] || fail "$name: killed write removed $out"
}
pre_tmp() { touch "$1.tmp.999999"; } # a temporary of a dead writer (pid 999999 not alive)
for i in 1 2 3; do
    kill_at_random "export kill $i" "$W/m.gguf" "$SLM" export --ckpt "$W/run" --out "$W/m.gguf"
    kill_at_random "quantize kill $i" "$W/q.gguf" "$SLM" quantize "$W/m.gguf" "$W/q.gguf" q8_0
    kill_at_random "dataset kill $i" "$W/data.h5" "$SLM" data prepare --vocab "$W/vocab.gguf" \
        --input "$W/a.txt" "$W/b.txt" --out "$W/data.h5" --val-fraction 0
done
kill -0 999999 2>/dev/null || { pre_tmp "$W/m.gguf"; pre_tmp "$W/q.gguf"; pre_tmp "$W/data.h5"; }
"$SLM" export --ckpt "$W/run" --out "$W/m.gguf" 2>"$W/err" >/dev/null || fail "export after kills"
"$SLM" quantize "$W/m.gguf" "$W/q.gguf" q8_0 >/dev/null 2>&1 || fail "quantize after kills"
prep >/dev/null 2>&1 || fail "data prepare after kills"
grep -q "removed '$W/m.gguf.tmp." "$W/err" || fail "stale temporary removal not reported: $(cat "$W/err")"
for o in m.gguf q.gguf data.h5; do
    ls "$W/$o".tmp.* >/dev/null 2>&1 && fail "temporaries of killed writers left after the next run: $(ls "$W/$o".tmp.*)"
    "$SLM" info "$W/$o" >/dev/null 2>&1 || fail "$o unreadable after kills and a clean run"
done
echo "ok: SIGKILL at random moments (export, quantize, dataset), stale temporaries removed by the next run"

# ---- truncated and bit-flipped HDF5 files: one clear error, exit 2, no crash
dump >/dev/null 2>&1 || fail "dump"
n_bad=0
for src in "$W/data.h5" "$W/run/ckpt-4.h5" "$W/dump.h5"; do
    size=$(stat -c %s "$src")
    for k in 1 2 3 4 5 6 7 8; do
        cp "$src" "$W/bad.h5"
        if [ $k -le 3 ]; then
            truncate -s $((size * k / 4)) "$W/bad.h5"; what="truncated to $((k * 25))%"
        else
            off=$((RANDOM * 32768 % size + RANDOM % size)); off=$((off % size))
            printf "\\x$(printf %02x $((RANDOM % 255 + 1)))" | dd of="$W/bad.h5" bs=1 seek=$off conv=notrunc status=none
            what="byte $off changed"
        fi
        case $src in
            *data.h5) cmd=("$SLM" info "$W/bad.h5") ;;
            *ckpt*) cmd=("$SLM" export --ckpt "$W/bad.h5" --out "$W/x.gguf") ;;
            *) cmd=("$SLM" info "$W/bad.h5") ;;
        esac
        timeout 60 "${cmd[@]}" > /dev/null 2> "$W/err"; rc=$?
        [ $rc -ge 128 ] || [ $rc -eq 124 ] && fail "$(basename "$src") $what: crashed or hung (exit $rc)"
        grep -q "HDF5-DIAG" "$W/err" && fail "$(basename "$src") $what: HDF5 error stack printed"
        if [ $rc -ne 0 ]; then
            grep -q "bad.h5" "$W/err" || fail "$(basename "$src") $what: exit $rc without naming the file: $(head -3 "$W/err")"
            n_bad=$((n_bad + 1))
        fi
    done
done
echo "ok: truncated/bit-flipped HDF5 files: $n_bad of 24 refused with a message naming the file, none crashed"
echo "ok: write faults of checkpoints, exports, quantized models, datasets, dumps"
