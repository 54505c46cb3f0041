#!/usr/bin/env bash
# scripts/retrain.sh — cron-driven LoRA retraining with an evaluation gate and
# atomic publishing.  Documentation: docs/retraining.md.
#
#   scripts/retrain.sh [--wait] [--force] CONFIG     one retraining round
#   scripts/retrain.sh --rollback CONFIG             point `current` at the previous version
#   scripts/retrain.sh --status CONFIG               print the published versions
#
# One round: take the lock (exit 3 when another run holds it, or wait with
# --wait); add new data files to WORK_DIR/data.h5 (`slm data prepare` is
# incremental); continue the LoRA adapter from the published version's
# checkpoint for STEPS more steps (a killed round resumes from its own
# checkpoints); export and quantize the candidate; evaluate it and the
# published model on VALSET; publish only when the candidate's perplexity is
# lower than the published one's by the relative MARGIN, else keep the old
# version and say why.  Publishing writes DEPLOY_DIR/.staging-* (same file
# system), then renames it to DEPLOY_DIR/vNNNN and swaps the `current` symlink
# atomically; KEEP versions are retained.
#
# Exit status: 0 round done (published, kept, or nothing new), 2 bad config or
# usage, 3 another run holds the lock, 1 a step failed (nothing published).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SLM=${SLM:-$ROOT/build/slm}
ts() { date -u +%Y-%m-%dT%H:%M:%SZ; }
log() { printf '%s retrain: %s\n' "$(ts)" "$*" >&2; }
die() { printf 'retrain: %s\n' "$*" >&2; exit 2; }
fail() { log "FAILED: $*"; exit 1; }
run() { log "\$ $*"; "$@" >>"$LOG" 2>&1 || { tail -n 20 "$LOG" | sed 's/^/    /' >&2; return 1; }; }

# ---- arguments -----------------------------------------------------------------
ACTION=round WAIT=0 FORCE=0 CONFIG=""
while [ $# -gt 0 ]; do
    case "$1" in
        --wait) WAIT=1 ;;
        --force) FORCE=1 ;;
        --rollback) ACTION=rollback ;;
        --status) ACTION=status ;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) die "unknown option '$1' (see --help)" ;;
        *) [ -z "$CONFIG" ] || die "one CONFIG expected, got '$CONFIG' and '$1'"; CONFIG=$1 ;;
    esac
    shift
done
[ -n "$CONFIG" ] || die "usage: scripts/retrain.sh [--wait|--rollback|--status] CONFIG (see --help)"
[ -r "$CONFIG" ] || die "$CONFIG: cannot read the config"

# ---- config: KEY=VALUE lines, '#' comments; never executed as shell -------------
declare -A CFG=(
    [BASE]="" [DATA]="" [VALSET]="" [WORK_DIR]="" [DEPLOY_DIR]=""
    [TEMPLATE]=chatml [FORMAT]=auto [MARGIN]=0.01 [STEPS]=200 [KEEP]=5
    [QUANT]=Q8_0 [EXPORT_TYPE]=F32 [RANK]=8 [ALPHA]=16 [TARGETS]=all [LR]=2e-4
    [SEQ_LEN]=128 [BATCH]=8 [CKPT_EVERY]=50 [SEED]=1234 [THREADS]=0 [EVAL_CTX]=0
)
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    line=${line%%#*}
    [ -n "${line//[[:space:]]/}" ] || continue
    [[ "$line" =~ ^[[:space:]]*([A-Z_]+)[[:space:]]*=[[:space:]]*(.*[^[:space:]])?[[:space:]]*$ ]] ||
        die "$CONFIG:$lineno: expected KEY=VALUE, got '$line'"
    key=${BASH_REMATCH[1]} val=${BASH_REMATCH[2]:-}
    [[ "$val" =~ ^\"(.*)\"$ ]] && val=${BASH_REMATCH[1]}
    [ -n "${CFG[$key]+x}" ] || die "$CONFIG:$lineno: unknown key '$key' (keys: ${!CFG[*]}; see docs/retraining.md)"
    CFG[$key]=$val
done <"$CONFIG"
CONFIG_DIR=$(cd "$(dirname "$CONFIG")" && pwd)
abspath() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$CONFIG_DIR" "$1" ;; esac; }
for k in BASE VALSET WORK_DIR DEPLOY_DIR; do
    [ -n "${CFG[$k]}" ] || die "$CONFIG: $k is required (see docs/retraining.md)"
    CFG[$k]=$(abspath "${CFG[$k]}")
done
[ -n "${CFG[DATA]}" ] || die "$CONFIG: DATA is required (space-separated files or directories)"
DATA_PATHS=()
for p in ${CFG[DATA]}; do DATA_PATHS+=("$(abspath "$p")"); done
isnum() { [[ "$2" =~ ^[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$ ]] || die "$CONFIG: $1 = '$2' is not a number"; }
isint() { [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -ge "${3:-0}" ] || die "$CONFIG: $1 = '$2' must be an integer >= ${3:-0}"; }
isnum MARGIN "${CFG[MARGIN]}"; isnum LR "${CFG[LR]}"
isint STEPS "${CFG[STEPS]}" 1; isint KEEP "${CFG[KEEP]}" 1; isint RANK "${CFG[RANK]}" 1
isint SEQ_LEN "${CFG[SEQ_LEN]}" 1; isint BATCH "${CFG[BATCH]}" 1; isint CKPT_EVERY "${CFG[CKPT_EVERY]}" 0
isint THREADS "${CFG[THREADS]}" 0; isint SEED "${CFG[SEED]}" 0; isint EVAL_CTX "${CFG[EVAL_CTX]}" 0
[ -r "${CFG[BASE]}" ] || die "$CONFIG: BASE = ${CFG[BASE]}: cannot read"
[ -r "${CFG[VALSET]}" ] || die "$CONFIG: VALSET = ${CFG[VALSET]}: cannot read"
command -v jq >/dev/null || die "jq is required (apt-get install jq)"
command -v flock >/dev/null || die "flock is required (apt-get install util-linux)"
[ -x "$SLM" ] || die "$SLM: not built (run make)"

WORK=${CFG[WORK_DIR]} DEPLOY=${CFG[DEPLOY_DIR]}
mkdir -p "$WORK" "$DEPLOY"

# ---- helpers on the deploy directory ------------------------------------------------
current_version() { # vNNNN or empty
    local t
    t=$(readlink "$DEPLOY/current" 2>/dev/null) || return 0
    [ -d "$DEPLOY/$t" ] && printf '%s' "$t"
}
versions() { (cd "$DEPLOY" && ls -d v[0-9][0-9][0-9][0-9] 2>/dev/null | sort) || true; }
set_current() { # atomic: a new symlink renamed over the old one
    ln -sfn "$1" "$DEPLOY/.current.tmp"
    mv -T "$DEPLOY/.current.tmp" "$DEPLOY/current"
}
sha() { sha256sum "$1" | cut -d' ' -f1; }

# ---- lock ------------------------------------------------------------------------------
exec 9>"$WORK/retrain.lock"
if [ "$WAIT" = 1 ]; then
    flock 9
elif ! flock -n 9; then
    log "another run holds $WORK/retrain.lock; exiting (use --wait to queue)"
    exit 3
fi
LOG=$WORK/last.log # output of the slm commands of the latest run
: >"$LOG"
# leftovers of a killed run: staging directories and symlink temps are never visible names
rm -rf "$DEPLOY"/.staging-* "$DEPLOY"/.trash-* "$DEPLOY/.current.tmp"

if [ "$ACTION" = status ]; then
    cur=$(current_version)
    for v in $(versions); do
        printf '%s%s  %s\n' "$v" "$([ "$v" = "$cur" ] && echo ' (current)')" \
            "$(jq -c '{published, val_ppl: .metrics.val_ppl, step: .training.step}' "$DEPLOY/$v/manifest.json")"
    done
    exit 0
fi

if [ "$ACTION" = rollback ]; then
    cur=$(current_version)
    [ -n "$cur" ] || { log "nothing published; nothing to roll back"; exit 1; }
    prev=$(versions | awk -v c="$cur" '$0 < c' | tail -1)
    [ -n "$prev" ] || { log "$cur is the oldest retained version; cannot roll back"; exit 1; }
    set_current "$prev"
    printf '%s rolled back from %s to %s\n' "$(ts)" "$cur" "$prev" >>"$WORK/rollback.log"
    # the next round with no new data stays idle instead of re-training what was rolled back
    if [ -f "$WORK/last_round.json" ]; then
        jq --arg p "$prev" '.current_after = $p | .decision = "rolled back"' "$WORK/last_round.json" >"$WORK/.last_round.tmp"
        mv -f "$WORK/.last_round.tmp" "$WORK/last_round.json"
    fi
    log "rolled back: current -> $prev (was $cur)"
    exit 0
fi

# ---- 1. data ----------------------------------------------------------------------------
DATA_H5=$WORK/data.h5
run "$SLM" data prepare --vocab "${CFG[BASE]}" --format "${CFG[FORMAT]}" --template "${CFG[TEMPLATE]}" \
    --input "${DATA_PATHS[@]}" --out "$DATA_H5" || fail "slm data prepare"
DATA_SHA=$(sha "$DATA_H5")
CONFIG_SHA=$(sha "$CONFIG")
VALSET_SHA=$(sha "${CFG[VALSET]}")
BASE_SHA=$(sha "${CFG[BASE]}")
CUR=$(current_version)
CUR_STEP=0
[ -n "$CUR" ] && CUR_STEP=$(jq -r '.training.step' "$DEPLOY/$CUR/manifest.json")
INPUTS_KEY=$(printf '%s %s %s' "$DATA_SHA" "$CONFIG_SHA" "$BASE_SHA" | sha256sum | cut -c1-16)
ROUND_KEY=$(printf '%s %s' "$CUR" "$INPUTS_KEY" | sha256sum | cut -c1-16)

if [ "$FORCE" = 0 ] && [ -f "$WORK/last_round.json" ] &&
    [ "$(jq -r '.inputs' "$WORK/last_round.json")" = "$INPUTS_KEY" ] &&
    [ "$(jq -r '.current_after' "$WORK/last_round.json")" = "$CUR" ]; then
    log "nothing new since the last round ($(jq -r '.decision' "$WORK/last_round.json")): same data, config and published version; exiting (--force to retrain)"
    exit 0
fi

# ---- 2. training: continue the published adapter, or resume this round -------------------
RUN=$WORK/run
if [ ! -f "$RUN/round" ] || [ "$(cat "$RUN/round")" != "$ROUND_KEY" ]; then
    rm -rf "$RUN"
    mkdir -p "$RUN"
    if [ -n "$CUR" ]; then # continue from the published checkpoint
        cp "$DEPLOY/$CUR/checkpoint.h5" "$RUN/.ckpt.tmp"
        mv "$RUN/.ckpt.tmp" "$RUN/ckpt-$CUR_STEP.h5"
    fi
    echo "$ROUND_KEY" >"$RUN/round"
    log "new round $ROUND_KEY: LoRA from ${CUR:-scratch} (step $CUR_STEP) + ${CFG[STEPS]} steps on $DATA_H5"
else
    log "resuming round $ROUND_KEY in $RUN"
fi
TARGET_STEP=$((CUR_STEP + CFG[STEPS]))
cat >"$RUN/.job.tmp" <<EOF
# written by scripts/retrain.sh from $CONFIG
[model]
mode = lora
base = ${CFG[BASE]}
[lora]
rank = ${CFG[RANK]}
alpha = ${CFG[ALPHA]}
targets = ${CFG[TARGETS]}
[data]
train = $DATA_H5
seq_len = ${CFG[SEQ_LEN]}
batch = ${CFG[BATCH]}
[optim]
lr = ${CFG[LR]}
schedule = constant
warmup = 0
[train]
steps = $TARGET_STEP
seed = ${CFG[SEED]}
eval_every = 0
eval_batches = 4
ckpt_every = ${CFG[CKPT_EVERY]}
keep = 2
threads = ${CFG[THREADS]}
[output]
dir = $RUN
EOF
mv "$RUN/.job.tmp" "$RUN/job.ini"
run "$SLM" train --config "$RUN/job.ini" --quiet || fail "slm train (rerun to resume from its checkpoint)"
CKPT=$(ls "$RUN"/ckpt-*.h5 | sed 's/.*ckpt-\([0-9]*\)\.h5$/\1 &/' | sort -n | tail -1 | cut -d' ' -f2)
STEP=$(basename "$CKPT" .h5 | sed 's/ckpt-//')
[ "$STEP" = "$TARGET_STEP" ] || fail "training stopped at step $STEP of $TARGET_STEP (interrupted?); rerun to resume"

# ---- 3. candidate + gate -------------------------------------------------------------------
CAND=$RUN/candidate
rm -rf "$CAND" && mkdir -p "$CAND"
run "$SLM" export --ckpt "$CKPT" --base "${CFG[BASE]}" --type "${CFG[EXPORT_TYPE]}" --out "$CAND/model.gguf" ||
    fail "slm export (merged)"
run "$SLM" export --ckpt "$CKPT" --base "${CFG[BASE]}" --adapter --out "$CAND/adapter.gguf" ||
    fail "slm export --adapter"
for q in ${CFG[QUANT]}; do
    lq=$(tr '[:upper:]' '[:lower:]' <<<"$q")
    run "$SLM" quantize "$CAND/model.gguf" "$CAND/model-$lq.gguf" "$q" --quiet || fail "slm quantize $q"
done
cp "$CKPT" "$CAND/checkpoint.h5"
ppl_of() { # MODEL -> perplexity on VALSET
    "$SLM" eval --model "$1" --text "${CFG[VALSET]}" --ctx "${CFG[EVAL_CTX]}" --json -t "${CFG[THREADS]}" 2>/dev/null |
        tail -1 | jq -er '.ppl'
}
CAND_PPL=$(ppl_of "$CAND/model.gguf") || fail "slm eval of the candidate"
if [ -n "$CUR" ]; then
    REF_NAME=$CUR REF_MODEL=$DEPLOY/$CUR/model.gguf
else
    REF_NAME="base (nothing published)" REF_MODEL=${CFG[BASE]}
fi
REF_PPL=$(ppl_of "$REF_MODEL") || fail "slm eval of $REF_MODEL"
THRESH=$(awk -v r="$REF_PPL" -v m="${CFG[MARGIN]}" 'BEGIN { printf "%.6f", r * (1 - m) }')
BETTER=$(awk -v c="$CAND_PPL" -v t="$THRESH" 'BEGIN { print (c < t) ? 1 : 0 }')
log "validation perplexity: candidate $CAND_PPL, $REF_NAME $REF_PPL; publish threshold $THRESH (margin ${CFG[MARGIN]})"

record() { # DECISION REASON CURRENT_AFTER
    jq -n --arg round "$ROUND_KEY" --arg in "$INPUTS_KEY" --arg d "$1" --arg why "$2" --arg t "$(ts)" \
        --argjson c "$CAND_PPL" --argjson r "$REF_PPL" --arg cur "$3" \
        '{round: $round, inputs: $in, decision: $d, reason: $why, time: $t, candidate_ppl: $c,
          reference_ppl: $r, current_after: $cur}' \
        >"$WORK/.last_round.tmp"
    mv -f "$WORK/.last_round.tmp" "$WORK/last_round.json"
}
if [ "$BETTER" != 1 ]; then
    why="candidate perplexity $CAND_PPL is not below $THRESH = $REF_NAME's $REF_PPL x (1 - ${CFG[MARGIN]})"
    record kept "$why" "$CUR"
    log "NOT PUBLISHED: $why; ${CUR:-nothing} stays current"
    exit 0
fi

# ---- 4. publish: staging dir in DEPLOY_DIR, renamed into place -------------------------------
LAST=$(versions | tail -1)
if [ -n "$LAST" ]; then NEXT=$(printf 'v%04d' $(( 10#${LAST#v} + 1 ))); else NEXT=v0001; fi
STAGE=$DEPLOY/.staging-$NEXT-$$
mkdir -p "$STAGE"
for f in "$CAND"/*; do
    cp "$f" "$STAGE/"
    # tests widen the publishing window to kill runs inside it (tests/e2e/test_retrain_atomic.sh)
    [ -z "${SLM_RETRAIN_PUBLISH_DELAY:-}" ] || sleep "$SLM_RETRAIN_PUBLISH_DELAY"
done
cp "$CONFIG" "$STAGE/retrain.conf"
cp "$RUN/job.ini" "$STAGE/job.ini"
GIT_SHA=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
files_json=$(cd "$STAGE" && for f in *; do jq -cn --arg n "$f" --arg h "$(sha "$f")" --argjson s "$(stat -c %s "$f")" \
    '{($n): {sha256: $h, bytes: $s}}'; done | jq -s 'add')
inputs_json=$(find -L "${DATA_PATHS[@]}" -type f | sort | while IFS= read -r f; do
    jq -cn --arg n "$f" --arg h "$(sha "$f")" '{($n): $h}'; done | jq -s 'add // {}')
jq -n --arg v "$NEXT" --arg t "$(ts)" --arg prev "$CUR" --argjson files "$files_json" \
    --argjson cppl "$CAND_PPL" --argjson rppl "$REF_PPL" --arg refn "$REF_NAME" --argjson margin "${CFG[MARGIN]}" \
    --arg valset "${CFG[VALSET]}" --arg valsha "$VALSET_SHA" --arg git "$GIT_SHA" --arg slmv "$("$SLM" --version)" \
    --arg conf "$(abspath "$CONFIG")" --arg confsha "$CONFIG_SHA" --arg base "${CFG[BASE]}" --arg basesha "$BASE_SHA" \
    --arg data "$DATA_H5" --arg datasha "$DATA_SHA" --argjson inputs "$inputs_json" \
    --argjson step "$STEP" --argjson from "$CUR_STEP" --arg round "$ROUND_KEY" --arg host "$(hostname)" \
    '{version: $v, published: $t, previous: (if $prev == "" then null else $prev end),
      files: $files,
      metrics: {val_ppl: $cppl, reference: $refn, reference_val_ppl: $rppl, margin: $margin,
                valset: $valset, valset_sha256: $valsha},
      training: {step: $step, continued_from_step: $from, round: $round},
      provenance: {git_sha: $git, slm_version: $slmv, host: $host, config: $conf, config_sha256: $confsha,
                   base: $base, base_sha256: $basesha, dataset: $data, dataset_sha256: $datasha,
                   inputs: $inputs}}' >"$STAGE/manifest.json"
sync "$STAGE"/* "$STAGE" 2>/dev/null || sync
mv -T "$STAGE" "$DEPLOY/$NEXT" # atomic: the version appears complete or not at all
set_current "$NEXT"
sync "$DEPLOY" 2>/dev/null || true
record published "candidate perplexity $CAND_PPL < $THRESH" "$NEXT"
log "PUBLISHED $NEXT: perplexity $CAND_PPL (was $REF_PPL, $REF_NAME); $DEPLOY/current -> $NEXT"

# ---- 5. retention: keep the newest KEEP versions (and always the current one) -------------------
n=$(versions | wc -l)
for v in $(versions | head -n $(( n > CFG[KEEP] ? n - CFG[KEEP] : 0 ))); do
    [ "$v" = "$NEXT" ] && continue
    mv -T "$DEPLOY/$v" "$DEPLOY/.trash-$v" && rm -rf "$DEPLOY/.trash-$v"
    log "removed old version $v (KEEP=${CFG[KEEP]})"
done
exit 0
