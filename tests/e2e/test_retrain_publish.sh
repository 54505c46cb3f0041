#!/usr/bin/env bash
# retrain: first round publishes v0001 with a complete manifest; a round with
# nothing new does nothing; new data + an impossible margin is not published
# (and says why); a better round publishes v0002; --rollback restores v0001;
# an idle round after the rollback keeps it; a bad config is refused with exit 2.
source "$(dirname "$0")/retrain_lib.sh"
cd "$T"

out=$("$RETRAIN" retrain.conf 2>&1) || fail "first round: $out"
grep -q "PUBLISHED v0001" <<<"$out" || fail "first round did not publish: $out"
[ "$(readlink deploy/current)" = v0001 ] || fail "current is not v0001"
check_deploy deploy
m=deploy/v0001/manifest.json
for k in .metrics.val_ppl .metrics.reference_val_ppl .provenance.git_sha .provenance.base_sha256 \
         .provenance.dataset_sha256 .provenance.config_sha256 .published .training.step; do
    jq -e "$k" "$m" >/dev/null || fail "manifest lacks $k"
done
[ "$(jq -r .training.step $m)" = 4 ] || fail "step $(jq -r .training.step $m), expected 4"
[ "$(jq -r '.provenance.inputs | length' $m)" = 1 ] || fail "manifest should list 1 input file"
for f in model.gguf adapter.gguf model-q8_0.gguf checkpoint.h5; do
    [ -f deploy/v0001/$f ] || fail "v0001/$f missing"
done
# the published model is what slm evaluates: recompute its perplexity
ppl=$("$SLM" eval --model deploy/current/model.gguf --text val.txt --json -t 1 2>/dev/null | tail -1 | jq .ppl)
awk -v a="$ppl" -v b="$(jq .metrics.val_ppl $m)" 'BEGIN { exit !(a == b) }' || fail "manifest ppl $(jq .metrics.val_ppl $m) != eval $ppl"
awk -v c="$ppl" -v r="$(jq .metrics.reference_val_ppl $m)" 'BEGIN { exit !(c < r) }' || fail "published a model not better than the base"

out=$("$RETRAIN" retrain.conf 2>&1) || fail "idle round: $out"
grep -q "nothing new" <<<"$out" || fail "idle round should report nothing new: $out"

# worse (impossible margin): kept, with the reason
sed -n 41,80p "$ROOT/data/samples/support_chats.jsonl" >in/chats-2.jsonl
sed -i 's/^MARGIN = 0$/MARGIN = 0.99/' retrain.conf
out=$("$RETRAIN" retrain.conf 2>&1) || fail "gated round: $out"
grep -q "NOT PUBLISHED: candidate perplexity .* is not below" <<<"$out" || fail "no refusal reason: $out"
[ "$(readlink deploy/current)" = v0001 ] || fail "current changed after a refused candidate"
[ ! -e deploy/v0002 ] || fail "a refused candidate was published"
[ "$(jq -r .decision work/last_round.json)" = kept ] || fail "last_round.json: $(cat work/last_round.json)"

# better: continues from v0001's checkpoint (step 4 -> 8) and publishes v0002
sed -i 's/^MARGIN = 0.99$/MARGIN = 0/' retrain.conf
out=$("$RETRAIN" retrain.conf 2>&1) || fail "second publish: $out"
grep -q "PUBLISHED v0002" <<<"$out" || fail "v0002 not published: $out"
[ "$(jq -r .training.step deploy/v0002/manifest.json)" = 8 ] || fail "v0002 did not continue from step 4"
[ "$(jq -r .previous deploy/v0002/manifest.json)" = v0001 ] || fail "v0002 previous"
check_deploy deploy

"$RETRAIN" --rollback retrain.conf 2>/dev/null || fail "rollback failed"
[ "$(readlink deploy/current)" = v0001 ] || fail "rollback: current is $(readlink deploy/current)"
check_deploy deploy
"$RETRAIN" --rollback retrain.conf 2>/dev/null && fail "rollback past the oldest version succeeded"
out=$("$RETRAIN" retrain.conf 2>&1) || fail "round after rollback: $out"
grep -q "nothing new" <<<"$out" || fail "after a rollback with no new data the round must be idle: $out"
[ "$(readlink deploy/current)" = v0001 ] || fail "an idle round changed current"
st=$("$RETRAIN" --status retrain.conf)
grep -q "^v0001 (current)" <<<"$st" && grep -q "^v0002 " <<<"$st" || fail "--status: $st"

# bad configs: exit 2 naming the line
echo "STEPZ = 3" >>retrain.conf
set +e; out=$("$RETRAIN" retrain.conf 2>&1); rc=$?; set -e
[ $rc = 2 ] && grep -q "retrain.conf:[0-9]*: unknown key 'STEPZ'" <<<"$out" || fail "unknown key: rc $rc: $out"
sed -i '$d' retrain.conf; sed -i 's/^STEPS = .*/STEPS = many/' retrain.conf
set +e; out=$("$RETRAIN" retrain.conf 2>&1); rc=$?; set -e
[ $rc = 2 ] && grep -q "STEPS = 'many'" <<<"$out" || fail "bad STEPS: rc $rc: $out"
echo "ok: publish, idle, gate, continue, rollback, config errors"
