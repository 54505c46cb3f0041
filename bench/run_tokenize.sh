#!/usr/bin/env bash
# Tokenization throughput: slm vs llama.cpp (node-llama-cpp) on the same
# multi-MB mixed corpus (scripts/gen_tok_corpus.py bench: the multilingual
# test text re-mixed with a fixed seed, 22k documents), llama-spm and gpt-2
# vocabularies, in one run.  slm uses both cores by giving each OpenMP
# thread its own tokenizer session and a share of the documents (dynamic
# schedule); the token totals of slm and llama.cpp must be equal.
set -u
cd "$(dirname "$0")/.."
source scripts/env.sh
BUILD=${BUILD:-build}
MB=${TOK_BENCH_MB:-4}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
[ -n "${SLM_SHARED:-}" ] || { echo "skip: SLM_SHARED is not set (vocabularies)"; exit 0; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
python3 scripts/gen_tok_corpus.py bench "$MB" > "$TMP/corpus.txt"
echo "corpus: $(wc -c < "$TMP/corpus.txt") bytes, $OMP_NUM_THREADS threads, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "MB/s = corpus bytes / wall time; MB/cpu-s = bytes / CPU time of the process (independent of other load)"
have_node=1; [ -f "$SLM_NODE_MODULES/node-llama-cpp/dist/index.js" ] || have_node=0
rc=0
for v in llama-spm gpt-2; do
    g=$SLM_SHARED/vocab/ggml-vocab-$v.gguf
    echo
    echo "== $v"
    "$BUILD/bench/bench_tokenize" "$g" "$TMP/corpus.txt" > "$TMP/slm.txt" || rc=1
    printf '%-34s %8s %10s %10s\n' "tokenizer" "MB/s" "MB/cpu-s" "tokens"
    awk '/^(docs|text)/ { name = ($1 == "docs" ? "slm per document, " $2 " thread(s)" : "slm whole text (encode_mt), " $2 " thr");
                           printf "%-34s %8.2f %10.2f %10d\n", name, $3, ($3 * $5) / $6, $4 }' "$TMP/slm.txt"
    bytes=$(awk '/^documents/ {print $4}' "$TMP/slm.txt")
    if [ $have_node = 1 ]; then
        node tests/e2e/tok_node.mjs bench "$g" "$TMP/corpus.txt" 1 2>/dev/null > "$TMP/n1.txt" || rc=1
        node tests/e2e/tok_node.mjs benchwhole "$g" "$TMP/corpus.txt" 1 2>/dev/null > "$TMP/n2.txt" || rc=1
        awk '{ printf "%-34s %8.2f %10.2f %10d\n", "llama.cpp per document (node)", $1/$2/1e6, $1/$4/1e6, $3 }' "$TMP/n1.txt"
        awk '{ printf "%-34s %8.2f %10.2f %10d\n", "llama.cpp whole text (node)", $1/$2/1e6, $1/$4/1e6, $3 }' "$TMP/n2.txt"
        slm_tok=$(awk '/^docs 1 / {print $4}' "$TMP/slm.txt"); node_tok=$(cut -d' ' -f3 "$TMP/n1.txt")
        if [ "$slm_tok" = "$node_tok" ]; then echo "token totals per document agree: $slm_tok"
        else echo "MISMATCH: slm $slm_tok tokens, llama.cpp $node_tok"; rc=1; fi
        slm_w=$(awk '/^text/ {print $4}' "$TMP/slm.txt"); node_w=$(cut -d' ' -f3 "$TMP/n2.txt")
        if [ "$slm_w" = "$node_w" ]; then echo "token totals of the whole text agree: $slm_w"
        else echo "MISMATCH (whole text): slm $slm_w tokens, llama.cpp $node_w"; rc=1; fi
        best=$(awk '/^docs/ { if ($3 > b) b = $3 } END { print b }' "$TMP/slm.txt")
        awk -v b="$best" '{ printf "ratio slm (best, both cores) / llama.cpp per document: %.1fx wall\n", b / ($1/$2/1e6) }' "$TMP/n1.txt"
    else
        echo "(node-llama-cpp not installed: no llama.cpp column)"
    fi
done
exit $rc
