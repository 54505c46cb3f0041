/* train/dist.c — data-parallel ranks (see dist.h).  The MPI implementation
 * is compiled with SLM_MPI=1; the default build has the single-process one
 * at the bottom of this file. */
#include "train/dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t bucket_floats_from_env(void) {
    const char *e = getenv("SLM_MPI_BUCKET_MB");
    double mb = e && *e ? atof(e) : 4.0;
    if (!(mb > 0)) mb = 4.0;
    int64_t n = (int64_t)(mb * 1024.0 * 1024.0 / 4.0);
    return n < 1024 ? 1024 : n;
}

int64_t slm_dist_bucket_floats(void) { return bucket_floats_from_env(); }

#if defined(SLM_MPI) && SLM_MPI

#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

static int g_rank = 0, g_size = 1;
static bool g_started = false; /* this module called MPI_Init */
static bool g_ready = false;

/* ---- watchdog: a rank waiting in one collective longer than the timeout
 * (a peer died without the runtime noticing, or hangs) ends itself, which
 * makes mpirun end the others. ---- */
static _Atomic double g_deadline = 0; /* slm_time_sec() limit, 0 = not waiting */
static _Atomic(const char *) g_op = NULL;
static double g_timeout = 600;

static void *watchdog(void *arg) {
    (void)arg;
    for (;;) {
        sleep(1);
        double d = atomic_load(&g_deadline);
        if (d > 0 && slm_time_sec() > d) {
            const char *op = atomic_load(&g_op);
            fprintf(stderr,
                    "slm: error: rank %d of %d: no progress in %s for %.0f s: another rank died "
                    "or hangs; ending the job (SLM_MPI_TIMEOUT sets the limit)\n",
                    g_rank, g_size, op ? op : "MPI", g_timeout);
            fflush(stderr);
            _exit(1);
        }
    }
    return NULL;
}

static void watch_begin(const char *op) {
    atomic_store(&g_op, op);
    atomic_store(&g_deadline, slm_time_sec() + g_timeout);
}
static void watch_end(void) { atomic_store(&g_deadline, 0.0); }

/* An MPI error ends the whole job: a clear message, then MPI_Abort. */
static void check(int rc, const char *op) {
    if (rc == MPI_SUCCESS) return;
    char msg[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    fprintf(stderr, "slm: error: rank %d of %d: %s failed: %s; ending the job\n", g_rank,
            g_size, op, msg);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    _exit(1);
}

slm_status slm_dist_init(void) {
    if (g_ready) return SLM_OK;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        int provided = 0;
        if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
            slm_log_error("MPI_Init_thread failed (start the job with mpirun)");
            return SLM_ERR_RUNTIME;
        }
        g_started = true;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    const char *e = getenv("SLM_MPI_TIMEOUT");
    if (e && *e && atof(e) > 0) g_timeout = atof(e);
    if (g_size > 1) {
        pthread_t t;
        if (pthread_create(&t, NULL, watchdog, NULL) == 0) pthread_detach(t);
        if (g_rank > 0 && slm_log_level > 1) slm_log_level = 1; /* rank 0 tells the story */
    }
    g_ready = true;
    return SLM_OK;
}

void slm_dist_finalize(void) {
    if (g_ready && g_started) MPI_Finalize();
    g_ready = g_started = false;
}

int slm_dist_rank(void) { return g_rank; }
int slm_dist_size(void) { return g_size; }
bool slm_dist_built_with_mpi(void) { return true; }

_Noreturn void slm_dist_abort(int code) {
    fflush(stdout);
    fflush(stderr);
    if (g_ready && g_size > 1) MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

/* One bucket, v (n floats) in place: chunk c of the padded bucket is summed
 * on rank c in rank order, then every rank gathers every chunk. */
typedef struct {
    float *send, *recv, *sum;
    int64_t cap; /* floats per buffer */
} bufs;

static slm_status bufs_reserve(bufs *b, int64_t n) {
    if (n <= b->cap) return SLM_OK;
    free(b->send);
    free(b->recv);
    free(b->sum);
    b->send = slm_alloc((size_t)n * sizeof(float));
    b->recv = slm_alloc((size_t)n * sizeof(float));
    b->sum = slm_alloc((size_t)n * sizeof(float));
    b->cap = b->send && b->recv && b->sum ? n : 0;
    return b->cap ? SLM_OK : SLM_ERR_NOMEM;
}

static bufs g_bufs;

/* send (padded, N*c floats) -> send holds the rank-order sum of all ranks'. */
static void reduce_bucket(bufs *b, int64_t c, slm_dist_stats *stats) {
    const int N = g_size;
    double t0 = slm_time_sec();
    watch_begin("MPI_Alltoall (gradient bucket)");
    check(MPI_Alltoall(b->send, (int)c, MPI_FLOAT, b->recv, (int)c, MPI_FLOAT, MPI_COMM_WORLD),
          "MPI_Alltoall (gradient bucket)");
    watch_end();
    double t1 = slm_time_sec();
    /* recv = [my chunk from rank 0 | from rank 1 | ...]: fixed-order sum */
    float *s = b->sum;
    memcpy(s, b->recv, (size_t)c * sizeof(float));
    for (int r = 1; r < N; r++) {
        const float *x = b->recv + (int64_t)r * c;
        for (int64_t i = 0; i < c; i++) s[i] += x[i];
    }
    double t2 = slm_time_sec();
    watch_begin("MPI_Allgather (gradient bucket)");
    check(MPI_Allgather(s, (int)c, MPI_FLOAT, b->send, (int)c, MPI_FLOAT, MPI_COMM_WORLD),
          "MPI_Allgather (gradient bucket)");
    watch_end();
    double t3 = slm_time_sec();
    if (stats) {
        stats->buckets++;
        stats->bytes += 2 * (int64_t)(N - 1) * c * (int64_t)sizeof(float);
        stats->comm_seconds += (t1 - t0) + (t3 - t2);
    }
}

/* Walks the virtual concatenation of the segments (ptr[i], len[i]) in
 * buckets: pack, reduce, unpack. */
typedef struct {
    float *const *ptr;
    const int64_t *len;
    int64_t n;
} segs;

static slm_status allreduce_segs(const segs *sg, slm_dist_stats *stats) {
    if (g_size == 1) return SLM_OK;
    double t0 = slm_time_sec();
    const int64_t N = g_size, B = slm_dist_bucket_floats();
    const int64_t cap = (B + N - 1) / N * N;
    if (bufs_reserve(&g_bufs, cap) != SLM_OK) return SLM_ERR_NOMEM;
    int64_t si = 0, off = 0; /* cursor: segment, offset */
    for (;;) {
        /* pack up to B floats */
        int64_t fill = 0, si0 = si, off0 = off;
        while (si < sg->n && fill < B) {
            int64_t k = sg->len[si] - off;
            if (k > B - fill) k = B - fill;
            memcpy(g_bufs.send + fill, sg->ptr[si] + off, (size_t)k * sizeof(float));
            fill += k;
            off += k;
            if (off == sg->len[si]) si++, off = 0;
        }
        if (fill == 0) break;
        int64_t c = (fill + N - 1) / N;
        memset(g_bufs.send + fill, 0, (size_t)(c * N - fill) * sizeof(float));
        reduce_bucket(&g_bufs, c, stats);
        /* unpack the same range */
        int64_t got = 0;
        si = si0, off = off0;
        while (got < fill) {
            int64_t k = sg->len[si] - off;
            if (k > fill - got) k = fill - got;
            memcpy(sg->ptr[si] + off, g_bufs.send + got, (size_t)k * sizeof(float));
            got += k;
            off += k;
            if (off == sg->len[si]) si++, off = 0;
        }
    }
    if (stats) {
        stats->calls++;
        stats->seconds += slm_time_sec() - t0;
    }
    return SLM_OK;
}

slm_status slm_dist_allreduce_grads(const slm_param_list *params, slm_dist_stats *stats) {
    if (g_size == 1) return SLM_OK;
    float **ptr = slm_alloc((size_t)(params->n + 1) * sizeof *ptr);
    int64_t *len = slm_alloc((size_t)(params->n + 1) * sizeof *len);
    slm_status st = ptr && len ? SLM_OK : SLM_ERR_NOMEM;
    if (st == SLM_OK) {
        for (int64_t i = 0; i < params->n; i++) {
            ptr[i] = params->v[i].grad;
            len[i] = params->v[i].n;
        }
        segs sg = {ptr, len, params->n};
        st = allreduce_segs(&sg, stats);
    }
    free(ptr);
    free(len);
    return st;
}

slm_status slm_dist_allreduce_f32(float *v, int64_t n, slm_dist_stats *stats) {
    segs sg = {&v, &n, 1};
    return allreduce_segs(&sg, stats);
}

slm_status slm_dist_sum_f64(double *v, int64_t n) {
    if (g_size == 1) return SLM_OK;
    double *all = slm_alloc((size_t)(n * g_size) * sizeof(double));
    if (!all) return SLM_ERR_NOMEM;
    watch_begin("MPI_Allgather (scalars)");
    check(MPI_Allgather(v, (int)n, MPI_DOUBLE, all, (int)n, MPI_DOUBLE, MPI_COMM_WORLD),
          "MPI_Allgather (scalars)");
    watch_end();
    for (int64_t i = 0; i < n; i++) {
        double s = all[i];
        for (int r = 1; r < g_size; r++) s += all[(int64_t)r * n + i];
        v[i] = s;
    }
    free(all);
    return SLM_OK;
}

slm_status slm_dist_bcast_params(const slm_param_list *params) {
    if (g_size == 1) return SLM_OK;
    const int64_t max_chunk = (int64_t)1 << 28; /* MPI counts are int */
    for (int64_t i = 0; i < params->n; i++) {
        for (int64_t o = 0; o < params->v[i].n; o += max_chunk) {
            int64_t k = params->v[i].n - o < max_chunk ? params->v[i].n - o : max_chunk;
            watch_begin("MPI_Bcast (parameters)");
            check(MPI_Bcast(params->v[i].data + o, (int)k, MPI_FLOAT, 0, MPI_COMM_WORLD),
                  "MPI_Bcast (parameters)");
            watch_end();
        }
    }
    return SLM_OK;
}

slm_status slm_dist_gather_bytes(const void *buf, int64_t n, void **out, int64_t *out_n) {
    *out = NULL;
    *out_n = 0;
    if (g_size == 1) {
        if (!(*out = slm_alloc(n > 0 ? (size_t)n : 1))) return SLM_ERR_NOMEM;
        memcpy(*out, buf, (size_t)n);
        *out_n = n;
        return SLM_OK;
    }
    int64_t *counts = slm_alloc((size_t)g_size * sizeof *counts);
    if (!counts) return SLM_ERR_NOMEM;
    watch_begin("MPI_Gather (sizes)");
    check(MPI_Gather(&n, 1, MPI_INT64_T, counts, 1, MPI_INT64_T, 0, MPI_COMM_WORLD),
          "MPI_Gather (sizes)");
    watch_end();
    slm_status st = SLM_OK;
    if (g_rank == 0) {
        int64_t total = 0;
        for (int r = 0; r < g_size; r++) total += counts[r];
        if (!(*out = slm_alloc(total > 0 ? (size_t)total : 1))) st = SLM_ERR_NOMEM;
        *out_n = total;
        if (st == SLM_OK) memcpy(*out, buf, (size_t)n);
        int64_t o = n;
        for (int r = 1; r < g_size; r++) {
            /* point-to-point in rank order, in pieces below INT_MAX bytes */
            for (int64_t done = 0; done < counts[r];) {
                int64_t k = counts[r] - done < (1 << 30) ? counts[r] - done : (1 << 30);
                watch_begin("MPI_Recv (gather)");
                check(MPI_Recv(st == SLM_OK ? (char *)*out + o + done : NULL,
                               st == SLM_OK ? (int)k : 0, MPI_BYTE, r, 7, MPI_COMM_WORLD,
                               MPI_STATUS_IGNORE),
                      "MPI_Recv (gather)");
                watch_end();
                done += k;
            }
            o += counts[r];
        }
    } else {
        for (int64_t done = 0; done < n;) {
            int64_t k = n - done < (1 << 30) ? n - done : (1 << 30);
            watch_begin("MPI_Send (gather)");
            check(MPI_Send((const char *)buf + done, (int)k, MPI_BYTE, 0, 7, MPI_COMM_WORLD),
                  "MPI_Send (gather)");
            watch_end();
            done += k;
        }
    }
    free(counts);
    return st;
}

slm_status slm_dist_barrier(void) {
    if (g_size == 1) return SLM_OK;
    watch_begin("MPI_Barrier");
    check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
    watch_end();
    return SLM_OK;
}

#else /* ---- single process ---- */

slm_status slm_dist_init(void) { return SLM_OK; }
void slm_dist_finalize(void) {}
int slm_dist_rank(void) { return 0; }
int slm_dist_size(void) { return 1; }
bool slm_dist_built_with_mpi(void) { return false; }
_Noreturn void slm_dist_abort(int code) {
    fflush(stdout);
    fflush(stderr);
    exit(code);
}
slm_status slm_dist_allreduce_grads(const slm_param_list *params, slm_dist_stats *stats) {
    (void)params;
    (void)stats;
    return SLM_OK;
}
slm_status slm_dist_allreduce_f32(float *v, int64_t n, slm_dist_stats *stats) {
    (void)v;
    (void)n;
    (void)stats;
    return SLM_OK;
}
slm_status slm_dist_sum_f64(double *v, int64_t n) {
    (void)v;
    (void)n;
    return SLM_OK;
}
slm_status slm_dist_bcast_params(const slm_param_list *params) {
    (void)params;
    return SLM_OK;
}
slm_status slm_dist_gather_bytes(const void *buf, int64_t n, void **out, int64_t *out_n) {
    *out_n = 0;
    if (!(*out = slm_alloc(n > 0 ? (size_t)n : 1))) return SLM_ERR_NOMEM;
    memcpy(*out, buf, (size_t)n);
    *out_n = n;
    return SLM_OK;
}
slm_status slm_dist_barrier(void) { return SLM_OK; }

#endif
