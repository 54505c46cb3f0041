#!/usr/bin/env bash
# slm tokenizer train: a vocabulary trained on the test texts is
#  - deterministic (same bytes when trained twice, inputs in another order),
#  - loaded by llama.cpp (node-llama-cpp, vocabOnly) and tokenizes the
#    multilingual text, a text with chat markers (special tokens parsed) and
#    unseen code identically in slm and llama.cpp,
#  - decodes back to the text; bad arguments exit 2.
set -u
cd "$(dirname "$0")/../.."
source scripts/env.sh
BUILD=${BUILD:-build}
SLM=${SLM_BIN:-$PWD/$BUILD/slm}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
fail=0
mkdir -p "$TMP/in/sub"
cp tests/data/tok_multilingual_a.txt "$TMP/in/"
cp tests/data/tok_multilingual_b.txt "$TMP/in/sub/"
gzip -c tests/data/tok_multilingual.txt > "$TMP/in/sub/all.txt.gz"
"$SLM" tokenizer train --input "$TMP/in" --vocab-size 1500 --out "$TMP/v1.gguf" || { echo "FAIL: train"; exit 1; }
"$SLM" tokenizer train -q "$TMP/in/sub" --input "$TMP/in/tok_multilingual_a.txt" --vocab-size 1500 --out "$TMP/v2.gguf" || fail=1
if cmp -s "$TMP/v1.gguf" "$TMP/v2.gguf"; then echo "ok   training is deterministic (inputs in another order give the same file)"
else echo "FAIL: two trainings on the same text differ"; fail=1; fi
"$SLM" tokenizer train -q "$TMP/in" --vocab-size 100 --out "$TMP/bad.gguf"; [ $? -eq 2 ] || { echo "FAIL: vocab-size 100 not rejected with exit 2"; fail=1; }
"$SLM" tokenizer train -q "$TMP/nonexistent" --out "$TMP/bad.gguf"; [ $? -eq 2 ] || { echo "FAIL: missing input not rejected with exit 2"; fail=1; }
[ -e "$TMP/bad.gguf" ] && { echo "FAIL: output written despite an error"; fail=1; }

printf '<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHallo, wie geht'"'"'s? 你好<|im_end|>\n<|im_start|>assistant\n<s>ok</s><pad>' > "$TMP/chat.txt"
cat core/gguf.h > "$TMP/code.txt"   # text the vocabulary never saw
for f in tests/data/tok_multilingual.txt "$TMP/code.txt"; do
    "$BUILD/tools/tok_roundtrip" "$TMP/v1.gguf" "$f" > /dev/null || { echo "FAIL: decode(encode($f)) != text"; fail=1; }
done
if [ ! -f "$SLM_NODE_MODULES/node-llama-cpp/dist/index.js" ]; then
    echo "skip: node-llama-cpp not installed, llama.cpp comparison not run"
    [ $fail -eq 0 ] && exit 77 || exit 1
fi
printf '' > "$TMP/nocases.txt"
for f in tests/data/tok_multilingual.txt "$TMP/code.txt"; do
    node tests/e2e/tok_node.mjs tokenize "$TMP/v1.gguf" "$f" > "$TMP/n.txt" 2> "$TMP/n.err" || { echo "FAIL: llama.cpp cannot load the trained vocab"; tail -3 "$TMP/n.err"; fail=1; continue; }
    "$SLM" tokenize --no-bos -m "$TMP/v1.gguf" --text "$f" > "$TMP/s.txt"
    if cmp -s "$TMP/n.txt" "$TMP/s.txt"; then echo "ok   $(basename "$f"): $(wc -w < "$TMP/s.txt") tokens identical in slm and llama.cpp"
    else echo "FAIL: $(basename "$f") tokenized differently"; fail=1; fi
done
node tests/e2e/tok_node.mjs tokenize "$TMP/v1.gguf" "$TMP/chat.txt" special > "$TMP/n.txt" 2>/dev/null
"$SLM" tokenize --no-bos --special -m "$TMP/v1.gguf" --text "$TMP/chat.txt" > "$TMP/s.txt"
if cmp -s "$TMP/n.txt" "$TMP/s.txt" && grep -qw 3 "$TMP/s.txt" && grep -qw 4 "$TMP/s.txt"; then
    echo "ok   chat markers parse to the reserved ids in both"
else echo "FAIL: chat text with special tokens differs or markers not parsed"; cat "$TMP/n.txt" "$TMP/s.txt"; fail=1; fi
exit $fail
