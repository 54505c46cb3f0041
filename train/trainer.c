/* train/trainer.c — the step loop (see trainer.h). */
#include "train/trainer.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "train/dist.h"

slm_trainer_params slm_trainer_default_params(void) {
    slm_trainer_params p = {
        .steps = 100, .B = 8, .T = 128, .accum = 1,
        .sched = {.kind = SLM_SCHED_CONSTANT, .lr = 1e-3f, .total = 100},
        .adamw = slm_adamw_default_params(), .grad_clip = 1.0f, .seed = 1234,
        .eval_every = 100, .eval_batches = 8, .ckpt_every = 0, .keep = 3, .log_every = 1,
        .mode = "", .fingerprint = "", .config_text = "",
    };
    return p;
}

/* ---- batch order: a Fisher-Yates permutation of the training sequences per
 * epoch, from an RNG seeded by (seed, epoch) only, so that a resumed run
 * draws exactly the sequences the uninterrupted one would. ---- */
static void epoch_order(int64_t *perm, int64_t n, uint64_t seed, int64_t epoch) {
    slm_rng r;
    slm_rng_seed(&r, seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(epoch + 1)));
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)slm_rng_below(&r, (uint64_t)i + 1);
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

typedef struct {
    int32_t *tokens, *targets; /* (B, T) */
    uint8_t *mask;             /* (B, T) */
    int64_t *seq_ids;          /* (B) */
    slm_batch b;
} batch_buf;

static slm_status batch_alloc(batch_buf *bb, int64_t B, int64_t T) {
    memset(bb, 0, sizeof *bb);
    size_t n = (size_t)B * (size_t)T;
    bb->tokens = slm_alloc(n * sizeof(int32_t));
    bb->targets = slm_alloc(n * sizeof(int32_t));
    bb->mask = slm_alloc(n);
    bb->seq_ids = slm_alloc((size_t)B * sizeof(int64_t));
    if (!bb->tokens || !bb->targets || !bb->mask || !bb->seq_ids) return SLM_ERR_NOMEM;
    bb->b = (slm_batch){.B = B, .T = T, .tokens = bb->tokens, .targets = bb->targets,
                        .mask = bb->mask, .seq_ids = bb->seq_ids};
    return SLM_OK;
}

static void batch_free(batch_buf *bb) {
    free(bb->tokens);
    free(bb->targets);
    free(bb->mask);
    free(bb->seq_ids);
}

static slm_status fill_batch(batch_buf *bb, slm_train_data *d, bool val) {
    bb->b.val = val;
    for (int64_t i = 0; i < bb->b.B; i++) {
        size_t o = (size_t)i * (size_t)bb->b.T;
        slm_status st = d->get(d->ctx, val, bb->seq_ids[i], bb->tokens + o, bb->targets + o,
                               bb->mask + o);
        if (st != SLM_OK) return st;
    }
    return SLM_OK;
}

/* Mean validation loss over eval_batches batches of the first sequences of
 * the validation split (the same ones every time), weighted by tokens. */
static double evaluate(const slm_trainer_params *p, slm_train_model *m, slm_train_data *d,
                       slm_loss_fn loss, void *loss_ctx, batch_buf *bb, slm_status *st) {
    double sum = 0;
    int64_t count = 0;
    *st = SLM_OK;
    /* with MPI, rank r evaluates the batches k = r mod N; sums in rank order */
    for (int64_t k = slm_dist_rank(); k < p->eval_batches; k += slm_dist_size()) {
        for (int64_t i = 0; i < p->B; i++) bb->seq_ids[i] = (k * p->B + i) % d->n_val;
        if ((*st = fill_batch(bb, d, true)) != SLM_OK) return NAN;
        float *logits = m->forward(m->ctx, bb->tokens, NULL);
        int64_t n = 0;
        double l = loss(loss_ctx, NULL, logits, &bb->b, m->n_vocab, 1.0f, &n);
        sum += l * (double)n;
        count += n;
    }
    double sc[2] = {sum, (double)count};
    if ((*st = slm_dist_sum_f64(sc, 2)) != SLM_OK) return NAN;
    sum = sc[0];
    count = (int64_t)sc[1];
    if (!count)
        slm_log_warn("validation: the %lld sequences evaluated hold no position with loss_mask 1; "
                     "raise train.eval_batches or change data.seq_len",
                     (long long)(p->eval_batches * p->B));
    return count ? sum / (double)count : NAN;
}

/* Drops metrics lines of steps after `step` (left by a run that died after
 * its last checkpoint), so that a resumed run's metrics.jsonl is clean. */
static slm_status trim_metrics(const char *path, int64_t step) {
    char *data = NULL;
    size_t len = 0;
    if (access(path, F_OK) != 0) return SLM_OK;
    slm_status st = slm_read_file(path, &data, &len);
    if (st != SLM_OK) return st;
    slm_outfile of;
    if ((st = slm_outfile_open(&of, path)) != SLM_OK) {
        free(data);
        return st;
    }
    for (char *line = data; st == SLM_OK && *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line + 1) : strlen(line);
        long long s = -1;
        const char *k = strstr(line, "\"step\":");
        if (k && k < line + n) s = strtoll(k + 7, NULL, 10);
        if (s >= 0 && s <= step) st = slm_outfile_write(&of, line, n);
        line += n;
    }
    free(data);
    if (st == SLM_OK) return slm_outfile_commit(&of);
    slm_outfile_abort(&of);
    return st;
}

static void fmt_dur(double s, char *out, size_t cap) {
    if (!isfinite(s) || s < 0) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(out, cap, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60) snprintf(out, cap, "%ldm%02lds", t / 60, t % 60);
    else snprintf(out, cap, "%lds", t);
}

static void progress(const slm_trainer_params *p, bool tty, int64_t step, int64_t start,
                     double loss, double val, double tps, double elapsed) {
    double per = step > start ? elapsed / (double)(step - start) : 0;
    char eta[32], el[32];
    fmt_dur(per * (double)(p->steps - step), eta, sizeof eta);
    fmt_dur(elapsed, el, sizeof el);
    char vtxt[32] = "";
    if (isfinite(val)) snprintf(vtxt, sizeof vtxt, " val %.4f", val);
    if (tty) {
        int w = 24, filled = (int)((double)w * (double)step / (double)p->steps);
        char bar[32];
        for (int i = 0; i < w; i++) bar[i] = i < filled ? '#' : '.';
        bar[w] = 0;
        fprintf(stderr, "\r[%s] %lld/%lld loss %.4f%s %.0f tok/s %s ETA %s\033[K", bar,
                (long long)step, (long long)p->steps, loss, vtxt, tps, el, eta);
        if (step == p->steps) fputc('\n', stderr);
    } else {
        fprintf(stderr, "step %lld/%lld loss %.4f%s %.0f tok/s elapsed %s ETA %s\n",
                (long long)step, (long long)p->steps, loss, vtxt, tps, el, eta);
    }
    fflush(stderr);
}

static slm_status save(const slm_trainer_params *p, const slm_param_list *params,
                       const slm_adamw *opt, int64_t step, int64_t tokens, int64_t epoch,
                       int64_t cursor, const slm_rng *rng, double elapsed) {
    slm_ckpt_state s = {.step = step, .tokens_seen = tokens, .epoch = epoch, .cursor = cursor,
                        .rng = *rng, .elapsed = elapsed, .config = (char *)p->config_text};
    snprintf(s.mode, sizeof s.mode, "%s", p->mode ? p->mode : "");
    snprintf(s.fingerprint, sizeof s.fingerprint, "%s", p->fingerprint ? p->fingerprint : "");
    return slm_ckpt_save(p->dir, p->keep, &s, params, opt);
}

slm_status slm_trainer_run(const slm_trainer_params *p, slm_train_model *m, slm_train_data *d,
                           slm_loss_fn loss, void *loss_ctx, slm_trainer_result *res) {
    SLM_ASSERT(p->B > 0 && p->T > 0 && p->accum > 0 && p->steps > 0);
    memset(res, 0, sizeof *res);
    res->val_loss = NAN;
    if (d->n_train <= 0) {
        slm_log_error("trainer: no training sequences of %lld tokens in the data (too little text for data.seq_len?)",
                      (long long)p->T);
        return SLM_ERR_USAGE;
    }
    const slm_param_list *params = m->params(m->ctx);
    slm_adamw opt = {0};
    batch_buf bb = {0};
    int64_t *perm = NULL;
    FILE *mf = NULL;
    char *mpath = NULL;
    /* data parallel (train/dist.h): N ranks each run accum of the N * accum
     * micro-batches of a step, rank 0 alone writes files */
    const int rank = slm_dist_rank(), n_ranks = slm_dist_size();
    const int64_t n_micro = p->accum * n_ranks; /* global micro-batches per step */
    slm_dist_stats comm = {0};
    slm_dist_overlap *ov = NULL; /* overlapped all-reduce, when the model has the hook */
    slm_status st = slm_adamw_init(&opt, params, &p->adamw);
    if (st == SLM_OK && n_ranks > 1 && m->grad_stages && m->set_grad_ready) {
        int64_t *stage_of = slm_alloc((size_t)(params->n + 1) * sizeof *stage_of);
        if (!stage_of) st = SLM_ERR_NOMEM;
        else st = slm_dist_overlap_init(params, stage_of, m->grad_stages(m->ctx, stage_of), &ov);
        free(stage_of);
    }
    if (st == SLM_OK) st = batch_alloc(&bb, p->B, p->T);
    if (st == SLM_OK && !(perm = slm_alloc((size_t)d->n_train * sizeof *perm))) st = SLM_ERR_NOMEM;
    if (st != SLM_OK) goto done;

    int64_t step = 0, tokens = 0, epoch = 0, cursor = 0;
    double elapsed0 = 0; /* seconds trained before this process (from the checkpoint) */
    slm_rng rng; /* dropout stream */
    slm_rng_seed(&rng, p->seed * 0x2545f4914f6cdd1dULL + 7);
    if (p->dir) {
        slm_ckpt_state s;
        bool found = false;
        st = slm_ckpt_load_latest(p->dir, params, &opt, p->check, p->check_ctx, &s, &found);
        if (st != SLM_OK) goto done;
        if (found) {
            step = s.step;
            tokens = s.tokens_seen;
            epoch = s.epoch;
            cursor = s.cursor;
            rng = s.rng;
            elapsed0 = s.elapsed;
            slm_ckpt_state_free(&s);
            slm_log_info("resuming from step %lld of %lld (%s)", (long long)step,
                         (long long)p->steps, p->dir);
        }
        size_t n = strlen(p->dir) + 32;
        if (!(mpath = slm_alloc(n))) {
            st = SLM_ERR_NOMEM;
            goto done;
        }
        snprintf(mpath, n, "%s/metrics.jsonl", p->dir);
        if (rank == 0 && (st = trim_metrics(mpath, step)) != SLM_OK) goto done;
        if (rank == 0 && !(mf = fopen(mpath, "a"))) {
            slm_log_error("cannot open '%s': %s", mpath, strerror(errno));
            st = SLM_ERR_IO;
            goto done;
        }
    }
    /* identical replicas: every rank starts from rank 0's parameters */
    if ((st = slm_dist_bcast_params(params)) != SLM_OK) goto done;
    res->start_step = step;
    epoch_order(perm, d->n_train, p->seed, epoch);
    const bool tty = p->progress && isatty(2);
    const double t_start = slm_time_sec();
    double last_loss = NAN, last_val = NAN;
    double extra[2] = {0, 0}; /* (sum, count) of the extra metric since the last log line */
    bool stopped = false;

    while (step < p->steps) {
        const double t0 = slm_time_sec();
        m->zero_grad(m->ctx);
        double step_loss = 0;
        /* Global micro-batch g of the step takes the next B sequences of the
         * batch order (every rank walks the whole order, so the cursor does
         * not depend on the rank count); rank g / accum runs it.  Its dropout
         * stream is derived from (step stream, g), also rank-count independent. */
        const uint64_t drop_base = slm_rng_u64(&rng);
        for (int64_t g = 0; g < n_micro; g++) {
            for (int64_t i = 0; i < p->B; i++) {
                if (cursor == d->n_train) {
                    epoch_order(perm, d->n_train, p->seed, ++epoch);
                    cursor = 0;
                }
                bb.seq_ids[i] = perm[cursor++];
            }
            if (g / p->accum != rank) continue;
            slm_rng mrng;
            slm_rng_seed(&mrng, drop_base ^ (0xbf58476d1ce4e5b9ULL * (uint64_t)(g + 1)));
            if ((st = fill_batch(&bb, d, false)) != SLM_OK) goto done;
            float *logits = m->forward(m->ctx, bb.tokens, &mrng);
            int64_t n = 0;
            double l = loss(loss_ctx, logits, logits, &bb.b, m->n_vocab,
                            1.0f / (float)n_micro, &n);
            /* this rank's last micro-batch: buckets are reduced as soon as
             * its backward has made their gradients final */
            const bool overlap = ov && g == (int64_t)rank * p->accum + p->accum - 1;
            if (overlap) {
                slm_dist_overlap_begin(ov);
                m->set_grad_ready(m->ctx, slm_dist_overlap_ready, ov);
            }
            m->backward(m->ctx, logits);
            if (overlap) m->set_grad_ready(m->ctx, NULL, NULL);
            step_loss += l / (double)n_micro;
        }
        /* gradients and loss summed over ranks in rank order; the stop
         * request is agreed on so that every rank ends at the same step */
        double red[2] = {step_loss, p->stop && *p->stop ? 1.0 : 0.0};
        st = ov ? slm_dist_overlap_finish(ov, &comm) : slm_dist_allreduce_grads(params, &comm);
        if (st != SLM_OK) goto done;
        if ((st = slm_dist_sum_f64(red, 2)) != SLM_OK) goto done;
        step_loss = red[0];
        const bool stop_now = red[1] > 0;
        if (!isfinite(step_loss)) {
            slm_log_error("trainer: loss became %g at step %lld; lower optim.lr or raise "
                          "optim.warmup (the last checkpoint is kept)",
                          step_loss, (long long)step + 1);
            st = SLM_ERR_RUNTIME;
            goto done;
        }
        const double gnorm = slm_grad_clip(params, p->grad_clip);
        const float lr = slm_lr_at(&p->sched, step);
        slm_adamw_step(&opt, params, lr);
        step++;
        const int64_t step_tokens = p->B * p->T * n_micro;
        tokens += step_tokens;
        last_loss = step_loss;
        const bool last = step == p->steps;
        double val = NAN;
        if (d->n_val > 0 && p->eval_batches > 0 &&
            (last || (p->eval_every > 0 && step % p->eval_every == 0))) {
            val = evaluate(p, m, d, loss, loss_ctx, &bb, &st);
            if (st != SLM_OK) goto done;
            last_val = val;
        }
        const double t1 = slm_time_sec();
        const double tps = (double)step_tokens / (t1 - t0 > 1e-9 ? t1 - t0 : 1e-9);
        const double elapsed = elapsed0 + (t1 - t_start);
        if (p->extra_take) {
            double s = 0, c = 0;
            p->extra_take(loss_ctx, &s, &c);
            extra[0] += s;
            extra[1] += c;
        }
        if (step % p->log_every == 0 || last || isfinite(val)) {
            double extra_mean = NAN;
            if (p->extra_take) { /* every rank logs at the same steps: a collective is safe */
                if ((st = slm_dist_sum_f64(extra, 2)) != SLM_OK) goto done;
                if (extra[1] > 0) extra_mean = extra[0] / extra[1];
                extra[0] = extra[1] = 0;
            }
            if (mf) {
                json_t *j = json_pack("{s:I, s:f, s:o, s:f, s:f, s:f, s:f, s:I}", "step",
                                      (json_int_t)step, "loss", step_loss, "val_loss",
                                      isfinite(val) ? json_real(val) : json_null(), "lr",
                                      (double)lr, "grad_norm", gnorm, "tokens_per_s", tps,
                                      "elapsed", elapsed, "tokens", (json_int_t)tokens);
                if (j && p->extra_take && isfinite(extra_mean))
                    json_object_set_new(j, p->extra_name, json_real(extra_mean));
                char *txt = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
                if (txt) fprintf(mf, "%s\n", txt);
                fflush(mf);
                free(txt);
                json_decref(j);
            }
            if (p->progress && rank == 0) progress(p, tty, step, res->start_step, step_loss, last_val, tps,
                                      t1 - t_start);
        }
        stopped = stop_now;
        if (rank == 0 && p->dir && (last || stopped || (p->ckpt_every > 0 && step % p->ckpt_every == 0))) {
            if ((st = save(p, params, &opt, step, tokens, epoch, cursor, &rng, elapsed)) != SLM_OK)
                goto done;
        }
        if (stopped) {
            if (tty) fputc('\n', stderr);
            slm_log_info("stopped by signal after step %lld of %lld%s%s; run the same command "
                         "again to resume",
                         (long long)step, (long long)p->steps, p->dir ? ", checkpoint in " : "",
                         p->dir ? p->dir : "");
            st = SLM_ERR_INTERRUPTED;
            break;
        }
    }
    if (n_ranks > 1 && comm.calls > 0) {
        const double k = 1e3 / (double)comm.calls;
        slm_log_info("mpi: %d ranks; gradient all-reduce %.1f ms/step (%.1f ms in MPI), "
                     "%.3g MB sent per rank per step in %lld buckets of <= %.3g MB",
                     n_ranks, k * comm.seconds, k * comm.comm_seconds,
                     (double)comm.bytes / (double)comm.calls / 1e6,
                     (long long)(comm.buckets / comm.calls),
                     (double)slm_dist_bucket_floats() * 4.0 / 1048576.0);
        if (ov)
            slm_log_info("mpi: overlapped with the last backward: %.1f ms/step exposed after "
                         "it (%.0f%% of the all-reduce hidden)", k * comm.exposed_seconds,
                         comm.seconds > comm.exposed_seconds
                             ? 100.0 * (1.0 - comm.exposed_seconds / comm.seconds) : 0.0);
        else
            slm_log_info("mpi: not overlapped (all-reduce after the backward pass)");
    }
    res->step = step;
    res->loss = last_loss;
    res->val_loss = last_val;
    res->tokens_seen = tokens;
    res->interrupted = stopped;
done:
    slm_dist_overlap_free(ov);
    if (mf) fclose(mf);
    free(mpath);
    free(perm);
    batch_free(&bb);
    slm_adamw_free(&opt);
    return st;
}
