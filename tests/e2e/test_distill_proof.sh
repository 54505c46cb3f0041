#!/usr/bin/env bash
# Proof that distillation works (issue: "Proof that it works"), small:
#  1. a teacher (~0.8M parameters, character-level vocabulary) is pretrained
#     with `slm train` on sample text (the license texts of the Debian base
#     system, cut into documents; 10% held out as the val split);
#  2. `slm dump-logits` dumps it with k = 16 over the student's training
#     windows and over the val split;
#  3. the same student (~1/4 of the teacher) is trained twice with `slm
#     distill` on the same sequences, steps and seed: alpha = 0.5 (KD + CE)
#     and alpha = 0 (labels only: exactly cross-entropy, same code path);
#  4. both students are scored on the val split: cross-entropy (slm eval
#     --dump gives CE on the dump's targets) and top-1 agreement with the
#     teacher.  Asserted: distilled CE < label-only CE and distilled top-1 >
#     label-only top-1.  Both numbers are printed.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SLM=${SLM_BIN:-$PWD/$BUILD/slm}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
MKVOCAB=$PWD/$BUILD/tools/mkvocab
[ -x "$MKVOCAB" ] || make -s BUILD="$BUILD" "$BUILD/tools/mkvocab" >/dev/null || exit 1
[ -d /usr/share/common-licenses ] || { echo "skip: /usr/share/common-licenses (text corpus) absent"; exit 77; }
W=$(mktemp -d /tmp/slm_distill_proof.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
TEACHER_STEPS=${TEACHER_STEPS:-200}
STUDENT_STEPS=${STUDENT_STEPS:-150}
STUDENT_SEQS=${STUDENT_SEQS:-48}

"$MKVOCAB" "$W/vocab.gguf" || fail mkvocab
mkdir "$W/docs"
find /usr/share/common-licenses -type f | sort | xargs cat > "$W/all.txt"
split -b 4000 -d -a 3 --additional-suffix=.txt "$W/all.txt" "$W/docs/p"
"$SLM" data prepare --vocab "$W/vocab.gguf" --input "$W/docs" --out "$W/data.h5" \
    --val-fraction 0.1 --seed 3 >/dev/null 2>&1 || fail "data prepare"

common_model() { cat <<INI
[data]
train = $W/data.h5
seq_len = 64
batch = 16
[optim]
lr = 3e-3
warmup = 10
schedule = cosine
weight_decay = 0.01
[train]
seed = 1
eval_every = 1000
eval_batches = 4
ckpt_every = 1000
threads = 2
INI
}
{ common_model; cat <<INI
[model]
mode = pretrain
vocab = $W/vocab.gguf
dim = 128
layers = 4
heads = 4
kv_heads = 2
ffn = 384
INI
} > "$W/teacher.ini"
t0=$SECONDS
"$SLM" train --config "$W/teacher.ini" --set train.steps=$TEACHER_STEPS --quiet --out "$W/t" \
    2> "$W/t.log" || { tail "$W/t.log"; fail "teacher training"; }
"$SLM" export --ckpt "$W/t" --out "$W/teacher.gguf" 2>/dev/null || fail "teacher export"
echo "teacher: $(grep -o '[0-9]* trainable parameters' "$W/t.log"), $(grep -o 'val_loss [0-9.]*' "$W/t.log" | tail -1) after $TEACHER_STEPS steps ($((SECONDS - t0)) s)"

"$SLM" dump-logits --teacher "$W/teacher.gguf" --data "$W/data.h5" --top-k 16 --seq-len 64 \
    --max-seqs $STUDENT_SEQS --out "$W/train_dump.h5" 2>/dev/null || fail "dump train"
"$SLM" dump-logits --teacher "$W/teacher.gguf" --data "$W/data.h5" --split val --top-k 16 \
    --seq-len 64 --out "$W/val_dump.h5" 2>/dev/null || fail "dump val"

# the student training set: the first STUDENT_SEQS windows (those the dump holds)
{ common_model; cat <<INI
[model]
mode = pretrain
vocab = $W/vocab.gguf
dim = 64
layers = 4
heads = 4
kv_heads = 2
ffn = 192
[distill]
dump = $W/train_dump.h5
temperature = 1
INI
} > "$W/student.ini"
for a in 0.5 0; do
    "$SLM" distill --config "$W/student.ini" --set train.steps=$STUDENT_STEPS \
        --set distill.alpha=$a --quiet --out "$W/s$a" 2> "$W/s$a.log" || { tail "$W/s$a.log"; fail "distill alpha=$a"; }
    grep -o '[0-9]* trainable parameters' "$W/s$a.log" | head -1 > "$W/s$a.params"
    "$SLM" eval --model "$W/s$a/student.gguf" --dump "$W/val_dump.h5" --json > "$W/s$a.eval" || fail "eval alpha=$a"
done
"$SLM" eval --model "$W/teacher.gguf" --dump "$W/val_dump.h5" --json > "$W/t.eval" || fail "eval teacher"
get() { sed -n "s/.*\"$2\": \([-0-9.e+]*\).*/\1/p" "$1" | tail -1; }
kd_ce=$(get "$W/s0.5.eval" ce); ce_ce=$(get "$W/s0.eval" ce)
kd_t1=$(get "$W/s0.5.eval" top1); ce_t1=$(get "$W/s0.eval" top1)
kd_kl=$(get "$W/s0.5.eval" kl); ce_kl=$(get "$W/s0.eval" kl)
echo "student: $(cat "$W/s0.params"), $STUDENT_STEPS steps on $STUDENT_SEQS sequences of 64 tokens, seed 1"
echo "teacher on val:          CE $(get "$W/t.eval" ce)  top-1 agreement $(get "$W/t.eval" top1)"
echo "distilled (alpha 0.5):   val CE $kd_ce  top-1 agreement $kd_t1  KL to teacher $kd_kl"
echo "labels only (alpha 0):   val CE $ce_ce  top-1 agreement $ce_t1  KL to teacher $ce_kl"
awk -v a="$kd_ce" -v b="$ce_ce" 'BEGIN { exit !(a < b) }' || fail "distilled val CE $kd_ce is not below label-only $ce_ce"
awk -v a="$kd_t1" -v b="$ce_t1" 'BEGIN { exit !(a > b) }' || fail "distilled top-1 $kd_t1 is not above label-only $ce_t1"
echo "distillation beats labels-only on both (total $((SECONDS - t0)) s)"
