#!/usr/bin/env bash
# mpirun -np 2 slm distill (docs/mpi.md): the KD trainer on 2 ranks x
# micro-batch 2 x accum 1 gives the losses of one plain process with
# micro-batch 2 x accum 2 within 1e-5 relative over 8 steps; rank 0 alone
# writes metrics.jsonl and student.gguf.  The dump comes from a 2-rank
# `slm dump-logits` of a random-weight teacher.
set -u
source "$(dirname "$0")/mpi_common.sh"
TOL=1e-5
MKMODEL=$PWD/$BUILD/tools/mkmodel
[ -x "$MKMODEL" ] || make -s BUILD="$BUILD" "$BUILD/tools/mkmodel" >/dev/null || fail "build mkmodel"
make_job
"$MKMODEL" --vocab "$W/vocab.gguf" --out "$W/t.gguf" --dim 32 --layers 4 --heads 4 --kv-heads 2 \
    --ff 64 --ctx 64 --seed 5 || fail mkmodel
"$SLM" data prepare --vocab "$W/t.gguf" --input "$W/text.txt" --out "$W/data.h5" \
    --val-fraction 0.1 --seed 3 > /dev/null 2>&1 || fail "data prepare"
mpi 2 "$SLM_MPI" dump-logits --teacher "$W/t.gguf" --data "$W/data.h5" --top-k 8 --seq-len 32 \
    --batch 4 --max-seqs 24 --out "$W/dump.h5" > "$W/dump.log" 2>&1 || { cat "$W/dump.log"; fail "dump-logits"; }
cat > "$W/kd.ini" <<INI
[model]
mode = full
base = $W/t.gguf
[data]
train = $W/data.h5
seq_len = 32
batch = 2
[optim]
lr = 1e-3
[train]
steps = 8
seed = 2
eval_every = 4
eval_batches = 2
ckpt_every = 4
threads = 1
[distill]
dump = $W/dump.h5
keep_every = 2
alpha = 0.7
temperature = 2
INI
"$SLM" distill --config "$W/kd.ini" --quiet --out "$W/one" --set optim.accum=2 2> "$W/one.log" ||
    { tail "$W/one.log"; fail "single-process distill"; }
mpi 2 "$SLM_MPI" distill --config "$W/kd.ini" --quiet --out "$W/two" --set optim.accum=1 \
    > "$W/two.log" 2>&1 || { tail -20 "$W/two.log"; fail "2-rank distill"; }
[ "$(wc -l < "$W/two/metrics.jsonl")" -eq 8 ] || fail "2-rank metrics.jsonl has $(wc -l < "$W/two/metrics.jsonl") lines"
[ -f "$W/two/student.gguf" ] || fail "no student.gguf from rank 0"
[ "$(grep -c "distill: 8 steps" "$W/two.log")" -eq 1 ] || fail "expected one summary line (rank 0)"
read -r rel n <<< "$(maxrel "$W/one/metrics.jsonl" "$W/two/metrics.jsonl")"
echo "distill, 1 process vs 2 ranks: max relative difference $rel over $n steps"
python3 -c "import sys; sys.exit(0 if float('$rel') <= $TOL else 1)" || fail "2 ranks differ by $rel > $TOL"
echo "ok"
