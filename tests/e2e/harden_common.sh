# Sourced by the test_harden_*.sh scripts after `cd` to the repository:
# paths, tools, the fault shim and the tiny pretraining job they share.
# $1: a name for the work directory.  Defines BUILD, B (absolute build
# directory), REPO, SLM, W (work directory, removed on exit), fail, shim and
# tiny_job_ini.  Exits 77 (skip) without the GPL-3 text used as input.
BUILD=${BUILD:-build}
source scripts/env.sh
REPO=$PWD
B=$BUILD; [ "${B#/}" = "$B" ] && B=$PWD/$BUILD # absolute: tests may work in $W
SLM=${SLM_BIN:-$B/slm}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
for t in mkvocab mkmodel; do
    [ -x "$B/tools/$t" ] || make -s BUILD="$BUILD" "$BUILD/tools/$t" >/dev/null || exit 1
done
[ -f /usr/share/common-licenses/GPL-3 ] || { echo "skip: /usr/share/common-licenses/GPL-3 (text) absent"; exit 77; }
W=$(mktemp -d "/tmp/slm_$1.XXXXXX")
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
shim="$B/fault/shim.so"
mkdir -p "$B/fault"
if [ ! -f "$shim" ] || [ tests/fault/shim.c -nt "$shim" ]; then
    ${CC:-gcc} -shared -fPIC -O1 -Wall -Wextra -Werror -o "$shim" tests/fault/shim.c -ldl || fail "building the shim"
fi

# tiny_job_ini FILE VOCAB DATA: a 1-block pretraining job of 4 steps with a
# checkpoint every 2 (what the fault tests interrupt and read back)
tiny_job_ini() {
    cat > "$1" <<INI
[model]
mode = pretrain
vocab = $2
dim = 32
layers = 1
heads = 2
kv_heads = 2
ffn = 64
[data]
train = $3
seq_len = 32
batch = 2
[train]
steps = 4
seed = 7
eval_every = 0
ckpt_every = 2
keep = 5
threads = 1
INI
}
