/* distill/dump_dist.h — `slm dump-logits` across MPI ranks (docs/mpi.md):
 * every rank computes a disjoint block of sequences, rank 0 alone writes. */
#ifndef SLM_DISTILL_DUMP_DIST_H
#define SLM_DISTILL_DUMP_DIST_H

#include "distill/dump.h"

/* Rank r holds n_r (0..cap) sequences of (T) tokens and (T, K) entries in b
 * (allocated for cap sequences).  Rank 0 receives every rank's rows and
 * appends them to w in rank order (w is NULL on other ranks); b->n is left
 * as it was.  Single process: appends b's n rows. */
slm_status slm_dump_gather_append(slm_dump_writer *w, slm_dump_batch *b, int64_t n, int64_t T,
                                  int64_t K);

#endif
