#!/usr/bin/env bash
# tests/e2e/test_model_cli.sh — `slm eval` and `slm generate` against
# llama.cpp (node-llama-cpp) on a small random-weight model with a real
# vocabulary: eval's token count and mean NLL equal llama.cpp's per-token
# log-probs over the same windows (ctx 16 and whole text, with and without
# BOS), ppl = exp(nll); greedy `slm generate` equals llama.cpp's greedy
# continuation of the same prompt; seeded sampling repeats; usage errors
# exit 2.
set -u
cd "$(dirname "$0")/../.."
source scripts/env.sh
BUILD=${BUILD:-build}
SLM=${SLM_BIN:-$PWD/$BUILD/slm}
[ -n "${SLM_SHARED:-}" ] || { echo "skip: SLM_SHARED is empty (no real vocabularies)"; exit 77; }
[ -f "$SLM_NODE_MODULES/node-llama-cpp/package.json" ] || { echo "skip: node-llama-cpp not installed in $SLM_NODE_MODULES"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
NLL_TOL=1e-4   # mean NLL, nats: float32 logits on both sides
m=$tmp/m.gguf
$BUILD/tools/mkmodel --vocab "$SLM_SHARED/vocab/ggml-vocab-llama-spm.gguf" --out $m --dim 64 \
    --layers 2 --heads 4 --kv-heads 2 --ff 160 --ctx 64 --seed 3 || { echo "FAIL: mkmodel"; exit 1; }
cat > $tmp/t.txt <<'TXT'
The quick brown fox jumps over the lazy dog. Über die Brücke gehen 42 Leute!
int main(void) { return 0; }  // code too, and some more words to make the text
long enough for three windows of sixteen tokens and one that is shorter.
TXT

check_eval() { # label slm-args ref-args
    local label=$1 a=$2 b=$3 s r
    s=$($SLM eval --model $m --text $tmp/t.txt $a --json | tail -1) || { echo "FAIL eval $label: slm exit"; fail=1; return; }
    r=$(node tests/node/ref.mjs --model $m --ids-text $tmp/t.txt $b) || { echo "FAIL eval $label: ref"; fail=1; return; }
    if $SLM_PYTHON - "$s" "$r" "$NLL_TOL" <<'PY'
import json, math, sys
s, r, tol = json.loads(sys.argv[1]), json.loads(sys.argv[2]), float(sys.argv[3])
ok = s["tokens"] == r["tokens"] and abs(s["nll"] - r["nll"]) <= tol \
     and abs(s["ppl"] - math.exp(s["nll"])) <= 1e-8 * s["ppl"]
print(f'slm {s} llama.cpp {r}')
sys.exit(0 if ok else 1)
PY
    then echo "ok   eval $label"; else echo "FAIL eval $label"; fail=1; fi
}
check_eval "ctx 16" "--ctx 16" "--nll-ctx 16"
check_eval "ctx 16 bos" "--ctx 16 --bos" "--bos --nll-ctx 16"
check_eval "model ctx (64)" "" "--nll-ctx 64"

P="Once upon a time"
g1=$($SLM generate --model $m --prompt "$P" --temp 0 --max-tokens 24 --json | tail -1)
g2=$(node tests/node/ref.mjs --model $m --gen-prompt "$P" --gen 24)
i1=$(echo "$g1" | $SLM_PYTHON -c 'import json,sys; print(json.load(sys.stdin)["ids"])')
i2=$(echo "$g2" | $SLM_PYTHON -c 'import json,sys; print(json.load(sys.stdin)["ids"])')
if [ "$i1" = "$i2" ] && [ "$i1" != "[]" ]; then echo "ok   generate greedy = llama.cpp ($i1)"
else echo "FAIL generate greedy: slm $i1 vs llama.cpp $i2"; fail=1; fi

# text mode, stdout and stderr on one pipe: the text ends with its own newline,
# so the stderr summary is a line of its own (the last one)
$SLM generate --model $m --prompt "$P" --temp 0 --max-tokens 8 >$tmp/both.txt 2>&1
last=$(tail -n 1 $tmp/both.txt)
if [[ "$last" == "slm generate: "*" prompt tokens, 8 generated, seed "* ]] && [ "$(wc -l <$tmp/both.txt)" -ge 2 ]; then
    echo "ok   generate text ends with a newline before the stderr summary"
else echo "FAIL generate text/summary on one pipe:"; cat -A $tmp/both.txt; fail=1; fi

s1=$($SLM generate --model $m --prompt "$P" --temp 1 --top-k 50 --top-p 0.9 --seed 5 --max-tokens 16 --json | tail -1)
s2=$($SLM generate --model $m --prompt "$P" --temp 1 --top-k 50 --top-p 0.9 --seed 5 --max-tokens 16 --json | tail -1)
s3=$($SLM generate --model $m --prompt "$P" --temp 1 --top-k 50 --top-p 0.9 --seed 6 --max-tokens 16 --json | tail -1)
if [ "$s1" = "$s2" ] && [ "$s1" != "$s3" ]; then echo "ok   seeded sampling repeats, other seed differs"
else echo "FAIL seeded sampling: $s1 / $s2 / $s3"; fail=1; fi

expect_rc() { local want=$1; shift; "$@" >/dev/null 2>$tmp/err; local rc=$?
    if [ $rc -eq $want ]; then echo "ok   exit $rc: $*"; else echo "FAIL exit $rc (want $want): $*"; cat $tmp/err; fail=1; fi; }
expect_rc 0 $SLM eval --help
expect_rc 0 $SLM generate --help
expect_rc 2 $SLM eval --model $m --text $tmp/t.txt --bogus
expect_rc 2 $SLM eval --model $m
expect_rc 2 $SLM generate --model $m --prompt x --max-tokens -1
head -c 1000 $m > $tmp/trunc.gguf
expect_rc 2 $SLM eval --model $tmp/trunc.gguf --text $tmp/t.txt
expect_rc 2 $SLM generate --model $SLM_SHARED/vocab/ggml-vocab-gpt-2.gguf --prompt x
exit $fail
