#!/usr/bin/env bash
# slm quantize picks, for every mix, the same per-tensor types as llama.cpp's
# (and by default, without --refine/--hessian, writes byte-identical tensors)
# llama_model_quantize (through tests/tools/ref_quantize) on two small random
# Llama models: A (dim 256, ffn 768, 4 layers, GQA 4:1, untied output) and
# B (dim 160, ffn 416, 3 layers, no GQA, tied embeddings: rows not multiples
# of 256, so the K types fall back).  Also checks general.file_type and that
# the fallbacks are reported.  Skips (77) without llama.cpp's libraries.
set -u
cd "$(dirname "$0")/../.."
source scripts/env.sh
BUILD=${BUILD:-build}
SLM=${SLM_BIN:-$PWD/$BUILD/slm}
T=$PWD/$BUILD/tools
[ -x "$T/ref_quantize" ] && [ -x "$T/make_llama_gguf" ] && [ -x "$T/gguf_types" ] || { echo "FAIL: test tools not built (make test builds them)"; exit 1; }
[ -f "$SLM_GGML_DIR/libggml-base.so" ] || { echo "skip: no llama.cpp libraries in SLM_GGML_DIR=$SLM_GGML_DIR"; exit 77; }
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
"$T/make_llama_gguf" "$W/a.gguf" 256 768 4 4 1 512 0 11 || exit 1
"$T/make_llama_gguf" "$W/b.gguf" 160 416 3 5 5 400 1 12 || exit 1
# name:llama_ftype
MIXES="Q8_0:7 Q4_0:2 Q4_1:3 Q5_0:8 Q5_1:9 Q2_K:10 Q3_K_S:11 Q3_K_M:12 Q3_K_L:13 Q4_K_S:14 Q4_K_M:15 Q5_K_S:16 Q5_K_M:17 Q6_K:18 F16:1 BF16:32"
fail=0
for m in a b; do
  for mix in $MIXES; do
    name=${mix%%:*}; ft=${mix##*:}
    if [ $m = b ] && { [ $name = Q4_0 ] || [ $name = Q4_1 ] || [ $name = Q5_0 ] || [ $name = Q5_1 ] || [ $name = Q8_0 ]; }; then
      : # 160 and 416 are multiples of 32: no fallback needed, still compared
    fi
    rc=0
    "$T/ref_quantize" "$W/$m.gguf" "$W/ref.gguf" $ft 2 >/dev/null 2>"$W/ref.log" || rc=$?
    [ $rc = 77 ] && { echo "skip: $(cat "$W/ref.log" | tail -1)"; exit 77; }
    [ $rc = 0 ] || { echo "FAIL: llama_model_quantize failed for $m $name"; tail -5 "$W/ref.log"; fail=1; continue; }
    "$SLM" quantize "$W/$m.gguf" "$W/slm.gguf" $name -t 2 2>"$W/slm.log" || { echo "FAIL: slm quantize $m $name"; tail -5 "$W/slm.log"; fail=1; continue; }
    # the default (no --refine, no --hessian) is llama.cpp's exact algorithm: every tensor byte-identical
    "$T/gguf_types" "$W/ref.gguf" --hash > "$W/ref.txt"; "$T/gguf_types" "$W/slm.gguf" --hash > "$W/slm.txt"
    if ! diff -u "$W/ref.txt" "$W/slm.txt" > "$W/diff.txt"; then
      echo "FAIL: model $m mix $name: tensor types or bytes differ from llama.cpp"; head -20 "$W/diff.txt"; fail=1
    else
      nq=$(grep -v "^general" "$W/slm.txt" | grep -vc " F32 ")
      # --refine: same types, data differs for K types
      if [ $m = a ]; then
        "$SLM" quantize "$W/$m.gguf" "$W/slmr.gguf" $name -t 2 -q --refine 2>/dev/null || { echo "FAIL: slm quantize (refined) $m $name"; fail=1; }
        "$T/gguf_types" "$W/ref.gguf" > "$W/ref_t.txt"; "$T/gguf_types" "$W/slmr.gguf" > "$W/slmr_t.txt"
        diff -q "$W/ref_t.txt" "$W/slmr_t.txt" >/dev/null || { echo "FAIL: model $m mix $name: refined types differ"; fail=1; }
      fi
      echo "ok: model $m $name: $(wc -l < "$W/slm.txt") entries, types and bytes identical ($nq non-F32 lines), $(tr '\n' ' ' < "$W/slm.txt" | grep -o 'Q[0-9]_[0-9K]\|F16\|BF16' | sort | uniq -c | tr -s ' ' | tr '\n' ',')"
    fi
    if [ $m = b ] && [ $name = Q4_K_M ]; then
      grep -q "falling back to" "$W/slm.log" || { echo "FAIL: model b Q4_K_M: fallback not reported"; fail=1; }
    fi
  done
done
# bad input: exit 2 with a message naming the problem
"$SLM" quantize "$W/a.gguf" "$W/x.gguf" Q7_K 2>"$W/e.log"; rc=$?
[ $rc = 2 ] && grep -q "unknown TYPE 'Q7_K'" "$W/e.log" || { echo "FAIL: unknown type: exit $rc"; cat "$W/e.log"; fail=1; }
head -c 1000 "$W/a.gguf" > "$W/trunc.gguf"
"$SLM" quantize "$W/trunc.gguf" "$W/x.gguf" Q4_0 2>"$W/e.log"; rc=$?
[ $rc = 2 ] && [ ! -e "$W/x.gguf" ] || { echo "FAIL: truncated input: exit $rc"; cat "$W/e.log"; fail=1; }
"$SLM" quantize "$W/a.gguf" "$W/x.gguf" Q4_0 --type-override 'attn_(=Q4_K' 2>"$W/e.log"; rc=$?
[ $rc = 2 ] || { echo "FAIL: bad regex: exit $rc"; fail=1; }
# overrides and keep
"$SLM" quantize "$W/a.gguf" "$W/o.gguf" Q4_K_M --type-override 'ffn_down=Q8_0' --keep 'attn_q' -q || fail=1
"$T/gguf_types" "$W/o.gguf" > "$W/o.txt"
grep -q "blk.1.ffn_down.weight Q8_0" "$W/o.txt" && grep -q "blk.2.attn_q.weight F32" "$W/o.txt" \
  && grep -q "blk.2.ffn_up.weight Q4_K" "$W/o.txt" || { echo "FAIL: --type-override/--keep not applied"; cat "$W/o.txt"; fail=1; }
exit $fail
