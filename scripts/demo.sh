#!/usr/bin/env bash
# scripts/demo.sh — the whole slm pipeline on data/samples (`make demo`).
#
#   scripts/demo.sh [--quick] [--work DIR] [--keep]
#
# Every step is one plain `slm` command, printed before it runs, so the output
# reads as a tutorial: tokenizer, datasets, pretraining a base model, LoRA
# fine-tuning on the support chats + FAQ, export (merged GGUF and llama.cpp
# adapter), teacher logit dump, distillation into a smaller student,
# quantization (Q8_0, Q4_K_M), evaluation of every stage (perplexity on
# held-out documents, exact match on the held-out FAQ) and a generation for a
# held-out question before and after fine-tuning.  It ends with a table of
# every stage (size, perplexity, accuracy, tokens/s, wall time), also written
# to WORK/summary.txt and WORK/summary.json.
#
#   --work DIR   work directory (default: $SLM_DEMO_DIR or runs/demo); it is
#                emptied first, so a rerun starts clean
#   --quick      tiny sizes and a few steps (about a minute): checks the wiring
#                (tests/e2e/test_demo_quick.sh), learns nothing
#   --keep       do not empty the work directory (training runs then resume)
#
# Sizes are chosen so that the full demo takes about 15 minutes on 2 cores.
set -euo pipefail
{ # parsed whole before it runs: editing this file during a demo cannot derail it

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${SLM_DEMO_DIR:-runs/demo}
QUICK=0 KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1; shift ;;
        --work) WORK=${2:?--work needs a directory}; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "demo: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
command -v jq >/dev/null || { echo "demo: jq is required (make deps installs it)" >&2; exit 2; }
SLM_BIN=${SLM_BIN:-$ROOT/build/slm} # tests/run.sh sets SLM_BIN for other BUILD directories
[ -x "$SLM_BIN" ] || { echo "demo: $SLM_BIN missing: run make first" >&2; exit 2; }
[ "$(basename "$SLM_BIN")" = slm ] || { echo "demo: SLM_BIN must name a file called slm" >&2; exit 2; }
SLM_BIN=$(cd "$(dirname "$SLM_BIN")" && pwd)/slm
export PATH="$(dirname "$SLM_BIN"):$PATH" # `slm` below is this checkout's build
FAQ_EVAL="$ROOT/scripts/faq_eval.sh"

case "$WORK" in /*) ;; *) WORK="$PWD/$WORK" ;; esac
[ "$KEEP" = 1 ] || rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"
ln -sfn "$ROOT/data/samples" samples # commands below read samples/...

# ---- sizes ---------------------------------------------------------------
if [ "$QUICK" = 1 ]; then
    VOCAB=400 DIM=32 LAYERS=2 HEADS=2 KV=1 SEQ=64 BATCH=2
    PRE_STEPS=6 LORA_STEPS=4 DIST_STEPS=4 DUMP_SEQS=16 RANK=4 GEN_TOKENS=6 LORA_LR=2e-3
    FAQ_N=2 HELDOUT_GLOB='ir-100[0-1].md'
else
    VOCAB=1536 DIM=192 LAYERS=4 HEADS=4 KV=2 SEQ=128 BATCH=16
    PRE_STEPS=800 LORA_STEPS=600 DIST_STEPS=200 DUMP_SEQS=400 RANK=32 GEN_TOKENS=24
    FAQ_N=0 HELDOUT_GLOB='ir-10[0-4]*.md' LORA_LR=3e-3
fi
THREADS=${SLM_THREADS:-0}

# ---- helpers ---------------------------------------------------------------
STEP=0
say() { printf '\n\033[1m## %s\033[0m\n' "$*"; }
show() { # print a command the way a user would type it
    local out="$" a
    for a in "$@"; do
        if [[ "$a" =~ ^[A-Za-z0-9_./=:,+@%-]+$ ]]; then out+=" $a"; else out+=" $(printf '%q' "$a")"; fi
    done
    printf '%s\n' "$out"
}
now() { date +%s.%N; }
# CPU_NOW: CPU seconds (user + sys) used so far by the finished child processes
# of this shell (`times`, second line).  `times` must run in this shell, not in
# a $(...) subshell, whose children counters start at zero: hence a variable.
cpu() {
    times >"$WORK/.times"
    CPU_NOW=$(awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] }
                   printf "%.1f", t }' "$WORK/.times")
}
# cpu_since VAR START: VAR = CPU seconds since START (a CPU_NOW value)
cpu_since() { cpu; printf -v "$1" '%s' "$(awk -v a="$2" -v b="$CPU_NOW" 'BEGIN { printf "%.1f", b - a }')"; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
run() { show "$@"; "$@"; }
size_of() { stat -c %s "$1"; }
human() { numfmt --to=iec --suffix=B --format='%.1f' "$1"; }

# rows of the summary table: stage|artifact|bytes|ppl|em|tok/s|wall|cpu
# (cpu: user + sys seconds of the stage's commands, evaluations excluded like wall)
ROWS=()
row() { ROWS+=("$1|$2|$3|$4|$5|$6|$7|$8"); }

# eval_model NAME MODEL [--lora A]: perplexity on held-out text + FAQ exact match.
# Sets PPL, EM, EVAL_TPS (eval tokens / eval seconds).
eval_model() {
    local name=$1 model=$2; shift 2
    local t0 c0 j
    t0=$(now); cpu; c0=$CPU_NOW
    show slm eval --model "$model" "$@" --text heldout.txt --json
    j=$(slm eval --model "$model" "$@" --text heldout.txt --json -t "$THREADS" | tail -1)
    echo "$j"
    local secs; secs=$(elapsed "$t0")
    PPL=$(jq -r '.ppl | . * 100 | round / 100' <<<"$j")
    EVAL_TPS=$(jq -r --argjson s "$secs" '.tokens / $s | round' <<<"$j")
    show "$FAQ_EVAL" --model "$model" "$@" --template chatml heldout_faq.jsonl
    j=$(SLM="$SLM_BIN" "$FAQ_EVAL" --model "$model" "$@" --template chatml \
        --max-tokens "$GEN_TOKENS" heldout_faq.jsonl | tail -1)
    echo "$j"
    EM=$(jq -r '"\(.correct)/\(.total)"' <<<"$j")
    EVAL_WALL=$(awk -v a="$EVAL_WALL" -v b="$(elapsed "$t0")" 'BEGIN { printf "%.1f", a + b }')
    local dc; cpu_since dc "$c0"
    EVAL_CPU=$(awk -v a="$EVAL_CPU" -v b="$dc" 'BEGIN { printf "%.1f", a + b }')
    jq -n --arg stage "$name" --argjson ppl "$PPL" --arg em "$EM" --argjson tps "$EVAL_TPS" \
        '{stage: $stage, heldout_ppl: $ppl, faq_exact_match: $em, eval_tokens_per_s: $tps}' \
        >"eval-$name.json"
}
# train throughput of a run directory: tokens / elapsed of its last metrics line
train_tps() { tail -1 "$1/metrics.jsonl" | jq -r 'if .elapsed > 0 then (.tokens / .elapsed | round) else 0 end'; }
# write RUN/eval.json from eval-*.json files and regenerate RUN/report.html
report() {
    local dir=$1; shift
    jq -s '.' "$@" >"$dir/eval.json"
    run slm report "$dir"
}
ask() { # ask MODEL [--lora A]: greedy answer to the first held-out question
    run slm generate --model "$@" --special --temp 0 -n "$GEN_TOKENS" --prompt "$CHAT_PROMPT"
}

T_ALL=$(now) EVAL_WALL=0 EVAL_CPU=0; cpu; C_ALL=$CPU_NOW
say "slm demo in $WORK ($([ "$QUICK" = 1 ] && echo quick || echo full) mode; $(nproc) cores)"
run slm --version 2>/dev/null || true

# ---- 0. held-out material ----------------------------------------------------
say "0. Held-out data: documents never trained on, FAQ questions never trained on"
# incident reports ir-100x..ir-104x are held out of every training set
HELDOUT_FILES=$(cd samples/docs/incidents && ls $HELDOUT_GLOB | sort)
TRAIN_DOCS=()
while IFS= read -r f; do TRAIN_DOCS+=("$f"); done < <(
    find -L samples/docs -name '*.md' | sort | grep -v -F -f <(sed 's|^|/|' <<<"$HELDOUT_FILES"))
(cd samples/docs/incidents && cat $HELDOUT_FILES) >heldout.txt
if [ "$FAQ_N" -gt 0 ]; then head -n "$FAQ_N" samples/heldout/faq.jsonl >heldout_faq.jsonl
else cp samples/heldout/faq.jsonl heldout_faq.jsonl; fi
echo "heldout.txt: $(wc -w <heldout.txt) words from $(wc -w <<<"$HELDOUT_FILES") incident reports;" \
     "heldout_faq.jsonl: $(wc -l <heldout_faq.jsonl) questions; training documents: ${#TRAIN_DOCS[@]}"
QUESTION=$(head -1 heldout_faq.jsonl | jq -r .prompt)
CHAT_PROMPT=$'<|im_start|>user\n'"$QUESTION"$'<|im_end|>\n<|im_start|>assistant\n'

# ---- 1. tokenizer --------------------------------------------------------------
say "1. Train a byte-level BPE tokenizer (ChatML/Llama-3/Zephyr markers are special tokens)"
t0=$(now); cpu; c0=$CPU_NOW
run slm tokenizer train --input samples/docs --input samples/support_chats.jsonl \
    --input samples/faq.jsonl --vocab-size "$VOCAB" --out vocab.gguf
cpu_since C "$c0"
row "tokenizer" vocab.gguf "$(size_of vocab.gguf)" - - - "$(elapsed "$t0")" "$C"

# ---- 2. datasets -----------------------------------------------------------------
say "2. Tokenize: documents for pretraining, chats + FAQ (ChatML) for fine-tuning"
t0=$(now); cpu; c0=$CPU_NOW
echo "\$ slm data prepare --vocab vocab.gguf --out docs.h5 --input ${TRAIN_DOCS[0]} ...   # ${#TRAIN_DOCS[@]} files: samples/docs without the held-out reports"
slm data prepare --vocab vocab.gguf --out docs.h5 --input "${TRAIN_DOCS[@]}"
run slm data prepare --vocab vocab.gguf --template chatml --out sft.h5 \
    --input samples/faq.jsonl --input samples/support_chats.jsonl
run slm data show --vocab vocab.gguf --template chatml --input samples/faq.jsonl -n 1
cpu_since C "$c0"
row "data prepare" "docs.h5 + sft.h5" "$(( $(size_of docs.h5) + $(size_of sft.h5) ))" - - - "$(elapsed "$t0")" "$C"

# ---- 3. pretraining ----------------------------------------------------------------
say "3. Pretrain a small Llama from scratch on the documents"
cat >pretrain.ini <<EOF
# written by scripts/demo.sh; every key: docs/config.md
[model]
mode = pretrain
vocab = vocab.gguf
dim = $DIM
layers = $LAYERS
heads = $HEADS
kv_heads = $KV
[data]
train = docs.h5
seq_len = $SEQ
batch = $BATCH
[optim]
lr = 2e-3
warmup = $(( PRE_STEPS / 10 ))
min_lr = 2e-4
weight_decay = 0.1
[train]
steps = $PRE_STEPS
eval_every = $(( PRE_STEPS / 5 ))
eval_batches = 4
ckpt_every = 0
threads = $THREADS
log_every = 1
[output]
dir = runs/base
EOF
t0=$(now); cpu; c0=$CPU_NOW
run slm train --config pretrain.ini
run slm export --ckpt runs/base --out base.gguf
T_PRE=$(elapsed "$t0"); cpu_since C_PRE "$c0"
eval_model base base.gguf
row "pretrain" base.gguf "$(size_of base.gguf)" "$PPL" "$EM" "$(train_tps runs/base) train / $EVAL_TPS eval" "$T_PRE" "$C_PRE"
report runs/base eval-base.json

say "   Before fine-tuning: the base model answers a held-out question"
ask base.gguf

# ---- 4. LoRA fine-tuning ------------------------------------------------------------
say "4. LoRA fine-tune the base on the support chats + FAQ (loss on assistant turns only)"
cat >lora.ini <<EOF
# written by scripts/demo.sh; every key: docs/config.md
[model]
mode = lora
base = base.gguf
[lora]
rank = $RANK
alpha = $(( RANK * 2 ))
targets = all
[data]
train = sft.h5
seq_len = $SEQ
batch = $BATCH
[optim]
lr = $LORA_LR
warmup = $(( LORA_STEPS / 10 ))
min_lr = 2e-4
[train]
steps = $LORA_STEPS
eval_every = $(( LORA_STEPS / 5 ))
eval_batches = 4
ckpt_every = 0
threads = $THREADS
[output]
dir = runs/lora
EOF
t0=$(now); cpu; c0=$CPU_NOW
run slm train --config lora.ini
T_LORA=$(elapsed "$t0"); cpu_since C_LORA "$c0"

say "5. Export: a llama.cpp LoRA adapter, and the adapter merged into the base"
t0=$(now); cpu; c0=$CPU_NOW
run slm export --ckpt runs/lora --adapter --out adapter.gguf
run slm export --ckpt runs/lora --out chat.gguf
T_EXPORT=$(elapsed "$t0"); cpu_since C_EXPORT "$c0"
eval_model lora base.gguf --lora adapter.gguf
row "LoRA fine-tune" "adapter.gguf (+base)" "$(size_of adapter.gguf)" "$PPL" "$EM" \
    "$(train_tps runs/lora) train / $EVAL_TPS eval" "$T_LORA" "$C_LORA"
cp eval-lora.json eval-lora-adapter.json
eval_model merged chat.gguf
row "export merged" chat.gguf "$(size_of chat.gguf)" "$PPL" "$EM" "$EVAL_TPS eval" "$T_EXPORT" "$C_EXPORT"
report runs/lora eval-lora-adapter.json eval-merged.json

say "   After fine-tuning: the same held-out question"
ask chat.gguf

# ---- 6. distillation -------------------------------------------------------------------
say "6. Dump the fine-tuned teacher's top-32 log-probs over the chat data"
t0=$(now); cpu; c0=$CPU_NOW
run slm dump-logits --teacher chat.gguf --data sft.h5 --top-k 32 --seq-len "$SEQ" \
    --max-seqs "$DUMP_SEQS" --out teacher.h5
cpu_since C "$c0"
row "teacher dump" teacher.h5 "$(size_of teacher.h5)" - - - "$(elapsed "$t0")" "$C"

say "7. Distill into a student with half the blocks (every 2nd block of the teacher)"
cat >distill.ini <<EOF
# written by scripts/demo.sh; [distill]: docs/distillation.md
[model]
mode = full
base = chat.gguf
[data]
train = sft.h5
seq_len = $SEQ
batch = $BATCH
[optim]
lr = 5e-4
warmup = $(( DIST_STEPS / 10 ))
min_lr = 5e-5
[train]
steps = $DIST_STEPS
eval_every = $(( DIST_STEPS / 4 ))
eval_batches = 4
ckpt_every = 0
threads = $THREADS
[output]
dir = runs/student
[distill]
dump = teacher.h5
alpha = 0.5
temperature = 1
keep_every = 2
EOF
t0=$(now); cpu; c0=$CPU_NOW
run slm distill --config distill.ini
cp runs/student/student.gguf student.gguf
T_DIST=$(elapsed "$t0"); cpu_since C_DIST "$c0"
eval_model student student.gguf
run slm eval --model student.gguf --dump teacher.h5 --json | tail -1 | tee eval-student-kl.json
row "distill student" student.gguf "$(size_of student.gguf)" "$PPL" "$EM" \
    "$(train_tps runs/student) train / $EVAL_TPS eval" "$T_DIST" "$C_DIST"
report runs/student eval-student.json eval-student-kl.json

# ---- 8. quantization ------------------------------------------------------------------
say "8. Quantize the fine-tuned model (llama.cpp types)"
for q in Q8_0 Q4_K_M; do
    lq=$(tr '[:upper:]' '[:lower:]' <<<"$q")
    t0=$(now); cpu; c0=$CPU_NOW
    run slm quantize chat.gguf "chat-$lq.gguf" "$q" --quiet
    T_Q=$(elapsed "$t0"); cpu_since C_Q "$c0"
    eval_model "$lq" "chat-$lq.gguf"
    row "quantize $q" "chat-$lq.gguf" "$(size_of "chat-$lq.gguf")" "$PPL" "$EM" "$EVAL_TPS eval" "$T_Q" "$C_Q"
done
say "   The Q4_K_M model answers the held-out question"
ask chat-q4_k_m.gguf

# ---- summary --------------------------------------------------------------------------
T_TOTAL=$(elapsed "$T_ALL"); cpu_since C_TOTAL "$C_ALL"
rm -f "$WORK/.times"
{
    echo
    echo "slm demo summary ($WORK, $(nproc) cores, total wall ${T_TOTAL}s)"
    echo "perplexity: held-out incident reports (heldout.txt); FAQ: exact match on held-out questions"
    echo "(greedy, case and final '.' ignored); tok/s: training throughput / slm eval throughput"
    echo "wall: elapsed seconds of the stage's commands; cpu: their user + sys seconds (evaluations apart)"
    printf '%-16s %-22s %9s %9s %6s %-22s %8s %8s\n' stage artifact size ppl FAQ tok/s wall cpu
    for r in "${ROWS[@]}"; do
        IFS='|' read -r st art by ppl em tps wall c <<<"$r"
        printf '%-16s %-22s %9s %9s %6s %-22s %7ss %7ss\n' "$st" "$art" "$(human "$by")" "$ppl" "$em" "$tps" "$wall" "$c"
    done
    printf '%-16s %-22s %9s %9s %6s %-22s %7ss %7ss\n' "evaluations" "ppl + FAQ of 6 models" - - - - "$EVAL_WALL" "$EVAL_CPU"
    echo "total: wall ${T_TOTAL}s, cpu ${C_TOTAL}s (a quiet 2-core machine needs about cpu / 1.8 = $(awk -v c="$C_TOTAL" 'BEGIN { printf "%.0f", c / 1.8 }')s of wall)"
} | tee summary.txt
for r in "${ROWS[@]}"; do
    IFS='|' read -r st art by ppl em tps wall c <<<"$r"
    jq -cn --arg st "$st" --arg art "$art" --argjson by "$by" --arg ppl "$ppl" --arg em "$em" \
        --arg tps "$tps" --argjson wall "$wall" --argjson cpu "$c" \
        '{stage: $st, artifact: $art, bytes: $by, heldout_ppl: (if $ppl == "-" then null else ($ppl | tonumber) end),
          faq_exact_match: (if $em == "-" then null else $em end), tokens_per_s: $tps, wall_s: $wall, cpu_s: $cpu}'
done | jq -s --argjson total "$T_TOTAL" --argjson cpu "$C_TOTAL" --argjson ew "$EVAL_WALL" --argjson ec "$EVAL_CPU" \
    '{stages: ., eval_wall_s: $ew, eval_cpu_s: $ec, total_wall_s: $total, total_cpu_s: $cpu}' >summary.json
echo
echo "reports: $WORK/runs/{base,lora,student}/report.html"
exit 0
}
