#!/usr/bin/env bash
# PyTorch reference check of slm's autograd (issue 4): a tiny Llama (2 layers,
# GQA 4/2 heads, vocab 256, masked loss) in three settings — full fine-tune
# with an untied head, full with a tied head, LoRA on all 7 projections.
# tests/tools/grad_dump writes model, batch, slm's loss, gradients and 20
# AdamW-step losses to HDF5; scripts/torch_ref.py recomputes them in float64
# with torch.autograd / torch.optim.AdamW; grad_dump compare requires, per
# trainable tensor, ||g_slm - g_torch||_2 / ||g_torch||_2 <= 1e-4 and every
# loss (step 0 and after each of 20 AdamW steps) within 1e-4 relative.
set -u
cd "$(dirname "$0")/../.."
source scripts/env.sh
BUILD=${BUILD:-build}
TOOL=$BUILD/tools/grad_dump
TOL=1e-4
if ! "$SLM_PYTHON" -c "import torch, h5py" 2>/dev/null; then
    echo "skip: $SLM_PYTHON cannot import torch and h5py (apt-get install python3-torch python3-h5py)"
    exit 77
fi
[ -x "$TOOL" ] || make -s BUILD="$BUILD" "$TOOL" >/dev/null || { echo "cannot build $TOOL"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
for cfg in "full 0 11" "full 1 12" "lora 0 13"; do
    set -- $cfg
    f="$tmp/$1_tied$2.h5"
    "$TOOL" make "$f" "$1" "$2" "$3" || { echo "FAIL: grad_dump make $cfg"; rc=1; continue; }
    OMP_NUM_THREADS=1 "$SLM_PYTHON" scripts/torch_ref.py "$f" || { echo "FAIL: torch_ref.py $f"; rc=1; continue; }
    "$TOOL" compare "$f" "$TOL" || { echo "FAIL: $cfg disagrees with PyTorch"; rc=1; }
done
exit $rc
