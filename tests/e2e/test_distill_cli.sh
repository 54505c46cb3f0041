#!/usr/bin/env bash
# slm distill end to end on tiny models:
#  - a dump written by the independent PyTorch teacher (scripts/torch_dump.py,
#    reading the teacher GGUF) trains a student with `slm distill`;
#  - student initialised from the teacher keeping every 2nd block: student.gguf
#    has half the blocks and loads in `slm eval`; resume continues the run;
#  - forward, reverse, renormalised and sampled (`dump-logits --sample`) runs;
#  - refusals with exit 2: narrower FFN, another vocabulary, a dump of other
#    data, a sampled dump with T != 1, a damaged dump.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
source scripts/env.sh
SLM=${SLM_BIN:-$PWD/$BUILD/slm}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
for t in mkvocab mkmodel; do
    [ -x "$BUILD/tools/$t" ] || make -s BUILD="$BUILD" "$BUILD/tools/$t" >/dev/null || exit 1
done
"$SLM_PYTHON" -c "import torch, h5py" 2>/dev/null || { echo "skip: $SLM_PYTHON lacks torch/h5py"; exit 77; }
[ -d /usr/share/common-licenses ] || { echo "skip: /usr/share/common-licenses (text corpus) absent"; exit 77; }
W=$(mktemp -d /tmp/slm_distill_cli.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
refused() { # name expected-message command...
    local name=$1 msg=$2; shift 2
    "$@" > "$W/r.out" 2>&1; local rc=$?
    [ $rc -eq 2 ] || { cat "$W/r.out"; fail "$name: exit $rc, expected 2"; }
    grep -q "$msg" "$W/r.out" || { cat "$W/r.out"; fail "$name: message lacks '$msg'"; }
    echo "refused ($name): $(grep -m1 -i error "$W/r.out")"
}

"$BUILD/tools/mkvocab" "$W/vocab.gguf" || fail mkvocab
"$BUILD/tools/mkmodel" --vocab "$W/vocab.gguf" --out "$W/t.gguf" --dim 64 --layers 4 --heads 4 \
    --kv-heads 2 --ff 128 --ctx 128 --seed 5 || fail mkmodel
mkdir "$W/docs"
find /usr/share/common-licenses -type f | sort | xargs cat 2>/dev/null | head -c 60000 > "$W/all.txt"
split -b 3000 -d -a 3 --additional-suffix=.txt "$W/all.txt" "$W/docs/p"
"$SLM" data prepare --vocab "$W/vocab.gguf" --input "$W/docs" --out "$W/data.h5" \
    --val-fraction 0.1 --seed 3 >/dev/null 2>&1 || fail "data prepare"

"$SLM_PYTHON" scripts/torch_dump.py --gguf "$W/t.gguf" --data "$W/data.h5" --seq-len 32 \
    --seqs 16 --top-k 8 --out "$W/torch.h5" || fail "torch_dump"
cat > "$W/job.ini" <<INI
[model]
mode = full
base = $W/t.gguf
[data]
train = $W/data.h5
seq_len = 32
batch = 4
[optim]
lr = 1e-3
[train]
steps = 6
seed = 2
eval_every = 3
eval_batches = 2
ckpt_every = 3
threads = 2
[distill]
dump = $W/torch.h5
keep_every = 2
alpha = 0.7
temperature = 2
INI
"$SLM" distill --config "$W/job.ini" --quiet --out "$W/a" 2> "$W/a.log" || { tail "$W/a.log"; fail "distill on the torch dump"; }
grep -q "student: 2 of .* 4 blocks" "$W/a.log" || fail "keep_every = 2 did not keep 2 of 4 blocks"
[ "$(wc -l < "$W/a/metrics.jsonl")" -eq 6 ] || fail "metrics.jsonl lines"
# every metrics line carries the KD divergence of its steps (the report's KL curve)
"$SLM_PYTHON" - "$W/a/metrics.jsonl" <<'PY' || fail "metrics.jsonl lacks a finite kl"
import json, math, sys
kl = [json.loads(l)["kl"] for l in open(sys.argv[1])]
assert all(math.isfinite(v) and v >= 0 for v in kl), kl
print("kl per logged step:", " ".join("%.4f" % v for v in kl))
PY
"$SLM" report "$W/a" >/dev/null || fail "slm report on the distill run"
grep -q 'data-series="kl"' "$W/a/report.html" || fail "report.html has no KL curve"
"$SLM" info "$W/a/student.gguf" | grep -q "block_count.*2" || fail "student.gguf block_count"
"$SLM" eval --model "$W/a/student.gguf" --dump "$W/torch.h5" | tee "$W/a.eval" | grep -q "^kl " || fail "eval student"
echo "student (2 of 4 teacher blocks, torch dump, 6 steps): $(tr '\n' ' ' < "$W/a.eval")"
"$SLM" distill --config "$W/job.ini" --set train.steps=9 --quiet --out "$W/a" 2> "$W/a2.log" || fail resume
grep -q "resuming from step 6" "$W/a2.log" || { tail "$W/a2.log"; fail "did not resume"; }
[ "$(wc -l < "$W/a/metrics.jsonl")" -eq 9 ] || fail "metrics after resume"

# modes: reverse, renormalised, sampled dump from slm itself
# (the reverse run without validation: its summary prints "val CE -", not nan)
"$SLM" distill --config "$W/job.ini" --set distill.reverse=true --set train.steps=2 --quiet \
    --set train.eval_batches=0 --out "$W/rev" > "$W/rev.out" 2>/dev/null || fail "reverse KL"
grep -q "loss (KD+CE) [0-9.]*, val CE -," "$W/rev.out" || fail "no-validation summary: $(cat "$W/rev.out")"
grep -qi nan "$W/rev.out" && fail "summary prints nan: $(cat "$W/rev.out")"
"$SLM" distill --config "$W/job.ini" --set distill.renormalize=true --set train.steps=2 --quiet \
    --out "$W/ren" > "$W/ren.out" 2>/dev/null || fail "renormalised"
grep -q "val CE [0-9]*\.[0-9]*," "$W/ren.out" || fail "summary lacks val CE: $(cat "$W/ren.out")"
echo "summaries: $(cat "$W/rev.out") / $(cat "$W/ren.out")"
"$SLM" dump-logits --teacher "$W/t.gguf" --data "$W/data.h5" --sample 12 --seq-len 32 \
    --max-seqs 8 --out "$W/s.h5" 2>/dev/null || fail "sample dump"
"$SLM" distill --config "$W/job.ini" --set distill.dump="$W/s.h5" --set distill.temperature=1 \
    --set train.steps=2 --quiet --out "$W/smp" 2>/dev/null || fail "sampled distill"
for d in rev ren smp; do
    v=$(tail -1 "$W/$d/metrics.jsonl" | sed -n 's/.*"loss":\([-0-9.e]*\).*/\1/p')
    awk -v v="$v" 'BEGIN { exit !(v == v + 0 && v > 0 && v < 100) }' || fail "$d: loss '$v' not finite/positive"
done

refused "narrower ffn" "narrower" "$SLM" distill --config "$W/job.ini" --set model.ffn=64 --out "$W/x1"
refused "sample T!=1" "supports only forward KL at temperature 1" \
    "$SLM" distill --config "$W/job.ini" --set distill.dump="$W/s.h5" --out "$W/x2"
# a dump of other data (random tokens, right vocabulary and fingerprint)
fp=$("$SLM_PYTHON" -c "import h5py; v = h5py.File('$W/data.h5').attrs['tokenizer_fingerprint']; print(v.decode() if isinstance(v, bytes) else v)")
V=$("$SLM_PYTHON" -c "import h5py; print(int(h5py.File('$W/data.h5').attrs['vocab_size']))")
"$SLM_PYTHON" scripts/torch_dump.py --random-teacher --vocab "$V" --seqs 4 --seq-len 32 --top-k 8 \
    --tokenizer-fingerprint "$fp" --out "$W/other.h5" >/dev/null || fail "other dump"
refused "other data" "the dump was made from other data" \
    "$SLM" distill --config "$W/job.ini" --set distill.dump="$W/other.h5" --out "$W/x3"
# another vocabulary: a student on a vocabulary of another size
if [ -n "$SLM_SHARED" ]; then
    "$BUILD/tools/mkmodel" --vocab "$SLM_SHARED/vocab/ggml-vocab-llama-spm.gguf" --out "$W/o.gguf" \
        --dim 32 --layers 1 --heads 2 --kv-heads 1 --ff 64 --ctx 64 || fail mkmodel
    refused "other vocabulary" "teacher and student must share the vocabulary" \
        "$SLM" distill --config "$W/job.ini" --set model.base="$W/o.gguf" --set distill.keep_every=1 --out "$W/x4"
else
    echo "note: SLM_SHARED empty, vocabulary-mismatch case not run"
fi
cp "$W/torch.h5" "$W/bad.h5"
"$SLM_PYTHON" -c "import h5py, numpy as np; f = h5py.File('$W/bad.h5', 'r+'); f['topk_logprobs'][3, 4, 0] = np.inf"
refused "damaged dump" "/topk_logprobs\[3\]\[4\]\[0\] = inf" \
    "$SLM" distill --config "$W/job.ini" --set distill.dump="$W/bad.h5" --out "$W/x5"
echo "slm distill ok"
