#!/usr/bin/env bash
# Training throughput, slm vs PyTorch in the same run (issue 4 benchmark):
# LoRA r=16 on all 7 projections and full fine-tuning, seq 256, 2 threads,
# ~15M shape (batch 8) and ~110M shape (batch 4).  slm: bench/bench_train.c;
# PyTorch (Debian python3-torch): scripts/torch_bench.py with
# torch.set_num_threads(2) and OMP_WAIT_POLICY=PASSIVE.  STEPS timed steps
# after one warm-up step (default 3).  The ratio line is slm / torch tokens/s.
set -u
cd "$(dirname "$0")/.."
source scripts/env.sh
BUILD=${BUILD:-build}
BIN=$BUILD/bench/bench_train
STEPS=${STEPS:-3}
[ -x "$BIN" ] || make -s BUILD="$BUILD" "$BIN" >/dev/null || { echo "cannot build $BIN"; exit 1; }
have_torch=1
"$SLM_PYTHON" -c "import torch" 2>/dev/null || { have_torch=0; echo "(skip PyTorch side: $SLM_PYTHON has no torch)"; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for shape in 15m 110m; do
    for mode in lora full; do
        s=$(OMP_NUM_THREADS=2 "$BIN" "$shape" "$mode" "$STEPS") || { echo "FAIL: $BIN $shape $mode"; exit 1; }
        echo "$s"
        if [ $have_torch = 1 ]; then
            t=$(OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE "$SLM_PYTHON" scripts/torch_bench.py "$shape" "$mode" "$STEPS") \
                || { echo "FAIL: torch_bench $shape $mode"; exit 1; }
            echo "$t"
            a=$(echo "$s" | head -1 | awk '{for(i=1;i<=NF;i++) if($i=="tokens/s") print $(i-1)}')
            b=$(echo "$t" | awk '{for(i=1;i<=NF;i++) if($i=="tokens/s") print $(i-1)}')
            awk -v a="$a" -v b="$b" -v s="$shape" -v m="$mode" \
                'BEGIN{printf "ratio %s %s: slm / torch = %.2fx\n\n", s, m, a / b}'
        fi
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
