#!/usr/bin/env bash
# Distillation benchmark (issue 6):
#  1. `slm dump-logits` throughput of the ~110M shape (dim 768, 12 layers,
#     12 heads, ffn 2048, llama-spm vocabulary of 32000; random weights from
#     tests/tools/mkmodel, F16 file) at T = 256, k = 128;
#  2. dump size per token for k = 8, 32, 128 in float16/float32 with the
#     storage choices of bench/dump_size (format v2/v1 ids, deflate levels,
#     shuffle, chunking; it rewrites the k = 128 dump with slm's writer);
#     anchor: DistillKit ~300 B/token at k = 128 (a trained teacher:
#     bench/run_distill_topk.sh);
#  3. the fused KD loss kernel vs the fused CE kernel on the same logits
#     (bench/kd_kernel: N = 1024, V = 32000, min of interleaved runs);
#  4. KD overhead: `slm distill` vs `slm train` steps/s on the same ~15M
#     student (dim 288, 6 layers, ffn 768, V = 32000), full and LoRA r = 16,
#     T = 256, batch 4, same data (the dump above, k = 128).
# Caveats: a random-weight teacher (its top-k are less repetitive than a
# trained model's, so sizes are an upper-side estimate for the ids); timings
# on a shared 2-core machine.
set -u
cd "$(dirname "$0")/.."
source scripts/env.sh
BUILD=${BUILD:-build}
SLM=${SLM_BIN:-$PWD/$BUILD/slm}
SEQS=${SEQS:-8}
STEPS=${STEPS:-4}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
[ -n "$SLM_SHARED" ] || { echo "skip: SLM_SHARED empty (needs the llama-spm vocabulary)"; exit 0; }
for t in tools/mkmodel bench/dump_size bench/kd_kernel; do
    [ -x "$BUILD/$t" ] || make -s BUILD="$BUILD" "$BUILD/$t" >/dev/null || { echo "cannot build $t"; exit 1; }
done
W=$(mktemp -d /tmp/slm_bench_distill.XXXXXX)
trap 'rm -rf "$W"' EXIT
VOCAB=$SLM_SHARED/vocab/ggml-vocab-llama-spm.gguf
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

"$BUILD/tools/mkmodel" --vocab "$VOCAB" --out "$W/t110.gguf" --type f16 --dim 768 --layers 12 \
    --heads 12 --kv-heads 12 --ff 2048 --ctx 256 --seed 1 || exit 1
find /usr/share/common-licenses -type f | sort | xargs cat > "$W/text.txt" 2>/dev/null
"$SLM" data prepare --vocab "$VOCAB" --input "$W/text.txt" --out "$W/data.h5" --val-fraction 0 \
    >/dev/null 2>&1 || exit 1

echo "== dump-logits, 110M shape, T=256, k=128, f32, batch 4, $SEQS sequences"
"$SLM" dump-logits --teacher "$W/t110.gguf" --data "$W/data.h5" --top-k 128 --dtype f32 \
    --seq-len 256 --batch 4 --max-seqs "$SEQS" --out "$W/k128.h5" 2>/dev/null || exit 1

echo
echo "== dump size per token (T=256, $SEQS sequences; entries = /topk_ids + /topk_logprobs)"
mkdir -p "$W/sizes"
"$BUILD/bench/dump_size" "$W/k128.h5" "$W/sizes" 8,32,128 || exit 1

echo
echo "== loss kernels (forward + backward into dlogits)"
"$BUILD/bench/kd_kernel" 5 || exit 1

echo
echo "== KD overhead: slm distill vs slm train, ~15M student, T=256, batch 4, $STEPS steps"
"$BUILD/tools/mkmodel" --vocab "$VOCAB" --out "$W/s15.gguf" --dim 288 --layers 6 --heads 6 \
    --kv-heads 6 --ff 768 --ctx 256 --seed 2 || exit 1
cat > "$W/job.ini" <<INI
[model]
mode = full
base = $W/s15.gguf
[lora]
rank = 16
targets = all
[data]
train = $W/data.h5
seq_len = 256
batch = 4
[optim]
lr = 1e-4
[train]
steps = $STEPS
seed = 1
eval_every = 1000
eval_batches = 0
ckpt_every = 1000
threads = 2
[distill]
dump = $W/k128.h5
INI
sed '/^\[distill\]/,$d' "$W/job.ini" > "$W/train.ini"
mean_tps() { # mean tokens_per_s over steps >= 2 of a metrics.jsonl
    sed -n 's/.*"step":\([0-9]*\),.*"tokens_per_s":\([0-9.e+]*\).*/\1 \2/p' "$1" |
        awk '$1 >= 2 { s += $2; n++ } END { if (n) printf "%.1f", s / n; else print "nan" }'
}
for mode in full lora; do
    "$SLM" train --config "$W/train.ini" --set model.mode=$mode --quiet --out "$W/tr_$mode" 2>/dev/null || { echo "train $mode failed"; exit 1; }
    "$SLM" distill --config "$W/job.ini" --set model.mode=$mode --quiet --out "$W/kd_$mode" >/dev/null 2>&1 || { echo "distill $mode failed"; exit 1; }
    a=$(mean_tps "$W/tr_$mode/metrics.jsonl"); b=$(mean_tps "$W/kd_$mode/metrics.jsonl")
    awk -v a="$a" -v b="$b" -v m="$mode" 'BEGIN { printf "%-5s train %8.1f tokens/s   distill (k=128) %8.1f tokens/s   KD overhead %+.1f%%\n", m, a, b, (a / b - 1) * 100 }'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
