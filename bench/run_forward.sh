#!/usr/bin/env bash
# bench/run_forward.sh — forward throughput, slm vs llama.cpp, same GGUF,
# same run: batch 1, T = 256, f32 weights, 2 threads, two shapes
#   ~15M:  dim 288, 6 layers, 6 heads, ffn 768, vocab 32000 (tied output)
#   ~110M: dim 768, 12 layers, 12 heads, ffn 2048, vocab 32000 (tied output)
# slm: bench/bench_forward.c (logits at the last position, like llama.cpp's
# prompt processing, and at every position, like eval needs), the 2-thread
# sgemm peak and the sgemm threading strategies measured in the same run.
# llama.cpp: node-llama-cpp prompt processing (tests/node/ref.mjs --bench).
# Best of REPS timed runs after a warm-up on each side.
set -u
cd "$(dirname "$0")/.."
source scripts/env.sh
BUILD=${BUILD:-build}
REPS=${REPS:-5}
T=256
export OMP_NUM_THREADS=2
VOCAB=${SLM_SHARED:+$SLM_SHARED/vocab/ggml-vocab-llama-spm.gguf}
[ -n "$VOCAB" ] && [ -f "$VOCAB" ] || { echo "skip: SLM_SHARED is empty (the 32000-token vocabulary comes from there)"; exit 0; }
have_node=1
[ -f "$SLM_NODE_MODULES/node-llama-cpp/package.json" ] || { have_node=0; echo "note: node-llama-cpp missing, llama.cpp column empty"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (other jobs on this machine disturb timings)"
echo "OpenBLAS: $(readlink -f /usr/lib/x86_64-linux-gnu/libopenblas.so.0 | sed 's|.*/\(openblas[^/]*\)/.*|\1|'), OMP_NUM_THREADS=$OMP_NUM_THREADS, OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-default}"
for shape in "15M 288 6 6 768" "110M 768 12 12 2048"; do
    set -- $shape
    name=$1
    $BUILD/tools/mkmodel --vocab "$VOCAB" --out $tmp/$name.gguf --dim $2 --layers $3 --heads $4 \
        --kv-heads $4 --ff $5 --ctx 512 --tied --seed 1 || exit 1
    $BUILD/bench/bench_forward $tmp/$name.gguf $T $REPS > $tmp/$name.slm || exit 1
    if [ $have_node = 1 ]; then
        node tests/node/ref.mjs --model $tmp/$name.gguf --bench $T --reps $REPS --threads 2 > $tmp/$name.ref || echo '{}' > $tmp/$name.ref
    else echo '{}' > $tmp/$name.ref; fi
    $SLM_PYTHON - "$name" $tmp/$name.slm $tmp/$name.ref "$2 $3 $4 $5" <<'PY'
import json, sys
name, slm_path, ref_path, dims = sys.argv[1:5]
rows = [json.loads(l) for l in open(slm_path) if l.strip()]
ref = json.load(open(ref_path))
peak = next(r for r in rows if r["what"] == "sgemm_peak")["gflops"]
strat = next(r for r in rows if r["what"] == "sgemm_strategy")
fw = {r["logits"]: r for r in rows if r["what"] == "forward"}
d, L, H, F = map(int, dims.split())
params = 32000 * d + L * (4 * d * d + 3 * d * F + 2 * d) + d
print(f"\n== {name}: dim {d}, {L} layers, {H} heads, ffn {F}, vocab 32000, tied, {params/1e6:.1f}M params, T=256, batch 1, 2 threads")
print(f"sgemm peak (2048^3, 2 threads, this run): {peak:.1f} GFLOP/s")
print(f"sgemm on this model's layer shapes: OpenMP OpenBLAS {strat['openmp_openblas_gflops']:.1f} GFLOP/s, "
      f"1 BLAS thread per OpenMP thread {strat['one_blas_thread_per_omp_thread_gflops']:.1f} GFLOP/s")
lt = ref.get("tokens_per_s")
for k in ("last", "all"):
    r = fw[k]
    ratio = f"{r['tokens_per_s'] / lt:.2f}x llama.cpp" if lt else "llama.cpp n/a"
    print(f"slm  logits={k:4s}: {r['tokens_per_s']:8.1f} tok/s  ({r['best_s']*1e3:7.1f} ms, {r['gflops']:.1f} GFLOP/s "
          f"= {100 * r['gflops'] / peak:.0f}% of peak)  {ratio}")
if lt:
    gl = fw["last"]["gflop"] * lt / 256
    print(f"llama.cpp (node-llama-cpp prompt processing, last logits): {lt:8.1f} tok/s  "
          f"({ref['best_s']*1e3:7.1f} ms, {gl:.1f} GFLOP/s = {100 * gl / peak:.0f}% of peak)")
PY
    rm -f $tmp/$name.gguf
done
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
