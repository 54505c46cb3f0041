/* train/dist.h — data-parallel ranks over MPI (docs/mpi.md).
 *
 * Built with `make MPI=1` (SLM_MPI=1, CC=mpicc) these functions talk to
 * Open MPI; in the default build they are a single-process no-op
 * implementation (rank 0 of 1), so that callers need no #ifdef.
 *
 * Determinism: every reduction here sums the ranks' contributions in rank
 * order 0, 1, ..., N-1 on one rank and moves the result with pure data
 * movement collectives (MPI_Alltoall, MPI_Allgather, MPI_Bcast), so the
 * result does not depend on the MPI library's choice of reduction
 * algorithm: a given N gives bit-identical sums on every run.
 *
 * Failure: MPI errors are returned (MPI_ERRORS_RETURN), logged with the
 * rank and the operation, and end the whole job with MPI_Abort; a watchdog
 * thread ends a rank that waits longer than SLM_MPI_TIMEOUT seconds
 * (default 600) in one collective (a peer died or hung) with exit code 1.
 *
 *   slm_dist_init();                        // once per process, idempotent
 *   ... forward/backward on this rank's shard ...
 *   slm_dist_allreduce_grads(params, &stats); // grads := sum over ranks
 *   (or overlapped with backward: slm_dist_overlap_* below)
 *   slm_dist_finalize();
 */
#ifndef SLM_TRAIN_DIST_H
#define SLM_TRAIN_DIST_H

#include "core/params.h"

/* Communication counters of one process (accumulated by the calls below). */
typedef struct {
    int64_t calls;      /* gradient all-reduces */
    int64_t buckets;    /* buckets reduced */
    int64_t bytes;      /* bytes sent by this rank (gradients only) */
    double seconds;     /* wall time inside the gradient all-reduce */
    double comm_seconds; /* of which inside MPI calls */
    double exposed_seconds; /* overlapped all-reduce: time the caller waited for it
                               after backward (slm_dist_overlap_finish) */
} slm_dist_stats;

/* Starts MPI if built with it and not yet started (MPI_THREAD_SERIALIZED:
 * the overlap thread below calls MPI while the main thread does not);
 * lowers the log level of ranks > 0 to warnings.  SLM_OK in the default build. */
slm_status slm_dist_init(void);
/* Ends MPI (when this module started it). */
void slm_dist_finalize(void);
int slm_dist_rank(void);
int slm_dist_size(void);
/* True when built with MPI=1. */
bool slm_dist_built_with_mpi(void);
/* Ends every rank of the job: MPI_Abort(code) with MPI, exit(code) without. */
_Noreturn void slm_dist_abort(int code);

/* Bucket size of the gradient all-reduce in floats (default 1 Mi floats,
 * 4 MiB; environment SLM_MPI_BUCKET_MB overrides). */
int64_t slm_dist_bucket_floats(void);

/* grad of every parameter := sum over ranks (rank order), in buckets of
 * slm_dist_bucket_floats() floats.  stats may be NULL. */
slm_status slm_dist_allreduce_grads(const slm_param_list *params, slm_dist_stats *stats);
/* Same for one float array of n elements (benchmarks). */
slm_status slm_dist_allreduce_f32(float *v, int64_t n, slm_dist_stats *stats);
/* Overlapped gradient all-reduce (docs/mpi.md): the same reduction as
 * slm_dist_allreduce_grads (every element summed in rank order, so the
 * results are bit-identical), run by a communication thread while the
 * backward pass goes on.  The gradients are cut into buckets in the order
 * they become final: stage_of[i] is the backward stage after which
 * params->v[i].grad is final (0 first; model/llama_train.h); buckets hold at
 * most slm_dist_bucket_floats() floats of one stage, and a bucket starts as
 * soon as its stage has fired.
 *
 *   slm_dist_overlap_init(params, stage_of, n_stages, &ov);   // NULL: off
 *   each step: earlier micro-batches as usual; before the last backward
 *       slm_dist_overlap_begin(ov);
 *       backward, calling slm_dist_overlap_ready(ov, s) after stage s
 *       slm_dist_overlap_finish(ov, &stats);      // grads := sum over ranks
 *
 * Between begin and finish the calling thread must not make MPI calls nor
 * touch the gradients of stages that have fired.  *out is NULL (overlap off,
 * use slm_dist_allreduce_grads) with one rank, with SLM_MPI_OVERLAP=0, in the
 * default build, or when the MPI library lacks MPI_THREAD_SERIALIZED. */
typedef struct slm_dist_overlap slm_dist_overlap;
slm_status slm_dist_overlap_init(const slm_param_list *params, const int64_t *stage_of,
                                 int64_t n_stages, slm_dist_overlap **out);
void slm_dist_overlap_begin(slm_dist_overlap *ov);
/* Stage s is final (a slm_grad_ready_fn: ctx is the slm_dist_overlap). */
void slm_dist_overlap_ready(void *ov, int64_t stage);
/* Fires every remaining stage, waits for the last bucket; adds to stats
 * (may be NULL), including exposed_seconds = the time waited here. */
slm_status slm_dist_overlap_finish(slm_dist_overlap *ov, slm_dist_stats *stats);
/* Stops the thread (not between begin and finish). Accepts NULL. */
void slm_dist_overlap_free(slm_dist_overlap *ov);
/* Number of buckets of the overlapped reduction (0 for NULL), and bucket i's
 * size in floats and the stage it waits for (benchmark projections). */
int64_t slm_dist_overlap_n_buckets(const slm_dist_overlap *ov);
void slm_dist_overlap_bucket(const slm_dist_overlap *ov, int64_t i, int64_t *floats,
                             int64_t *stage);

/* v[0..n) := sum over ranks in rank order (doubles, small n). */
slm_status slm_dist_sum_f64(double *v, int64_t n);
/* data of every parameter := rank 0's. */
slm_status slm_dist_bcast_params(const slm_param_list *params);
/* Rank 0 receives every rank's n_r bytes concatenated in rank order into
 * *out (allocated, owned by the caller; NULL on other ranks). */
slm_status slm_dist_gather_bytes(const void *buf, int64_t n, void **out, int64_t *out_n);
slm_status slm_dist_barrier(void);

#endif
