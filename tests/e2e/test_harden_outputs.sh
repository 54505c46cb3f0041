#!/usr/bin/env bash
# Write faults on the outputs that test_harden_faults does not cover:
# `slm distill` (its checkpoints and student.gguf), `slm tokenizer train`
# (vocabulary GGUF), `slm imatrix` (imatrix GGUF) and `slm export --adapter`
# (LoRA adapter GGUF).  Faults from the LD_PRELOAD shim tests/fault/shim.c
# aimed at the output only (SLM_FAULT_PATH): ENOSPC that persists, one EIO
# in the middle, a short write, fsync EIO, rename EXDEV, a file size limit
# (ulimit -f: EFBIG) and SIGKILL at a random moment.  Expected each time:
# exit 1, a message naming the file and the errno text, the previous output
# byte-identical, nothing new under the final name, no temporary left by a
# failed run, and none left after the next run following a SIGKILL.
# Also: two concurrent `slm dump-logits` / `slm data prepare` writing one
# path (docs/reliability.md says which outcome holds for each).
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/e2e/harden_common.sh harden_outputs
export OMP_NUM_THREADS=1
TOOLS=$B/tools
cd "$W" || exit 1

# ---- inputs and a first, clean version of every output
"$TOOLS/mkvocab" vocab.gguf || fail mkvocab
"$TOOLS/mkmodel" --vocab vocab.gguf --out t.gguf --dim 32 --layers 2 --heads 2 --kv-heads 2 \
    --ff 64 --ctx 64 --seed 5 || fail mkmodel
head -c 20000 /usr/share/common-licenses/GPL-3 > a.txt
"$SLM" data prepare --vocab vocab.gguf --input a.txt --out data.h5 --val-fraction 0 >/dev/null 2>&1 || fail "data prepare"
"$SLM" dump-logits --teacher t.gguf --data data.h5 --top-k 4 --max-seqs 8 --seq-len 32 --out dump.h5 >/dev/null 2>&1 || fail dump-logits
common="[data]
train = $W/data.h5
seq_len = 32
batch = 2
[train]
steps = 2
seed = 3
eval_every = 0
ckpt_every = 2
keep = 5
threads = 1"
printf '[model]\nmode = full\nbase = %s\n%s\n[distill]\ndump = %s\n' "$W/t.gguf" "$common" "$W/dump.h5" > distill.ini
printf '[model]\nmode = lora\nbase = %s\n[lora]\nrank = 2\n%s\n' "$W/t.gguf" "$common" > lora.ini
distill() { "$SLM" distill --config distill.ini --quiet --out drun "$@"; }
tok_train() { "$SLM" tokenizer train --input a.txt --vocab-size 300 --out v2.gguf; }
imatrix() { "$SLM" imatrix --model t.gguf --data a.txt --out im.gguf --ctx 32 --chunks 2; }
adapter() { "$SLM" export --ckpt lrun --adapter --out ad.gguf; }
distill 2>/dev/null || fail distill
"$SLM" train --config lora.ini --quiet --out lrun 2>/dev/null || fail "lora train"
for f in tok_train imatrix adapter; do $f >/dev/null 2>&1 || fail "$f"; done

# check NAME OUT EXPECT_RC MSG_RE cmd...: OUT's previous content (or absence) must survive a failure
check() {
    local name=$1 out=$2 want_rc=$3 re=$4
    shift 4
    local had=0
    [ -e "$out" ] && { had=1; cp "$out" prev; }
    "$@" > out.log 2> err; local rc=$?
    [ $rc -eq "$want_rc" ] || fail "$name: exit $rc, expected $want_rc: $(grep -v '^shim' err | tail -3)"
    if [ "$want_rc" -ne 0 ]; then
        grep -qE "$re" err || fail "$name: message lacks /$re/: $(grep -v '^ ' err | tail -3)"
        grep -q "HDF5-DIAG" err && fail "$name: HDF5's error stack was printed"
        if [ $had = 1 ]; then cmp -s "$out" prev || fail "$name: previous $out changed"
        else [ ! -e "$out" ] || fail "$name: $out appeared although the write failed"; fi
    fi
    ls "$out".tmp.* >/dev/null 2>&1 && fail "$name: temporary left: $(ls "$out".tmp.*)"
    echo "ok: $name: $(grep -v '^shim' err | grep -E "$re" | head -1)"
}
inject() { ( export SLM_FAULT_OP="$1" SLM_FAULT_ERRNO="$2" SLM_FAULT_AFTER="$3" SLM_FAULT_STICKY="$4" \
                 SLM_FAULT_SHORT="${5:-0}" SLM_FAULT_PATH="$6" LD_PRELOAD="$shim"; "${@:7}" ); }
gguf_faults=("fwrite ENOSPC 2 1 0 No space left on device" "fwrite EIO 5 0 0 Input/output error"
             "fwrite EIO 1 0 1 Input/output error" "fsync EIO 0 0 0 Input/output error"
             "rename EXDEV 0 0 0 Invalid cross-device link")
# every GGUF output: the shim's faults, then EFBIG
for c in "tokenizer train|v2.gguf|tok_train" "imatrix|im.gguf|imatrix" "export --adapter|ad.gguf|adapter" \
         "distill student|drun/student.gguf|distill"; do
    IFS='|' read -r name out fn <<< "$c"
    base=$(basename "$out")
    for f in "${gguf_faults[@]}"; do
        read -r op err after sticky short msg <<< "$f"
        label="$op/$err"; [ "$short" = 1 ] && label="short $op"
        check "$name $label" "$out" 1 "${base//./\\.}.*$msg" \
            inject "$op" "$err" "$after" "$sticky" "$short" "$base" $fn
    done
    cp "$out" prev
    ( trap '' XFSZ; ulimit -f 2; $fn ) >/dev/null 2> err; rc=$?
    # distill's student is 180 KB: a 2 KB limit stops it at its first checkpoint instead
    [ $rc -eq 1 ] && grep -q "File too large" err || fail "$name EFBIG: exit $rc: $(tail -2 err)"
    cmp -s "$out" prev || fail "$name EFBIG: previous file changed"
    ls "$out".tmp.* drun/*.tmp.* >/dev/null 2>&1 && fail "$name EFBIG: temporary left"
    echo "ok: $name EFBIG: $(grep "File too large" err | head -1)"
done

# distill checkpoints (HDF5, pwrite): a run from step 2 to 4 that fails writing ckpt-4.h5
sum_run() { sha256sum drun/ckpt-*.h5 drun/student.gguf; }
for f in "pwrite ENOSPC 0 1 No space left on device" "pwrite EIO 3 0 Input/output error" \
         "pwrite EIO 40 0 Input/output error" "fsync EIO 0 0 Input/output error" \
         "rename EXDEV 0 0 Invalid cross-device link"; do
    read -r op err after sticky msg <<< "$f"
    before=$(sum_run)
    check "distill checkpoint $op/$err after $after" drun/ckpt-4.h5 1 "ckpt-4\.h5.*$msg" \
        inject "$op" "$err" "$after" "$sticky" 0 ckpt-4.h5 distill --set train.steps=4
    [ "$(sum_run)" = "$before" ] || fail "distill checkpoint $op/$err: earlier checkpoint or student changed"
done
( trap '' XFSZ; ulimit -f 300; exec "$SLM" distill --config distill.ini --quiet --out drun --set train.steps=4 ) \
    >/dev/null 2> err; rc=$?
[ $rc -eq 1 ] && grep -qE "ckpt-4\.h5.*File too large" err || fail "distill checkpoint EFBIG: exit $rc: $(tail -2 err)"
ls drun/*.tmp.* >/dev/null 2>&1 && fail "distill checkpoint EFBIG: temporary left"
echo "ok: distill checkpoint EFBIG: $(grep "File too large" err | head -1)"

# ---- SIGKILL at a random moment; the next run completes and removes the temporaries
kill_at_random() { # name out cmd... (a binary: SIGKILL must reach slm)
    local name=$1 out=$2
    shift 2
    local had=0
    [ -e "$out" ] && { had=1; cp "$out" prev; }
    "$@" >/dev/null 2>&1 & local pid=$!
    sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
    kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
    if [ -e "$out" ] && ! { [ $had = 1 ] && cmp -s "$out" prev; }; then
        "$SLM" info "$out" >/dev/null 2>&1 || fail "$name: killed write left a corrupt $out"
    fi
    [ $had = 0 ] || [ -e "$out" ] || fail "$name: killed write removed $out"
}
rm -f drun/ckpt-4.h5
for i in 1 2; do
    kill_at_random "tokenizer train kill $i" v2.gguf "$SLM" tokenizer train --input a.txt --vocab-size 300 --out v2.gguf
    kill_at_random "imatrix kill $i" im.gguf "$SLM" imatrix --model t.gguf --data a.txt --out im.gguf --ctx 32 --chunks 2
    kill_at_random "export --adapter kill $i" ad.gguf "$SLM" export --ckpt lrun --adapter --out ad.gguf
    kill_at_random "distill kill $i" drun/student.gguf "$SLM" distill --config distill.ini --quiet --out drun --set train.steps=$((2 + 2 * i))
done
for o in v2.gguf im.gguf ad.gguf drun/student.gguf; do touch "$o.tmp.999999"; done # dead writers' leftovers
kill -0 999999 2>/dev/null && fail "pid 999999 is alive: cannot plant a dead writer's temporary"
for f in tok_train imatrix adapter; do $f >/dev/null 2>"err.$f" || fail "$f after kills: $(tail -2 "err.$f")"; done
distill --set train.steps=8 >/dev/null 2>err.distill || fail "distill after kills: $(tail -2 err.distill)"
grep -q "removed '.*v2.gguf.tmp.999999'" err.tok_train || fail "stale temporary removal not reported: $(cat err.tok_train)"
for o in v2.gguf im.gguf ad.gguf drun/student.gguf; do
    ls "$o".tmp.* >/dev/null 2>&1 && fail "temporaries left after kills and a clean run: $(ls "$o".tmp.*)"
    "$SLM" info "$o" >/dev/null 2>&1 || fail "$o unreadable after kills and a clean run"
done
ls drun/*.tmp.* >/dev/null 2>&1 && fail "checkpoint temporaries left in drun: $(ls drun/*.tmp.*)"
for c in drun/ckpt-*.h5; do "$SLM" info "$c" >/dev/null 2>&1 || fail "$c unreadable after kills"; done
echo "ok: SIGKILL at random moments (tokenizer train, imatrix, export --adapter, distill, twice each); the next runs complete and remove the temporaries"

# ---- two writers of one path at once
dumpit() { "$SLM" dump-logits --teacher t.gguf --data data.h5 --top-k 4 --max-seqs 8 --seq-len 32 --out "$1"; }
prepit() { "$SLM" data prepare --vocab vocab.gguf --input a.txt --out "$1" --val-fraction 0; }
dumpit one.h5 >/dev/null 2>&1 || fail "single dump"
prepit one_ds.h5 >/dev/null 2>&1 || fail "single prepare"
PY=${SLM_PYTHON:-/usr/bin/python3}
for round in 1 2; do
    rm -f two.h5 two.h5.partial two_ds.h5
    dumpit two.h5 >/dev/null 2> d1 & p1=$!
    dumpit two.h5 >/dev/null 2> d2 & p2=$!
    prepit two_ds.h5 >/dev/null 2> e1 & p3=$!
    prepit two_ds.h5 >/dev/null 2> e2 & p4=$!
    wait $p1; r1=$?; wait $p2; r2=$?; wait $p3; r3=$?; wait $p4; r4=$?
    # dump-logits: the first locks OUT.partial; the second either finds the dump done or is refused (exit 3)
    for r in "$r1 d1" "$r2 d2"; do
        read -r rc log <<< "$r"
        case $rc in
            0) ;;
            3) grep -q "two.h5" "$log" || fail "dump-logits refused without naming the file: $(cat "$log")" ;;
            *) fail "concurrent dump-logits: exit $rc: $(tail -2 "$log")" ;;
        esac
    done
    [ $r1 -eq 0 ] || [ $r2 -eq 0 ] || fail "concurrent dump-logits: neither finished"
    "$PY" "$REPO/scripts/h5_same_data.py" two.h5 one.h5 | grep -q "differ: none" || fail "concurrent dumps: result differs from a single dump"
    [ ! -e two.h5.partial ] || fail "concurrent dumps left two.h5.partial"
    [ ! -e two.h5.lock ] || fail "concurrent dumps left two.h5.lock"
    # data prepare: both complete; the later rename wins; either way the dataset equals a single run's
    [ $r3 -eq 0 ] && [ $r4 -eq 0 ] || fail "concurrent data prepare: exit $r3/$r4: $(tail -2 e1 e2)"
    "$PY" "$REPO/scripts/h5_same_data.py" two_ds.h5 one_ds.h5 | grep -q "differ: none" || fail "concurrent prepares: result differs from a single prepare"
    ls ./*.tmp.* >/dev/null 2>&1 && fail "temporaries left by concurrent writers: $(ls ./*.tmp.*)"
    echo "ok: concurrent round $round: dump-logits exits $r1/$r2, data prepare exits $r3/$r4, results equal single runs"
done
echo "ok: write faults of distill, tokenizer train, imatrix, export --adapter; concurrent dump-logits and data prepare"
