#!/usr/bin/env bash
# bench/run_data.sh — end-to-end `slm data prepare` throughput (MB/s of input
# text: read, gunzip, parse, tokenize, dedup, split, write HDF5) on a
# deterministic ~16 MB mixed corpus (bench/gen_corpus.py), with 1 and 2
# tokenizer threads, for the gpt-2 (byte-level BPE) and llama-spm vocabularies.
# Parallelism: records are tokenized in batches (256 records or 8 MB), one
# record per OpenMP task with a tokenizer session per thread; reading,
# dedup, split and the HDF5 writes are sequential.
set -u
cd "$(dirname "$0")/.."
source scripts/env.sh
SLM=${SLM_BIN:-./slm}
MB=${DATA_BENCH_MB:-16}
[ -n "${SLM_SHARED:-}" ] || { echo "skip: SLM_SHARED not set (no real vocabularies)"; exit 0; }
T=$(mktemp -d /tmp/slm_bench_data.XXXXXX)
trap 'rm -rf "$T"' EXIT
"${SLM_PYTHON:-python3}" bench/gen_corpus.py "$T/corpus" "$MB"
bytes=$(find "$T/corpus" -type f -name '*.gz' -exec gzip -dc {} \; | wc -c)
bytes=$((bytes + $(find "$T/corpus" -type f ! -name '*.gz' -exec cat {} + | wc -c)))
echo "input: $(find "$T/corpus" -type f | wc -l) files, $bytes bytes of text ($(du -sb "$T/corpus" | cut -f1) bytes on disk)"
echo "load average at start: $(cut -d" " -f1-3 /proc/loadavg) on $(nproc) cores"
printf '%-10s %-8s %9s %9s %9s %11s %10s %8s\n' vocab threads wall_s cpu_s "MB/s" "MB/cpu-s" tokens docs
for v in gpt-2 llama-spm; do
  for th in 1 2; do
    rm -f "$T/out.h5"
    out=$(OMP_NUM_THREADS=$th /usr/bin/time -f "TIME %e %U %S" -o "$T/time" "$SLM" data prepare \
          --vocab "$SLM_SHARED/vocab/ggml-vocab-$v.gguf" --input "$T/corpus" --out "$T/out.h5" \
          --threads "$th" 2>/dev/null) || { echo "prepare failed ($v)"; exit 1; }
    read -r _ wall usr sys < <(grep TIME "$T/time")
    tokens=$(echo "$out" | sed -n 's/.*total: train [0-9]* docs \/ \([0-9]*\) tokens, val [0-9]* docs \/ \([0-9]*\) tokens.*/\1 \2/p' | awk '{print $1+$2}')
    docs=$(echo "$out" | sed -n 's/.*total: train \([0-9]*\) docs .* val \([0-9]*\) docs.*/\1 \2/p' | awk '{print $1+$2}')
    awk -v v=$v -v th=$th -v w=$wall -v u=$usr -v s=$sys -v b=$bytes -v tok=$tokens -v d=$docs \
        'BEGIN { c = u + s; printf "%-10s %-8d %9.2f %9.2f %9.2f %11.2f %10d %8d\n", v, th, w, c, b / 1e6 / w, b / 1e6 / c, tok, d }'
  done
done
echo "(whole command incl. vocab load, hashing and HDF5 deflate; MB/s = uncompressed input text / wall time;"
echo " MB/cpu-s = the same per CPU second (user+sys), a load-independent view; on a shared machine"
echo " wall time mostly measures the scheduler's share, so compare cpu_s between runs)"
