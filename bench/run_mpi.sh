#!/usr/bin/env bash
# Data-parallel communication cost (issue 9 benchmark, docs/mpi.md): the
# gradient all-reduce of the ~110M shape, LoRA and full fine-tuning, with 2
# ranks on this machine (1 OpenMP thread each): alone, after backward, and
# overlapped with backward (exposed time, fraction hidden); and a projection
# for 8 and 64 ranks on 10 Gb/s links with the overlap accounted for.
# bench/bench_mpi.c states the model.  About 4 minutes.  Needs
# mpicc/mpirun (scripts/deps.sh); builds BUILD_MPI=build-mpi with MPI=1.
set -u
cd "$(dirname "$0")/.."
BUILD_MPI=${BUILD_MPI:-build-mpi}
command -v mpicc >/dev/null && command -v mpirun >/dev/null ||
    { echo "skip: mpicc/mpirun not found (apt-get install libopenmpi-dev openmpi-bin)"; exit 0; }
BIN=$BUILD_MPI/bench/bench_mpi
make -s MPI=1 BUILD="$BUILD_MPI" "$BIN" >/dev/null || { echo "cannot build $BIN"; exit 1; }
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "Open MPI $(mpirun --version 2>/dev/null | head -1 | awk '{print $NF}'), 2 ranks x 1 OpenMP thread, --oversubscribe."
echo "Caveats: on a small shared machine the compute times and the shared-memory bandwidth"
echo "below are disturbed; the 10 Gb/s projection uses the link model of bench/bench_mpi.c"
echo "(docs/mpi.md).  t_compute is this machine's 1-thread speed: a many-core node computes"
echo "a micro-batch faster, so the same bytes are a larger share of its step (read the"
echo "tokens/rank/step columns accordingly; the 'compute x16' rows assume a node 16x faster)."
echo "With 2 ranks on 2 cores the communication thread competes with the compute threads,"
echo "so the measured 'hidden' figure is a property of this loaded box, not of a cluster."
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in lora full; do
    mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 -x OMP_NUM_THREADS \
        -x OMP_WAIT_POLICY "$BIN" "$mode" || { echo "FAIL: bench_mpi $mode"; exit 1; }
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
