#!/usr/bin/env bash
# The overlapped gradient all-reduce (docs/mpi.md "Buckets and overlap"):
# buckets reduced by a communication thread while the last micro-batch's
# backward goes on give the same bits as the reduction after the backward
# (SLM_MPI_OVERLAP=0), because every element is still summed in rank order.
#  - pretraining, 2 ranks x micro-batch 2 x accum 2 (only the last micro-batch
#    overlaps; the first accumulates), 4 KiB buckets spread over every stage:
#    overlapped and non-overlapped runs print bit-identical metrics (17
#    digits) and export byte-identical GGUFs; the overlapped run says so and
#    reports its exposed time;
#  - LoRA (rank 4, dropout 0.1, all targets) on a random base model, 2 ranks
#    x accum 1: the same bit-identity of metrics and exported adapters.
set -u
source "$(dirname "$0")/mpi_common.sh"
MKMODEL=$PWD/$BUILD/tools/mkmodel
[ -x "$MKMODEL" ] || make -s BUILD="$BUILD" "$BUILD/tools/mkmodel" >/dev/null || fail "build mkmodel"
make_job
export SLM_MPI_BUCKET_MB=0.004

# run NAME OVERLAP CONFIG ARGS...: a 2-rank training run into $W/NAME
run() {
    local name=$1 ov=$2 cfg=$3; shift 3
    SLM_MPI_OVERLAP=$ov mpi 2 -x SLM_MPI_BUCKET_MB -x SLM_MPI_OVERLAP "$SLM_MPI" train \
        --config "$cfg" --quiet --out "$W/$name" "$@" > "$W/$name.log" 2>&1 ||
        { cat "$W/$name.log"; fail "2-rank run $name (SLM_MPI_OVERLAP=$ov)"; }
}
# same NAME1 NAME2 WHAT: bit-identical metrics and exports
same() {
    diff <(metrics "$W/$1/metrics.jsonl") <(metrics "$W/$2/metrics.jsonl") ||
        fail "$3: overlapped and non-overlapped runs print different metrics"
    [ "$(wc -l < "$W/$1/metrics.jsonl")" -ge 8 ] || fail "$3: too few metrics lines"
    "$SLM" export --ckpt "$W/$1" --out "$W/$1.gguf" 2>/dev/null || fail "export $1"
    "$SLM" export --ckpt "$W/$2" --out "$W/$2.gguf" 2>/dev/null || fail "export $2"
    cmp "$W/$1.gguf" "$W/$2.gguf" || fail "$3: overlapped and non-overlapped exports differ"
    echo "$3: overlapped = non-overlapped, bit for bit ($(wc -l < "$W/$1/metrics.jsonl") metrics lines, $(stat -c %s "$W/$1.gguf") byte GGUF)"
}
check_logs() {
    grep -q "mpi: overlapped with the last backward: .* ms/step exposed" "$W/$1.log" ||
        { cat "$W/$1.log"; fail "$1: no overlap report"; }
    grep -Eq "in ([2-9]|[1-9][0-9]+) buckets" "$W/$1.log" || fail "$1: small buckets not used"
    grep -q "mpi: not overlapped" "$W/$2.log" || { cat "$W/$2.log"; fail "$2: SLM_MPI_OVERLAP=0 ignored"; }
    grep "mpi: " "$W/$1.log"
}

sed -i 's/^steps = 20/steps = 10/' "$W/job.ini"
run pre_ov 1 "$W/job.ini" --set optim.accum=2
run pre_no 0 "$W/job.ini" --set optim.accum=2
check_logs pre_ov pre_no
same pre_ov pre_no "pretrain, accum 2"

"$MKMODEL" --vocab "$W/vocab.gguf" --out "$W/base.gguf" --dim 32 --layers 3 --heads 4 \
    --kv-heads 2 --ff 64 --ctx 64 --seed 4 || fail mkmodel
sed -e 's/^mode = pretrain/mode = lora/' -e "s|^vocab = .*|base = $W/base.gguf|" \
    -e '/^\(dim\|layers\|heads\|kv_heads\|ffn\) =/d' "$W/job.ini" > "$W/lora.ini"
printf '[lora]\nrank = 4\nalpha = 8\ndropout = 0.1\ntargets = all\n' >> "$W/lora.ini"
sed -i 's/^lr = .*/lr = 1e-2/' "$W/lora.ini"
run lora_ov 1 "$W/lora.ini" --set optim.accum=1
run lora_no 0 "$W/lora.ini" --set optim.accum=1
check_logs lora_ov lora_no
same lora_ov lora_no "lora"
# the adapters must have trained (B starts at zero), or the comparison says little
python3 - "$W/lora_ov/metrics.jsonl" <<'PY' || fail "LoRA gradients are zero"
import json, sys
g = [json.loads(l)["grad_norm"] for l in open(sys.argv[1])]
assert min(g) > 0, g
PY
echo "ok"
