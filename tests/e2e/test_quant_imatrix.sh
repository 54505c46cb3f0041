#!/usr/bin/env bash
# tests/e2e/test_quant_imatrix.sh — importance-weighted quantization end to end:
#   slm imatrix on calibration text (llama-spm vocabulary's test texts) writes
#   llama.cpp's imatrix GGUF (15 entries: 7 per layer + output);
#   llama_model_quantize accepts it (ref_quantize passes it as params.imatrix);
#   Q4_K_M, Q3_K_M and Q2_K made by slm (--refine) and by llama.cpp with the same imatrix
#   are evaluated by llama.cpp on 48 held-out token positions; the logit RMS
#   error vs the F32 model is reported for both and slm's must not exceed
#   MAX_RATIO x llama.cpp's.  (A random model, not a trained one: logit RMS
#   stands in for perplexity here.)
set -u
cd "$(dirname "$0")/../.."
source scripts/env.sh
BUILD=${BUILD:-build}
MAX_RATIO=1.10
[ -n "${SLM_SHARED:-}" ] || { echo "skip: SLM_SHARED is empty (no real vocabularies)"; exit 77; }
[ -f "$SLM_NODE_MODULES/node-llama-cpp/package.json" ] || { echo "skip: node-llama-cpp not installed in $SLM_NODE_MODULES"; exit 77; }
SLM=${SLM_BIN:-$PWD/$BUILD/slm}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
$BUILD/tools/mkmodel --vocab "$SLM_SHARED/vocab/ggml-vocab-llama-spm.gguf" --out $tmp/f32.gguf \
    --dim 256 --layers 2 --heads 4 --kv-heads 1 --ff 768 --seed 5 || exit 1
cat "$SLM_SHARED"/vocab/*.inp > $tmp/calib.txt
"$SLM" imatrix --model $tmp/f32.gguf --data $tmp/calib.txt --out $tmp/im.gguf --ctx 64 --chunks 8 2>$tmp/im.log \
  || { echo "FAIL: slm imatrix"; tail -3 $tmp/im.log; exit 1; }
n=$(grep -c "in_sum2" <("$SLM" info $tmp/im.gguf))
[ "$n" = 15 ] && echo "ok   imatrix: 15 entries" || { echo "FAIL: imatrix has $n entries, expected 15"; fail=1; }
# the same calibration as a dataset of `slm data prepare` (--data *.h5): the
# same entries; a dataset tokenized with another vocabulary is refused
"$SLM" data prepare --vocab $tmp/f32.gguf --input $tmp/calib.txt --out $tmp/calib.h5 --val-fraction 0 >/dev/null 2>&1 \
  || { echo "FAIL: data prepare of the calibration text"; exit 1; }
if "$SLM" imatrix --model $tmp/f32.gguf --data $tmp/calib.h5 --out $tmp/im5.gguf --ctx 64 --chunks 8 2>$tmp/im5.log \
   && [ "$(grep -c in_sum2 <("$SLM" info $tmp/im5.gguf))" = 15 ] \
   && "$SLM" quantize $tmp/f32.gguf $tmp/q5.gguf Q4_K_M --imatrix $tmp/im5.gguf -q -t 2 2>/dev/null; then
  echo "ok   imatrix from a dataset (.h5): 15 entries, accepted by quantize"
else echo "FAIL: imatrix --data calib.h5"; tail -3 $tmp/im5.log; fail=1; fi
"$SLM" data prepare --vocab "$SLM_SHARED/vocab/ggml-vocab-gpt-2.gguf" --input $tmp/calib.txt --out $tmp/gpt2.h5 \
  --val-fraction 0 >/dev/null 2>&1 || { echo "FAIL: data prepare (gpt-2)"; exit 1; }
"$SLM" imatrix --model $tmp/f32.gguf --data $tmp/gpt2.h5 --out $tmp/im6.gguf --ctx 64 2>$tmp/im6.log; rc=$?
[ $rc = 2 ] && [ ! -e $tmp/im6.gguf ] && echo "ok   dataset of another vocabulary refused: $(grep -m1 -i "fingerprint\|tokenizer" $tmp/im6.log | cut -c1-100)" \
  || { echo "FAIL: imatrix on a gpt-2 dataset: exit $rc"; cat $tmp/im6.log | head -3; fail=1; }
I="1"; for i in $(seq 1 47); do I="$I $(( (i * 104729 + 7) % 31997 + 3 ))"; done
node tests/node/ref.mjs --model $tmp/f32.gguf --ids "$I" --logits $tmp/f.f32 >/dev/null || { echo "FAIL: llama.cpp F32"; exit 1; }
rms() { $SLM_PYTHON -c 'import sys, numpy as np
a = np.fromfile(sys.argv[1], "<f4").astype(np.float64); b = np.fromfile(sys.argv[2], "<f4")
print(f"{np.sqrt(np.mean((a - b) ** 2)):.6f}")' "$1" "$2"; }
for spec in Q4_K_M:15 Q3_K_M:12 Q2_K:10; do
  t=${spec%%:*}; ft=${spec##*:}
  "$SLM" quantize $tmp/f32.gguf $tmp/s.gguf $t --imatrix $tmp/im.gguf --refine -q -t 2 2>$tmp/q.log || { echo "FAIL: slm quantize $t --imatrix"; fail=1; continue; }
  grep -q "14 with imatrix\|15 with imatrix" $tmp/q.log || { echo "FAIL: slm did not use the imatrix"; cat $tmp/q.log; fail=1; }
  $BUILD/tools/ref_quantize $tmp/f32.gguf $tmp/r.gguf $ft 2 $tmp/im.gguf >/dev/null 2>$tmp/rq.log || { echo "FAIL: llama_model_quantize with slm's imatrix"; tail -3 $tmp/rq.log; fail=1; continue; }
  grep -q "have importance matrix data with 15 entries" $tmp/rq.log || { echo "FAIL: llama.cpp did not take the imatrix"; fail=1; }
  node tests/node/ref.mjs --model $tmp/s.gguf --ids "$I" --logits $tmp/s.f32 >/dev/null || { echo "FAIL: llama.cpp on slm $t"; fail=1; continue; }
  node tests/node/ref.mjs --model $tmp/r.gguf --ids "$I" --logits $tmp/r.f32 >/dev/null || { echo "FAIL: llama.cpp on its $t"; fail=1; continue; }
  es=$(rms $tmp/s.f32 $tmp/f.f32); el=$(rms $tmp/r.f32 $tmp/f.f32)
  ratio=$($SLM_PYTHON -c "print(f'{$es / max($el, 1e-12):.3f}')")
  if $SLM_PYTHON -c "import sys; sys.exit(0 if $es <= $MAX_RATIO * $el else 1)"; then
    echo "ok   $t with imatrix: logit RMS vs F32 slm $es, llama.cpp $el, ratio $ratio"
  else echo "FAIL $t with imatrix: slm $es > $MAX_RATIO x llama.cpp $el"; fail=1; fi
done
exit $fail
