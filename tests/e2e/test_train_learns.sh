#!/usr/bin/env bash
# Proof that slm train learns (small, CI):
#  1. pretraining a ~1M-parameter Llama (dim 128, 5 layers, GQA) from scratch
#     on ~230 KB of English text (the license texts in /usr/share/common-licenses,
#     one token per character with the test vocabulary) for 150 steps lowers
#     the validation loss below 0.8 x the unigram entropy of the text
#     (computed here with Python from the characters: the best loss a model
#     without context can reach);
#  2. LoRA (r 8, all projections) on four made-up question/answer pairs on top
#     of that model makes greedy generation (slm generate + the exported
#     adapter, and the merged export) reproduce every trained answer, which the
#     base model does not.
set -u
cd "$(dirname "$0")/../.."
source scripts/env.sh
BUILD=${BUILD:-build}
SLM=${SLM_BIN:-$PWD/$BUILD/slm}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
[ -d /usr/share/common-licenses ] || { echo "skip: /usr/share/common-licenses (text corpus) absent"; exit 77; }
[ -x "$BUILD/tools/mkvocab" ] || make -s BUILD="$BUILD" "$BUILD/tools/mkvocab" >/dev/null || exit 1
W=$(mktemp -d /tmp/slm_train_learns.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
PY=${SLM_PYTHON:-/usr/bin/python3}

"$BUILD/tools/mkvocab" "$W/vocab.gguf" || fail mkvocab
find /usr/share/common-licenses -type f | sort | xargs cat > "$W/corpus.txt"
H=$("$PY" -c "
import sys, math, collections
t = open(sys.argv[1], encoding='ascii').read()   # ASCII: one token per character
c = collections.Counter(t); n = len(t)
print('%.6f' % -sum(v / n * math.log(v / n) for v in c.values()))" "$W/corpus.txt") || fail "entropy"
echo "corpus: $(wc -c < "$W/corpus.txt") bytes, unigram entropy $H nats/token"

cat > "$W/pre.ini" <<INI
[model]
mode = pretrain
vocab = $W/vocab.gguf
dim = 128
layers = 5
heads = 4
kv_heads = 2
[data]
train = $W/corpus.txt
val_fraction = 0.05
seq_len = 128
batch = 8
[optim]
lr = 3e-3
warmup = 20
min_lr = 3e-4
weight_decay = 0.01
[train]
steps = 150
eval_every = 50
eval_batches = 8
ckpt_every = 0
threads = 2
INI
t0=$SECONDS
"$SLM" train --config "$W/pre.ini" --out "$W/pre" --quiet 2> "$W/pre.log" || { cat "$W/pre.log"; fail "pretrain"; }
grep -o "mode pretrain, [0-9]* trainable parameters" "$W/pre.log"
"$PY" - "$W/pre/metrics.jsonl" "$H" <<'PY' || fail "validation loss not below 0.8 x unigram entropy"
import sys, json
rows = [json.loads(l) for l in open(sys.argv[1])]
H = float(sys.argv[2])
vals = [(r["step"], r["val_loss"]) for r in rows if r["val_loss"] is not None]
print("val_loss by step:", ", ".join("%d: %.4f" % v for v in vals), "| unigram entropy %.4f" % H)
assert len(rows) == 150 and len(vals) == 3, (len(rows), vals)
assert vals[-1][1] < vals[0][1], "validation loss did not decrease"
assert vals[-1][1] < 0.8 * H, "final val_loss %.4f >= 0.8 * %.4f" % (vals[-1][1], H)
print("final val_loss %.4f = %.2f x unigram entropy" % (vals[-1][1], vals[-1][1] / H))
PY
echo "pretraining took $((SECONDS - t0)) s"
"$SLM" export --ckpt "$W/pre" --out "$W/base.gguf" 2>/dev/null || fail "export pretrained"

# LoRA on made-up facts
"$PY" - "$W/qa.txt" <<'PY'
import sys, random
qa = [("What is the capital of Zorbia?", "Quillon."), ("Who painted the blue moon?", "Ada Verne."),
      ("How many legs has a trell?", "Seven."), ("What colour is a grumfish?", "Bright green.")]
random.seed(1)
open(sys.argv[1], "w").write("".join("Q: %s\nA: %s\n" % random.choice(qa) for _ in range(60)))
PY
cat > "$W/lora.ini" <<INI
[model]
mode = lora
base = $W/base.gguf
[lora]
rank = 8
alpha = 16
targets = all
[data]
train = $W/qa.txt
val_fraction = 0
seq_len = 64
batch = 8
[optim]
lr = 1e-2
warmup = 5
schedule = cosine
min_lr = 1e-3
[train]
steps = 100
eval_batches = 0
ckpt_every = 0
threads = 2
INI
t0=$SECONDS
"$SLM" train --config "$W/lora.ini" --out "$W/lora" --quiet 2> "$W/lora.log" || { cat "$W/lora.log"; fail "lora"; }
echo "LoRA took $((SECONDS - t0)) s: $(grep -o 'step 100, loss [0-9.]*' "$W/lora.log")"
"$SLM" export --ckpt "$W/lora" --adapter --out "$W/qa_adapter.gguf" 2>/dev/null || fail "export adapter"
"$SLM" export --ckpt "$W/lora" --out "$W/qa_merged.gguf" 2>/dev/null || fail "export merged"
gen() { "$SLM" generate --temp 0 -n 16 --prompt "$1" "${@:2}" 2>/dev/null | head -c 200 | tr '\n' '|'; }
bad=0
while IFS='|' read -r q a; do
    p=$(printf 'Q: %s\nA:' "$q")
    b=$(gen "$p" --model "$W/base.gguf"); l=$(gen "$p" --model "$W/base.gguf" --lora "$W/qa_adapter.gguf")
    m=$(gen "$p" --model "$W/qa_merged.gguf")
    echo "Q: $q | base: '$b' | +adapter: '$l' | merged: '$m'"
    case "$b" in " $a"*) echo "  base already knew '$a': the test proves nothing"; bad=1;; esac
    case "$l" in " $a|"*) ;; *) echo "  adapter did not reproduce '$a'"; bad=1;; esac
    case "$m" in " $a|"*) ;; *) echo "  merged model did not reproduce '$a'"; bad=1;; esac
done <<QA
What is the capital of Zorbia?|Quillon.
Who painted the blue moon?|Ada Verne.
How many legs has a trell?|Seven.
What colour is a grumfish?|Bright green.
QA
[ $bad -eq 0 ] || fail "LoRA question/answer check"
echo "ok"
