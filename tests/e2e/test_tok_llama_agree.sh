#!/usr/bin/env bash
# Tokenizer agreement with llama.cpp (node-llama-cpp, vocabOnly):
#  - slm's code point classes equal libllama's for all of Unicode;
#  - for the llama-spm and gpt-2 vocabularies, the gpt-2 vocabulary
#    re-labelled with the llama-bpe (llama 3), qwen2 and default
#    pre-tokenizers, and both with "ing" (and "ation") made user-defined
#    tokens: the ids of tests/data/tok_multilingual.txt (21 KB:
#    English, German, French, Chinese, Japanese, Russian, emoji, code,
#    whitespace runs, numbers), of a text with special tokens (parsed), and
#    of every vocab test case are identical;
#  - decode(encode(text)) == text, and for SPM llama.cpp's detokenize agrees.
set -u
cd "$(dirname "$0")/../.."
source scripts/env.sh
BUILD=${BUILD:-build}
SLM=${SLM_BIN:-$PWD/$BUILD/slm}
[ -n "${SLM_SHARED:-}" ] || { echo "skip: SLM_SHARED is not set"; exit 77; }
[ -f "$SLM_NODE_MODULES/node-llama-cpp/dist/index.js" ] || { echo "skip: node-llama-cpp not installed"; exit 77; }
for t in unicode_check tok_vocab_variant tok_roundtrip; do
    [ -x "$BUILD/tools/$t" ] || { echo "FAIL: $BUILD/tools/$t not built (make $BUILD/tools/$t)"; exit 1; }
done
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
fail=0
TEXT=tests/data/tok_multilingual.txt

lib=$(ls "$SLM_GGML_DIR"/libllama*.so 2>/dev/null | head -1)
if [ -n "$lib" ]; then
    "$BUILD/tools/unicode_check" "$lib" || fail=1
else
    echo "FAIL: no libllama*.so in $SLM_GGML_DIR"; fail=1
fi

V=$SLM_SHARED/vocab
cp "$V/ggml-vocab-llama-spm.gguf" "$TMP/llama-spm.gguf"
cp "$V/ggml-vocab-gpt-2.gguf" "$TMP/gpt-2.gguf"
for pre in llama-bpe qwen2 default; do
    "$BUILD/tools/tok_vocab_variant" "$V/ggml-vocab-gpt-2.gguf" "$TMP/gpt-2+$pre.gguf" tokenizer.ggml.pre=$pre || fail=1
done
# user-defined tokens are cut out of the text even without parse_special
"$BUILD/tools/tok_vocab_variant" "$V/ggml-vocab-llama-spm.gguf" "$TMP/llama-spm+user.gguf" "type:ing=4" "type:ation=4" || fail=1
"$BUILD/tools/tok_vocab_variant" "$V/ggml-vocab-gpt-2.gguf" "$TMP/gpt-2+user.gguf" "type:ing=4" || fail=1
# every .inp case of both vocabularies, each with each vocabulary
python3 - "$V" "$TMP/cases.txt" <<'PY'
import sys, glob
texts = []
for f in sorted(glob.glob(sys.argv[1] + "/*.inp")):
    texts += open(f, encoding="utf-8", newline="").read().split("\n__ggml_vocab_test__\n")[:-1]
open(sys.argv[2], "w", encoding="utf-8", newline="").write("\n__case__\n".join(texts))
PY
printf 'Hello<|endoftext|>world <s>Hi</s>\n<|endoftext|><|endoftext|> x <unk> y' > "$TMP/special.txt"

for v in llama-spm gpt-2 gpt-2+llama-bpe gpt-2+qwen2 gpt-2+default llama-spm+user gpt-2+user; do
    g="$TMP/$v.gguf"
    node tests/e2e/tok_node.mjs suite "$g" "$TEXT" "$TMP/special.txt" "$TMP/cases.txt" > "$TMP/node.txt" 2> "$TMP/node.err" \
        || { echo "FAIL: node-llama-cpp on $v"; tail -5 "$TMP/node.err"; fail=1; continue; }
    {
        "$SLM" tokenize --no-bos -m "$g" --text "$TEXT"
        "$SLM" tokenize --no-bos --special -m "$g" --text "$TMP/special.txt"
        "$BUILD/tools/tok_roundtrip" "$g" "$TMP/cases.txt" --cases
    } > "$TMP/slm.txt"
    n=$(wc -l < "$TMP/node.txt")
    if cmp -s "$TMP/node.txt" "$TMP/slm.txt"; then
        echo "ok   $v: text ($(head -1 "$TMP/slm.txt" | wc -w) tokens), special text, $((n - 2)) cases identical to llama.cpp"
    else
        echo "FAIL $v: ids differ from llama.cpp (first differing line below)"
        diff <(tr ' ' '\n' < "$TMP/node.txt") <(tr ' ' '\n' < "$TMP/slm.txt") | head -6
        fail=1
    fi
    # (no round trip with user-defined tokens: SPM puts a '▁' after each, as llama.cpp does)
    [[ $v == *+user ]] && continue
    "$BUILD/tools/tok_roundtrip" "$g" "$TEXT" > "$TMP/rt.txt" || { echo "FAIL $v: decode(encode(text)) != text"; fail=1; }
done
# SPM: llama.cpp's detokenize of slm's ids is the text
"$SLM" tokenize --no-bos -m "$TMP/llama-spm.gguf" --text "$TEXT" > "$TMP/ids.txt"
node tests/e2e/tok_node.mjs detok "$TMP/llama-spm.gguf" "$TMP/ids.txt" > "$TMP/detok.txt" 2>/dev/null
if cmp -s "$TMP/detok.txt" "$TEXT"; then echo "ok   llama-spm: llama.cpp detokenizes slm's ids to the text"
else echo "FAIL llama-spm: llama.cpp's detokenize of slm's ids differs from the text"; fail=1; fi
exit $fail
