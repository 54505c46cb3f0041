#!/usr/bin/env bash
# retrain: two runs started at once -> one publishes, the other exits 3 at
# once (lock held); with --wait the second queues, then finds nothing new.
# The deploy directory stays consistent (hashes match the manifest).
source "$(dirname "$0")/retrain_lib.sh"
cd "$T"
"$RETRAIN" retrain.conf >a.log 2>&1 & a=$!
"$RETRAIN" retrain.conf >b.log 2>&1 & b=$!
set +e; wait $a; ra=$?; wait $b; rb=$?; set -e
codes=$(printf '%s\n' $ra $rb | sort | tr '\n' ' ')
[ "$codes" = "0 3 " ] || fail "exit codes $ra $rb (want one 0, one 3): $(cat a.log b.log)"
loser=$([ $ra = 3 ] && echo a.log || echo b.log)
grep -q "another run holds" $loser || fail "the refused run does not say why: $(cat $loser)"
[ "$(readlink deploy/current)" = v0001 ] || fail "current is not v0001"
[ "$(ls -d deploy/v* | wc -l)" = 1 ] || fail "expected exactly one version: $(ls deploy)"
check_deploy deploy

# --wait: the second run queues behind the first, then has nothing new to do
sed -n 41,60p "$ROOT/data/samples/support_chats.jsonl" >in/chats-2.jsonl
rm -f work/last.log
"$RETRAIN" retrain.conf >c.log 2>&1 & c=$!
for _ in $(seq 300); do [ -s work/last.log ] && break; sleep 0.1; done # c holds the lock
"$RETRAIN" --wait retrain.conf >d.log 2>&1 & d=$!
set +e; wait $c; rc=$?; wait $d; rd=$?; set -e
[ $rc = 0 ] && [ $rd = 0 ] || fail "with --wait: exit codes $rc $rd: $(cat c.log d.log)"
grep -q "PUBLISHED v0002\|NOT PUBLISHED" c.log d.log || fail "no round decided: $(cat c.log d.log)"
check_deploy deploy
echo "ok: concurrent runs exit 3 or wait; deploy consistent"
