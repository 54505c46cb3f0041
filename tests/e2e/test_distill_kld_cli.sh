#!/usr/bin/env bash
# `slm dump-logits --from-kld`: a file in the layout of llama.cpp's
# `llama-perplexity --kl-divergence-base` (written by scripts/kld_write.py from
# known random logits, a line-by-line mirror of tools/perplexity/perplexity.cpp:
# "_logits_", n_ctx, n_vocab, n_chunk, tokens, then per scored position a row
# of uint16 codes after float scale and min log-prob) converts to a dump whose
# top-k ids are the logits' top-k and whose log-probs are within the 16-bit
# step.  Not a file from a real llama.cpp run (no llama-perplexity binary here);
# test_distill_kld_model.sh does the same with a model's logits.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
source scripts/env.sh
SLM=${SLM_BIN:-$PWD/$BUILD/slm}
"$SLM_PYTHON" -c "import numpy, h5py" 2>/dev/null || { echo "skip: $SLM_PYTHON lacks numpy/h5py"; exit 77; }
[ -x "$BUILD/tools/mkvocab" ] || make -s BUILD="$BUILD" "$BUILD/tools/mkvocab" >/dev/null || exit 1
W=$(mktemp -d /tmp/slm_kld.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$BUILD/tools/mkvocab" "$W/vocab.gguf" || fail mkvocab
# the writer mirrors llama.cpp's code (float32 steps, glibc expf, nearest_int)
"$SLM_PYTHON" scripts/kld_write.py --random-logits 354 --random-tokens 48 --n-ctx 16 --n-chunk 3 \
    --seed 7 --out "$W/base.kld" --save-logits "$W/logits.npy" || fail "writing the kld file"
"$SLM_PYTHON" -c "import numpy as np; np.save('$W/tokens.npy', np.fromfile('$W/base.kld', '<i4', 48, offset=20))"
"$SLM" dump-logits --from-kld "$W/base.kld" --vocab "$W/vocab.gguf" --top-k 8 --dtype f32 \
    --out "$W/dump.h5" || fail "convert"
"$SLM" info "$W/dump.h5" | grep -q "validation           ok" || fail "slm info"
"$SLM_PYTHON" - "$W" <<'PY' || fail "converted dump differs from the logits"
import sys, h5py, numpy as np
W = sys.argv[1]
z = np.load(f"{W}/logits.npy").astype(np.float64); tok = np.load(f"{W}/tokens.npy")
f = h5py.File(f"{W}/dump.h5")
n_chunk, rows, V = z.shape
n_ctx = 16
first = n_ctx // 2
assert rows == n_ctx - 1 - first
assert (f["tokens"][...].ravel() == tok).all()
m = f["loss_mask"][...]
assert (m[:, first:n_ctx - 1] == 1).all() and m[:, :first].sum() == 0 and m[:, -1].sum() == 0
lsm = z - z.max(-1, keepdims=True); lsm -= np.log(np.exp(lsm).sum(-1, keepdims=True))
ids, lp = f["topk_ids"][...], f["topk_logprobs"][...]
worst = 0
for c in range(n_chunk):
    for t in range(first, n_ctx - 1):
        want = np.argsort(-z[c, t - first], kind="stable")[:8]
        assert (ids[c, t] == want).all(), (c, t, ids[c, t], want)
        worst = max(worst, np.abs(lp[c, t] - lsm[c, t - first, want]).max())
print(f"top-8 ids equal to the logits' top-8; max |log-prob error| {worst:.2e} (16-bit step {16/65535:.2e})")
assert worst <= 16 / 65535 + 1e-5
PY
echo "kld conversion ok"
