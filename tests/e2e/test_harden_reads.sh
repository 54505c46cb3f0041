#!/usr/bin/env bash
# I/O faults while slm READS its inputs: text, gzip text and gzip chat JSONL
# (slm data prepare, slm tokenizer train, slm imatrix), INI configs
# (slm train), HDF5 datasets, checkpoints and logit dumps (slm train,
# export, distill, eval, dump-logits), llama.cpp KLD files (dump-logits
# --from-kld) and memory-mapped GGUF models (slm quantize).  Faults come
# from the LD_PRELOAD shim tests/fault/shim.c aimed at one input file
# (SLM_FAULT_PATH): EIO from read/pread/fread at the first call, after N
# calls or after N bytes, mmap failing (ENOMEM), and a mapping whose second
# half cannot be read (SIGBUS on touch, as a file truncated while in use).
# Expected every time: exit 1 (an I/O error, not bad input), one message
# naming the input file and the errno text (no HDF5 error stack, no crash),
# no output created or changed, no temporary left.  Short reads (every
# read(2)/pread(2) returning half) are legal and must give the same result
# as a clean run.  Truncated GGUF files are refused with exit 2 before a
# page past the end is touched.
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/e2e/harden_common.sh harden_reads
export OMP_NUM_THREADS=1
PY=${SLM_PYTHON:-/usr/bin/python3}
"$PY" -c "import h5py, numpy" 2>/dev/null || { echo "skip: $PY lacks h5py/numpy"; exit 77; }
cd "$W" || exit 1

# ---- inputs of every kind
"$B/tools/mkvocab" vocab.gguf || fail mkvocab
"$B/tools/mkmodel" --vocab vocab.gguf --out t.gguf --dim 32 --layers 2 --heads 2 \
    --kv-heads 2 --ff 64 --ctx 64 --seed 5 || fail mkmodel
head -c 20000 /usr/share/common-licenses/GPL-3 > a.txt
tail -c 6000 /usr/share/common-licenses/GPL-3 > b.txt
gzip -k a.txt
for i in $(seq 1 60); do
    printf '{"messages": [{"role": "user", "content": "Question %d about the licence?"}, {"role": "assistant", "content": "Answer %d: you may copy and distribute verbatim copies of it."}]}\n' $i $i
done | gzip > chat.jsonl.gz
"$SLM" data prepare --vocab vocab.gguf --input a.txt --out data.h5 --val-fraction 0 >/dev/null 2>&1 || fail "data prepare"
tiny_job_ini job.ini "$W/vocab.gguf" "$W/data.h5"
"$SLM" train --config job.ini --quiet --out run 2>/dev/null || fail train
"$SLM" dump-logits --teacher t.gguf --data data.h5 --top-k 4 --max-seqs 8 --seq-len 32 --out dump.h5 >/dev/null 2>&1 || fail dump-logits
cat > distill.ini <<INI
[model]
mode = full
base = $W/t.gguf
[data]
train = $W/data.h5
seq_len = 32
batch = 2
[train]
steps = 2
seed = 2
eval_every = 0
ckpt_every = 2
threads = 1
[distill]
dump = $W/dump.h5
INI
"$PY" - <<'PYEOF' || fail "writing a KLD file"
import numpy as np
n_ctx, n_vocab, n_chunk = 16, 354, 2
g = np.random.default_rng(7)
nv = 2 * ((n_vocab + 1) // 2) + 4
with open("base.kld", "wb") as f:
    f.write(b"_logits_")
    f.write(np.array([n_ctx, n_vocab, n_chunk], np.int32).tobytes())
    f.write(g.integers(0, n_vocab, n_chunk * n_ctx).astype(np.int32).tobytes())
    for c in range(n_chunk):
        for t in range(n_ctx // 2, n_ctx - 1):
            z = (3 * g.standard_normal(n_vocab)).astype(np.float32)
            mx, mn = z.max(), max(z.min(), z.max() - 16)
            lse = np.float32(np.log(np.exp((z - mx).astype(np.float64)).sum()))
            scale = np.float32((mx - mn) / 65535)
            row = np.zeros(nv, np.uint16)
            row[:4] = np.frombuffer(np.array([scale, mn - mx - lse], np.float32).tobytes(), np.uint16)
            row[4:4 + n_vocab] = np.where(z > mn, np.rint((z - mn) / scale), 0).astype(np.uint16)
            f.write(row.tobytes())
PYEOF
"$SLM" dump-logits --from-kld base.kld --vocab vocab.gguf --top-k 4 --out kld.h5 >/dev/null 2>&1 || fail "kld convert"
rm kld.h5
"$SLM" quantize t.gguf q.gguf q8_0 >/dev/null 2>&1 || fail quantize

# state of the outputs: a file's checksum, a directory's listing with
# checksums, or "absent".  slm train/distill create and lock the run
# directory before reading their inputs: a directory holding only .lock
# counts as absent (it holds no output).
snap() { for o in "$@"; do
    if [ -d "$o" ] && [ -n "$(find "$o" -type f ! -name .lock)" ]; then
        (cd "$o" && find . -type f ! -name .lock | sort | xargs sha256sum)
    elif [ -f "$o" ]; then sha256sum "$o"; else echo "absent $o"; fi
done; }
n_ok=0
# rfault NAME INPUT OP WHEN EXPECT_RC OUTPUTS -- cmd...
#   WHEN: a number (calls that succeed first), b<N> (bytes that succeed
#   first), short (every call returns half: must succeed like a clean run),
#   sigbus (mmap maps half the file), an errno name for mmap
rfault() {
    local name=$1 input=$2 op=$3 when=$4 want=$5
    shift 5
    local outs=()
    while [ "$1" != "--" ]; do outs+=("$1"); shift; done
    shift
    local before; before=$(snap "${outs[@]}")
    local env=(SLM_FAULT_OP="$op" SLM_FAULT_PATH="$input" SLM_FAULT_VERBOSE=1 LD_PRELOAD="$shim")
    case $when in
        b*) env+=(SLM_FAULT_AFTER_BYTES="${when#b}") ;;
        short) env+=(SLM_FAULT_SHORT=1 SLM_FAULT_STICKY=1) ;;
        sigbus) env+=(SLM_FAULT_SHORT=1) ;;
        E*) env+=(SLM_FAULT_ERRNO="$when") ;;
        *) env+=(SLM_FAULT_AFTER="$when" SLM_FAULT_STICKY=1) ;;
    esac
    ( export "${env[@]}"; "$@" ) > out.log 2> err; local rc=$?
    grep -q "shim: failing" err || fail "$name: the fault never fired (no $op on $input): test is void"
    [ $rc -eq "$want" ] || fail "$name: exit $rc, expected $want: $(grep -v '^shim' err | tail -3)"
    grep -q "HDF5-DIAG" err && fail "$name: HDF5's error stack was printed"
    ls ./*.tmp.* run/*.tmp.* >/dev/null 2>&1 && fail "$name: temporary left: $(ls ./*.tmp.* run/*.tmp.* 2>/dev/null)"
    if [ "$want" -ne 0 ]; then
        local errtxt="Input/output error"
        [ "$when" = ENOMEM ] && errtxt="Cannot allocate memory"
        [ "$when" = sigbus ] && errtxt="SIGBUS"
        # the first error line says it: no misleading "damaged file" first
        grep -m1 '^error' err | grep -qE "$(basename "$input").*$errtxt" ||
            fail "$name: first error line lacks '$(basename "$input") ... $errtxt': $(grep -v '^shim' err | tail -3)"
        [ "$(snap "${outs[@]}")" = "$before" ] || fail "$name: an output was created or changed"
        echo "ok: $name: exit $rc: $(grep -v '^shim' err | grep -E "$errtxt" | head -1)"
    else
        echo "ok: $name: exit 0"
    fi
    n_ok=$((n_ok + 1))
}
tmpl=none
prep() { "$SLM" data prepare --vocab vocab.gguf --template $tmpl --input "$@" --val-fraction 0; }

# ---- text, gzip text, gzip chat JSONL (zlib read(2); the input hash is fread)
for inp in a.txt a.txt.gz chat.jsonl.gz; do
    size=$(stat -c %s "$inp")
    tmpl=none; [ $inp = chat.jsonl.gz ] && tmpl=llama2
    rfault "data prepare $inp: EIO on the first read" $inp read 0 1 o.h5 -- prep $inp --out o.h5
    rfault "data prepare $inp: EIO after half the bytes" $inp read b$((size / 2)) 1 o.h5 -- prep $inp --out o.h5
    rfault "data prepare $inp: EIO hashing it" $inp fread 0 1 o.h5 -- prep $inp --out o.h5
    prep $inp --out ref.h5 >/dev/null 2>&1 || fail "clean prepare of $inp"
    rfault "data prepare $inp: short reads" $inp read short 0 -- prep $inp --out o.h5
    "$PY" "$REPO/scripts/h5_same_data.py" o.h5 ref.h5 | grep -q "differ: none" ||
        fail "data prepare $inp with short reads: dataset differs from a clean run"
    rm -f o.h5 ref.h5
done
tmpl=none
# extending data.h5 reads its source list first
rfault "data prepare: EIO reading the dataset it extends" data.h5 pread 0 1 data.h5 -- prep b.txt --out data.h5
rfault "tokenizer train: EIO reading its corpus" a.txt.gz read b3000 1 v2.gguf -- \
    "$SLM" tokenizer train --input a.txt.gz --vocab-size 300 --out v2.gguf
rfault "imatrix: EIO reading its text" a.txt fread 0 1 im.gguf -- \
    "$SLM" imatrix --model t.gguf --data a.txt --out im.gguf --ctx 32 --chunks 2

# ---- INI config (read whole, then parsed)
rfault "train: EIO reading its config" job.ini fread 0 1 run2 -- "$SLM" train --config job.ini --quiet --out run2
rfault "distill: EIO reading its config" distill.ini fread 0 1 drun -- "$SLM" distill --config distill.ini --quiet --out drun

# ---- HDF5 inputs: dataset, checkpoint, dump (HDF5 reads with pread)
for k in 0 5 20; do
    rfault "train: EIO at pread $k of the dataset" data.h5 pread $k 1 run2 -- "$SLM" train --config job.ini --quiet --out run2
done
rfault "train: EIO sniffing the dataset" data.h5 fread 0 1 run2 -- "$SLM" train --config job.ini --quiet --out run2
rfault "dump-logits: EIO reading the dataset" data.h5 pread 8 1 d2.h5 d2.h5.partial -- \
    "$SLM" dump-logits --teacher t.gguf --data data.h5 --top-k 4 --max-seqs 8 --seq-len 32 --out d2.h5
for k in 0 10 30; do
    rfault "export: EIO at pread $k of the checkpoint" ckpt-4.h5 pread $k 1 e.gguf -- "$SLM" export --ckpt run --out e.gguf
done
# (run/config.ini records each invocation's resolved config: rewritten before the resume)
rfault "train resume: EIO reading the checkpoint" ckpt-4.h5 pread 0 1 run/ckpt-2.h5 run/ckpt-4.h5 run/metrics.jsonl -- \
    "$SLM" train --config job.ini --set train.steps=6 --quiet --out run
rfault "train resume: EIO reading the checkpoint's tensors" ckpt-4.h5 pread 30 1 run/ckpt-2.h5 run/ckpt-4.h5 run/metrics.jsonl -- \
    "$SLM" train --config job.ini --set train.steps=6 --quiet --out run
for k in 0 10 30; do
    rfault "eval --dump: EIO at pread $k of the dump" dump.h5 pread $k 1 -- "$SLM" eval --model t.gguf --dump dump.h5
done
for k in 0 20; do
    rfault "info: EIO at pread $k of the dataset" data.h5 pread $k 1 -- "$SLM" info data.h5
done
rfault "distill: EIO reading the dump" dump.h5 pread 12 1 drun -- "$SLM" distill --config distill.ini --quiet --out drun
"$SLM" eval --model t.gguf --dump dump.h5 > eval_ref.txt 2>/dev/null || fail "eval --dump"
rfault "eval --dump: short preads" dump.h5 pread short 0 -- "$SLM" eval --model t.gguf --dump dump.h5
cmp -s out.log eval_ref.txt || fail "eval --dump with short preads differs from a clean run"
for k in 0 1 2 3; do # fingerprint hash, header, tokens, first chunk (the dump writer is open by then)
    rfault "dump-logits --from-kld: EIO at fread $k of the KLD file" base.kld fread $k 1 kld.h5 kld.h5.partial -- \
        "$SLM" dump-logits --from-kld base.kld --vocab vocab.gguf --top-k 4 --out kld.h5
done

# ---- memory-mapped GGUF
rfault "quantize: mmap of the model fails" t.gguf mmap ENOMEM 1 q.gguf -- "$SLM" quantize t.gguf q.gguf q8_0
rfault "quantize: model pages unreadable (SIGBUS)" t.gguf mmap sigbus 1 q.gguf -- "$SLM" quantize t.gguf q.gguf q8_0
rfault "dump-logits: teacher pages unreadable (SIGBUS)" t.gguf mmap sigbus 1 d2.h5 d2.h5.partial -- \
    "$SLM" dump-logits --teacher t.gguf --data data.h5 --top-k 4 --max-seqs 8 --seq-len 32 --out d2.h5
# truncated before use: the reader checks sizes against the file first (exit 2)
size=$(stat -c %s t.gguf)
for cut in 24 100 $((size / 4)) $((size / 2)) $((size - 1)); do
    head -c $cut t.gguf > cut.gguf
    before=$(snap q.gguf)
    for cmd in "quantize cut.gguf q.gguf q8_0" "eval --model cut.gguf --text a.txt --ctx 32" "info cut.gguf"; do
        # shellcheck disable=SC2086
        timeout 60 "$SLM" $cmd > /dev/null 2> err; rc=$?
        [ $rc -eq 2 ] || fail "GGUF truncated to $cut bytes: slm $cmd: exit $rc, expected 2: $(tail -2 err)"
        grep -q "cut.gguf" err || fail "GGUF truncated to $cut bytes: slm $cmd: message lacks the file: $(tail -2 err)"
    done
    [ "$(snap q.gguf)" = "$before" ] || fail "GGUF truncated to $cut bytes: q.gguf changed"
done
echo "ok: GGUF truncated to 5 sizes: quantize, eval, info refuse with exit 2 naming the file"
echo "ok: $n_ok read faults: exit 1 with the file and errno (or a clean result for short reads), outputs untouched"
