#!/usr/bin/env bash
# tests/e2e/test_quant_hessian.sh — error-feedback quantization end to end
# (slm imatrix --hessian, slm quantize --hessian), on small random Llama
# models with the real llama-spm vocabulary:
#  1. `slm imatrix --hessian` writes a GGUF of general.type slm.hessian with
#     one in_cov entry per distinct input: untied model 4 per layer + output
#     + token_embd (its sensitivity matrix), tied model 4 per layer + the
#     output one (named token_embd); read back by an own numpy GGUF parser,
#     every in_cov is square, symmetric, positive semi-definite, its counts
#     equal the calibration tokens, and its diagonal equals the in_sum2 of the
#     imatrix file for the same weight and for its siblings (q/k/v,
#     gate/up): a cross-check of the two accumulators (double sums of
#     squares vs float sgemm chunks; the activations are the same forward
#     pass, so this does not check the activations themselves);
#  2. Q4_K_M and Q3_K_M made with --imatrix and --hessian load in llama.cpp
#     (node-llama-cpp), whose logits agree with slm's own evaluation of the
#     same file within QTOL (as test_quant_llamacpp.sh), and their per-tensor
#     type lists (slm info) equal those of the files made without --hessian;
#     the tied model quantizes with --hessian alone (15 tensors with error
#     feedback: token_embd through the output's entry);
#  3. held-out text (tests/data/tok_multilingual_b.txt, 64 tokens; the
#     calibration text is tok_multilingual_a.txt, 34 chunks of 64 tokens):
#     llama.cpp's logit RMS error vs the F32 model, hessian file vs
#     imatrix-only file, must be at most MAX_RATIO.  Measured hessian /
#     imatrix-only RMS (random model, dim 256, 2 layers, ff 768, loaded
#     machine; this test runs seed 5):
#                   seed 5            seed 11           seed 23           seed 5 tied
#       Q4_K_M  .1331/.1399 0.952  .1304/.1402 0.930  .1290/.1399 0.922  1.579/1.769 0.893
#       Q3_K_M  .2495/.2632 0.948  .2528/.2650 0.954  .2510/.2668 0.940  2.665/2.945 0.905
#     hence MAX_RATIO 0.985 (the gain is small: a random model's activations
#     are only weakly correlated; tests/unit/test_quant_gptq.c checks the
#     method on strongly correlated inputs).  On random token ids
#     (test_quant_imatrix.sh's evaluation, outside the calibration
#     distribution) the hessian file is NOT better: ratios 0.99-1.04 over
#     the same runs (seed 5: 1.035, 0.992), so nothing is asserted there;
#     with 512 calibration tokens of the vocabulary test text instead
#     (ffn_down's 768 x 768 moment then rank-deficient) it was 1.26 / 1.19
#     on random ids (overfitting to the calibration subspace) and 0.75 /
#     0.80 on 64 of the calibration tokens themselves;
#  4. bad input: an imatrix file as --hessian, a hessian of a model with
#     another ffn width (ffn_down's entry 512 x 512, the tensor 768 columns),
#     a truncated hessian, --damp 0 / -1 (also without --hessian)
#     -> exit 2 with a message naming the file / tensor / option,
#     and no output file or temporary left in the output directory;
#     `slm imatrix --hessian` naming the model (it used to replace the model
#     with the hessian) or the --out file, `slm quantize` OUT naming the
#     --hessian file (it used to replace it) -> exit 2, the files untouched;
#  5. determinism: quantize --hessian with -t 1 and -t 2 writes identical
#     bytes.  Before the fix in quantize/gptq.c (OpenBLAS's threaded sgemm
#     and potrf round according to the thread count) this differed in 153
#     bytes of blk.0.ffn_down with a hessian from 512 tokens of the
#     vocabulary test text, but happened to match on this test's data: the
#     reliable check is test_threads in tests/unit/test_quant_gptq.c.
set -u
cd "$(dirname "$0")/../.."
source scripts/env.sh
BUILD=${BUILD:-build}
QTOL=0.2
MAX_RATIO=0.985
[ -n "${SLM_SHARED:-}" ] || { echo "skip: SLM_SHARED is empty (no real vocabularies)"; exit 77; }
[ -f "$SLM_NODE_MODULES/node-llama-cpp/package.json" ] || { echo "skip: node-llama-cpp not installed in $SLM_NODE_MODULES"; exit 77; }
for t in mkmodel model_logits; do
  [ -x $BUILD/tools/$t ] || { echo "FAIL: $BUILD/tools/$t not built"; exit 1; }
done
SLM=${SLM_BIN:-$PWD/$BUILD/slm}
VOCAB="$SLM_SHARED/vocab/ggml-vocab-llama-spm.gguf"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
mk() { $BUILD/tools/mkmodel --vocab "$VOCAB" --layers 2 --heads 4 --kv-heads 1 --seed 5 "$@" >/dev/null; }
mk --dim 256 --out $tmp/f32.gguf --ff 768 || exit 1
mk --dim 256 --out $tmp/tied.gguf --ff 768 --tied || exit 1
mk --dim 256 --out $tmp/ff512.gguf --ff 512 || exit 1

# ---- 1. the hessian file
CTX=64
"$SLM" imatrix --model $tmp/f32.gguf --data tests/data/tok_multilingual_a.txt --out $tmp/im.gguf \
    --hessian $tmp/H.gguf --ctx $CTX 2>$tmp/im.log || { echo "FAIL: slm imatrix --hessian"; tail -3 $tmp/im.log; exit 1; }
chunks=$(sed -n 's/.* entries from \([0-9]*\) chunks.*/\1/p' $tmp/im.log)
[ -n "$chunks" ] && [ "$chunks" -gt 8 ] || { echo "FAIL: imatrix used '$chunks' chunks"; exit 1; }
"$SLM" imatrix --model $tmp/tied.gguf --data tests/data/tok_multilingual_a.txt --out $tmp/imt.gguf \
    --hessian $tmp/Ht.gguf --ctx $CTX --chunks 2 2>$tmp/imt.log || { echo "FAIL: slm imatrix --hessian (tied)"; tail -3 $tmp/imt.log; exit 1; }
"$SLM" imatrix --model $tmp/ff512.gguf --data tests/data/tok_multilingual_a.txt --out $tmp/imw.gguf \
    --hessian $tmp/Hw.gguf --ctx $CTX --chunks 1 2>/dev/null || { echo "FAIL: slm imatrix --hessian (ff 512)"; exit 1; }
info_cov() { "$SLM" info "$1" | awk '$1 ~ /\.in_cov$/ {print $1}' | sort | tr '\n' ' '; }
L="blk.0.attn_output blk.0.attn_q blk.0.ffn_down blk.0.ffn_gate blk.1.attn_output blk.1.attn_q blk.1.ffn_down blk.1.ffn_gate"
want=$(for w in $L output token_embd; do echo $w.weight.in_cov; done | sort | tr '\n' ' ')
got=$(info_cov $tmp/H.gguf)
[ "$got" = "$want" ] && ok "untied hessian: 10 in_cov entries (4 per layer + output + token_embd)" \
  || bad "untied hessian entries: '$got', expected '$want'"
want=$(for w in $L token_embd; do echo $w.weight.in_cov; done | sort | tr '\n' ' ')
got=$(info_cov $tmp/Ht.gguf)
[ "$got" = "$want" ] && ok "tied hessian: 9 in_cov entries (4 per layer + token_embd as the output)" \
  || bad "tied hessian entries: '$got', expected '$want'"
if out=$($SLM_PYTHON - $tmp/H.gguf $tmp/im.gguf $((chunks * CTX)) 2>&1 <<'EOF'
import struct, sys
import numpy as np

def gguf(path):
    """(kv, {name: (ggml type, ne, float32 array or None)}) by hand, GGUF v3."""
    d = open(path, "rb").read()
    o = 0
    def u(f):
        nonlocal o
        v = struct.unpack_from(f, d, o)[0]
        o += struct.calcsize(f)
        return v
    def s():
        nonlocal o
        n = u("<Q")
        o += n
        return d[o - n:o].decode()
    sc = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
    def val(t):
        if t == 8:
            return s()
        if t == 9:
            et, n = u("<I"), u("<Q")
            return [val(et) for _ in range(n)]
        return u(sc[t])
    assert d[:4] == b"GGUF", path
    o = 4
    ver, nt, nkv = u("<I"), u("<Q"), u("<Q")
    assert ver == 3, path
    kv = {}
    for _ in range(nkv):
        k = s()
        kv[k] = val(u("<I"))
    info = []
    for _ in range(nt):
        name = s()
        ne = [u("<Q") for _ in range(u("<I"))]
        info.append((name, ne, u("<I"), u("<Q")))
    al = kv.get("general.alignment", 32)
    base = (o + al - 1) // al * al
    out = {}
    for name, ne, t, off in info:
        a = np.frombuffer(d, "<f4", int(np.prod(ne)), base + off).reshape(ne[::-1]) if t == 0 else None
        out[name] = (t, ne, a)
    return kv, out

hkv, H = gguf(sys.argv[1])
ikv, I = gguf(sys.argv[2])
tokens = int(sys.argv[3])
assert hkv["general.type"] == "slm.hessian", hkv.get("general.type")
siblings = {"attn_q": ["attn_q", "attn_k", "attn_v"], "ffn_gate": ["ffn_gate", "ffn_up"]}
worst_sym = worst_diag = 0.0
checked = 0
for name, (t, ne, c) in H.items():
    if not name.endswith(".in_cov"):
        continue
    w = name[:-len(".in_cov")]
    assert t == 0 and len(ne) == 2 and ne[0] == ne[1], f"{name}: type {t} shape {ne}"
    c = c.astype(np.float64)
    cnt = H[w + ".counts"][2].reshape(-1)
    assert cnt.size == 1, name
    scale = np.abs(c).max()
    sym = np.abs(c - c.T).max() / scale
    worst_sym = max(worst_sym, sym)
    assert sym < 1e-5, f"{name}: not symmetric (max |C - C^T| / max |C| = {sym:.3g})"
    ev = np.linalg.eigvalsh((c + c.T) / 2)
    assert ev.min() > -1e-5 * ev.max(), f"{name}: not PSD (eigenvalues {ev.min():.3g} .. {ev.max():.3g})"
    if w == "token_embd.weight":   # untied: sensitivity matrix, not an activation moment
        assert cnt[0] == 1, f"{name}: counts {cnt[0]}, expected 1"
        continue
    assert cnt[0] == tokens, f"{name}: counts {cnt[0]}, expected {tokens} calibration tokens"
    parts = w.split(".")
    group = siblings.get(parts[2], [parts[2]]) if parts[0] == "blk" else [parts[0]]
    for sib in group:
        sw = ".".join(parts[:2] + [sib] + parts[3:]) if parts[0] == "blk" else w
        s2 = I[sw + ".in_sum2"][2].reshape(-1).astype(np.float64)
        ic = I[sw + ".counts"][2].reshape(-1)
        assert ic[0] == cnt[0], f"{sw}: imatrix counts {ic[0]} vs hessian {cnt[0]}"
        dev = np.abs(np.diag(c) - s2).max() / s2.max()
        worst_diag = max(worst_diag, dev)
        assert dev < 1e-4, f"{name}: diagonal vs {sw}.in_sum2: max rel deviation {dev:.3g}"
        checked += 1
assert checked == 15, f"compared {checked} imatrix entries, expected 15"
print(f"symmetric (worst {worst_sym:.2g}), PSD, counts {tokens}, diagonal = in_sum2 of all {checked} "
      f"imatrix entries (worst rel deviation {worst_diag:.2g})")
EOF
); then ok "hessian read back by numpy: $out"; else bad "hessian read back by numpy: $(echo "$out" | tail -1)"; fi

# ---- 2. llama.cpp loads the files and agrees with slm; types unchanged; 3. error vs F32
"$SLM" tokenize --model $tmp/f32.gguf --text tests/data/tok_multilingual_b.txt > $tmp/b.ids || exit 1
E=$(tr ' ' '\n' < $tmp/b.ids | grep . | head -64 | tr '\n' ' ')
node tests/node/ref.mjs --model $tmp/f32.gguf --ids "$E" --logits $tmp/f.f32 >/dev/null || { echo "FAIL: llama.cpp on F32"; exit 1; }
rms() { $SLM_PYTHON -c 'import sys, numpy as np
a = np.fromfile(sys.argv[1], "<f4").astype(np.float64); b = np.fromfile(sys.argv[2], "<f4")
print(f"{np.sqrt(np.mean((a - b) ** 2)):.5f}")' "$1" "$2"; }
types() { "$SLM" info "$1" | awk '/^tensors \(/ {on = 1; next} on && $1 ~ /\.weight$/ {print $1, $2}'; }
for t in Q4_K_M Q3_K_M Q4_0; do
  "$SLM" quantize $tmp/f32.gguf $tmp/i.gguf $t --imatrix $tmp/im.gguf -q -t 2 2>/dev/null || { bad "slm quantize $t --imatrix"; continue; }
  "$SLM" quantize $tmp/f32.gguf $tmp/h.gguf $t --imatrix $tmp/im.gguf --hessian $tmp/H.gguf -q -t 2 2>$tmp/q.log \
    || { bad "slm quantize $t --hessian"; cat $tmp/q.log; continue; }
  [ $t = Q4_K_M ] && cp $tmp/h.gguf $tmp/t2.gguf # -t 2, for 5.
  # every K-type tensor of these mixes has an entry (k, v, up through their siblings)
  grep -q "16 with error feedback" $tmp/q.log && ok "$t: 16 tensors with error feedback" \
    || { bad "$t: expected 16 tensors with error feedback"; cat $tmp/q.log; }
  types $tmp/i.gguf > $tmp/ti; types $tmp/h.gguf > $tmp/th
  n=$(wc -l < $tmp/th)
  if [ "$n" -ge 16 ] && cmp -s $tmp/ti $tmp/th; then ok "$t: same types with and without --hessian ($n weights, $(awk '{print $2}' $tmp/th | sort | uniq -c | tr -s ' ' | tr '\n' ','))"
  else bad "$t: tensor types differ with --hessian ($n weights)"; diff $tmp/ti $tmp/th | head; fi
  $BUILD/tools/model_logits --model $tmp/h.gguf --ids "$E" --logits $tmp/s.f32 >/dev/null || { bad "slm eval of $t --hessian"; continue; }
  node tests/node/ref.mjs --model $tmp/h.gguf --ids "$E" --logits $tmp/h.f32 >/dev/null || { bad "llama.cpp cannot load $t --hessian"; continue; }
  if out=$($SLM_PYTHON scripts/cmp_f32.py $tmp/s.f32 $tmp/h.f32 $QTOL 32000); then ok "$t --hessian, slm vs llama.cpp on the file: $out"
  else bad "$t --hessian, slm vs llama.cpp: $out"; fi
  node tests/node/ref.mjs --model $tmp/i.gguf --ids "$E" --logits $tmp/i.f32 >/dev/null || { bad "llama.cpp cannot load $t --imatrix"; continue; }
  eh=$(rms $tmp/h.f32 $tmp/f.f32); ei=$(rms $tmp/i.f32 $tmp/f.f32)
  ratio=$($SLM_PYTHON -c "print(f'{$eh / max($ei, 1e-12):.3f}')")
  if $SLM_PYTHON -c "import sys; sys.exit(0 if $eh <= $MAX_RATIO * $ei else 1)"; then
    ok "$t held-out logit RMS vs F32: hessian $eh, imatrix only $ei, ratio $ratio"
  else bad "$t held-out logit RMS vs F32: hessian $eh > $MAX_RATIO x imatrix only $ei (ratio $ratio)"; fi
done

# the tied model, --hessian without --imatrix (block search weighted by diag H):
# every K-type tensor has an entry, token_embd through the output's moment
if "$SLM" quantize $tmp/tied.gguf $tmp/tq.gguf Q4_K_M --hessian $tmp/Ht.gguf -q -t 2 2>$tmp/q.log; then
  grep -q "0 with imatrix, 15 with error feedback" $tmp/q.log && ok "tied Q4_K_M, --hessian alone: 15 tensors with error feedback" \
    || { bad "tied Q4_K_M --hessian: expected 15 tensors with error feedback"; cat $tmp/q.log; }
else bad "slm quantize tied Q4_K_M --hessian"; cat $tmp/q.log; fi

# ---- 5. determinism across thread counts (t2.gguf: the Q4_K_M above, -t 2)
"$SLM" quantize $tmp/f32.gguf $tmp/t1.gguf Q4_K_M --imatrix $tmp/im.gguf --hessian $tmp/H.gguf -q -t 1 2>/dev/null || bad "quantize -t 1"
if cmp -s $tmp/t1.gguf $tmp/t2.gguf; then ok "quantize --hessian: -t 1 and -t 2 write identical bytes"
else bad "quantize --hessian: -t 1 and -t 2 differ ($(cmp -l $tmp/t1.gguf $tmp/t2.gguf | wc -l) bytes)"; fi

# ---- 4. bad input: exit 2, a message naming the culprit, nothing left in the output directory
head -c $(( $(stat -c %s $tmp/H.gguf) / 2 )) $tmp/H.gguf > $tmp/Htrunc.gguf
expect_fail() { # what message-regex args...
  local what=$1 re=$2; shift 2
  rm -rf $tmp/out; mkdir $tmp/out
  "$SLM" quantize $tmp/f32.gguf $tmp/out/o.gguf Q4_K_M "$@" -q >/dev/null 2>$tmp/err; local rc=$?
  local left; left=$(ls -A $tmp/out)
  if [ $rc = 2 ] && grep -Eq -e "$re" $tmp/err && [ -z "$left" ]; then ok "$what: exit 2, '$(head -1 $tmp/err)'"
  else bad "$what: exit $rc (expected 2), message '$(head -1 $tmp/err)' (expected /$re/), left in the output dir: '$left'"; fi
}
expect_fail "imatrix file as --hessian" "im\.gguf.*general\.type.*slm\.hessian" --hessian $tmp/im.gguf
expect_fail "hessian of a model with ff 512" "blk\.0\.ffn_down\.weight.*512 x 512.*768 columns.*another model" \
  --imatrix $tmp/im.gguf --hessian $tmp/Hw.gguf
expect_fail "truncated hessian" "Htrunc\.gguf" --hessian $tmp/Htrunc.gguf
expect_fail "--damp 0" "--damp 0 out of range" --hessian $tmp/H.gguf --damp 0
expect_fail "--damp -1" "--damp -1 out of range" --hessian $tmp/H.gguf --damp -1
expect_fail "--damp 0 without --hessian" "--damp 0 out of range" --damp 0
# quantize OUT naming the --hessian file (it used to replace it)
cp $tmp/H.gguf $tmp/Hc.gguf
"$SLM" quantize $tmp/f32.gguf $tmp/Hc.gguf Q4_K_M --hessian $tmp/./Hc.gguf -q 2>$tmp/err; rc=$?
[ $rc = 2 ] && grep -q "is the --hessian file" $tmp/err && cmp -s $tmp/H.gguf $tmp/Hc.gguf \
  && ok "quantize OUT = the --hessian file: exit 2, file untouched, '$(head -1 $tmp/err)'" \
  || bad "quantize OUT = the --hessian file: exit $rc, '$(head -1 $tmp/err)', $(cmp -s $tmp/H.gguf $tmp/Hc.gguf && echo untouched || echo REPLACED)"
# imatrix --hessian naming the model (which it used to replace) or --out
cp $tmp/tied.gguf $tmp/m.gguf; sum0=$(cksum < $tmp/m.gguf)
"$SLM" imatrix --model $tmp/m.gguf --data tests/data/tok_multilingual_a.txt --out $tmp/x.gguf --hessian $tmp/./m.gguf \
    --ctx $CTX --chunks 1 2>$tmp/err; rc=$?
if [ $rc = 2 ] && grep -q -e "--model and --hessian name the same file" $tmp/err && [ "$(cksum < $tmp/m.gguf)" = "$sum0" ] \
   && [ ! -e $tmp/x.gguf ]; then ok "imatrix --hessian = the model: exit 2, model untouched, '$(head -1 $tmp/err)'"
else bad "imatrix --hessian = the model: exit $rc, '$(head -1 $tmp/err)', model $([ "$(cksum < $tmp/m.gguf)" = "$sum0" ] && echo untouched || echo REPLACED)"; fi
"$SLM" imatrix --model $tmp/m.gguf --data tests/data/tok_multilingual_a.txt --out $tmp/x.gguf --hessian $tmp/x.gguf \
    --ctx $CTX --chunks 1 2>$tmp/err; rc=$?
[ $rc = 2 ] && grep -q -e "--out and --hessian name the same file" $tmp/err && [ ! -e $tmp/x.gguf ] \
  && ok "imatrix --hessian = --out: exit 2, '$(head -1 $tmp/err)'" || bad "imatrix --hessian = --out: exit $rc, '$(head -1 $tmp/err)'"
# a mix without block types (F16): the hessian is unused, which is said (not an error)
"$SLM" quantize $tmp/f32.gguf $tmp/f16.gguf F16 --hessian $tmp/H.gguf -q -t 2 2>$tmp/err; rc=$?
[ $rc = 0 ] && grep -q "no tensor uses it" $tmp/err && ok "F16 --hessian: warned '$(grep -m1 'no tensor' $tmp/err | cut -c1-80)...'" \
  || bad "F16 --hessian: exit $rc, no warning that the hessian is unused"
exit $fail
