#!/usr/bin/env bash
# bench/run_quant_ppl.sh — perplexity of slm's and llama.cpp's quantizations
# of a model trained by slm, all evaluated by llama.cpp (node-llama-cpp,
# tests/node/ref.mjs --nll-ctx: mean NLL over windows of CTX tokens).
#  1. corpus (read at run time, nothing copied into the repository): the
#     top-level modules of the system's Python standard library (PYLIB,
#     default that of /usr/bin/python3, e.g. /usr/lib/python3.11/*.py),
#     sorted by name; held-out = every 10th file (never trained on, HELDOUT
#     bytes), calibration = files i%10 == 5 (part of the training text, as
#     llama-imatrix is usually run), train = the other files up to
#     TRAIN_BYTES; sources.txt in WORK lists the files used;
#  2. slm tokenizer train (byte-level BPE, VOCAB), slm train (pretrain,
#     dim 256, ffn 768, 4 layers, 4 heads / 2 kv heads, untied embeddings so
#     that token_embd is quantized with the mix's base type as in real Llama
#     models, STEPS steps of 8 x 128 tokens, lr LR cosine), slm export F32;
#  3. slm imatrix on the calibration text (--hessian: also the inputs'
#     second moments, for slm's error-feedback quantization);
#  4. for Q4_K_M, Q3_K_M, Q2_K: slm quantize and llama_model_quantize
#     (tests/tools/ref_quantize), each without and with the same imatrix;
#     a third row "+H": slm with the imatrix and --hessian (same calibration
#     text) against llama.cpp with the imatrix;
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
STEPS=${STEPS:-2400}
LR=${LR:-5e-3}
CTX=${CTX:-128}
PYLIB=${PYLIB:-$(/usr/bin/python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])' 2>/dev/null)}
HELDOUT=${HELDOUT:-80000}
TRAIN_BYTES=${TRAIN_BYTES:-12000000}
VOCAB=${VOCAB:-4096}
TH=${THREADS:-2}
ETH=${EVAL_THREADS:-2} # llama.cpp evaluation threads (on a loaded machine 1 was 2x faster than 2)
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
[ -x $T/ref_quantize ] || make -s BUILD="$BUILD" "$BUILD/tools/ref_quantize" >/dev/null || exit 1
[ -f "$SLM_GGML_DIR/libggml-base.so" ] || { echo "skip: llama.cpp (node-llama-cpp) not installed"; exit 77; }
mkdir -p "$W"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
fail() { echo "FAIL: $*" >&2; exit 1; }

# the top-level modules of the system's Python standard library, sorted by
# name: held-out = every 10th file (whole files until HELDOUT bytes, then cut
# at the last full line), calibration = every 10th file shifted by 5 (part of
# the training text, as llama-imatrix is usually run), train = the files that
# are not held out, up to TRAIN_BYTES.  Recomputed on every run (cheap,
# deterministic); sources.txt lists what was used.
[ -d "$PYLIB" ] || { echo "skip: no Python standard library at $PYLIB"; exit 77; }
# (DEPTH=1: top-level modules only; default: every module except test
# suites and site-packages, so that training is about one epoch and the
# model is not over-confident on unseen modules)
files=$(find "$PYLIB" -maxdepth ${DEPTH:-20} -type f -name '*.py' -not -path '*/test/*' -not -path '*/tests/*' \
  -not -path '*_test/*' -not -path '*/site-packages/*' -not -path '*/dist-packages/*' | LC_ALL=C sort)
[ -n "$files" ] || { echo "skip: no *.py in $PYLIB"; exit 77; }
mkdir -p "$W/split"
: > "$W/split/heldout"; : > "$W/calib.txt"; : > "$W/split/corpus.txt"; : > "$W/sources.txt"
i=0
for f in $files; do
  if [ $((i % 10)) = 0 ]; then
    [ $(stat -c %s "$W/split/heldout") -lt $HELDOUT ] && { cat "$f" >> "$W/split/heldout"; echo "heldout $f" >> "$W/sources.txt"; }
  elif [ $(stat -c %s "$W/split/corpus.txt") -lt $TRAIN_BYTES ]; then
    cat "$f" >> "$W/split/corpus.txt"; echo "train $f" >> "$W/sources.txt"
    [ $((i % 10)) = 5 ] && [ $(stat -c %s "$W/calib.txt") -lt $HELDOUT ] && { cat "$f" >> "$W/calib.txt"; echo "calib $f" >> "$W/sources.txt"; }
  fi
  i=$((i + 1))
done
head -c $HELDOUT "$W/split/heldout" | sed '$d' > "$W/heldout.txt"

if [ "${FORCE:-0}" = 1 ] || [ ! -f "$W/f32.gguf" ]; then
  rm -rf "$W/run" "$W/train" && mkdir -p "$W/train" && cp "$W/split/corpus.txt" "$W/train/corpus.txt"
  "$SLM" tokenizer train --input "$W/train/corpus.txt" --vocab-size $VOCAB --out "$W/vocab.gguf" -q || fail tokenizer
  cat > "$W/pre.ini" <<INI
[model]
mode = pretrain
vocab = $W/vocab.gguf
dim = 256
layers = 4
heads = 4
kv_heads = 2
ffn = 768
tied = ${TIED:-false}
[data]
train = $W/train/corpus.txt
val_fraction = 0.02
seq_len = 128
batch = 8
[optim]
lr = $LR
warmup = $((STEPS / 10))
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
  echo "$((SECONDS - t0)) s, load average at start $LOAD0" > "$W/train_time"
  "$SLM" export --ckpt "$W/run" --out "$W/f32.gguf.tmp" 2>/dev/null && mv "$W/f32.gguf.tmp" "$W/f32.gguf" || fail export
fi
"$SLM" imatrix --model "$W/f32.gguf" --data "$W/calib.txt" --out "$W/imatrix.gguf" --hessian "$W/hessian.gguf" \
  --ctx $CTX >/dev/null 2>&1 || fail imatrix

# perplexity by llama.cpp, cached by the SHA-256 of the model file and of the
# held-out text (llama.cpp's quantizations are deterministic: a rerun after a
# change of slm's quantizer only evaluates slm's files again)
ppl() {
  local key c
  key=$(cat "$1" "$W/heldout.txt" | sha256sum | cut -c1-32); c="$W/ppl_cache/$key.$CTX"
  mkdir -p "$W/ppl_cache"
  if [ ! -s "$c" ]; then
    node tests/node/ref.mjs --model "$1" --ids-text "$W/heldout.txt" --nll-ctx $CTX --threads $ETH |
      sed -n 's/.*"ppl":\([0-9.eE+-]*\).*/\1/p' > "$c.tmp" && mv "$c.tmp" "$c"
  fi
  cat "$c"
}
# second measure, computed by slm: KL(F32 || quantized) per held-out
# position, from a top-64 dump of the F32 model's log-probs (slm
# dump-logits) and `slm eval --dump` on each quantized file (slm's logits on
# quantized GGUFs agree with llama.cpp's: tests/e2e/test_quant_llamacpp.sh)
"$SLM" data prepare --vocab "$W/f32.gguf" --input "$W/heldout.txt" --out "$W/heldout.h5.tmp" --val-fraction 0 >/dev/null 2>&1 &&
  mv "$W/heldout.h5.tmp" "$W/heldout.h5" || fail "data prepare of the held-out text"
rm -f "$W/dump.h5"
"$SLM" dump-logits --teacher "$W/f32.gguf" --data "$W/heldout.h5" --top-k 64 --dtype f32 --seq-len $CTX \
  --out "$W/dump.h5" >/dev/null 2>&1 || fail "dump-logits of F32"
kl() { "$SLM" eval --model "$1" --dump "$W/dump.h5" -t $TH --json 2>/dev/null | tail -1 | sed -n 's/.*"kl": *\([0-9.eE+-]*\).*/\1/p'; }

P0=$(ppl "$W/f32.gguf"); [ -n "$P0" ] || fail "perplexity of F32"
echo "load average at start: $LOAD0 (perplexities and KL are deterministic; only the training time depends on the load)"
echo "corpus: $PYLIB/*.py: $(grep -c '^train' "$W/sources.txt") files / $(wc -c < "$W/train/corpus.txt") bytes trained on, held-out $(grep -c '^heldout' "$W/sources.txt") files cut to $(wc -c < "$W/heldout.txt") bytes (sha256 $(sha256sum < "$W/heldout.txt" | cut -c1-16)), calibration $(grep -c '^calib' "$W/sources.txt") files / $(wc -c < "$W/calib.txt") bytes"
echo "model: $(grep -o '[0-9]* trainable parameters' "$W/train.log" | head -1), $(grep -c '"step"' "$W/run/metrics.jsonl") steps trained by slm in $(cat "$W/train_time" 2>/dev/null || echo '?'), last train loss $(tail -1 "$W/run/metrics.jsonl" | sed 's/.*"loss":\([0-9.]*\).*/\1/' | cut -c1-6), windows of $CTX tokens"
printf "F32 perplexity %.5f\n" "$P0"
printf "%-7s %-6s %10s %10s %10s %10s %9s %9s %9s %7s\n" mix imat "ppl slm" "ppl llama" "+slm" "+llama" "ratio" "KL slm" "KL llama" "ratio"
for spec in Q4_K_M:15 Q3_K_M:12 Q2_K:10; do
  t=${spec%%:*}; ft=${spec##*:}
  for im in no yes +H; do
    a=(); b=()
    [ $im = no ] || { a=(--imatrix "$W/imatrix.gguf"); b=("$W/imatrix.gguf"); }
    [ $im = +H ] && a+=(--hessian "$W/hessian.gguf")
    "$SLM" quantize "$W/f32.gguf" "$W/slm.gguf" $t "${a[@]}" -t $TH -q 2>"$W/quantize.log" || fail "slm quantize $t"
    $T/ref_quantize "$W/f32.gguf" "$W/ref.gguf" $ft $TH "${b[@]}" >/dev/null 2>&1 || fail "ref_quantize $t"
    ps=$(ppl "$W/slm.gguf"); pr=$(ppl "$W/ref.gguf")
    [ -n "$ps" ] && [ -n "$pr" ] || fail "perplexity $t"
    ks=$(kl "$W/slm.gguf"); kr=$(kl "$W/ref.gguf")
    [ -n "$ks" ] && [ -n "$kr" ] || fail "KL $t"
    printf "%-7s %-6s %10.5f %10.5f %+10.5f %+10.5f %9.3f %9.6f %9.6f %7.3f\n" $t $im $ps $pr \
      $(echo "$ps - $P0" | bc -l) $(echo "$pr - $P0" | bc -l) $(echo "($ps - $P0) / ($pr - $P0)" | bc -l) \
      $ks $kr $(awk -v a="$ks" -v b="$kr" 'BEGIN { print a / b }')  # awk: KL may print as 1e-05
  done
done
rm -f "$W/slm.gguf" "$W/ref.gguf"
echo "imat: no = neither; yes = both with the imatrix; +H = slm with the imatrix and --hessian (error feedback), llama.cpp with the imatrix."
echo "ratio = (ppl slm - ppl F32) / (ppl llama.cpp - ppl F32); target <= 0.8 with imatrix (Q4_K_M, Q3_K_M), <= 1.0 without."
echo "KL = mean KL(F32 || quantized) over the held-out positions (top-64 of F32, by slm); KL ratio = slm / llama.cpp."
