#!/usr/bin/env bash
# tests/e2e/test_quant_llamacpp.sh — files written by `slm quantize` load in
# llama.cpp (node-llama-cpp) and evaluate there as slm evaluates them:
#   for Q8_0, Q4_K_M and Q2_K of a small random Llama model with
#   the real llama-spm vocabulary, logits at 48 positions from slm (which
#   dequantizes the file) and from llama.cpp agree within QTOL (llama.cpp
#   rounds activations to 8 bits before quantized matmuls, slm multiplies in
#   f32, hence not bit-exact);
#   the quantization itself moves llama.cpp's logits (vs the F32 file) by an
#   RMS no larger than MAX_RATIO x that of llama.cpp's own llama_model_quantize
#   of the same model, for slm's --refine quantizers (reported per type; the
#   default without --refine writes llama.cpp's bytes, test_quant_mix.sh).
set -u
cd "$(dirname "$0")/../.."
source scripts/env.sh
BUILD=${BUILD:-build}
QTOL=0.2
MAX_RATIO=1.10
[ -n "${SLM_SHARED:-}" ] || { echo "skip: SLM_SHARED is empty (no real vocabularies)"; exit 77; }
[ -f "$SLM_NODE_MODULES/node-llama-cpp/package.json" ] || { echo "skip: node-llama-cpp not installed in $SLM_NODE_MODULES"; exit 77; }
for t in mkmodel model_logits ref_quantize; do
  [ -x $BUILD/tools/$t ] || { echo "FAIL: $BUILD/tools/$t not built"; exit 1; }
done
SLM=${SLM_BIN:-$PWD/$BUILD/slm}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
$BUILD/tools/mkmodel --vocab "$SLM_SHARED/vocab/ggml-vocab-llama-spm.gguf" --out $tmp/f32.gguf \
    --dim 256 --layers 2 --heads 4 --kv-heads 1 --ff 768 --seed 11 || exit 1
I="1"; for i in $(seq 1 47); do I="$I $(( (i * 7919 + 13) % 31997 + 3 ))"; done
node tests/node/ref.mjs --model $tmp/f32.gguf --ids "$I" --logits $tmp/f.f32 >/dev/null || { echo "FAIL: llama.cpp on F32"; exit 1; }
rms() { $SLM_PYTHON -c 'import sys, numpy as np
a = np.fromfile(sys.argv[1], "<f4").astype(np.float64); b = np.fromfile(sys.argv[2], "<f4")
print(f"{np.sqrt(np.mean((a - b) ** 2)):.6f}")' "$1" "$2"; }
for spec in Q8_0:7 Q4_K_M:15 Q2_K:10; do
  t=${spec%%:*}; ft=${spec##*:}
  "$SLM" quantize $tmp/f32.gguf $tmp/$t.gguf $t --refine -q -t 2 || { echo "FAIL: slm quantize $t"; fail=1; continue; }
  $BUILD/tools/model_logits --model $tmp/$t.gguf --ids "$I" --logits $tmp/s.f32 >/dev/null || { echo "FAIL: slm eval $t"; fail=1; continue; }
  node tests/node/ref.mjs --model $tmp/$t.gguf --ids "$I" --logits $tmp/r.f32 >/dev/null || { echo "FAIL: llama.cpp cannot load slm's $t"; fail=1; continue; }
  if out=$($SLM_PYTHON scripts/cmp_f32.py $tmp/s.f32 $tmp/r.f32 $QTOL 32000); then echo "ok   $t slm vs llama.cpp on slm's file: $out"
  else echo "FAIL $t slm vs llama.cpp: $out"; fail=1; fi
  $BUILD/tools/ref_quantize $tmp/f32.gguf $tmp/ref_$t.gguf $ft 2 >/dev/null 2>$tmp/rq.log || { echo "FAIL: llama_model_quantize $t"; tail -3 $tmp/rq.log; fail=1; continue; }
  node tests/node/ref.mjs --model $tmp/ref_$t.gguf --ids "$I" --logits $tmp/l.f32 >/dev/null || { echo "FAIL: llama.cpp on its own $t"; fail=1; continue; }
  es=$(rms $tmp/r.f32 $tmp/f.f32); el=$(rms $tmp/l.f32 $tmp/f.f32)
  ratio=$($SLM_PYTHON -c "print(f'{$es / max($el, 1e-12):.3f}')")
  if $SLM_PYTHON -c "import sys; sys.exit(0 if $es <= $MAX_RATIO * $el else 1)"; then
    echo "ok   $t logit RMS vs F32 (llama.cpp evaluates both): slm $es, llama.cpp $el, ratio $ratio"
  else echo "FAIL $t logit RMS vs F32: slm $es > $MAX_RATIO x llama.cpp $el"; fail=1; fi
done
exit $fail
