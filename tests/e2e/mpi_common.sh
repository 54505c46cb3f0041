# Sourced by tests/e2e/test_mpi_*.sh: the default build ($SLM) as the
# single-process reference, the MPI build ($SLM_MPI, BUILD_MPI=build-mpi, made
# here with `make MPI=1` if missing), a tiny pretraining job, helpers.
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
BUILD_MPI=${BUILD_MPI:-build-mpi}
SLM=${SLM_BIN:-$PWD/$BUILD/slm}
SLM_MPI=$PWD/$BUILD_MPI/slm
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
command -v mpicc >/dev/null && command -v mpirun >/dev/null ||
    { echo "skip: mpicc/mpirun not found (apt-get install libopenmpi-dev openmpi-bin; scripts/deps.sh)"; exit 77; }
[ -d /usr/share/common-licenses ] || { echo "skip: /usr/share/common-licenses (text corpus) absent"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
MKVOCAB=$PWD/$BUILD/tools/mkvocab
[ -x "$MKVOCAB" ] || make -s BUILD="$BUILD" "$BUILD/tools/mkvocab" >/dev/null || fail "build mkvocab"
[ -x "$SLM" ] || make -s BUILD="$BUILD" "$BUILD/slm" >/dev/null || fail "build slm"
make -s MPI=1 BUILD="$BUILD_MPI" "$BUILD_MPI/slm" >/dev/null || fail "make MPI=1 BUILD=$BUILD_MPI"
# Open MPI: root in containers, more ranks than cores, no network interfaces needed
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi() { local np=$1; shift; timeout 300 mpirun --allow-run-as-root --oversubscribe --bind-to none \
          -np "$np" -x OMP_NUM_THREADS -x OMP_WAIT_POLICY "$@"; }
W=$(mktemp -d /tmp/slm_mpi.XXXXXX)
trap 'rm -rf "$W"' EXIT

# job.ini: tiny pretraining job; the micro-batch and accumulation are set per run
make_job() {
    "$MKVOCAB" "$W/vocab.gguf" || fail "mkvocab"
    find /usr/share/common-licenses -type f | sort | xargs cat 2>/dev/null | head -c 40000 > "$W/text.txt"
    cat > "$W/job.ini" <<INI
[model]
mode = pretrain
vocab = $W/vocab.gguf
dim = 32
layers = 2
heads = 4
kv_heads = 2
ffn = 64
[data]
train = $W/text.txt
seq_len = 32
batch = 2
[optim]
lr = 3e-3
warmup = 3
schedule = cosine
weight_decay = 0.01
[train]
steps = 20
seed = 11
eval_every = 5
eval_batches = 3
ckpt_every = 5
keep = 5
threads = 1
INI
}
# "step loss grad_norm val_loss" per metrics line, full printed precision
metrics() { python3 -c '
import json, sys
for l in open(sys.argv[1]):
    j = json.loads(l); print(j["step"], repr(j["loss"]), repr(j["grad_norm"]), repr(j["val_loss"]))' "$1"; }
# max relative difference of loss, grad_norm and val_loss over the common steps
maxrel() { python3 -c '
import json, sys
def rd(p): return {j["step"]: j for j in map(json.loads, open(p))}
a, b = rd(sys.argv[1]), rd(sys.argv[2])
steps = sorted(set(a) & set(b))
assert steps, "no common steps"
m = 0.0
for s in steps:
    for k in ("loss", "grad_norm", "val_loss"):
        x, y = a[s][k], b[s][k]
        if x is None and y is None: continue
        if x is None or y is None: print("inf"); sys.exit()
        m = max(m, abs(x - y) / max(abs(x), 1e-30))
print("%.3g %d" % (m, len(steps)))' "$1" "$2"; }
