#!/usr/bin/env bash
# slm train + slm export against llama.cpp (node-llama-cpp):
#  - LoRA (all 7 targets, rsLoRA, so that adapter.lora.alpha = alpha*sqrt(r)
#    matters) trained a few steps on a random base model; exported merged
#    (F32) and as an adapter GGUF.  llama.cpp's logits for the merged model
#    and for base + adapter agree with slm's own forward of the merged model
#    to <= 1e-3 max abs; the adapter moved the logits (> 1e-2) so the check
#    is not vacuous.
#  - plain LoRA (alpha / r) the same way, adapter only.
#  - full fine-tune exported F32: llama.cpp agrees with slm to <= 1e-3 and the
#    weights moved; F16 and BF16 exports load in llama.cpp.
#  - a model pretrained from scratch (tied output) exported F32 agrees too.
set -u
cd "$(dirname "$0")/../.."
source scripts/env.sh
BUILD=${BUILD:-build}
SLM=${SLM_BIN:-$PWD/$BUILD/slm}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
[ -f "$SLM_NODE_MODULES/node-llama-cpp/package.json" ] || { echo "skip: node-llama-cpp not installed in $SLM_NODE_MODULES"; exit 77; }
[ -d /usr/share/common-licenses ] || { echo "skip: /usr/share/common-licenses (text corpus) absent"; exit 77; }
for t in mkvocab mkmodel model_logits; do
    [ -x "$BUILD/tools/$t" ] || make -s BUILD="$BUILD" "$BUILD/tools/$t" >/dev/null || exit 1
done
W=$(mktemp -d /tmp/slm_train_export.XXXXXX)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
TOL=1e-3

"$BUILD/tools/mkvocab" "$W/vocab.gguf" || fail mkvocab
"$BUILD/tools/mkmodel" --vocab "$W/vocab.gguf" --out "$W/base.gguf" --dim 64 --layers 2 --heads 4 \
    --kv-heads 2 --ff 160 --ctx 256 --seed 3 || fail mkmodel
find /usr/share/common-licenses -type f | sort | xargs cat > "$W/all.txt"
head -c 40000 "$W/all.txt" > "$W/text.txt"
V=354
IDS="1"; for i in $(seq 1 47); do IDS="$IDS $(( (i * 37 + 11) % 94 + 260 ))"; done

cat > "$W/lora.ini" <<INI
[model]
mode = lora
base = $W/base.gguf
[lora]
rank = 4
alpha = 8
rslora = true
targets = all
[data]
train = $W/text.txt
seq_len = 32
batch = 4
[optim]
lr = 1e-2
schedule = constant
[train]
steps = 8
eval_every = 0
eval_batches = 1
ckpt_every = 0
threads = 2
INI

logits_slm() { "$BUILD/tools/model_logits" --model "$1" --ids "$IDS" --logits "$2" >/dev/null || fail "slm logits of $1"; }
logits_ref() { node tests/node/ref.mjs --model "$1" --ids "$IDS" --logits "$2" ${3:+--lora "$3"} >/dev/null 2>"$W/node.log" || { cat "$W/node.log"; fail "llama.cpp on $1 ${3:-}"; }; }
cmp_logits() { # a b tol what
    local out; out=$("$SLM_PYTHON" scripts/cmp_f32.py "$1" "$2" "$3" "$V") && echo "ok   $4: $out" || fail "$4: $out"
}
moved() { # a b min what: the max abs diff must exceed min
    "$SLM_PYTHON" -c "
import sys, numpy as np
a=np.fromfile(sys.argv[1],'<f4'); b=np.fromfile(sys.argv[2],'<f4'); d=float(np.abs(a-b).max())
print('     %s: training moved the logits by up to %.3g' % (sys.argv[4], d)); sys.exit(0 if d > float(sys.argv[3]) else 1)" "$1" "$2" "$3" "$4" || fail "$4: logits did not move"
}

logits_slm "$W/base.gguf" "$W/base_slm.f32"

# rsLoRA: merged and adapter
"$SLM" train --config "$W/lora.ini" --out "$W/rs" --quiet 2>"$W/rs.log" || { cat "$W/rs.log"; fail "lora train"; }
"$SLM" export --ckpt "$W/rs" --out "$W/rs_merged.gguf" 2>/dev/null || fail "export merged"
"$SLM" export --ckpt "$W/rs" --out "$W/rs_adapter.gguf" --adapter 2>/dev/null || fail "export adapter"
"$SLM_PYTHON" - "$W/rs_adapter.gguf" <<'PY' || fail "adapter metadata"
import sys, struct, math
b = open(sys.argv[1], "rb").read()
assert b[:4] == b"GGUF"
for key, want in ((b"general.type", b"adapter"), (b"adapter.type", b"lora")):
    i = b.index(key) + len(key)
    (t,) = struct.unpack_from("<I", b, i); (n,) = struct.unpack_from("<Q", b, i + 4)
    assert t == 8 and b[i + 12:i + 12 + n] == want, (key, b[i + 12:i + 12 + n])
i = b.index(b"adapter.lora.alpha") + len(b"adapter.lora.alpha")
(t,) = struct.unpack_from("<I", b, i); (a,) = struct.unpack_from("<f", b, i + 4)
assert t == 6 and abs(a - 8 * math.sqrt(4)) < 1e-5, a  # rsLoRA: alpha * sqrt(r)
assert b.count(b".lora_a") == 14 and b.count(b".lora_b") == 14  # 7 targets x 2 layers
print("     adapter: general.type=adapter, adapter.lora.alpha=%g (= 8*sqrt(4)), 14 A/B pairs" % a)
PY
logits_slm "$W/rs_merged.gguf" "$W/rs_slm.f32"
moved "$W/base_slm.f32" "$W/rs_slm.f32" 1e-2 "rsLoRA"
logits_ref "$W/rs_merged.gguf" "$W/rs_ref_merged.f32"
cmp_logits "$W/rs_slm.f32" "$W/rs_ref_merged.f32" $TOL "rsLoRA merged, llama.cpp vs slm"
logits_ref "$W/base.gguf" "$W/rs_ref_adapter.f32" "$W/rs_adapter.gguf"
cmp_logits "$W/rs_slm.f32" "$W/rs_ref_adapter.f32" $TOL "rsLoRA base+adapter in llama.cpp vs slm merged"

# plain LoRA (alpha / r), q,v only: adapter in llama.cpp vs slm merged
"$SLM" train --config "$W/lora.ini" --out "$W/pl" --quiet --set lora.rslora=false --set lora.targets=q,v 2>"$W/pl.log" || { cat "$W/pl.log"; fail "plain lora train"; }
"$SLM" export --ckpt "$W/pl" --out "$W/pl_merged.gguf" 2>/dev/null || fail "export merged (plain)"
"$SLM" export --ckpt "$W/pl" --out "$W/pl_adapter.gguf" --adapter 2>/dev/null || fail "export adapter (plain)"
logits_slm "$W/pl_merged.gguf" "$W/pl_slm.f32"
moved "$W/base_slm.f32" "$W/pl_slm.f32" 1e-2 "LoRA q,v"
logits_ref "$W/base.gguf" "$W/pl_ref_adapter.f32" "$W/pl_adapter.gguf"
cmp_logits "$W/pl_slm.f32" "$W/pl_ref_adapter.f32" $TOL "LoRA q,v base+adapter in llama.cpp vs slm merged"

# full fine-tune
"$SLM" train --config "$W/lora.ini" --out "$W/full" --quiet --set model.mode=full --set optim.lr=1e-3 2>"$W/full.log" || { cat "$W/full.log"; fail "full train"; }
"$SLM" export --ckpt "$W/full" --out "$W/full.gguf" 2>/dev/null || fail "export full"
logits_slm "$W/full.gguf" "$W/full_slm.f32"
moved "$W/base_slm.f32" "$W/full_slm.f32" 1e-2 "full fine-tune"
logits_ref "$W/full.gguf" "$W/full_ref.f32"
cmp_logits "$W/full_slm.f32" "$W/full_ref.f32" $TOL "full fine-tune F32, llama.cpp vs slm"
for ty in F16 BF16; do
    "$SLM" export --ckpt "$W/full" --out "$W/full_$ty.gguf" --type $ty 2>/dev/null || fail "export $ty"
    logits_ref "$W/full_$ty.gguf" "$W/full_ref_$ty.f32"
    cmp_logits "$W/full_slm.f32" "$W/full_ref_$ty.f32" 0.1 "full fine-tune $ty loads in llama.cpp (loose: half-precision weights)"
done

# pretraining from scratch (tied output, GQA): the export loads in llama.cpp and agrees
"$SLM" train --config "$W/lora.ini" --out "$W/pre" --quiet --set model.mode=pretrain \
    --set "model.vocab=$W/vocab.gguf" --set model.dim=64 --set model.heads=4 --set model.kv_heads=2 \
    --set model.layers=2 --set optim.lr=3e-3 2>"$W/pre.log" || { cat "$W/pre.log"; fail "pretrain"; }
"$SLM" export --ckpt "$W/pre" --out "$W/pre.gguf" 2>/dev/null || fail "export pretrain"
logits_slm "$W/pre.gguf" "$W/pre_slm.f32"
logits_ref "$W/pre.gguf" "$W/pre_ref.f32"
cmp_logits "$W/pre_slm.f32" "$W/pre_ref.f32" $TOL "pretrained (tied) F32, llama.cpp vs slm"

# refusals: adapter from a full checkpoint; a different base
"$SLM" export --ckpt "$W/full" --out "$W/x.gguf" --adapter 2>"$W/r.log"; [ $? -eq 2 ] || fail "--adapter on a full checkpoint not refused"
"$SLM" export --ckpt "$W/rs" --base "$W/full.gguf" --out "$W/x.gguf" 2>"$W/r.log"; [ $? -eq 2 ] && grep -q SHA-256 "$W/r.log" || fail "other base not refused"
[ ! -e "$W/x.gguf" ] || fail "refused export left a file"
echo "ok"
