#!/usr/bin/env bash
# A logit dump written by an independent PyTorch teacher with plain h5py
# (scripts/torch_dump.py) is accepted and validated by slm (`slm info`), in
# top-k/f16 and sample/f32 modes; the same file damaged with h5py (NaN
# log-prob, id out of range, k > vocab) is refused with exit 2 and a message
# naming the dataset and the index. Version 2 stores ids and tokens as uint16.
set -u
cd "$(dirname "$0")/../.."
source scripts/env.sh
SLM=${SLM_BIN:-./slm}
if ! "$SLM_PYTHON" -c "import torch, h5py" 2>/dev/null; then
    echo "skip: $SLM_PYTHON lacks torch/h5py"; exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$SLM_PYTHON" scripts/torch_dump.py --out "$tmp/topk.h5" --random-teacher --vocab 300 \
    --seqs 6 --seq-len 16 --top-k 8 --dtype f16 || fail "torch_dump top-k"
"$SLM_PYTHON" scripts/torch_dump.py --out "$tmp/sample.h5" --random-teacher --vocab 300 \
    --seqs 3 --seq-len 16 --top-k 12 --sample 12 --dtype f32 || fail "torch_dump sample"
out=$("$SLM" info "$tmp/topk.h5") || fail "slm info refused the torch top-k dump: $out"
echo "$out"
echo "$out" | grep -q "sequences            6 x 16 tokens" || fail "wrong sequence count"
echo "$out" | grep -q "validation           ok" || fail "not validated"
out=$("$SLM" info "$tmp/sample.h5") || fail "slm info refused the torch sample dump: $out"
echo "$out" | grep -q "sample (12 draws per position)" || fail "sample mode not recognised"

# format version 2: ids and tokens in uint16 (V = 300), sample-mode ids int32 (-1 slots)
"$SLM_PYTHON" - "$tmp" <<'PY' || fail "stored types"
import sys, h5py
t = sys.argv[1]
a, b = h5py.File(f"{t}/topk.h5"), h5py.File(f"{t}/sample.h5")
got = (int(a.attrs["format_version"]), a["topk_ids"].dtype.str, a["tokens"].dtype.str, b["topk_ids"].dtype.str)
print("version, top-k ids, tokens, sample ids:", got)
assert got == (2, "<u2", "<u2", "<i4"), got
PY

# damage copies with h5py; each must give exit 2 naming dataset and index
damage() { # name python-statement expected-message
    cp "$tmp/topk.h5" "$tmp/$1.h5"
    "$SLM_PYTHON" -c "import h5py, numpy as np; f = h5py.File('$tmp/$1.h5', 'r+'); $2; f.close()"
    msg=$("$SLM" info "$tmp/$1.h5" 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "$1: exit $rc, expected 2 ($msg)"
    echo "$msg" | grep -q "$3" || fail "$1: message '$msg' lacks '$3'"
    echo "refused ($1): $(echo "$msg" | grep -m1 error)"
}
damage nan "f['topk_logprobs'][2, 5, 1] = np.nan" "/topk_logprobs\[2\]\[5\]\[1\] = nan"
damage id "f['topk_ids'][4, 0, 3] = 300" "/topk_ids\[4\]\[0\]\[3\] = 300 is out of range"
damage k "f.attrs['vocab_size'] = np.int64(4)" "k = 8 must be in \[1, vocab_size = 4\]"
damage tok "f['tokens'][1, 3] = 300" "/tokens\\[1\\]\\[3\\] = 300 is out of range"
echo "torch dumps accepted, damaged dumps refused"
