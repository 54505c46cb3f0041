#!/usr/bin/env bash
# bench/run_quant_ppl.sh — perplexity of slm's and llama.cpp's quantizations
# of a model trained by slm, all evaluated by llama.cpp (node-llama-cpp,
# tests/node/ref.mjs --nll-ctx: mean NLL over windows of CTX tokens).
#  1. corpus: data/samples/docs; held-out = every 10th incident report
#     (ir-*0.md, never trained on), calibration = incidents ir-*5.md (part of
#     the training text, as llama-imatrix is usually run), train = the rest
#     (held-out excluded);
#  2. slm tokenizer train (vocab 2048), slm train (pretrain, dim 256,
#     ffn 768, 4 layers, 4 heads / 2 kv heads, tied, STEPS steps), slm export F32;
#  3. slm imatrix on the calibration text;
#  4. for Q4_K_M, Q3_K_M, Q2_K: slm quantize and llama_model_quantize
#     (tests/tools/ref_quantize), each without and with the same imatrix;
#  5. perplexity of every file by llama.cpp; increase over F32 and the ratio
#     slm increase / llama.cpp increase (target <= 0.8 with an imatrix at
#     Q4_K_M and Q3_K_M, <= 1.0 without).
# WORK (default build/quant_ppl) keeps the trained model: a second run only
# re-quantizes and re-evaluates (FORCE=1 retrains).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
source scripts/env.sh
SLM=${SLM_BIN:-$PWD/$BUILD/slm}
T=$PWD/$BUILD/tools
W=${WORK:-$PWD/$BUILD/quant_ppl}
STEPS=${STEPS:-300}
CTX=${CTX:-128}
TH=${THREADS:-2}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
[ -x $T/ref_quantize ] || make -s BUILD="$BUILD" $T/ref_quantize >/dev/null || exit 1
[ -f "$SLM_GGML_DIR/libggml-base.so" ] || { echo "skip: llama.cpp (node-llama-cpp) not installed"; exit 77; }
mkdir -p "$W"
fail() { echo "FAIL: $*" >&2; exit 1; }

if [ "${FORCE:-0}" = 1 ] || [ ! -f "$W/f32.gguf" ]; then
  rm -rf "$W/run" "$W/train" && mkdir -p "$W/train"
  files=$(find data/samples/docs -type f -name '*.md' | sort)
  : > "$W/heldout.txt"; : > "$W/calib.txt"
  for f in $files; do
    case "$f" in
      */incidents/ir-*0.md) cat "$f" >> "$W/heldout.txt"; echo >> "$W/heldout.txt" ;;
      *) cat "$f" >> "$W/train/corpus.txt"; echo >> "$W/train/corpus.txt"
         case "$f" in */incidents/ir-*5.md) cat "$f" >> "$W/calib.txt"; echo >> "$W/calib.txt" ;; esac ;;
    esac
  done
  "$SLM" tokenizer train --input "$W/train/corpus.txt" --vocab-size 2048 --out "$W/vocab.gguf" -q || fail tokenizer
  cat > "$W/pre.ini" <<INI
[model]
mode = pretrain
vocab = $W/vocab.gguf
dim = 256
layers = 4
heads = 4
kv_heads = 2
ffn = 768
tied = true
[data]
train = $W/train/corpus.txt
val_fraction = 0.02
seq_len = 128
batch = 8
[optim]
lr = 3e-3
warmup = 30
min_lr = 3e-4
weight_decay = 0.01
[train]
steps = $STEPS
eval_every = $STEPS
eval_batches = 8
ckpt_every = 0
threads = $TH
INI
  t0=$SECONDS
  "$SLM" train --config "$W/pre.ini" --out "$W/run" --quiet 2> "$W/train.log" || { tail "$W/train.log"; fail train; }
  echo "trained $STEPS steps in $((SECONDS - t0)) s"
  "$SLM" export --ckpt "$W/run" --out "$W/f32.gguf.tmp" 2>/dev/null && mv "$W/f32.gguf.tmp" "$W/f32.gguf" || fail export
fi
"$SLM" imatrix --model "$W/f32.gguf" --data "$W/calib.txt" --out "$W/imatrix.gguf" --ctx $CTX >/dev/null 2>&1 || fail imatrix

# perplexity by llama.cpp, cached by the SHA-256 of the model file and of the
# held-out text (llama.cpp's quantizations are deterministic: a rerun after a
# change of slm's quantizer only evaluates slm's files again)
ppl() {
  local key c
  key=$(cat "$1" "$W/heldout.txt" | sha256sum | cut -c1-32); c="$W/ppl_cache/$key.$CTX"
  mkdir -p "$W/ppl_cache"
  if [ ! -s "$c" ]; then
    node tests/node/ref.mjs --model "$1" --ids-text "$W/heldout.txt" --nll-ctx $CTX --threads $TH |
      sed -n 's/.*"ppl":\([0-9.eE+-]*\).*/\1/p' > "$c.tmp" && mv "$c.tmp" "$c"
  fi
  cat "$c"
}
P0=$(ppl "$W/f32.gguf"); [ -n "$P0" ] || fail "perplexity of F32"
echo "model: $(grep -o '[0-9]* trainable parameters' "$W/train.log" | head -1), held-out $(wc -c < "$W/heldout.txt") bytes, calibration $(wc -c < "$W/calib.txt") bytes, windows of $CTX tokens"
printf "F32 perplexity %.5f\n" "$P0"
printf "%-7s %-6s %10s %10s %10s %10s %9s\n" mix imat "ppl slm" "ppl llama" "+slm" "+llama" "ratio"
for spec in Q4_K_M:15 Q3_K_M:12 Q2_K:10; do
  t=${spec%%:*}; ft=${spec##*:}
  for im in no yes; do
    a=(); b=()
    [ $im = yes ] && { a=(--imatrix "$W/imatrix.gguf"); b=("$W/imatrix.gguf"); }
    "$SLM" quantize "$W/f32.gguf" "$W/slm.gguf" $t "${a[@]}" -t $TH -q 2>"$W/quantize.log" || fail "slm quantize $t"
    $T/ref_quantize "$W/f32.gguf" "$W/ref.gguf" $ft $TH "${b[@]}" >/dev/null 2>&1 || fail "ref_quantize $t"
    ps=$(ppl "$W/slm.gguf"); pr=$(ppl "$W/ref.gguf")
    [ -n "$ps" ] && [ -n "$pr" ] || fail "perplexity $t"
    printf "%-7s %-6s %10.5f %10.5f %+10.5f %+10.5f %9.3f\n" $t $im $ps $pr \
      $(echo "$ps - $P0" | bc -l) $(echo "$pr - $P0" | bc -l) $(echo "($ps - $P0) / ($pr - $P0)" | bc -l)
  done
done
rm -f "$W/slm.gguf" "$W/ref.gguf"
echo "ratio = (ppl slm - ppl F32) / (ppl llama.cpp - ppl F32); target <= 0.8 with imatrix (Q4_K_M, Q3_K_M), <= 1.0 without."
