#!/usr/bin/env bash
# retrain: the deploy directory never shows a partial file.  A poller checks
# every visible file against its version's manifest (size + SHA-256) in a
# loop while runs are SIGKILLed at random points (training, export,
# quantization, evaluation, publishing); a final clean run must publish and
# every file must then match its manifest's SHA-256.  (Checked to fail with a
# publish that writes the version directory in place: SLM_RETRAIN=mutant.)
RT_STEPS=2 source "$(dirname "$0")/retrain_lib.sh"
cd "$T"
sed -i 's/^KEEP = .*/KEEP = 50/' retrain.conf
t0=$(date +%s%N)
"$RETRAIN" retrain.conf >first.log 2>&1 || fail "first run: $(cat first.log)"
dur_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
export SLM_RETRAIN_PUBLISH_DELAY=0.2 # publishing takes >= 1 s: kills and polls land inside it
poll() { # builtins only (fast): a visible version always has its manifest; every 10th pass the sizes too
    local i=0 v
    while [ ! -e stop ]; do
        for v in deploy/v[0-9][0-9][0-9][0-9]; do
            [ -e "$v" ] || continue
            [ -f "$v/manifest.json" ] || { [ -e "$v" ] && echo "$v: visible without manifest.json" >>poll.err; echo bad >>poll.fail; }
        done
        i=$((i + 1))
        [ $((i % 10)) = 0 ] && { ( check_deploy deploy quick ) 2>>poll.err || echo bad >>poll.fail; }
    done
}
poll & poller=$!
RANDOM=7
for i in 1 2 3 4 5 6; do
    sed -n "$((40 + i * 10)),$((49 + i * 10))p" "$ROOT/data/samples/support_chats.jsonl" >in/chats-k$i.jsonl
    setsid "$RETRAIN" retrain.conf >>runs.log 2>&1 & pid=$!
    # publishing is the last ~20% of a run: aim half the kills there
    if [ $((i % 2)) = 0 ]; then ms=$(( dur_ms * 7 / 10 + RANDOM % (dur_ms * 4 / 10) )); else ms=$(( RANDOM % dur_ms )); fi
    sleep "$(awk -v m=$ms 'BEGIN { printf "%.3f", m / 1000 }')"
    kill -KILL -- -$pid 2>/dev/null || true
    wait $pid 2>/dev/null || true
    echo "run $i killed after ${ms} ms (of ~${dur_ms})" >&2
done
# one kill certainly inside publishing: as soon as the staging directory appears
sed -n 200,209p "$ROOT/data/samples/support_chats.jsonl" >in/chats-k9.jsonl
setsid "$RETRAIN" retrain.conf >>runs.log 2>&1 & pid=$!
staged=0
for _ in $(seq 1200); do
    if compgen -G "deploy/.staging-*" >/dev/null || ! kill -0 $pid 2>/dev/null; then staged=1; break; fi
    sleep 0.05
done
kill -KILL -- -$pid 2>/dev/null || true
wait $pid 2>/dev/null || true
grep -q "NOT PUBLISHED" runs.log || [ "$staged" = 1 ] || fail "the publish-phase kill found no staging directory"
echo "run 7 killed while publishing" >&2
"$RETRAIN" retrain.conf >last.log 2>&1 || fail "clean run after kills: $(cat last.log)"
touch stop; wait $poller
[ ! -e poll.fail ] || fail "poller saw a partial deploy directory: $(sort -u poll.err | head -5)"
check_deploy deploy
ls -A deploy | grep -q '^\.' && fail "staging leftovers after a clean run: $(ls -A deploy)"
n=$(ls -d deploy/v* | wc -l)
[ "$n" -ge 1 ] || fail "nothing published"
echo "ok: $n versions, poller never saw a partial file"
