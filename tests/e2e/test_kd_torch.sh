#!/usr/bin/env bash
# KD loss (distill/kd_loss.c) against an independent PyTorch implementation of
# the same formula (scripts/kd_ref.py): K = 1, K = V (also == full-vocabulary
# KD from the raw teacher logits), in between; forward and reverse KL;
# renormalised top-k; sampled estimator; masked rows; rows without a label.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
source scripts/env.sh
tool=$BUILD/tools/kd_cases
[ -x "$tool" ] || { echo "FAIL: $tool not built (make $tool)"; exit 1; }
if ! "$SLM_PYTHON" -c "import torch, h5py" 2>/dev/null; then
    echo "skip: $SLM_PYTHON lacks torch/h5py"; exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$tool" "$tmp/cases.h5" || exit 1
OMP_NUM_THREADS=2 "$SLM_PYTHON" scripts/kd_ref.py "$tmp/cases.h5"
