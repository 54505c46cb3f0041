#!/usr/bin/env bash
# slm dump-logits end to end:
#  - a random-weight teacher (tests/tools/mkmodel, real llama-spm vocabulary)
#    over a dataset from `slm data prepare`; `slm info` validates the dump;
#  - the same dump written by an independent PyTorch Llama reading the same
#    GGUF (scripts/torch_dump.py) has the same tokens/targets/mask, the same
#    top-k ids and log-probs within LP_TOL, and the same teacher fingerprint;
#  - resume: a partial of 3 sequences continued to 6 equals a straight run;
#  - --chunk-seqs 4 gives the same content in chunks of 4 sequences;
#  - --sample mode validates (counts sum to N);
#  - --lora: the teacher base + a LoRA adapter (2 `slm train` LoRA steps,
#    `slm export --adapter`) dumps the same as the merged model;
#  - a dataset of another vocabulary is refused with exit 2.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
source scripts/env.sh
SLM=${SLM_BIN:-./slm}
LP_TOL=1e-4
[ -n "$SLM_SHARED" ] || { echo "skip: SLM_SHARED empty (no real vocabularies)"; exit 77; }
"$SLM_PYTHON" -c "import torch, h5py" 2>/dev/null || { echo "skip: $SLM_PYTHON lacks torch/h5py"; exit 77; }
[ -x "$BUILD/tools/mkmodel" ] || { echo "FAIL: $BUILD/tools/mkmodel not built"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
V=$SLM_SHARED/vocab

"$BUILD/tools/mkmodel" --vocab "$V/ggml-vocab-llama-spm.gguf" --out "$tmp/t.gguf" --dim 64 \
    --layers 2 --heads 4 --kv-heads 2 --ff 128 --ctx 128 --seed 3 || fail mkmodel
cat docs/*.md README.md > "$tmp/text.txt"
"$SLM" data prepare --vocab "$tmp/t.gguf" --input "$tmp/text.txt" --out "$tmp/data.h5" \
    --val-fraction 0 >/dev/null || fail "data prepare"
common=(--teacher "$tmp/t.gguf" --data "$tmp/data.h5" --top-k 8 --seq-len 32 --batch 2)
"$SLM" dump-logits "${common[@]}" --max-seqs 6 --dtype f32 --out "$tmp/full.h5" || fail dump-logits
"$SLM" info "$tmp/full.h5" | tee "$tmp/info.txt" | grep -q "validation           ok" || fail "slm info"
grep -q "sequences            6 x 32 tokens" "$tmp/info.txt" || fail "sequence count"

# independent PyTorch teacher on the same GGUF and windows
"$SLM_PYTHON" scripts/torch_dump.py --gguf "$tmp/t.gguf" --data "$tmp/data.h5" --seq-len 32 \
    --seqs 6 --top-k 8 --dtype f32 --out "$tmp/torch.h5" || fail torch_dump
"$SLM_PYTHON" - "$tmp/full.h5" "$tmp/torch.h5" "$LP_TOL" <<'PY' || fail "slm vs torch dump"
import sys, h5py, numpy as np
a, b, tol = h5py.File(sys.argv[1]), h5py.File(sys.argv[2]), float(sys.argv[3])
for k in ["tokens", "targets", "loss_mask"]:
    assert np.array_equal(a[k][...], b[k][...]), k
la, lb = a["topk_logprobs"][...], b["topk_logprobs"][...]
ia, ib = a["topk_ids"][...], b["topk_ids"][...]
same = (ia == ib).mean()
d = np.abs(la - lb).max()
print(f"slm vs torch teacher: ids agree {same:.4f}, max |log-prob diff| {d:.2e}")
assert same == 1.0 and d < tol
assert a.attrs["teacher_fingerprint"] == b.attrs["teacher_fingerprint"]
assert a.attrs["tokenizer_fingerprint"] == b.attrs["tokenizer_fingerprint"]
PY

# resume: a finished 3-sequence dump serves as the partial of a 6-sequence run
"$SLM" dump-logits "${common[@]}" --max-seqs 3 --dtype f32 --out "$tmp/r.h5" || fail "dump 3"
mv "$tmp/r.h5" "$tmp/r.h5.partial"
"$SLM" dump-logits "${common[@]}" --max-seqs 6 --dtype f32 --out "$tmp/r.h5" 2>"$tmp/r.log" || fail "resume"
grep -q "resuming after 3 sequences" "$tmp/r.log" || fail "did not resume: $(cat "$tmp/r.log")"
[ ! -e "$tmp/r.h5.partial" ] || fail "partial left behind"
"$SLM_PYTHON" - "$tmp/full.h5" "$tmp/r.h5" <<'PY' || fail "resumed dump differs"
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1]), h5py.File(sys.argv[2])
for k in ["tokens", "targets", "loss_mask", "topk_ids"]:
    assert np.array_equal(a[k][...], b[k][...]), k
# sequences sit in other batch slots after a resume; sgemm blocking may round differently
d = np.abs(a["topk_logprobs"][...] - b["topk_logprobs"][...]).max()
print(f"resumed dump == straight dump (ids equal, max |log-prob diff| {d:.1e})")
assert d < 1e-5
PY

# --chunk-seqs 4 with batches of 2: chunks written half and completed later; same
# content, the asked chunk shape, format version 2 (uint16 ids for this 32000 vocabulary)
"$SLM" dump-logits "${common[@]}" --max-seqs 6 --dtype f32 --chunk-seqs 4 --out "$tmp/c.h5" \
    >/dev/null 2>&1 || fail "--chunk-seqs"
"$SLM_PYTHON" - "$tmp/full.h5" "$tmp/c.h5" <<'PY' || fail "chunked dump differs"
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1]), h5py.File(sys.argv[2])
for k in ["tokens", "targets", "loss_mask", "topk_ids", "topk_logprobs"]:
    assert np.array_equal(a[k][...], b[k][...]), k
assert b["topk_ids"].chunks == (4, 32, 8) and a["topk_ids"].chunks == (1, 32, 8)
assert b["topk_ids"].dtype == np.uint16 and int(b.attrs["format_version"]) == 2
print("--chunk-seqs 4 dump == default dump; chunks", b["topk_ids"].chunks)
PY

# sample mode
"$SLM" dump-logits "${common[@]}" --max-seqs 2 --sample 16 --out "$tmp/s.h5" || fail "sample"
"$SLM" info "$tmp/s.h5" | grep -q "sample (16 draws per position)" || fail "sample info"
"$SLM_PYTHON" -c "
import h5py, numpy as np, sys
f = h5py.File('$tmp/s.h5'); c = f['sample_counts'][...].astype(int)
assert (c.sum(-1) == 16).all(); print('sample counts sum to 16 everywhere')" || fail "sample counts"

# --lora A.gguf == the merged model
cat > "$tmp/lora.ini" <<INI
[model]
mode = lora
base = $tmp/t.gguf
[lora]
rank = 4
alpha = 8
[data]
train = $tmp/data.h5
seq_len = 32
batch = 2
[optim]
lr = 0.05
[train]
steps = 2
eval_every = 100
eval_batches = 0
ckpt_every = 100
threads = 2
INI
"$SLM" train --config "$tmp/lora.ini" --quiet --out "$tmp/lr" 2>/dev/null || fail "lora train"
"$SLM" export --ckpt "$tmp/lr" --adapter --out "$tmp/adapter.gguf" 2>/dev/null || fail "export adapter"
"$SLM" export --ckpt "$tmp/lr" --out "$tmp/merged.gguf" 2>/dev/null || fail "export merged"
"$SLM" dump-logits "${common[@]}" --lora "$tmp/adapter.gguf" --max-seqs 2 --dtype f32 --out "$tmp/l1.h5" 2>/dev/null || fail "dump --lora"
"$SLM" dump-logits "${common[@]}" --teacher "$tmp/merged.gguf" --max-seqs 2 --dtype f32 --out "$tmp/l2.h5" 2>/dev/null || fail "dump merged"
"$SLM_PYTHON" - "$tmp/l1.h5" "$tmp/l2.h5" "$tmp/full.h5" <<'PY' || fail "--lora dump differs from the merged model's"
import sys, h5py, numpy as np
a, b, base = (h5py.File(p) for p in sys.argv[1:4])
la, lb = a["topk_logprobs"][...], b["topk_logprobs"][...]
d = np.abs(la - lb).max(); moved = np.abs(la - base["topk_logprobs"][:2]).max()
print(f"--lora vs merged: ids agree {(a['topk_ids'][...] == b['topk_ids'][...]).mean():.4f}, "
      f"max |log-prob diff| {d:.1e}; the adapter moved log-probs by up to {moved:.2e}")
assert d < 1e-4 and moved > 1e-3
assert a.attrs["teacher_fingerprint"] != base.attrs["teacher_fingerprint"]
PY

# a dataset made with another vocabulary is refused
"$SLM" data prepare --vocab "$V/ggml-vocab-gpt-2.gguf" --input "$tmp/text.txt" --out "$tmp/g.h5" \
    --val-fraction 0 >/dev/null || fail "data prepare gpt-2"
"$SLM" dump-logits "${common[@]}" --data "$tmp/g.h5" --out "$tmp/x.h5" 2>"$tmp/x.log"; rc=$?
[ $rc -eq 2 ] || fail "other vocabulary: exit $rc, expected 2 ($(cat "$tmp/x.log"))"
echo "refused: $(head -1 "$tmp/x.log")"
echo "dump-logits ok"
