# Sourced by tests/e2e/test_retrain_*.sh: a tiny base model, chat data, a
# validation text and a retrain config in $T (a fresh temp directory).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SLM=${SLM_BIN:-$ROOT/build/slm}
export SLM
RETRAIN=${SLM_RETRAIN:-$ROOT/scripts/retrain.sh} # override: mutation checks of the tests
S="$ROOT/data/samples"
T=$(mktemp -d /tmp/slm-retrain.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v jq >/dev/null && command -v flock >/dev/null || { echo "SKIP: jq and flock needed"; exit 77; }

# base: a 2-block, 32-wide Llama pretrained for 3 steps (quality irrelevant)
mkdir -p "$T/in"
head -c 60000 "$S/docs/error-codes.md" >"$T/corpus.txt"
cat "$S/faq.jsonl" >>"$T/corpus.txt"
"$SLM" tokenizer train -q --input "$T/corpus.txt" --input "$S/support_chats.jsonl" --vocab-size 320 --out "$T/vocab.gguf"
cat >"$T/pre.ini" <<INI
[model]
mode = pretrain
vocab = $T/vocab.gguf
dim = 32
layers = 2
heads = 2
[data]
train = $T/corpus.txt
seq_len = 32
batch = 2
[train]
steps = 3
eval_batches = 0
threads = 1
[output]
dir = $T/pre
INI
"$SLM" train --config "$T/pre.ini" --quiet >/dev/null 2>&1
"$SLM" export --ckpt "$T/pre" --out "$T/base.gguf" >/dev/null 2>&1
# incoming chat data (new files arrive here) and a fixed validation text
sed -n 1,40p "$S/support_chats.jsonl" >"$T/in/chats-1.jsonl"
sed -n 2901,2930p "$S/support_chats.jsonl" | jq -r '.messages[] | .content' >"$T/val.txt"
cat >"$T/retrain.conf" <<CONF
# test config (docs/retraining.md)
BASE = base.gguf
DATA = in
VALSET = val.txt
WORK_DIR = work
DEPLOY_DIR = deploy
MARGIN = 0
STEPS = ${RT_STEPS:-4}
RANK = 4
ALPHA = 8
LR = 1e-2
SEQ_LEN = 32
BATCH = 2
CKPT_EVERY = 1
KEEP = 3
THREADS = 1
CONF

# check_deploy DIR [quick]: every visible file of every visible version is listed
# in its manifest with the right size and SHA-256 (quick: size only, so that a
# poller looks often); `current` points at a complete version
check_deploy() {
    local d=$1 quick=${2:-} v f
    for v in "$d"/*; do
        [ -e "$v" ] || continue
        case "$(basename "$v")" in
            current) [ -L "$v" ] || fail "current is not a symlink"
                     [ -f "$v/manifest.json" ] || fail "current -> $(readlink "$v") has no manifest" ;;
            v[0-9][0-9][0-9][0-9])
                [ -f "$v/manifest.json" ] || fail "$v: visible version without manifest.json"
                local m; m=$(jq -c . "$v/manifest.json") || fail "$v/manifest.json: not complete JSON"
                for f in "$v"/*; do
                    local n; n=$(basename "$f")
                    [ "$n" = manifest.json ] && continue
                    local sz; sz=$(jq -r --arg n "$n" '.files[$n].bytes // empty' <<<"$m")
                    [ -n "$sz" ] || fail "$f: not in the manifest"
                    [ "$(stat -c %s "$f")" = "$sz" ] || fail "$f: $(stat -c %s "$f") bytes, manifest says $sz"
                    [ -n "$quick" ] && continue
                    [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$(jq -r --arg n "$n" '.files[$n].sha256' <<<"$m")" ] ||
                        fail "$f: SHA-256 differs from the manifest"
                done
                for f in $(jq -r '.files | keys[]' <<<"$m"); do
                    [ -f "$v/$f" ] || fail "$v/$f: listed in the manifest, missing"
                done ;;
            *) fail "unexpected visible entry $(basename "$v") in the deploy directory" ;;
        esac
    done
}
