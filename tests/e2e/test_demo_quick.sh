#!/usr/bin/env bash
# scripts/demo.sh --quick: the whole pipeline wired end to end on tiny sizes
# (tokenizer, datasets, pretrain, LoRA, export merged + adapter, logit dump,
# distillation, Q8_0 / Q4_K_M, evaluations, reports).  Checks every stage row
# of summary.json against the files on disk and the evaluation outputs.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v jq >/dev/null || { echo "SKIP: jq missing"; exit 77; }
W=$(mktemp -d /tmp/slm-demo.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
echo stale >"$W/stale.txt" # the demo starts from an empty work directory
SLM_THREADS=2 bash "$ROOT/scripts/demo.sh" --quick --work "$W" >"$W.log" 2>&1 || { tail -30 "$W.log"; rm -f "$W.log"; fail "demo --quick failed"; }
log=$(cat "$W.log"); rm -f "$W.log"
[ ! -e "$W/stale.txt" ] || fail "the work directory was not emptied"
S="$W/summary.json"
jq -e . "$S" >/dev/null || fail "summary.json is not JSON"
want="tokenizer|data prepare|pretrain|LoRA fine-tune|export merged|teacher dump|distill student|quantize Q8_0|quantize Q4_K_M"
[ "$(jq -r '[.stages[].stage] | join("|")' "$S")" = "$want" ] || fail "stages: $(jq -c '[.stages[].stage]' "$S")"
for f in vocab.gguf base.gguf adapter.gguf chat.gguf teacher.h5 student.gguf chat-q8_0.gguf chat-q4_k_m.gguf; do
    [ -s "$W/$f" ] || fail "$f missing"
done
# sizes in the table are the files' sizes
for a in base.gguf chat.gguf student.gguf chat-q8_0.gguf chat-q4_k_m.gguf teacher.h5; do
    [ "$(jq --arg a "$a" '.stages[] | select(.artifact == $a) | .bytes' "$S")" = "$(stat -c %s "$W/$a")" ] ||
        fail "size of $a in summary.json differs from the file"
done
# the Q4_K_M file is smaller than Q8_0, which is smaller than F32
[ "$(stat -c %s "$W/chat-q4_k_m.gguf")" -lt "$(stat -c %s "$W/chat-q8_0.gguf")" ] &&
    [ "$(stat -c %s "$W/chat-q8_0.gguf")" -lt "$(stat -c %s "$W/chat.gguf")" ] || fail "quantized sizes not ordered"
# perplexities: the table's value is the eval of that model on heldout.txt
ppl=$("${SLM_BIN:-$ROOT/build/slm}" eval --model "$W/chat-q8_0.gguf" --text "$W/heldout.txt" --json -t 2 2>/dev/null | tail -1 | jq '.ppl * 100 | round / 100')
[ "$(jq '.stages[] | select(.stage == "quantize Q8_0") | .heldout_ppl' "$S")" = "$ppl" ] || fail "Q8_0 ppl in the table != slm eval ($ppl)"
jq -e '[.stages[] | select(.heldout_ppl != null) | .heldout_ppl > 1 and .heldout_ppl < 1e6] | all and length == 6' "$S" >/dev/null ||
    fail "perplexities: $(jq -c '[.stages[].heldout_ppl]' "$S")"
n=$(wc -l <"$W/heldout_faq.jsonl")
jq -e --arg n "$n" '[.stages[] | select(.faq_exact_match != null) | .faq_exact_match | test("^[0-9]+/" + $n + "$")] | all and length == 6' "$S" >/dev/null ||
    fail "FAQ column: $(jq -c '[.stages[].faq_exact_match]' "$S")"
for r in base lora student; do
    [ -s "$W/runs/$r/report.html" ] || fail "runs/$r/report.html missing"
    grep -q "<svg" "$W/runs/$r/report.html" || fail "runs/$r/report.html has no curve"
    jq -e 'length >= 1' "$W/runs/$r/eval.json" >/dev/null || fail "runs/$r/eval.json"
done
# tutorial style: every step printed as a plain slm command before it runs
for c in "slm tokenizer train" "slm data prepare" "slm train --config pretrain.ini" "slm export --ckpt runs/lora --adapter" \
         "slm dump-logits" "slm distill --config distill.ini" "slm quantize chat.gguf chat-q4_k_m.gguf Q4_K_M" "slm generate"; do
    grep -q "^\\$ $c" <<<"$log" || fail "command '$c' not printed"
done
echo "ok: demo --quick, $(jq .total_wall_s "$S") s"
