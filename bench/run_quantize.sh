#!/usr/bin/env bash
# bench/run_quantize.sh — wall time of quantizing a ~110M-parameter F32 Llama
# (dim 768, 12 layers, 12 heads, ffn 2048, vocab 32000, untied output; made
# here with tests/tools/make_llama_gguf) to Q8_0, Q4_K_M and Q6_K:
#   slm quantize               the default: llama.cpp's algorithms
#                              (bit-identical output)
#   llama_model_quantize       llama.cpp itself (tests/tools/ref_quantize)
#   slm quantize --refine      + slm's least-squares refinement ("with
#                              extras")
# all with 2 threads, on the same file, in the same run; best wall time of
# REPS runs (page cache warm: the input is read once before timing).  Also
# reported, from the same best runs: CPU time (user + sys, less disturbed by
# other load than wall time) and the part of slm's wall time spent making
# the output durable (flush + fsync + rename, which llama.cpp does not do;
# slm logs it), so the time without fsync is wall - fsync.  slm runs with
# OMP_WAIT_POLICY=PASSIVE so idle OpenMP workers sleep instead of spinning
# (llama.cpp uses plain threads that block).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
source scripts/env.sh
REPS=${REPS:-3}
SLM=${SLM_BIN:-$PWD/$BUILD/slm}
T=$PWD/$BUILD/tools
for x in make_llama_gguf ref_quantize; do [ -x $T/$x ] || { echo "missing $T/$x (make bench builds it)"; exit 1; }; done
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
$T/make_llama_gguf $W/m.gguf 768 2048 12 12 12 32000 0 1 || exit 1
cat $W/m.gguf > /dev/null
echo "model: $(du -m $W/m.gguf | cut -f1) MiB F32, dim 768, 12 layers, ffn 2048, vocab 32000; 2 threads; best of $REPS"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
have_ref=1; [ -f "$SLM_GGML_DIR/libggml-base.so" ] || have_ref=0

# best RUNS CMD...: runs CMD REPS times; prints "wall cpu fsync" of the run
# with the lowest wall time (fsync: slm's logged commit time, else 0).
best() {
    local i out="" bw=999999 w c f
    for i in $(seq $REPS); do
        /usr/bin/time -f "%e %U %S" -o $W/time "$@" > /dev/null 2> $W/log || { echo "FAILED: $*" >&2; cat $W/log >&2; echo "nan nan nan"; return; }
        read -r w u s < $W/time
        c=$(echo "$u + $s" | bc -l)
        f=$(sed -n 's/.*of which fsync + rename \([0-9.]*\) s.*/\1/p' $W/log | tail -1)
        [ -n "$f" ] || f=0
        if (( $(echo "$w < $bw" | bc -l) )); then bw=$w; out="$w $c $f"; fi
    done
    echo "$out"
}
ratio() { echo "$1 / $2" | bc -l; }

printf "%-7s %9s %9s %7s | %10s %7s | %7s %11s | %8s %8s %8s\n" type slm llama.cpp speed "slm+extras" speed \
    fsync "slm-nofsync" "cpu:slm" "cpu:ref" "cpu:ext"
for spec in Q8_0:7 Q4_K_M:15 Q6_K:18; do
  t=${spec%%:*}; ft=${spec##*:}
  read -r aw ac af <<< "$(OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 best $SLM quantize $W/m.gguf $W/o.gguf $t -t 2 -q)"
  read -r bw bc bf <<< "$(OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 best $SLM quantize $W/m.gguf $W/o.gguf $t -t 2 -q --refine)"
  if [ $have_ref = 1 ]; then
    read -r cw cc cf <<< "$(best $T/ref_quantize $W/m.gguf $W/r.gguf $ft 2)"
    printf "%-7s %8.2fs %8.2fs %6.2fx | %9.2fs %6.2fx | %6.2fs %10.2fs | %7.2fs %7.2fs %7.2fs\n" $t $aw $cw \
        $(ratio $cw $aw) $bw $(ratio $cw $bw) $af $(echo "$aw - $af" | bc -l) $ac $cc $bc
  else
    printf "%-7s %8.2fs %9s %7s | %9.2fs %7s | %6.2fs %10.2fs | %7.2fs %8s %7.2fs\n" $t $aw n/a n/a $bw n/a $af \
        $(echo "$aw - $af" | bc -l) $ac n/a $bc
  fi
done
# with the calibration extras, Q4_K_M only: an imatrix and input second
# moments from CALIB (any text; default the GPL-3 text shipped by Debian's
# base-files) through the model's vocabulary, 16 chunks of 128 tokens
CALIB=${CALIB:-/usr/share/common-licenses/GPL-3}
if [ -f "$CALIB" ]; then
  t0=$(date +%s.%N)
  $SLM imatrix --model $W/m.gguf --data "$CALIB" --out $W/im.gguf --hessian $W/h.gguf --ctx 128 --chunks 16 \
    >/dev/null 2>&1 || { echo "FAILED: slm imatrix"; exit 1; }
  echo "slm imatrix --hessian, 16 x 128 tokens of $CALIB: $(echo "$(date +%s.%N) - $t0" | bc -l | cut -c1-5) s, hessian file $(du -m $W/h.gguf | cut -f1) MiB"
  read -r iw ic if_ <<< "$(OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 best $SLM quantize $W/m.gguf $W/o.gguf Q4_K_M -t 2 -q --imatrix $W/im.gguf)"
  read -r hw hc hf <<< "$(OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 best $SLM quantize $W/m.gguf $W/o.gguf Q4_K_M -t 2 -q --imatrix $W/im.gguf --hessian $W/h.gguf)"
  if [ $have_ref = 1 ]; then
    read -r rw rc rf <<< "$(best $T/ref_quantize $W/m.gguf $W/r.gguf 15 2 $W/im.gguf)"
    printf "Q4_K_M --imatrix: slm %.2fs, llama.cpp %.2fs (%.2fx); slm --imatrix --hessian %.2fs (%.2fx); cpu %.2f / %.2f / %.2f s\n" \
      $iw $rw $(ratio $rw $iw) $hw $(ratio $rw $hw) $ic $rc $hc
  else
    printf "Q4_K_M --imatrix: slm %.2fs; slm --imatrix --hessian %.2fs\n" $iw $hw
  fi
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "slm = default (llama.cpp's algorithms, same bytes); slm+extras = --refine (least-squares refinement);"
echo "speed = llama.cpp wall / slm wall (>= 1.0: slm at least as fast); fsync = slm's flush+fsync+rename"
echo "inside 'slm' (llama.cpp does not fsync); cpu = user+sys seconds of the same runs (ext: slm+extras)."
echo "Timings on a shared 2-core machine are noisy; rerun on a quiet machine for final numbers."
