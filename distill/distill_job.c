/* distill/distill_job.c — one `slm distill` job: the trainer of train/ with
 * the KD loss of kd_loss.c as its loss callback.  Training sequences and
 * teacher entries come from the logit dump; validation sequences from
 * data.train's val split, scored with plain cross-entropy so that a
 * distilled student and one trained on labels compare on the same number.
 * At the end the student is written as <output.dir>/student.gguf. */
#include "distill/distill_job.h"
#include "train/dist.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/ops.h"
#include "core/sha256.h"
#include "data/tokenizer.h"
#include "distill/dump.h"
#include "distill/kd_loss.h"
#include "model/llama_train.h"
#include "model/lora.h"
#include "train/setup.h"

/* Student from base keeping blocks 0, n, 2n, ... (n = keep_every). */
static slm_status keep_blocks(const slm_llama_weights *src, int64_t n, slm_llama_weights *dst) {
    slm_llama_hparams hp = src->hp;
    hp.n_layer = (src->hp.n_layer + n - 1) / n;
    slm_status st = slm_llama_weights_alloc(&hp, dst);
    if (st) return st;
    for (int64_t i = 0; i < slm_llama_n_tensors(dst); i++) {
        slm_llama_tensor_ref d, s;
        slm_llama_tensor(dst, i, &d);
        /* same tensor of source layer d.layer * n: find it by kind */
        bool found = false;
        for (int64_t j = 0; j < slm_llama_n_tensors(src) && !found; j++) {
            slm_llama_tensor(src, j, &s);
            if (s.kind == d.kind && (d.layer < 0 ? s.layer < 0 : s.layer == d.layer * n)) {
                SLM_ASSERT(s.ne[0] == d.ne[0] && s.ne[1] == d.ne[1]);
                memcpy(d.data, s.data, (size_t)(d.ne[0] * d.ne[1]) * sizeof(float));
                found = true;
            }
        }
        SLM_ASSERT(found);
    }
    return SLM_OK;
}


typedef struct {
    slm_dump *dump;
    const slm_dump_info *info;
    int64_t S, T;
    int32_t *tokens, *targets; /* (S, T) from the dump */
    uint8_t *mask;             /* (S, T) */
    slm_token_data *val;       /* val split of data.train (may have n[1] == 0) */
    slm_dump_batch one;        /* one sequence of entries */
    int32_t *ids;              /* (B*T, K) of the current micro-batch */
    float *lp;
    uint16_t *cnt;
    uint8_t *kd_mask;          /* (B*T) */
    slm_kd_params kp;
    bool use_mask;
    slm_status err;            /* first dump read error inside a callback */
    double kl_sum, kl_n;       /* KD divergence of the training rows since the last take */
} kd_ctx;

static slm_status data_get(void *ctx, bool val, int64_t seq, int32_t *tokens, int32_t *targets,
                           uint8_t *mask) {
    kd_ctx *x = ctx;
    const int64_t T = x->T;
    if (val) {
        const int32_t *t = x->val->tok[1] + seq * T;
        memcpy(tokens, t, (size_t)T * sizeof *t);
        memcpy(targets, t + 1, (size_t)T * sizeof *t);
        for (int64_t i = 0; i < T; i++) mask[i] = x->val->mask[1] ? x->val->mask[1][seq * T + i + 1] : 1;
        return SLM_OK;
    }
    memcpy(tokens, x->tokens + seq * T, (size_t)T * sizeof *tokens);
    memcpy(targets, x->targets + seq * T, (size_t)T * sizeof *targets);
    memcpy(mask, x->mask + seq * T, (size_t)T);
    return SLM_OK;
}

static double kd_loss_cb(void *ctx, float *dlogits, const float *logits, const slm_batch *b,
                         int64_t V, float grad_scale, int64_t *n_counted) {
    kd_ctx *x = ctx;
    const int64_t N = b->B * b->T, K = x->info->k, T = x->T;
    if (b->val) { /* validation: plain CE, comparable with label-only training */
        int64_t n = 0;
        for (int64_t i = 0; i < N; i++) n += b->mask[i] != 0;
        *n_counted = n;
        return slm_cross_entropy_forward_backward(dlogits, NULL, logits, b->targets, b->mask, N,
                                                  V, grad_scale);
    }
    for (int64_t r = 0; r < b->B; r++) {
        x->one.n = 1;
        slm_status st = slm_dump_read(x->dump, b->seq_ids[r], &x->one);
        if (st && !x->err) x->err = st;
        if (st) { /* poison the loss: the trainer stops on a non-finite loss */
            *n_counted = 0;
            return NAN;
        }
        memcpy(x->ids + r * T * K, x->one.ids, (size_t)(T * K) * sizeof(int32_t));
        memcpy(x->lp + r * T * K, x->one.logprobs, (size_t)(T * K) * sizeof(float));
        if (x->cnt) memcpy(x->cnt + r * T * K, x->one.counts, (size_t)(T * K) * sizeof(uint16_t));
    }
    int64_t n = 0;
    for (int64_t i = 0; i < N; i++) {
        x->kd_mask[i] = x->use_mask ? b->mask[i] != 0 : 1;
        n += x->kd_mask[i];
    }
    *n_counted = n;
    slm_kd_teacher t = {x->ids, x->lp, x->cnt, K, x->info->sample_n};
    slm_kd_stats ks;
    double l = slm_kd_forward_backward(dlogits, NULL, logits, b->targets, x->kd_mask, &t, &x->kp,
                                       N, V, grad_scale, &ks);
    x->kl_sum += ks.kd * (double)ks.n_rows;
    x->kl_n += (double)ks.n_rows;
    return l;
}

/* The trainer's extra metric: mean KD divergence (KL at the distillation
 * temperature, before alpha and T^2) of the training rows. */
static void kd_take_kl(void *ctx, double *sum, double *count) {
    kd_ctx *x = ctx;
    *sum = x->kl_sum;
    *count = x->kl_n;
    x->kl_sum = x->kl_n = 0;
}

typedef struct {
    const slm_distill_config *now;
    const char *fingerprint;
} check_ctx;

static slm_status check_ckpt(void *ctx, const slm_ckpt_state *s, const char *path) {
    check_ctx *x = ctx;
    if (strcmp(s->fingerprint, x->fingerprint)) {
        slm_log_error("%s belongs to another distillation (student base, teacher dump or "
                      "[distill] options differ: fingerprint %s, now %s); use a new output.dir",
                      path, s->fingerprint, x->fingerprint);
        return SLM_ERR_USAGE;
    }
    slm_distill_config old;
    slm_distill_config_defaults(&old);
    slm_status st = slm_distill_config_load_string(&old, s->config, path);
    if (!st) st = slm_train_config_check_compat(&old.train, &x->now->train);
    if (st) slm_log_error("%s: refusing to resume an incompatible run", path);
    slm_distill_config_free(&old);
    return st ? SLM_ERR_USAGE : SLM_OK;
}

/* Fingerprint of the job's identity: student source, teacher, options. */
static slm_status job_fingerprint(const slm_distill_config *c, const slm_dump_info *in,
                                  char out[65]) {
    char src[65];
    slm_status st = slm_file_sha256(c->train.mode == SLM_MODE_PRETRAIN ? c->train.vocab
                                                                       : c->train.base, src);
    if (st) return st;
    char buf[512];
    snprintf(buf, sizeof buf, "%s|%s|%s|%.9g|%.9g|%d|%d|%lld|%d", src, in->teacher_fp,
             in->tokenizer_fp, c->alpha, c->temperature, c->reverse, c->renormalize,
             (long long)c->keep_every, c->mask);
    slm_sha256 s;
    uint8_t d[32];
    slm_sha256_init(&s);
    slm_sha256_update(&s, buf, strlen(buf));
    slm_sha256_final(&s, d);
    slm_sha256_hex(d, out);
    return SLM_OK;
}

slm_status slm_distill_job_run(const slm_distill_config *dc, volatile sig_atomic_t *stop,
                               bool progress, slm_trainer_result *res) {
    const slm_train_config *c = &dc->train;
    int lock_fd = -1;
    slm_gguf *g = NULL;
    slm_tokenizer *tok = NULL;
    slm_llama_weights w = {0}, full = {0};
    slm_llama_train *tr = NULL;
    slm_token_data td = {0};
    kd_ctx x;
    memset(&x, 0, sizeof x);
    char *cfg_text = NULL, fingerprint[65] = "", tok_fp[65] = "";
    slm_status st = slm_mkdirs(c->dir);
    /* MPI (docs/mpi.md): rank 0 alone owns the run directory */
    const bool writer = slm_dist_rank() == 0;
    if (!st && writer) st = slm_lock_dir(c->dir, "slm distill", &lock_fd);
    if (!st && c->threads > 0) omp_set_num_threads((int)c->threads);
    if (!st) st = slm_dump_open(dc->dump, &x.dump);
    if (st) goto done;
    x.info = slm_dump_get_info(x.dump);
    x.S = slm_dump_n_seqs(x.dump);
    x.T = x.info->seq_len;
    if (c->seq_len != x.T) {
        slm_log_error("data.seq_len = %lld but the dump %s holds sequences of %lld tokens; set "
                      "data.seq_len = %lld", (long long)c->seq_len, dc->dump, (long long)x.T,
                      (long long)x.T);
        st = SLM_ERR_USAGE;
        goto done;
    }
    x.kp = (slm_kd_params){(float)dc->alpha, (float)dc->temperature,
                           dc->reverse ? SLM_KD_REVERSE : SLM_KD_FORWARD, dc->renormalize};
    if ((st = slm_kd_check_params(&x.kp, x.info->mode == SLM_DUMP_SAMPLE))) goto done;

    /* the student */
    slm_rng init_rng;
    slm_rng_seed(&init_rng, (uint64_t)c->seed);
    if (c->mode == SLM_MODE_PRETRAIN) {
        int64_t V = 0;
        slm_llama_hparams hp;
        if ((st = slm_gguf_open(c->vocab, &g)) || (st = slm_gguf_vocab_size(g, &V))) goto done;
        slm_train_hparams_from_config(c, V, &hp);
        if ((st = slm_llama_weights_alloc(&hp, &w))) goto done;
        slm_train_init_weights(&w, (float)c->init_std, &init_rng);
    } else {
        if ((st = slm_llama_load(c->base, &g, &full))) goto done;
        if (c->ffn > 0 && c->ffn != full.hp.n_ff) {
            slm_log_error("model.ffn = %lld differs from %s's %lld: a narrower (or wider) FFN than "
                          "the base is not supported (out of scope); leave model.ffn = 0",
                          (long long)c->ffn, c->base, (long long)full.hp.n_ff);
            st = SLM_ERR_USAGE;
            goto done;
        }
        if (dc->keep_every > 1) {
            if ((st = keep_blocks(&full, dc->keep_every, &w))) goto done;
            slm_log_info("student: %lld of %s's %lld blocks (every %lld-th)", (long long)w.hp.n_layer,
                         c->base, (long long)full.hp.n_layer, (long long)dc->keep_every);
            slm_llama_weights_free(&full);
        } else {
            w = full;
            memset(&full, 0, sizeof full);
        }
    }
    if ((st = slm_tokenizer_from_gguf(g, &tok))) goto done;
    slm_tokenizer_fingerprint(tok, tok_fp);
    /* teacher and student must share the vocabulary */
    if ((st = slm_dump_check_vocab(x.dump, w.hp.n_vocab, tok_fp))) goto done;

    slm_llama_train_params tp = slm_llama_train_default_params();
    tp.B = c->batch;
    tp.T = c->seq_len;
    tp.lora = c->mode == SLM_MODE_LORA;
    if (tp.lora) {
        tp.lora_rank = c->lora_rank;
        tp.lora_alpha = (float)c->lora_alpha;
        tp.lora_rslora = c->lora_rslora;
        tp.lora_dropout = (float)c->lora_dropout;
        if ((st = slm_lora_parse_targets(c->lora_targets, &tp.lora_targets))) goto done;
    }
    if ((st = slm_llama_train_init(&w, &tp, &init_rng, &tr))) goto done;

    /* sequences: the dump's, checked against data.train; validation from its val split */
    if ((st = slm_token_data_from_dataset(&td, c->train, x.T, w.hp.n_vocab, tok_fp, dc->dump)))
        goto done;
    {   /* tokens, targets and mask of every sequence in memory; entries are read
         * (and validated) per micro-batch in the loss callback */
        size_t nt = (size_t)(x.S * x.T);
        x.tokens = slm_alloc(nt * sizeof(int32_t));
        x.targets = slm_alloc(nt * sizeof(int32_t));
        x.mask = slm_alloc(nt);
        if (!x.tokens || !x.targets || !x.mask) {
            st = SLM_ERR_NOMEM;
            goto done;
        }
        slm_dump_batch all = {.n = x.S, .tokens = x.tokens, .targets = x.targets, .mask = x.mask};
        if ((st = slm_dump_read_tokens(x.dump, 0, &all))) goto done;
    }
    if (dc->check_data) {
        int64_t n_win = td.n[0] > 1 ? (td.n[0] - 1) / x.T : 0;
        if (x.S > n_win) {
            slm_log_error("%s holds %lld sequences but %s's train split has only %lld windows of "
                          "%lld tokens: the dump was made from other data (or set "
                          "distill.check_data = false)", dc->dump, (long long)x.S, c->train,
                          (long long)n_win, (long long)x.T);
            st = SLM_ERR_FORMAT;
            goto done;
        }
        for (int64_t s = 0; s < x.S && !st; s++)
            for (int64_t t = 0; t < x.T; t++)
                if (x.tokens[s * x.T + t] != td.tok[0][s * x.T + t]) {
                    slm_log_error("%s: /tokens[%lld][%lld] = %d but %s (train split) has %d "
                                  "there: the dump was made from other data (or set "
                                  "distill.check_data = false)", dc->dump, (long long)s,
                                  (long long)t, x.tokens[s * x.T + t], c->train,
                                  td.tok[0][s * x.T + t]);
                    st = SLM_ERR_FORMAT;
                    break;
                }
        if (st) goto done;
    }
    x.val = &td;
    x.use_mask = dc->mask;
    {
        size_t ne = (size_t)(c->batch * x.T * x.info->k);
        x.ids = slm_alloc(ne * sizeof(int32_t));
        x.lp = slm_alloc(ne * sizeof(float));
        x.kd_mask = slm_alloc((size_t)(c->batch * x.T));
        if (x.info->mode == SLM_DUMP_SAMPLE) x.cnt = slm_alloc(ne * sizeof(uint16_t));
        st = slm_dump_batch_alloc(x.info, 1, &x.one);
        if (!st && (!x.ids || !x.lp || !x.kd_mask || (x.info->mode == SLM_DUMP_SAMPLE && !x.cnt)))
            st = SLM_ERR_NOMEM;
        if (st) goto done;
    }
    if ((st = job_fingerprint(dc, x.info, fingerprint))) goto done;
    if (!(cfg_text = slm_distill_config_to_ini(dc))) {
        st = SLM_ERR_NOMEM;
        goto done;
    }
    if (writer) {
        char path[4096];
        snprintf(path, sizeof path, "%s/config.ini", c->dir);
        slm_outfile of;
        if ((st = slm_outfile_open(&of, path))) goto done;
        st = slm_outfile_write(&of, cfg_text, strlen(cfg_text));
        st = !st ? slm_outfile_commit(&of) : (slm_outfile_abort(&of), st);
        if (st) goto done;
    }
    const slm_param_list *params = slm_llama_train_param_list(tr);
    int64_t n_train = 0;
    for (int64_t i = 0; i < params->n; i++) n_train += params->v[i].n;
    slm_log_info("slm %s distill: student %s (%lld layers, %lld trainable parameters), teacher "
                 "'%s' via %s (%s, k=%lld, %lld sequences), alpha %g, T %g, %s KL%s, %lld threads, "
                 "seed %lld%s%s%s",
                 SLM_VERSION, slm_train_mode_name((slm_train_mode)c->mode), (long long)w.hp.n_layer,
                 (long long)n_train, x.info->teacher, dc->dump, slm_dump_mode_name(x.info->mode),
                 (long long)x.info->k, (long long)x.S, dc->alpha, dc->temperature,
                 dc->reverse ? "reverse" : "forward", dc->renormalize ? ", renormalised top-k" : "",
                 (long long)omp_get_max_threads(), (long long)c->seed,
                 /* --quiet: the config is in DIR/config.ini, not on stderr */
                 progress ? "\n--- resolved config ---\n" : "", progress ? cfg_text : "",
                 progress ? "-----------------------" : "");

    slm_graph_ctx gr = {tr, tp.lora && tp.lora_dropout > 0};
    slm_train_model model = slm_graph_model(&gr, w.hp.n_vocab);
    slm_train_data data = {.ctx = &x, .n_train = x.S, .n_val = td.n[1] > 1 ? (td.n[1] - 1) / x.T : 0,
                           .get = data_get};
    if (data.n_val == 0 && c->eval_batches > 0)
        slm_log_warn("%s has no validation windows of %lld tokens: validation loss is off",
                     c->train, (long long)x.T);
    check_ctx cx = {dc, fingerprint};
    slm_trainer_params p = slm_trainer_params_from_config(c);
    p.config_text = cfg_text;
    p.fingerprint = fingerprint;
    p.check = check_ckpt;
    p.check_ctx = &cx;
    p.progress = progress;
    p.stop = stop;
    p.extra_name = "kl";
    p.extra_take = kd_take_kl;
    st = slm_trainer_run(&p, &model, &data, kd_loss_cb, &x, res);
    if (x.err) st = x.err;
    if (!st && writer) {
        /* the student as a GGUF (LoRA: merged into its base) */
        if (tp.lora) st = slm_lora_merge(&w, params, slm_lora_scale(tp.lora_alpha, tp.lora_rank, tp.lora_rslora));
        char path[4096];
        snprintf(path, sizeof path, "%s/student.gguf", c->dir);
        if (!st) st = slm_llama_save_gguf(&w, g, SLM_TYPE_F32, path);
        char val[32] = "- (no validation)";
        if (isfinite(res->val_loss)) snprintf(val, sizeof val, "%.4f", res->val_loss);
        if (!st)
            slm_log_info("done: step %lld, loss (KD+CE) %.4f, val CE %s; student written to %s",
                         (long long)res->step, res->loss, val, path);
    }
done:
    free(cfg_text);
    free(x.tokens);
    free(x.targets);
    free(x.mask);
    free(x.ids);
    free(x.lp);
    free(x.cnt);
    free(x.kd_mask);
    slm_dump_batch_free(&x.one);
    slm_dump_close(x.dump);
    slm_token_data_free(&td);
    slm_llama_train_free(tr);
    slm_tokenizer_free(tok);
    slm_llama_weights_free(&w);
    slm_llama_weights_free(&full);
    slm_gguf_close(g);
    if (lock_fd >= 0) close(lock_fd);
    return st;
}
