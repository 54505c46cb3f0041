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
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

static int g_rank = 0, g_size = 1;
static bool g_started = false; /* this module called MPI_Init */
static bool g_ready = false;
static int g_thread_level = MPI_THREAD_SINGLE; /* provided by the library */

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
        if (MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
            slm_log_error("MPI_Init_thread failed (start the job with mpirun)");
            return SLM_ERR_RUNTIME;
        }
        g_started = true;
    }
    MPI_Query_thread(&g_thread_level);
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

/* Waits for req: MPI_Test every poll_us microseconds (the overlap thread,
 * so that it leaves the cores to the backward), or MPI_Wait (poll_us < 0). */
static void wait_req(MPI_Request *req, const char *op, int poll_us) {
    watch_begin(op);
    if (poll_us < 0) {
        check(MPI_Wait(req, MPI_STATUS_IGNORE), op);
    } else {
        for (;;) {
            int done = 0;
            check(MPI_Test(req, &done, MPI_STATUS_IGNORE), op);
            if (done) break;
            if (poll_us > 0) {
                struct timespec ts = {0, (long)poll_us * 1000L};
                nanosleep(&ts, NULL);
            } else {
                sched_yield();
            }
        }
    }
    watch_end();
}

/* send (padded, N*c floats) -> send holds the rank-order sum of all ranks'.
 * poll_us < 0: blocking collectives (the main thread), else nonblocking ones
 * polled every poll_us (the overlap thread); the sums are the same. */
static void reduce_bucket(bufs *b, int64_t c, slm_dist_stats *stats, int poll_us) {
    const int N = g_size;
    double t0 = slm_time_sec();
    if (poll_us < 0) {
        watch_begin("MPI_Alltoall (gradient bucket)");
        check(MPI_Alltoall(b->send, (int)c, MPI_FLOAT, b->recv, (int)c, MPI_FLOAT,
                           MPI_COMM_WORLD), "MPI_Alltoall (gradient bucket)");
        watch_end();
    } else {
        MPI_Request rq;
        check(MPI_Ialltoall(b->send, (int)c, MPI_FLOAT, b->recv, (int)c, MPI_FLOAT,
                            MPI_COMM_WORLD, &rq), "MPI_Ialltoall (gradient bucket)");
        wait_req(&rq, "MPI_Ialltoall (gradient bucket)", poll_us);
    }
    double t1 = slm_time_sec();
    /* recv = [my chunk from rank 0 | from rank 1 | ...]: fixed-order sum */
    float *s = b->sum;
    memcpy(s, b->recv, (size_t)c * sizeof(float));
    for (int r = 1; r < N; r++) {
        const float *x = b->recv + (int64_t)r * c;
        for (int64_t i = 0; i < c; i++) s[i] += x[i];
    }
    double t2 = slm_time_sec();
    if (poll_us < 0) {
        watch_begin("MPI_Allgather (gradient bucket)");
        check(MPI_Allgather(s, (int)c, MPI_FLOAT, b->send, (int)c, MPI_FLOAT, MPI_COMM_WORLD),
              "MPI_Allgather (gradient bucket)");
        watch_end();
    } else {
        MPI_Request rq;
        check(MPI_Iallgather(s, (int)c, MPI_FLOAT, b->send, (int)c, MPI_FLOAT, MPI_COMM_WORLD,
                             &rq), "MPI_Iallgather (gradient bucket)");
        wait_req(&rq, "MPI_Iallgather (gradient bucket)", poll_us);
    }
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

/* Copies n floats between the segments, from cursor (si, off), and buf
 * (to_buf: segments -> buf, else buf -> segments). */
static void copy_segs(const segs *sg, int64_t si, int64_t off, float *buf, int64_t n,
                      bool to_buf) {
    for (int64_t got = 0; got < n;) {
        int64_t k = sg->len[si] - off;
        if (k > n - got) k = n - got;
        if (to_buf) memcpy(buf + got, sg->ptr[si] + off, (size_t)k * sizeof(float));
        else memcpy(sg->ptr[si] + off, buf + got, (size_t)k * sizeof(float));
        got += k;
        off += k;
        if (off == sg->len[si]) si++, off = 0;
    }
}

/* Advances the cursor (si, off) by up to B floats; returns how many. */
static int64_t next_bucket(const segs *sg, int64_t *si, int64_t *off, int64_t B) {
    int64_t fill = 0;
    while (*si < sg->n && fill < B) {
        int64_t k = sg->len[*si] - *off;
        if (k > B - fill) k = B - fill;
        fill += k;
        *off += k;
        if (*off == sg->len[*si]) (*si)++, *off = 0;
    }
    return fill;
}

/* One bucket of fill floats at cursor (si, off): pack, reduce, unpack. */
static void reduce_range(const segs *sg, int64_t si, int64_t off, int64_t fill, bufs *b,
                         slm_dist_stats *stats, int poll_us) {
    const int64_t N = g_size, c = (fill + N - 1) / N;
    copy_segs(sg, si, off, b->send, fill, true);
    memset(b->send + fill, 0, (size_t)(c * N - fill) * sizeof(float));
    reduce_bucket(b, c, stats, poll_us);
    copy_segs(sg, si, off, b->send, fill, false);
}

static slm_status allreduce_segs(const segs *sg, slm_dist_stats *stats) {
    if (g_size == 1) return SLM_OK;
    double t0 = slm_time_sec();
    const int64_t N = g_size, B = slm_dist_bucket_floats();
    const int64_t cap = (B + N - 1) / N * N;
    if (bufs_reserve(&g_bufs, cap) != SLM_OK) return SLM_ERR_NOMEM;
    int64_t si = 0, off = 0; /* cursor: segment, offset */
    for (;;) {
        int64_t si0 = si, off0 = off, fill = next_bucket(sg, &si, &off, B);
        if (fill == 0) break;
        reduce_range(sg, si0, off0, fill, &g_bufs, stats, -1);
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

/* ---- overlapped all-reduce: a communication thread reduces the buckets in
 * the order their gradients become final, while backward goes on ---- */
typedef struct {
    int64_t si, off, fill; /* cursor of its first float, floats */
    int64_t stage;         /* stage of its last float: ready once that fired */
} ov_bucket;

struct slm_dist_overlap {
    float **ptr;           /* segments: the gradients in stage order */
    int64_t *len, n_segs, n_stages;
    ov_bucket *bk;
    int64_t n_bk;
    bufs b;                /* the thread's own buffers */
    int poll_us;
    pthread_t thread;
    bool thread_up;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    /* under mu */
    int64_t ready;         /* highest stage fired this step, -1 before */
    int64_t next;          /* next bucket to reduce */
    bool active, quit;
    slm_dist_stats st;     /* the thread's counters of this step */
};

static bool ov_can_work(const slm_dist_overlap *ov) {
    return ov->active && ov->next < ov->n_bk && ov->bk[ov->next].stage <= ov->ready;
}

static void *ov_thread(void *arg) {
    slm_dist_overlap *ov = arg;
    const segs sg = {ov->ptr, ov->len, ov->n_segs};
    pthread_mutex_lock(&ov->mu);
    for (;;) {
        while (!ov->quit && !ov_can_work(ov)) pthread_cond_wait(&ov->cv_work, &ov->mu);
        if (ov->quit) break;
        const ov_bucket bk = ov->bk[ov->next];
        pthread_mutex_unlock(&ov->mu);
        /* the bucket's gradients are final and nobody else touches them now */
        double t0 = slm_time_sec();
        reduce_range(&sg, bk.si, bk.off, bk.fill, &ov->b, &ov->st, ov->poll_us);
        ov->st.seconds += slm_time_sec() - t0;
        pthread_mutex_lock(&ov->mu);
        if (++ov->next == ov->n_bk) {
            ov->active = false;
            pthread_cond_signal(&ov->cv_done);
        }
    }
    pthread_mutex_unlock(&ov->mu);
    return NULL;
}

slm_status slm_dist_overlap_init(const slm_param_list *params, const int64_t *stage_of,
                                 int64_t n_stages, slm_dist_overlap **out) {
    *out = NULL;
    if (g_size == 1) return SLM_OK;
    const char *e = getenv("SLM_MPI_OVERLAP");
    if (e && !strcmp(e, "0")) {
        slm_log_info("mpi: SLM_MPI_OVERLAP=0: gradients are reduced after the backward pass");
        return SLM_OK;
    }
    if (g_thread_level < MPI_THREAD_SERIALIZED) {
        slm_log_warn("mpi: the MPI library provides thread level %d < MPI_THREAD_SERIALIZED; "
                     "gradients are reduced after the backward pass (no overlap)",
                     g_thread_level);
        return SLM_OK;
    }
    slm_dist_overlap *ov = slm_calloc(1, sizeof *ov);
    if (!ov) return SLM_ERR_NOMEM;
    const int64_t n = params->n, N = g_size, B = slm_dist_bucket_floats();
    ov->n_stages = n_stages;
    ov->ptr = slm_alloc((size_t)(n + 1) * sizeof *ov->ptr);
    ov->len = slm_alloc((size_t)(n + 1) * sizeof *ov->len);
    int64_t *seg_stage = slm_alloc((size_t)(n + 1) * sizeof *seg_stage);
    int64_t total = 0;
    for (int64_t i = 0; i < n; i++) total += params->v[i].n;
    ov->bk = slm_alloc((size_t)(total / B + n_stages + n + 1) * sizeof *ov->bk);
    slm_status st = ov->ptr && ov->len && seg_stage && ov->bk ? SLM_OK : SLM_ERR_NOMEM;
    if (st == SLM_OK) st = bufs_reserve(&ov->b, (B + N - 1) / N * N);
    if (st != SLM_OK) goto fail;
    /* segments in stage order (within a stage, param-list order) */
    for (int64_t s = 0; s < n_stages; s++)
        for (int64_t i = 0; i < n; i++) {
            SLM_ASSERT(stage_of[i] >= 0 && stage_of[i] < n_stages);
            if (stage_of[i] != s || params->v[i].n == 0) continue;
            ov->ptr[ov->n_segs] = params->v[i].grad;
            ov->len[ov->n_segs] = params->v[i].n;
            seg_stage[ov->n_segs++] = s;
        }
    /* buckets of <= B floats along that concatenation, cut at stage
     * boundaries too, so that each starts as soon as its own stage is final */
    for (int64_t first = 0, last; first < ov->n_segs; first = last) {
        for (last = first; last < ov->n_segs && seg_stage[last] == seg_stage[first];) last++;
        const segs sg = {ov->ptr + first, ov->len + first, last - first};
        for (int64_t si = 0, off = 0;;) {
            ov_bucket b = {.si = first + si, .off = off, .stage = seg_stage[first]};
            if ((b.fill = next_bucket(&sg, &si, &off, B)) == 0) break;
            ov->bk[ov->n_bk++] = b;
        }
    }
    e = getenv("SLM_MPI_POLL_US");
    ov->poll_us = e && *e ? atoi(e) : 50;
    if (ov->poll_us < 0) ov->poll_us = 0;
    pthread_mutex_init(&ov->mu, NULL);
    pthread_cond_init(&ov->cv_work, NULL);
    pthread_cond_init(&ov->cv_done, NULL);
    if (pthread_create(&ov->thread, NULL, ov_thread, ov) != 0) {
        slm_log_error("mpi: cannot start the communication thread");
        st = SLM_ERR_RUNTIME;
        goto fail;
    }
    ov->thread_up = true;
    free(seg_stage);
    *out = ov;
    return SLM_OK;
fail:
    free(seg_stage);
    slm_dist_overlap_free(ov);
    return st;
}

void slm_dist_overlap_begin(slm_dist_overlap *ov) {
    pthread_mutex_lock(&ov->mu);
    SLM_ASSERT(!ov->active);
    ov->ready = -1;
    ov->next = 0;
    ov->active = ov->n_bk > 0;
    memset(&ov->st, 0, sizeof ov->st);
    pthread_mutex_unlock(&ov->mu);
}

void slm_dist_overlap_ready(void *vov, int64_t stage) {
    slm_dist_overlap *ov = vov;
    pthread_mutex_lock(&ov->mu);
    if (stage > ov->ready) ov->ready = stage;
    if (ov_can_work(ov)) pthread_cond_signal(&ov->cv_work);
    pthread_mutex_unlock(&ov->mu);
}

slm_status slm_dist_overlap_finish(slm_dist_overlap *ov, slm_dist_stats *stats) {
    const double t0 = slm_time_sec();
    pthread_mutex_lock(&ov->mu);
    ov->ready = ov->n_stages; /* whatever the model reported, all is final now */
    if (ov_can_work(ov)) pthread_cond_signal(&ov->cv_work);
    while (ov->active) pthread_cond_wait(&ov->cv_done, &ov->mu);
    pthread_mutex_unlock(&ov->mu);
    if (stats) {
        stats->calls++;
        stats->buckets += ov->st.buckets;
        stats->bytes += ov->st.bytes;
        stats->seconds += ov->st.seconds;
        stats->comm_seconds += ov->st.comm_seconds;
        stats->exposed_seconds += slm_time_sec() - t0;
    }
    return SLM_OK;
}

void slm_dist_overlap_free(slm_dist_overlap *ov) {
    if (!ov) return;
    if (ov->thread_up) {
        pthread_mutex_lock(&ov->mu);
        SLM_ASSERT(!ov->active);
        ov->quit = true;
        pthread_cond_signal(&ov->cv_work);
        pthread_mutex_unlock(&ov->mu);
        pthread_join(ov->thread, NULL);
        pthread_mutex_destroy(&ov->mu);
        pthread_cond_destroy(&ov->cv_work);
        pthread_cond_destroy(&ov->cv_done);
    }
    free(ov->b.send);
    free(ov->b.recv);
    free(ov->b.sum);
    free(ov->ptr);
    free(ov->len);
    free(ov->bk);
    free(ov);
}

int64_t slm_dist_overlap_n_buckets(const slm_dist_overlap *ov) { return ov ? ov->n_bk : 0; }

void slm_dist_overlap_bucket(const slm_dist_overlap *ov, int64_t i, int64_t *floats,
                             int64_t *stage) {
    SLM_ASSERT(ov && i >= 0 && i < ov->n_bk);
    *floats = ov->bk[i].fill;
    *stage = ov->bk[i].stage;
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
slm_status slm_dist_overlap_init(const slm_param_list *params, const int64_t *stage_of,
                                 int64_t n_stages, slm_dist_overlap **out) {
    (void)params;
    (void)stage_of;
    (void)n_stages;
    *out = NULL;
    return SLM_OK;
}
/* never called: init gives NULL without MPI */
void slm_dist_overlap_begin(slm_dist_overlap *ov) { (void)ov; }
void slm_dist_overlap_ready(void *ov, int64_t stage) {
    (void)ov;
    (void)stage;
}
slm_status slm_dist_overlap_finish(slm_dist_overlap *ov, slm_dist_stats *stats) {
    (void)ov;
    (void)stats;
    return SLM_OK;
}
void slm_dist_overlap_free(slm_dist_overlap *ov) { (void)ov; }
int64_t slm_dist_overlap_n_buckets(const slm_dist_overlap *ov) {
    (void)ov;
    return 0;
}
void slm_dist_overlap_bucket(const slm_dist_overlap *ov, int64_t i, int64_t *floats,
                             int64_t *stage) {
    (void)ov;
    (void)i;
    *floats = *stage = 0;
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
