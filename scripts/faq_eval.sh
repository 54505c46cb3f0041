#!/usr/bin/env bash
# scripts/faq_eval.sh — exact-match accuracy of a model on prompt/completion JSONL.
#
#   scripts/faq_eval.sh --model M.gguf [--lora A.gguf] [--template chatml|none]
#                       [--max-tokens N] [--verbose] FILE.jsonl
#
# For every line {"prompt": P, "completion": C} of FILE it runs
#   slm generate --model M.gguf --prompt P' --temp 0 --special --json
# (greedy; P' is P wrapped in the chat template when --template chatml, as
# `slm data prepare --template chatml` formats a prompt/completion record),
# cuts the answer at the first end of turn (<|im_end|>, </s>) or newline, and
# compares it with C.  Comparison: leading/trailing white space removed,
# case folded, one trailing '.' removed, runs of white space collapsed
# ("The answer." == "the answer").  The last stdout line is JSON:
#   {"correct": k, "total": n, "accuracy": k/n, "tokens": generated tokens, "seconds": wall}
# Exit 2 on bad usage or an unreadable/invalid file.
set -euo pipefail

die() { echo "faq_eval: $*" >&2; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SLM=${SLM:-$ROOT/slm}
model="" lora="" template=none max_tokens=24 verbose=0 file=""
while [ $# -gt 0 ]; do
    case "$1" in
        --model) model=${2:?}; shift 2 ;;
        --lora) lora=${2:?}; shift 2 ;;
        --template) template=${2:?}; shift 2 ;;
        --max-tokens) max_tokens=${2:?}; shift 2 ;;
        --verbose|-v) verbose=1; shift ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) [ -z "$file" ] || die "one JSONL file expected, got '$file' and '$1'"; file=$1; shift ;;
    esac
done
[ -n "$model" ] && [ -n "$file" ] || die "--model and a JSONL file are required (see --help)"
[ -r "$file" ] || die "$file: cannot read"
[ -r "$model" ] || die "$model: cannot read"
case "$template" in chatml|none) ;; *) die "--template must be chatml or none, not '$template'" ;; esac
command -v jq >/dev/null || die "jq is required (apt-get install jq)"

norm() { # stdin -> normalized answer on stdout
    tr -s '[:space:]' ' ' | sed -e 's/^ *//' -e 's/ *$//' -e 's/\.$//' | tr '[:upper:]' '[:lower:]'
}

correct=0 total=0 tokens=0 lineno=0
t0=$(date +%s.%N)
args=(--model "$model" --temp 0 --special --json -n "$max_tokens")
[ -n "$lora" ] && args+=(--lora "$lora")
while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    [ -n "${line//[[:space:]]/}" ] || continue
    prompt=$(jq -er '.prompt | strings' <<<"$line" 2>/dev/null) ||
        die "$file:$lineno: no string field \"prompt\" (expected {\"prompt\": ..., \"completion\": ...})"
    want=$(jq -er '.completion | strings' <<<"$line" 2>/dev/null) ||
        die "$file:$lineno: no string field \"completion\""
    if [ "$template" = chatml ]; then
        prompt=$'<|im_start|>user\n'"$prompt"$'<|im_end|>\n<|im_start|>assistant\n'
    fi
    out=$("$SLM" generate "${args[@]}" --prompt "$prompt" 2>/dev/null) ||
        die "$file:$lineno: slm generate failed (run it by hand: $SLM generate ${args[*]} --prompt ...)"
    got=$(jq -r '.text' <<<"$out")
    tokens=$((tokens + $(jq '.ids | length' <<<"$out")))
    got=${got%%<|im_end|>*}
    got=${got%%</s>*}
    got=${got#$'\n'}
    got=${got%%$'\n'*}
    total=$((total + 1))
    ok=0
    [ "$(norm <<<"$got")" = "$(norm <<<"$want")" ] && ok=1 && correct=$((correct + 1))
    if [ "$verbose" = 1 ]; then
        printf '%s %s\n    want:%s\n    got: %s\n' "$([ $ok = 1 ] && echo PASS || echo FAIL)" \
            "$(jq -r '.prompt' <<<"$line" | head -1)" "$want" "$got" >&2
    fi
done <"$file"
[ "$total" -gt 0 ] || die "$file: no records"
t1=$(date +%s.%N)
jq -cn --argjson c "$correct" --argjson n "$total" --argjson tok "$tokens" \
    --argjson s "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" \
    '{correct: $c, total: $n, accuracy: ($c / $n), tokens: $tok, seconds: $s}'
