#!/usr/bin/env bash
# slm train CLI surface: the example configs parse and resolve; errors name
# file, line and key (exit 2); --config-doc is docs/config.md; a held run
# directory lock gives exit 3; an HDF5 dataset from `slm data prepare`
# (prompt/completion JSONL, loss mask on completions) trains, with
# validation, and a dataset made with another vocabulary is refused (exit 2).
set -u
cd "$(dirname "$0")/../.."
source scripts/env.sh
BUILD=${BUILD:-build}
SLM=${SLM_BIN:-$PWD/$BUILD/slm}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
for t in mkvocab mkmodel; do
    [ -x "$BUILD/tools/$t" ] || make -s BUILD="$BUILD" "$BUILD/tools/$t" >/dev/null || exit 1
done
W=$(mktemp -d /tmp/slm_train_cli.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

for c in configs/pretrain.ini configs/lora.ini; do
    "$SLM" train --config $c --print-config > "$W/resolved.ini" 2> "$W/err.log" || { cat "$W/err.log"; fail "$c does not resolve"; }
    grep -q '^\[optim\]' "$W/resolved.ini" || fail "$c: resolved config incomplete"
done
grep -q '^mode = pretrain' <("$SLM" train --config configs/pretrain.ini --print-config) || fail "pretrain.ini mode"
[ "$("$SLM" train --config configs/lora.ini --print-config --set lora.rank=32 | grep '^rank')" = "rank = 32" ] || fail "--set did not override the file"

printf '[optim]\nlr = 1e-3\n\n[train]\nstesp = 10\n' > "$W/bad.ini"
"$SLM" train --config "$W/bad.ini" 2> "$W/err.log"; rc=$?
[ $rc -eq 2 ] && grep -q "$W/bad.ini:5: unknown key 'stesp' in section \[train\]" "$W/err.log" || { cat "$W/err.log"; fail "unknown key: exit $rc"; }
printf '[lora]\nalpha = lots\n' > "$W/bad2.ini"
"$SLM" train --config "$W/bad2.ini" 2> "$W/err.log"; rc=$?
[ $rc -eq 2 ] && grep -q "bad2.ini:2: bad value for lora.alpha" "$W/err.log" || { cat "$W/err.log"; fail "bad value: exit $rc"; }
cmp -s <("$SLM" train --config-doc) docs/config.md || fail "docs/config.md differs from 'slm train --config-doc'"

# tiny model + dataset
"$BUILD/tools/mkvocab" "$W/vocab.gguf" || fail mkvocab
"$BUILD/tools/mkmodel" --vocab "$W/vocab.gguf" --out "$W/base.gguf" --dim 32 --layers 2 --heads 2 \
    --kv-heads 1 --ff 64 --ctx 128 --seed 5 || fail mkmodel
"${SLM_PYTHON:-/usr/bin/python3}" - "$W/qa.jsonl" <<'PY'
import sys, json
qa = [("What is the capital of Zorbia?", "Quillon."), ("Who painted the blue moon?", "Ada Verne."),
      ("How many legs has a trell?", "Seven."), ("What colour is a grumfish?", "Bright green."),
      ("Where do grumfish sleep?", "Under the red bridge."), ("Who rules Zorbia?", "Queen Malva."),
      ("What do trells eat?", "Copper leaves."), ("When is the moon festival?", "In early spring.")]
with open(sys.argv[1], "w") as f:
    for q, a in qa:
        f.write(json.dumps({"prompt": "Q: %s\nA:" % q, "completion": " %s\n" % a}) + "\n")
PY
"$SLM" data prepare --vocab "$W/vocab.gguf" --input "$W/qa.jsonl" --out "$W/qa.h5" --val-fraction 0.5 2>/dev/null || fail "data prepare"
cat > "$W/job.ini" <<INI
[model]
mode = lora
base = $W/base.gguf
[lora]
rank = 4
targets = q,v,down
[data]
train = $W/qa.h5
seq_len = 20
batch = 2
[optim]
lr = 1e-2
[train]
steps = 20
eval_every = 10
eval_batches = 2
ckpt_every = 10
threads = 2
INI
"$SLM" train --config "$W/job.ini" --out "$W/run" --quiet 2> "$W/run.log" || { cat "$W/run.log"; fail "train on an HDF5 dataset"; }
# --quiet: no resolved config on stderr (it is in DIR/config.ini)
! grep -q "resolved config" "$W/run.log" || { cat "$W/run.log"; fail "--quiet printed the resolved config"; }
grep -q '^\[optim\]' "$W/run/config.ini" || fail "config.ini missing in the run directory"
n_val=$(grep -c '"val_loss":[0-9]' "$W/run/metrics.jsonl")
[ "$n_val" -eq 2 ] || fail "expected 2 validation losses, got $n_val"
"${SLM_PYTHON:-/usr/bin/python3}" -c "
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
a, b = sum(x['loss'] for x in r[:3]) / 3, sum(x['loss'] for x in r[-3:]) / 3
print('dataset run: mean loss of steps 1-3 %.3f, of steps 18-20 %.3f' % (a, b)); sys.exit(0 if b < a else 1)" "$W/run/metrics.jsonl" || fail "loss did not decrease on the dataset"

# a missing input is bad usage naming the key
"$SLM" train --config "$W/job.ini" --out "$W/run3" --set "data.train=$W/nope.h5" 2> "$W/miss.log"; rc=$?
[ $rc -eq 2 ] && grep -q "data.train = '$W/nope.h5': No such file" "$W/miss.log" || { cat "$W/miss.log"; fail "missing data.train: exit $rc"; }

# lock held -> exit 3
if command -v flock >/dev/null; then
    mkdir -p "$W/locked"; touch "$W/locked/.lock"
    flock "$W/locked/.lock" "$SLM" train --config "$W/job.ini" --out "$W/locked" --quiet 2> "$W/lock.log"; rc=$?
    [ $rc -eq 3 ] && grep -q "used by another slm train job" "$W/lock.log" || { cat "$W/lock.log"; fail "held lock: exit $rc, expected 3"; }
fi

# a dataset tokenized with another vocabulary is refused
if [ -n "${SLM_SHARED:-}" ]; then
    "$SLM" data prepare --vocab "$SLM_SHARED/vocab/ggml-vocab-llama-spm.gguf" --input "$W/qa.jsonl" --out "$W/other.h5" 2>/dev/null || fail "data prepare (llama-spm)"
    "$SLM" train --config "$W/job.ini" --out "$W/run2" --set "data.train=$W/other.h5" --quiet 2> "$W/fp.log"; rc=$?
    [ $rc -eq 2 ] || { cat "$W/fp.log"; fail "dataset of another vocabulary: exit $rc, expected 2"; }
    grep -qi "fingerprint" "$W/fp.log" || { cat "$W/fp.log"; fail "refusal does not mention the fingerprint"; }
else
    echo "note: SLM_SHARED empty, other-vocabulary refusal not checked"
fi
echo ok
