#!/usr/bin/env bash
# bench/run_quantize.sh — wall time of quantizing a ~110M-parameter F32 Llama
# (dim 768, 12 layers, 12 heads, ffn 2048, vocab 32000, untied output; made
# here with tests/tools/make_llama_gguf) to Q8_0, Q4_K_M and Q6_K:
#   slm quantize --no-refine   llama.cpp's algorithms (bit-identical output)
#   slm quantize               + slm's least-squares refinement (default)
#   llama_model_quantize       llama.cpp itself (tests/tools/ref_quantize)
# all with 2 threads, on the same file, in the same run; best of REPS runs
# (page cache warm: the input is read once before timing).  slm runs with
# OMP_WAIT_POLICY=PASSIVE: otherwise the idle OpenMP worker spins while the
# main thread writes each tensor, which on a busy 2-core machine doubles the
# CPU time (llama.cpp uses plain threads that block).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
source scripts/env.sh
REPS=${REPS:-2}
SLM=${SLM_BIN:-$PWD/$BUILD/slm}
T=$PWD/$BUILD/tools
for x in make_llama_gguf ref_quantize; do [ -x $T/$x ] || { echo "missing $T/$x (make bench builds it)"; exit 1; }; done
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
$T/make_llama_gguf $W/m.gguf 768 2048 12 12 12 32000 0 1 || exit 1
cat $W/m.gguf > /dev/null
echo "model: $(du -m $W/m.gguf | cut -f1) MiB F32, dim 768, 12 layers, ffn 2048, vocab 32000; 2 threads; best of $REPS"
have_ref=1; [ -f "$SLM_GGML_DIR/libggml-base.so" ] || have_ref=0
best() { sort -g | head -1; }
t_run() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; echo nan; return; }; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
printf "%-7s %12s %12s %12s %10s %10s\n" type "slm-norefine" "slm" "llama.cpp" "speed(nr)" "speed"
for spec in Q8_0:7 Q4_K_M:15 Q6_K:18; do
  t=${spec%%:*}; ft=${spec##*:}
  a=$(for i in $(seq $REPS); do OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 t_run $SLM quantize $W/m.gguf $W/o.gguf $t -t 2 -q --no-refine; done | best)
  b=$(for i in $(seq $REPS); do OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 t_run $SLM quantize $W/m.gguf $W/o.gguf $t -t 2 -q; done | best)
  if [ $have_ref = 1 ]; then
    c=$(for i in $(seq $REPS); do t_run $T/ref_quantize $W/m.gguf $W/r.gguf $ft 2; done | best)
    printf "%-7s %11.2fs %11.2fs %11.2fs %9.2fx %9.2fx\n" $t $a $b $c $(echo "$c / $a" | bc -l) $(echo "$c / $b" | bc -l)
  else
    printf "%-7s %11.2fs %11.2fs %12s\n" $t $a $b "n/a"
  fi
done
echo "speed = llama.cpp time / slm time (>= 1.0: slm at least as fast); (nr) = --no-refine."
echo "Timings on a shared 2-core machine are noisy; rerun on a quiet machine for final numbers."
