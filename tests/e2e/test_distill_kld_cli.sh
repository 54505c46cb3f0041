#!/usr/bin/env bash
# `slm dump-logits --from-kld`: a file in the layout of llama.cpp's
# `llama-perplexity --kl-divergence-base` (written here by Python from known
# logits, following tools/perplexity/perplexity.cpp: "_logits_", n_ctx,
# n_vocab, n_chunk, tokens, then per scored position a row of uint16 codes
# after float scale and min log-prob) converts to a dump whose top-k ids are
# the logits' top-k and whose log-probs are within the 16-bit step.  Checked
# against the documented layout, not against a file from a real llama.cpp run.
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
"$SLM_PYTHON" - "$W" <<'PY' || fail "writing the kld file"
import sys, numpy as np
W = sys.argv[1]
n_ctx, n_vocab, n_chunk = 16, 354, 3
g = np.random.default_rng(7)
logits = (3 * g.standard_normal((n_chunk, n_ctx, n_vocab))).astype(np.float32)
tokens = g.integers(0, n_vocab, n_chunk * n_ctx).astype(np.int32)
first = n_ctx // 2
nv = 2 * ((n_vocab + 1) // 2) + 4
with open(f"{W}/base.kld", "wb") as f:
    f.write(b"_logits_")
    f.write(np.array([n_ctx, n_vocab, n_chunk], np.int32).tobytes())
    f.write(tokens.tobytes())
    for c in range(n_chunk):
        for t in range(first, n_ctx - 1):
            z = logits[c, t]
            mx, mn = z.max(), max(z.min(), z.max() - 16)
            lse = np.float32(np.log(np.exp((z - mx).astype(np.float64)).sum()))
            scale = np.float32((mx - mn) / 65535)
            row = np.zeros(nv, np.uint16)
            row[:4] = np.frombuffer(np.array([scale, mn - mx - lse], np.float32).tobytes(), np.uint16)
            q = np.where(z > mn, np.rint((z - mn) / scale), 0)
            row[4:4 + n_vocab] = q.astype(np.uint16)
            f.write(row.tobytes())
np.save(f"{W}/logits.npy", logits)
np.save(f"{W}/tokens.npy", tokens)
PY
"$SLM" dump-logits --from-kld "$W/base.kld" --vocab "$W/vocab.gguf" --top-k 8 --dtype f32 \
    --out "$W/dump.h5" || fail "convert"
"$SLM" info "$W/dump.h5" | grep -q "validation           ok" || fail "slm info"
"$SLM_PYTHON" - "$W" <<'PY' || fail "converted dump differs from the logits"
import sys, h5py, numpy as np
W = sys.argv[1]
z = np.load(f"{W}/logits.npy").astype(np.float64); tok = np.load(f"{W}/tokens.npy")
f = h5py.File(f"{W}/dump.h5")
n_chunk, n_ctx, V = z.shape
first = n_ctx // 2
assert (f["tokens"][...].ravel() == tok).all()
m = f["loss_mask"][...]
assert (m[:, first:n_ctx - 1] == 1).all() and m[:, :first].sum() == 0 and m[:, -1].sum() == 0
lsm = z - z.max(-1, keepdims=True); lsm -= np.log(np.exp(lsm).sum(-1, keepdims=True))
ids, lp = f["topk_ids"][...], f["topk_logprobs"][...]
worst = 0
for c in range(n_chunk):
    for t in range(first, n_ctx - 1):
        want = np.argsort(-z[c, t], kind="stable")[:8]
        assert (ids[c, t] == want).all(), (c, t, ids[c, t], want)
        worst = max(worst, np.abs(lp[c, t] - lsm[c, t, want]).max())
print(f"top-8 ids equal to the logits' top-8; max |log-prob error| {worst:.2e} (16-bit step {16/65535:.2e})")
assert worst <= 16 / 65535 + 1e-5
PY
echo "kld conversion ok"
