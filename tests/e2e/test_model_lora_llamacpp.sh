#!/usr/bin/env bash
# tests/e2e/test_model_lora_llamacpp.sh — a llama.cpp LoRA adapter GGUF
# (random, B != 0, alpha != r, every target) applied by slm (merged into the
# weights) and by llama.cpp (--lora, unmerged): logits at every position of a
# 64-token sequence agree to 1e-3 and differ from the base model's; greedy
# generations are identical; `slm eval --lora` equals llama.cpp's NLL.
set -u
cd "$(dirname "$0")/../.."
source scripts/env.sh
BUILD=${BUILD:-build}
SLM=${SLM_BIN:-$PWD/$BUILD/slm}
TOL=1e-3
[ -n "${SLM_SHARED:-}" ] || { echo "skip: SLM_SHARED is empty (no real vocabularies)"; exit 77; }
[ -f "$SLM_NODE_MODULES/node-llama-cpp/package.json" ] || { echo "skip: node-llama-cpp not installed in $SLM_NODE_MODULES"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
$BUILD/tools/mkmodel --vocab "$SLM_SHARED/vocab/ggml-vocab-llama-spm.gguf" --out $tmp/m.gguf \
    --dim 64 --layers 2 --heads 4 --kv-heads 2 --ff 160 --seed 21 || exit 1
$BUILD/tools/mkadapter --model $tmp/m.gguf --out $tmp/a.gguf --rank 4 --alpha 8 --seed 3 || exit 1
I="1"; for i in $(seq 1 63); do I="$I $(( (i * 7919 + 13) % 31997 + 3 ))"; done
P=$(echo "$I" | cut -d' ' -f1-8)
g1=$($BUILD/tools/model_logits --model $tmp/m.gguf --lora $tmp/a.gguf --ids "$I" --logits $tmp/s.f32 --gen-ids "$P" --gen 32 2>/dev/null) || { echo "FAIL: slm"; exit 1; }
g2=$(node tests/node/ref.mjs --model $tmp/m.gguf --lora $tmp/a.gguf --ids "$I" --logits $tmp/r.f32 --gen-ids "$P" --gen 32) || { echo "FAIL: llama.cpp"; exit 1; }
$BUILD/tools/model_logits --model $tmp/m.gguf --ids "$I" --logits $tmp/base.f32 || exit 1
if out=$($SLM_PYTHON scripts/cmp_f32.py $tmp/s.f32 $tmp/r.f32 $TOL 32000); then echo "ok   adapter logits: $out"
else echo "FAIL adapter logits: $out"; fail=1; fi
if out=$($SLM_PYTHON scripts/cmp_f32.py $tmp/s.f32 $tmp/base.f32 0.1 32000); then echo "FAIL: the adapter does not change the logits ($out)"; fail=1
else echo "ok   the adapter changes the logits: $out"; fi
if [ "$g1" = "$g2" ]; then echo "ok   greedy with adapter identical: $g1"; else echo "FAIL greedy: slm $g1 vs llama.cpp $g2"; fail=1; fi
printf 'A short text about adapters, perplexity and windows of tokens.\n' > $tmp/t.txt
s=$($SLM eval --model $tmp/m.gguf --lora $tmp/a.gguf --text $tmp/t.txt --json 2>/dev/null | tail -1)
r=$(node tests/node/ref.mjs --model $tmp/m.gguf --lora $tmp/a.gguf --ids-text $tmp/t.txt --nll-ctx 256)
if $SLM_PYTHON -c 'import json,sys; s,r=json.loads(sys.argv[1]),json.loads(sys.argv[2]); sys.exit(0 if s["tokens"]==r["tokens"] and abs(s["nll"]-r["nll"])<=1e-4 else 1)' "$s" "$r"
then echo "ok   eval --lora: slm $s, llama.cpp $r"; else echo "FAIL eval --lora: slm $s, llama.cpp $r"; fail=1; fi
exit $fail
