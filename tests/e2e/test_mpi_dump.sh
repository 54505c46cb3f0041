#!/usr/bin/env bash
# mpirun -np 2 slm dump-logits (docs/mpi.md): sequences sharded across the
# ranks, rank 0 writes.  A random-weight teacher (tests/tools/mkmodel on the
# test vocabulary) over 7 sequences with --batch 2 (2 rounds of 2 x 2, the
# last one partial): the 2-rank dump holds the same tokens, targets, mask and
# top-k ids as the plain single-process dump, log-probs within LP_TOL, and
# `slm info` validates it; the same for --sample mode (ids and counts equal:
# each position's draws use a stream seeded by its global index).
set -u
source "$(dirname "$0")/mpi_common.sh"
LP_TOL=1e-6
SLM_PYTHON=${SLM_PYTHON:-/usr/bin/python3}
"$SLM_PYTHON" -c "import h5py, numpy" 2>/dev/null || { echo "skip: no h5py for $SLM_PYTHON"; exit 77; }
MKMODEL=$PWD/$BUILD/tools/mkmodel
[ -x "$MKMODEL" ] || make -s BUILD="$BUILD" "$BUILD/tools/mkmodel" >/dev/null || fail "build mkmodel"
make_job
"$MKMODEL" --vocab "$W/vocab.gguf" --out "$W/t.gguf" --dim 32 --layers 2 --heads 4 --kv-heads 2 \
    --ff 64 --ctx 64 --seed 3 || fail mkmodel
"$SLM" data prepare --vocab "$W/t.gguf" --input "$W/text.txt" --out "$W/data.h5" \
    --val-fraction 0 > /dev/null 2>&1 || fail "data prepare"
common=(--teacher "$W/t.gguf" --data "$W/data.h5" --top-k 8 --seq-len 32 --batch 2 --max-seqs 7 --dtype f32)
for mode in topk sample; do
    extra=(); [ $mode = sample ] && extra=(--sample 16 --seed 5)
    "$SLM" dump-logits "${common[@]}" "${extra[@]}" --out "$W/one_$mode.h5" > /dev/null 2>&1 ||
        fail "single-process dump-logits ($mode)"
    mpi 2 "$SLM_MPI" dump-logits "${common[@]}" "${extra[@]}" --out "$W/two_$mode.h5" > "$W/two_$mode.log" 2>&1 ||
        { cat "$W/two_$mode.log"; fail "2-rank dump-logits ($mode)"; }
    [ "$(grep -c "dump-logits: wrote" "$W/two_$mode.log")" -eq 1 ] || fail "expected one 'wrote' line (rank 0)"
    "$SLM" info "$W/two_$mode.h5" > "$W/info_$mode.txt" 2>&1 || { cat "$W/info_$mode.txt"; fail "slm info ($mode)"; }
    grep -q "validation           ok" "$W/info_$mode.txt" || { cat "$W/info_$mode.txt"; fail "dump not valid ($mode)"; }
    "$SLM_PYTHON" - "$W/one_$mode.h5" "$W/two_$mode.h5" "$LP_TOL" <<'PY' || fail "2-rank $mode dump differs"
import sys, h5py, numpy as np
a, b, tol = h5py.File(sys.argv[1]), h5py.File(sys.argv[2]), float(sys.argv[3])
assert set(a.keys()) == set(b.keys()), (list(a.keys()), list(b.keys()))
for k in a.keys():
    x, y = a[k][...], b[k][...]
    assert x.shape == y.shape and x.shape[0] == 7, (k, x.shape, y.shape)
    if x.dtype.kind == "f":
        d = np.abs(x - y).max()
        print(f"{k}: max |diff| {d:.2e}")
        assert d <= tol, (k, d)
    else:
        assert np.array_equal(x, y), k
for k in a.attrs:
    if k in ("teacher",): continue
    assert str(a.attrs[k]) == str(b.attrs[k]), (k, a.attrs[k], b.attrs[k])
PY
done
echo "ok"
