#!/usr/bin/env bash
# retrain: a run SIGKILLed mid-training publishes nothing; the rerun resumes
# the same round from its last checkpoint and publishes the full step count.
RT_STEPS=40 source "$(dirname "$0")/retrain_lib.sh"
cd "$T"
setsid "$RETRAIN" retrain.conf >a.log 2>&1 & pid=$!
for _ in $(seq 600); do # wait until training has written a few checkpoints
    n=$(ls work/run/ckpt-*.h5 2>/dev/null | sed 's/.*ckpt-\([0-9]*\).h5/\1/' | sort -n | tail -1 || true)
    [ -n "$n" ] && [ "$n" -ge 3 ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
done
kill -0 $pid 2>/dev/null || fail "the run ended before it could be killed: $(cat a.log)"
kill -KILL -- -$pid
wait $pid 2>/dev/null || true
[ -n "$n" ] && [ "$n" -lt 40 ] || fail "killed after training finished (step ${n:-none})"
[ ! -e deploy/current ] || fail "a killed run published"
check_deploy deploy
out=$("$RETRAIN" retrain.conf 2>&1) || fail "rerun failed: $out"
grep -q "resuming round" <<<"$out" || fail "the rerun did not resume the round: $out"
grep -q "resuming from step [1-9]" work/last.log || fail "slm train did not resume from a checkpoint: $(grep -i resum work/last.log)"
grep -q "PUBLISHED v0001" <<<"$out" || fail "rerun did not publish: $out"
[ "$(jq -r .training.step deploy/v0001/manifest.json)" = 40 ] || fail "published step is not 40"
check_deploy deploy
echo "ok: killed at step $n, resumed, published step 40"
