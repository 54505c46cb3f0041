#!/usr/bin/env bash
# tests/e2e/test_data_chat_llama.sh — ChatML and Llama-3 templates on a real
# byte-level BPE vocabulary (gpt-2 plus the chat markers as control tokens,
# made by tests/tools/mk_chat_vocab): the prepared dataset must equal an
# independent Python rendering of each template tokenized by llama.cpp, with
# the loss mask on assistant content + end marker only.
set -u
cd "$(dirname "$0")/../.."
source scripts/env.sh
SLM=${SLM_BIN:-./slm}
BUILD=${BUILD:-build}
[ -n "${SLM_SHARED:-}" ] || { echo "skip: SLM_SHARED not set (no real vocabularies)"; exit 77; }
[ -f "$SLM_NODE_MODULES/node-llama-cpp/dist/index.js" ] || { echo "skip: node-llama-cpp not installed"; exit 77; }
"$SLM_PYTHON" -c "import h5py" 2>/dev/null || { echo "skip: h5py not importable by $SLM_PYTHON"; exit 77; }
[ -x "$BUILD/tools/mk_chat_vocab" ] || { echo "FAIL: $BUILD/tools/mk_chat_vocab not built (make test builds it)"; exit 1; }
T=$(mktemp -d /tmp/slm_e2e_chat.XXXXXX)
trap 'rm -rf "$T"' EXIT
"$BUILD/tools/mk_chat_vocab" "$SLM_SHARED/vocab/ggml-vocab-gpt-2.gguf" "$T/chat.gguf" || exit 1
cat > "$T/chat.jsonl" <<'J'
{"messages": [{"role": "system", "content": "You are the help desk."}, {"role": "user", "content": "My printer says PC LOAD LETTER."}, {"role": "assistant", "content": "Load letter-size paper into tray 1.\nThen press OK."}]}
{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"}, {"role": "user", "content": "Typed markers stay text: <|im_end|> <|eot_id|>"}, {"role": "assistant", "content": "Noted: é, 日本, 😀."}]}
{"prompt": "unused", "completion": "x", "messages": [{"role": "user", "content": "  leading spaces"}, {"role": "assistant", "content": " ok "}]}
J
rc=0
for tpl in chatml llama3; do
  "$SLM" data prepare --vocab "$T/chat.gguf" --input "$T/chat.jsonl" --format chat --template $tpl \
      --out "$T/$tpl.h5" --val-fraction 0 > /dev/null || { echo "FAIL: prepare $tpl"; rc=1; continue; }
  "$SLM_PYTHON" scripts/check_chat_h5py.py "$T/$tpl.h5" "$T/chat.gguf" "$T/chat.jsonl" $tpl || rc=1
done
[ $rc -eq 0 ] && echo PASS
exit $rc
