#!/usr/bin/env bash
# A failing rank ends the whole MPI job, without a hang, and the last
# checkpoint stays usable (docs/mpi.md):
#  - rank 1 killed with SIGKILL mid-run: mpirun exits non-zero within 60 s,
#    naming the dead rank; the newest checkpoint exports and resumes on 1
#    process;
#  - rank 1 frozen with SIGSTOP (alive but silent, which the runtime cannot
#    see): rank 0's watchdog (SLM_MPI_TIMEOUT=5) ends the job within 60 s
#    with "no progress in ...".
set -u
source "$(dirname "$0")/mpi_common.sh"
make_job
LIMIT=60
newest() { ls "$1" 2>/dev/null | sed -n 's/^ckpt-\([0-9]*\)\.h5$/\1/p' | sort -n | tail -1; }
# pid of rank $2 among the processes started by mpirun $1
rank_pid() {
    for p in $(pgrep -P "$1"); do
        tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2" && { echo $p; return; }
    done
}
# start a long 2-rank run in $1, wait for its checkpoint of step >= 6
start() {
    mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 -x OMP_NUM_THREADS \
        -x OMP_WAIT_POLICY -x SLM_MPI_TIMEOUT "$SLM_MPI" train --config "$W/job.ini" --quiet \
        --out "$W/$1" --set optim.accum=1 --set train.steps=100000 --set train.ckpt_every=3 \
        --set train.keep=2 --set train.eval_every=0 > "$W/$1.log" 2>&1 &
    MPID=$!
    for _ in $(seq 1 600); do
        s=$(newest "$W/$1"); [ -n "$s" ] && [ "$s" -ge 6 ] && break
        kill -0 $MPID 2>/dev/null || { cat "$W/$1.log"; fail "$1: job ended early"; }
        sleep 0.1
    done
    [ -n "$(newest "$W/$1")" ] || fail "$1: no checkpoint after 60 s"
    R1=$(rank_pid $MPID 1)
    [ -n "$R1" ] || { kill -KILL $MPID; fail "$1: rank 1 pid not found"; }
}
# wait for mpirun to end; sets RC and DT
wait_end() {
    local t0=$SECONDS
    while kill -0 $MPID 2>/dev/null && [ $((SECONDS - t0)) -lt $LIMIT ]; do sleep 0.2; done
    if kill -0 $MPID 2>/dev/null; then
        kill -KILL $MPID; pkill -KILL -P $MPID 2>/dev/null; fail "job still running ${LIMIT}s after the failure (hang)"
    fi
    wait $MPID; RC=$?; DT=$((SECONDS - t0))
}

# 1. SIGKILL of rank 1
export SLM_MPI_TIMEOUT=30
start kill
kill -KILL "$R1"
wait_end
echo "SIGKILL of rank 1 (pid $R1): mpirun exit $RC after ${DT}s"
[ $RC -ne 0 ] || fail "job killed mid-run exited 0"
grep -Eiq "rank 1|signal 9|killed" "$W/kill.log" || { cat "$W/kill.log"; fail "no message names the dead rank"; }
grep -Ei "rank 1|signal 9" "$W/kill.log" | head -2
s=$(newest "$W/kill")
"$SLM" export --ckpt "$W/kill" --out "$W/kill.gguf" 2> "$W/export.log" || { cat "$W/export.log"; fail "newest checkpoint ($s) does not export"; }
"$SLM" train --config "$W/job.ini" --quiet --out "$W/kill" --set optim.accum=2 \
    --set train.steps=$((s + 1)) 2> "$W/resume.log" || { cat "$W/resume.log"; fail "1-process resume after the kill"; }
grep -q "resuming from step $s " "$W/resume.log" || { cat "$W/resume.log"; fail "did not resume from ckpt-$s"; }

# 2. SIGSTOP of rank 1: the watchdog of rank 0 ends the job
export SLM_MPI_TIMEOUT=5
start stop
kill -STOP "$R1"
wait_end
kill -KILL "$R1" 2>/dev/null
echo "SIGSTOP of rank 1: mpirun exit $RC after ${DT}s"
[ $RC -ne 0 ] || fail "job with a frozen rank exited 0"
grep -q "rank 0 of 2: no progress in MPI_" "$W/stop.log" || { cat "$W/stop.log"; fail "no watchdog message"; }
grep "no progress" "$W/stop.log" | head -1
s=$(newest "$W/stop")
"$SLM" export --ckpt "$W/stop" --out "$W/stop.gguf" 2> "$W/export2.log" || { cat "$W/export2.log"; fail "newest checkpoint ($s) after the watchdog does not export"; }
echo "ok"
