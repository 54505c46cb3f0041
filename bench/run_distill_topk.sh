#!/usr/bin/env bash
# Top-k logit dumps of a TRAINED teacher (issue 6): storage per token and
# KD quality for k = 8, 32, 128 in float16 and float32.
#  1. a teacher (llama-spm vocabulary of 32000 tokens, dim 128, 2 blocks;
#     ~4.5M parameters, most of them the tied embedding) is pretrained
#     TEACHER_STEPS steps on the license texts of the Debian base system
#     (/usr/share/common-licenses, 60 documents, 10% held out as val);
#  2. `slm dump-logits` dumps it with k = 128 in float32 over the first SEQS
#     training windows of T = 128 tokens, and over the val windows;
#  3. bench/dump_size rewrites the training dump for k = 8, 32, 128 in f16
#     and f32 with several storage choices (format version 2 = uint16 ids,
#     version 1 = int32 ids, deflate levels, chunk size, shuffle) and prints
#     bytes per token; the default variants are kept as complete dumps;
#  4. the same student (dim 64, 2 blocks, from scratch, same seed, data and
#     steps) is distilled STUDENT_STEPS steps from each of the six dumps
#     (alpha = 0.5, T = 1) and once on the labels alone (alpha = 0), plus
#     one more seed of k = 128 f32 to show the seed noise; every student is
#     scored on the val dump (k = 128 f32): cross-entropy on the val tokens,
#     KL(teacher || student) over the 128 stored ids + tail bucket, and top-1
#     agreement with the teacher.
# Caveat: a teacher trained for a minute on 55k tokens is far weaker (more
# unigram-like) than a real one, so its top-k ids repeat more and compress
# better than a real model's would; bench/run_distill.sh measures the other
# extreme (a random-weight 110M teacher, nearly incompressible ids).
set -u
cd "$(dirname "$0")/.."
source scripts/env.sh
BUILD=${BUILD:-build}
SLM=${SLM_BIN:-$PWD/$BUILD/slm}
TEACHER_STEPS=${TEACHER_STEPS:-150}
STUDENT_STEPS=${STUDENT_STEPS:-80}
SEQS=${SEQS:-96}
STUDENT_BATCH=${STUDENT_BATCH:-8}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
[ -n "$SLM_SHARED" ] || { echo "skip: SLM_SHARED empty (needs the llama-spm vocabulary)"; exit 0; }
[ -d /usr/share/common-licenses ] || { echo "skip: /usr/share/common-licenses (text corpus) absent"; exit 0; }
[ -x "$BUILD/bench/dump_size" ] || make -s BUILD="$BUILD" "$BUILD/bench/dump_size" >/dev/null ||
    { echo "cannot build bench/dump_size"; exit 1; }
W=$(mktemp -d /tmp/slm_bench_topk.XXXXXX)
trap 'rm -rf "$W"' EXIT
VOCAB=$SLM_SHARED/vocab/ggml-vocab-llama-spm.gguf
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
t_start=$SECONDS

mkdir "$W/docs"
find /usr/share/common-licenses -type f | sort | xargs cat > "$W/all.txt" 2>/dev/null
split -b 4000 -d -a 3 --additional-suffix=.txt "$W/all.txt" "$W/docs/p"
"$SLM" data prepare --vocab "$VOCAB" --input "$W/docs" --out "$W/data.h5" --val-fraction 0.1 \
    --seed 3 >/dev/null 2>&1 || { echo "data prepare failed"; exit 1; }

common() { cat <<INI
[data]
train = $W/data.h5
seq_len = 128
batch = 8
[optim]
lr = 3e-3
warmup = 10
schedule = cosine
weight_decay = 0.01
[train]
seed = 1
eval_every = 100000
eval_batches = 4
ckpt_every = 100000
threads = 2
INI
}
{ common; cat <<INI
[model]
mode = pretrain
vocab = $VOCAB
dim = 128
layers = 2
heads = 4
kv_heads = 2
ffn = 384
INI
} > "$W/teacher.ini"
t0=$SECONDS
"$SLM" train --config "$W/teacher.ini" --set train.steps="$TEACHER_STEPS" --quiet --out "$W/t" \
    2> "$W/t.log" || { tail "$W/t.log"; echo "teacher training failed"; exit 1; }
"$SLM" export --ckpt "$W/t" --out "$W/teacher.gguf" >/dev/null 2>&1 || { echo "export failed"; exit 1; }
echo "== teacher: $(grep -o '[0-9]* trainable parameters' "$W/t.log" | head -1), $TEACHER_STEPS steps" \
    "of 8 x 128 tokens, $(grep -o 'val_loss [0-9.]*' "$W/t.log" | tail -1) ($((SECONDS - t0)) s)"

"$SLM" dump-logits --teacher "$W/teacher.gguf" --data "$W/data.h5" --top-k 128 --dtype f32 \
    --seq-len 128 --max-seqs "$SEQS" --out "$W/k128_full.h5" >/dev/null 2>&1 || { echo "dump train failed"; exit 1; }
"$SLM" dump-logits --teacher "$W/teacher.gguf" --data "$W/data.h5" --split val --top-k 128 \
    --dtype f32 --seq-len 128 --out "$W/val.h5" >/dev/null 2>&1 || { echo "dump val failed"; exit 1; }
"$SLM" info "$W/k128_full.h5" | grep -E "mean tail|sequences"

echo
echo "== dump size per token, trained teacher (T=128, $SEQS sequences; entries = /topk_ids + /topk_logprobs)"
mkdir "$W/sizes"
"$BUILD/bench/dump_size" "$W/k128_full.h5" "$W/sizes" 8,32,128 keep || { echo "dump_size failed"; exit 1; }

echo
echo "== KD quality: the same student (dim 64, 2 blocks) distilled $STUDENT_STEPS steps of $STUDENT_BATCH x 128 tokens from each dump (alpha 0.5, T 1);"
echo "   scored on the val split ($(cut -d' ' -f1 <<<"$("$SLM" info "$W/val.h5" | sed -n 's/.*sequences *//p')") windows of 128) against the teacher's k=128 f32 val dump"
{ common; cat <<INI
[model]
mode = pretrain
vocab = $VOCAB
dim = 64
layers = 2
heads = 4
kv_heads = 2
ffn = 192
[distill]
alpha = 0.5
temperature = 1
INI
} > "$W/student.ini"
get() { sed -n "s/.*\"$2\": *\([-0-9.e+na]*\).*/\1/p" "$1" | tail -1; }
printf "%-22s %9s %9s %9s %7s\n" "student" "val CE" "KL" "top-1" "time"
run_student() { # name dump extra-set...
    local name=$1 dump=$2; shift 2
    local t0=$SECONDS
    "$SLM" distill --config "$W/student.ini" --set distill.dump="$dump" \
        --set train.steps="$STUDENT_STEPS" --set data.batch="$STUDENT_BATCH" "$@" --quiet --out "$W/s_$name" > "$W/s_$name.log" 2>&1 ||
        { tail -3 "$W/s_$name.log"; echo "distill $name failed"; return 1; }
    "$SLM" eval --model "$W/s_$name/student.gguf" --dump "$W/val.h5" --json > "$W/s_$name.eval" 2>/dev/null ||
        { echo "eval $name failed"; return 1; }
    printf "%-22s %9.4f %9.4f %9.4f %6ds\n" "$name" "$(get "$W/s_$name.eval" ce)" \
        "$(get "$W/s_$name.eval" kl)" "$(get "$W/s_$name.eval" top1)" $((SECONDS - t0))
}
for k in 8 32 128; do
    for dt in f16 f32; do
        run_student "k=$k $dt" "$W/sizes/k${k}_$dt.h5" || exit 1
    done
done
run_student "k=128 f32 seed 2" "$W/sizes/k128_f32.h5" --set train.seed=2 || exit 1
run_student "labels only (alpha 0)" "$W/sizes/k8_f32.h5" --set distill.alpha=0 || exit 1
"$SLM" eval --model "$W/teacher.gguf" --dump "$W/val.h5" --json > "$W/t.eval" 2>/dev/null
printf "%-22s %9.4f %9.4f %9.4f\n" "(teacher)" "$(get "$W/t.eval" ce)" "$(get "$W/t.eval" kl)" \
    "$(get "$W/t.eval" top1)"
echo "total $((SECONDS - t_start)) s; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
