#!/usr/bin/env bash
# tests/e2e/test_model_llamacpp.sh — slm's forward pass against llama.cpp
# (node-llama-cpp).  slm writes small random-weight Llama GGUFs with real
# vocabularies (GQA on; F32 untied, F32 tied, F16 untied, BF16 untied); for each:
#   logits at every position of a 64-token sequence agree (max abs diff
#   <= 1e-3 for F32; F16/BF16 weights are compared looser because llama.cpp
#   rounds the activations to F16/BF16 before those matmuls, slm does not),
#   greedy generations of 32 tokens (slm: KV cache) are identical.
set -u
cd "$(dirname "$0")/../.."
source scripts/env.sh
BUILD=${BUILD:-build}
[ -n "${SLM_SHARED:-}" ] || { echo "skip: SLM_SHARED is empty (no real vocabularies)"; exit 77; }
[ -f "$SLM_NODE_MODULES/node-llama-cpp/package.json" ] || { echo "skip: node-llama-cpp not installed in $SLM_NODE_MODULES"; exit 77; }
MK=$BUILD/tools/mkmodel; ML=$BUILD/tools/model_logits
[ -x $MK ] && [ -x $ML ] || { echo "FAIL: build the test tools first (make $MK $ML)"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
# 64 token ids: BOS then a deterministic spread over the vocabulary
ids() { local V=$1 s="1"; for i in $(seq 1 63); do s="$s $(( (i * 7919 + 13) % (V - 3) + 3 ))"; done; echo "$s"; }

run_case() { # name vocab type tied tol extra-mkmodel-args
    local name=$1 vocab=$2 type=$3 tied=$4 tol=$5; shift 5
    local m=$tmp/$name.gguf V
    $MK --vocab "$SLM_SHARED/vocab/$vocab" --out "$m" --type "$type" --dim 64 --layers 2 \
        --heads 4 --kv-heads 2 --ff 160 --ctx 256 --seed 7 $tied "$@" || { echo "FAIL $name: mkmodel"; fail=1; return; }
    V=$(case $vocab in *gpt-2*) echo 50257;; *) echo 32000;; esac)
    local I P; I=$(ids "$V"); P=$(echo "$I" | cut -d' ' -f1-8)
    local g1 g2 n out
    g1=$($ML --model "$m" --ids "$I" --logits "$tmp/slm.f32" --gen-ids "$P" --gen 32) || { echo "FAIL $name: slm"; fail=1; return; }
    g2=$(node tests/node/ref.mjs --model "$m" --ids "$I" --logits "$tmp/ref.f32" --gen-ids "$P" --gen 32) || { echo "FAIL $name: llama.cpp"; fail=1; return; }
    if out=$($SLM_PYTHON scripts/cmp_f32.py "$tmp/slm.f32" "$tmp/ref.f32" "$tol" "$V"); then
        echo "ok   $name logits: $out"
    else
        echo "FAIL $name logits: $out"; fail=1
    fi
    n=$(echo "$g2" | tr -cd ',' | wc -c)
    if [ "$g1" = "$g2" ] && [ "$n" -ge 1 ]; then echo "ok   $name greedy: $((n + 1)) tokens identical"
    else echo "FAIL $name greedy: slm $g1 vs llama.cpp $g2"; fail=1; fi
}

run_case f32-untied ggml-vocab-llama-spm.gguf f32 "" 1e-3
run_case f32-tied ggml-vocab-gpt-2.gguf f32 --tied 1e-3 --rope-base 500000
run_case f16-untied ggml-vocab-llama-spm.gguf f16 "" 2e-2
run_case bf16-untied ggml-vocab-llama-spm.gguf bf16 "" 1e-1
exit $fail
