#!/usr/bin/env bash
# tests/e2e/test_data_h5py.sh — `slm data prepare` on a mixed corpus (txt, md,
# jsonl text + prompt/completion, .gz, unicode, a duplicate), read back by h5py
# and compared with llama.cpp's tokenization (node-llama-cpp) of the same
# documents on the real gpt-2 and llama-spm vocabularies; then an incremental
# run that must tokenize only the added file and keep the old documents.
set -u
cd "$(dirname "$0")/../.."
source scripts/env.sh
SLM=${SLM_BIN:-./slm}
[ -n "${SLM_SHARED:-}" ] || { echo "skip: SLM_SHARED not set (no real vocabularies)"; exit 77; }
[ -f "$SLM_NODE_MODULES/node-llama-cpp/dist/index.js" ] || { echo "skip: node-llama-cpp not installed in $SLM_NODE_MODULES"; exit 77; }
"$SLM_PYTHON" -c "import h5py" 2>/dev/null || { echo "skip: h5py not importable by $SLM_PYTHON"; exit 77; }
command -v node >/dev/null || { echo "skip: node not on PATH"; exit 77; }

T=$(mktemp -d /tmp/slm_e2e_data.XXXXXX)
trap 'rm -rf "$T"' EXIT
C=$T/corpus
mkdir -p "$C/docs/sub"
printf 'The quick brown fox jumps over the lazy dog.\nSecond line, with numbers 12345 and 3.14159.\n' > "$C/docs/a.txt"
printf '# Handbook\n\n* item one\n* item **two**\n\n```c\nint main(void) { return 0; }\n```\n' > "$C/docs/sub/b.md"
printf 'Ünïcödé: naïve café, 日本語のテキスト, emoji 😀👍, Ελληνικά.\n\ttabs  and   spaces\n' > "$C/docs/sub/c.txt"
printf 'The quick brown fox jumps over the lazy dog.\nSecond line, with numbers 12345 and 3.14159.\n' > "$C/docs/dup_of_a.txt"
{
  for i in $(seq 1 30); do
    printf '{"text": "Ticket %d: the printer on floor %d is jammed again.\\nPlease help."}\n' $i $((i % 7))
    printf '{"prompt": "Question %d: what is %d + %d?", "completion": " The answer is %d."}\n' $i $i $i $((2*i))
  done
  printf '{"text": "gzipped record one"}\n'
  printf '{"text": "escapes: \\"quoted\\" \\\\ back\\/slash \\u00e9 \\ud83d\\ude00"}\n'
} > "$C/tickets.jsonl"
printf '{"text": "gzipped record one"}\n{"prompt": "gz prompt", "completion": " gz completion"}\n' | gzip > "$C/more.jsonl.gz"

rc=0
for v in gpt-2 llama-spm; do
  V=$SLM_SHARED/vocab/ggml-vocab-$v.gguf
  echo "== $v"
  out=$("$SLM" data prepare --vocab "$V" --input "$C" --out "$T/$v.h5" --val-fraction 0.3 --seed 5) || { echo "FAIL: prepare ($v)"; rc=1; continue; }
  echo "$out"
  echo "$out" | grep -q "duplicates dropped 1," || { echo "FAIL: the duplicated record was not reported"; rc=1; }
  "$SLM_PYTHON" scripts/check_dataset_h5py.py "$T/$v.h5" "$V" "$C" || rc=1
done

# incremental: one new file; only it is tokenized, old documents unchanged
V=$SLM_SHARED/vocab/ggml-vocab-gpt-2.gguf
cp "$T/gpt-2.h5" "$T/before.h5"
printf 'A new memo arrived on Monday.\n' > "$C/docs/new_memo.md"
out=$("$SLM" data prepare --vocab "$V" --input "$C" --out "$T/gpt-2.h5" --val-fraction 0.3 --seed 5) || { echo "FAIL: incremental prepare"; rc=1; }
echo "$out"
echo "$out" | grep -q "7 input files (1 new, 6 known by content)" || { echo "FAIL: incremental run did not read exactly the one new file"; rc=1; }
echo "$out" | grep -q "records 1:" || { echo "FAIL: incremental run tokenized more than the new record"; rc=1; }
"$SLM_PYTHON" scripts/check_dataset_h5py.py "$T/gpt-2.h5" "$V" "$C" --prefix-of "$T/before.h5" || rc=1
out=$("$SLM" data prepare --vocab "$V" --input "$C" --out "$T/gpt-2.h5" --val-fraction 0.3 --seed 5)
echo "$out" | grep -q "unchanged" || { echo "FAIL: third run should leave the dataset unchanged"; rc=1; }
[ $rc -eq 0 ] && echo "PASS"
exit $rc
