#!/usr/bin/env bash
# llama.cpp KL-divergence base file of a real model -> slm: a tiny random
# Llama (tests/tools/mkmodel, vocabulary from mkvocab with add_bos) is run by
# the independent PyTorch forward of scripts/torch_dump.py over text from an
# slm dataset, chunked and written by scripts/kld_write.py exactly as
# llama-perplexity --kl-divergence-base does (tokens with BOS first, every
# chunk evaluated with BOS at position 0, rows for positions n_ctx/2..n_ctx-2,
# 16-bit log-prob codes computed in float32 as perplexity.cpp does).
# `slm dump-logits --from-kld --kld-bos` converts it; `slm eval --dump`
# scores the same model on it: KL(file || slm's own logits) must be at the
# 16-bit quantisation level and top-1 agreement ~1, which holds only if the
# header, tokens, row positions, BOS handling and code decoding all line up.
# Without --kld-bos the tokens differ from what was evaluated and KL grows
# (printed and asserted larger).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
source scripts/env.sh
SLM=${SLM_BIN:-$PWD/$BUILD/slm}
KL_TOL=2e-3     # 16-bit codes: |log-prob error| <= 16/65535/2 per id, plus f32 vs f64 forward
TOP1_MIN=0.97   # argmax of slm's f32 forward vs the file's top code (near-ties may flip)
"$SLM_PYTHON" -c "import torch, h5py, numpy" 2>/dev/null || { echo "skip: $SLM_PYTHON lacks torch/h5py/numpy"; exit 77; }
for t in mkvocab mkmodel; do
    [ -x "$BUILD/tools/$t" ] || make -s BUILD="$BUILD" "$BUILD/tools/$t" >/dev/null || exit 1
done
[ -d /usr/share/common-licenses ] || { echo "skip: /usr/share/common-licenses (text) absent"; exit 77; }
W=$(mktemp -d /tmp/slm_kld_model.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$BUILD/tools/mkvocab" "$W/vocab.gguf" || fail mkvocab
"$BUILD/tools/mkmodel" --vocab "$W/vocab.gguf" --out "$W/t.gguf" --type f32 --dim 32 --layers 2 \
    --heads 4 --kv-heads 2 --ff 64 --ctx 64 --seed 5 >/dev/null || fail mkmodel
head -c 3000 /usr/share/common-licenses/GPL-3 > "$W/text.txt"
"$SLM" data prepare --vocab "$W/vocab.gguf" --input "$W/text.txt" --out "$W/data.h5" \
    --val-fraction 0 >/dev/null 2>&1 || fail "data prepare"
"$SLM_PYTHON" scripts/kld_write.py --gguf "$W/t.gguf" --data "$W/data.h5" --n-ctx 32 --n-chunk 4 \
    --add-bos --out "$W/base.kld" || fail "kld_write"

"$SLM" dump-logits --from-kld "$W/base.kld" --vocab "$W/t.gguf" --kld-bos --top-k 16 --dtype f32 \
    --out "$W/bos.h5" >/dev/null || fail "convert --kld-bos"
"$SLM" dump-logits --from-kld "$W/base.kld" --vocab "$W/t.gguf" --top-k 16 --dtype f32 \
    --out "$W/nobos.h5" >/dev/null || fail "convert"
get() { sed -n "s/.*\"$2\": *\([-0-9.e+]*\).*/\1/p" "$1" | tail -1; }
"$SLM" eval --model "$W/t.gguf" --dump "$W/bos.h5" --json > "$W/bos.json" || fail "eval"
"$SLM" eval --model "$W/t.gguf" --dump "$W/nobos.h5" --json > "$W/nobos.json" || fail "eval (no bos)"
kl=$(get "$W/bos.json" kl); t1=$(get "$W/bos.json" top1); kl0=$(get "$W/nobos.json" kl)
echo "same model on its llama.cpp-layout file: KL $kl, top-1 $t1; without --kld-bos: KL $kl0"
[ -n "$kl" ] && [ -n "$t1" ] && [ -n "$kl0" ] || fail "eval printed no kl/top1"
awk -v k="$kl" -v t="$KL_TOL" 'BEGIN { exit !(k >= 0 && k < t) }' || fail "KL $kl >= $KL_TOL"
awk -v a="$t1" -v m="$TOP1_MIN" 'BEGIN { exit !(a >= m) }' || fail "top-1 $t1 < $TOP1_MIN"
awk -v a="$kl0" -v b="$kl" 'BEGIN { exit !(a > b) }' || fail "KL without BOS ($kl0) not above KL with it ($kl)"

# the first row of the file, decoded by Python as llama.cpp's KL reader does
# (log p = scale * q + min_log_prob), equals the dump's top-16 of chunk 0 position n_ctx/2
"$SLM_PYTHON" - "$W" <<'PY' || fail "row decode differs"
import sys, h5py, numpy as np
W = sys.argv[1]
raw = open(f"{W}/base.kld", "rb").read()
n_ctx, V, n_chunk = np.frombuffer(raw, "<i4", 3, 8)
off = 20 + 4 * n_ctx * n_chunk
nv = 2 * ((V + 1) // 2) + 4
row = np.frombuffer(raw, "<u2", nv, off)
scale, minlp = np.frombuffer(row[:4].tobytes(), "<f4")
lp = scale * row[4:4 + V].astype(np.float32) + minlp
order = sorted(range(V), key=lambda i: (-int(row[4 + i]), i))[:16]
d = h5py.File(f"{W}/bos.h5")
assert (d["topk_ids"][0, n_ctx // 2] == order).all(), (d["topk_ids"][0, n_ctx // 2], order)
assert np.allclose(d["topk_logprobs"][0, n_ctx // 2], lp[order], atol=1e-6)
assert d["tokens"][0, 0] == 1 and d["loss_mask"][0, :n_ctx // 2].sum() == 0
print(f"row 0 decoded: top id {order[0]} log-prob {lp[order[0]]:.5f}, file {len(raw)} bytes")
PY
echo "llama.cpp-layout file of a model converted and scored consistently"
