#!/usr/bin/env bash
# mpirun -np 2 slm train (docs/mpi.md), tiny pretraining job, 20 steps:
#  - 2 ranks x micro-batch 2 x accum 1 give the losses, gradient norms and
#    validation losses of one plain (non-MPI) process with micro-batch 2 x
#    accum 2 (the same global batch) within 1e-5 relative;
#  - a repeated 2-rank run, with tiny all-reduce buckets, prints
#    bit-identical metrics and writes a byte-identical exported GGUF;
#  - rank 0 alone wrote the run directory (one metrics line per step);
#  - the checkpoint of step 10 written by 2 ranks resumes on 1 process
#    (accum 2) and ends with the uninterrupted single-process run's losses (1e-5).
set -u
source "$(dirname "$0")/mpi_common.sh"
TOL=1e-5
make_job

"$SLM" train --config "$W/job.ini" --quiet --out "$W/one" --set optim.accum=2 2> "$W/one.log" ||
    { cat "$W/one.log"; fail "single-process run"; }
mpi 2 "$SLM_MPI" train --config "$W/job.ini" --quiet --out "$W/two" --set optim.accum=1 \
    > "$W/two.log" 2>&1 || { cat "$W/two.log"; fail "2-rank run"; }
grep -q "1 threads x 2 rank(s)" "$W/two.log" || { cat "$W/two.log"; fail "2-rank run did not report 2 ranks"; }
grep -q "mpi: 2 ranks; gradient all-reduce" "$W/two.log" || fail "no all-reduce summary"
[ "$(wc -l < "$W/two/metrics.jsonl")" -eq 20 ] || fail "metrics.jsonl of 2 ranks has $(wc -l < "$W/two/metrics.jsonl") lines, expected 20"
tok=$(tail -1 "$W/two/metrics.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"])')
[ "$tok" -eq $((20 * 2 * 2 * 32)) ] || fail "2 ranks counted $tok tokens, expected $((20 * 2 * 2 * 32))"
read -r rel n <<< "$(maxrel "$W/one/metrics.jsonl" "$W/two/metrics.jsonl")"
echo "1 process vs 2 ranks: max relative difference $rel over $n steps"
python3 -c "import sys; sys.exit(0 if float('$rel') <= $TOL else 1)" || fail "2 ranks differ from 1 process by $rel > $TOL"
# it must be learning, or the comparison says little
python3 - "$W/two/metrics.jsonl" <<'PY' || fail "loss did not fall"
import json, sys
L = [json.loads(l)["loss"] for l in open(sys.argv[1])]
assert L[-1] < L[0] - 0.3, (L[0], L[-1])
PY

# repeat with 4 KiB buckets (about 10 buckets, tensors split across them):
# every element is still summed in rank order, so the run is bit-identical
export SLM_MPI_BUCKET_MB=0.004
mpi 2 -x SLM_MPI_BUCKET_MB "$SLM_MPI" train --config "$W/job.ini" --quiet --out "$W/two2" --set optim.accum=1 \
    > "$W/two2.log" 2>&1 || { cat "$W/two2.log"; fail "repeated 2-rank run"; }
unset SLM_MPI_BUCKET_MB
grep -Eq "in ([2-9]|[1-9][0-9]+) buckets" "$W/two2.log" || { grep "mpi:" "$W/two2.log"; fail "small buckets not used"; }
grep "mpi: 2 ranks" "$W/two2.log"
diff <(metrics "$W/two/metrics.jsonl") <(metrics "$W/two2/metrics.jsonl") > /dev/null ||
    fail "repeated 2-rank runs print different metrics"
"$SLM" export --ckpt "$W/two" --out "$W/two.gguf" 2>/dev/null || fail "export two"
"$SLM" export --ckpt "$W/two2" --out "$W/two2.gguf" 2>/dev/null || fail "export two2"
cmp -s "$W/two.gguf" "$W/two2.gguf" || fail "repeated 2-rank runs export different models"

# the 2-rank checkpoint of step 10 resumed by 1 process (global batch kept: accum 2)
mkdir -p "$W/mix"
cp "$W/two/ckpt-10.h5" "$W/two/config.ini" "$W/mix/" || fail "no 2-rank checkpoint at step 10"
head -10 "$W/two/metrics.jsonl" > "$W/mix/metrics.jsonl"
"$SLM" train --config "$W/job.ini" --quiet --out "$W/mix" --set optim.accum=2 2> "$W/mix2.log" ||
    { cat "$W/mix2.log"; fail "1-process resume of the 2-rank checkpoint"; }
grep -q "resuming from step 10" "$W/mix2.log" || { cat "$W/mix2.log"; fail "did not resume from step 10"; }
[ "$(wc -l < "$W/mix/metrics.jsonl")" -eq 20 ] || fail "resumed metrics.jsonl has $(wc -l < "$W/mix/metrics.jsonl") lines"
read -r rel n <<< "$(maxrel "$W/one/metrics.jsonl" "$W/mix/metrics.jsonl")"
echo "2 ranks then 1 process vs 1 process: max relative difference $rel over $n steps"
python3 -c "import sys; sys.exit(0 if float('$rel') <= $TOL else 1)" || fail "2->1 resume differs by $rel > $TOL"
echo "ok"
