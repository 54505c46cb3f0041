/* train/job.c — one training job (see job.h). */
#include "train/job.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "data/tokenizer.h"
#include "model/llama_train.h"
#include "train/dist.h"
#include "train/setup.h"

/* 1: HDF5, 0: not (text), -1: read error (logged).  A failed read must
 * not make a dataset look like text (found by tests/e2e/test_harden_reads.sh). */
static int is_hdf5(const char *path) {
    static const unsigned char magic[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char buf[8] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return 0; /* the text reader names the missing file */
    size_t n = fread(buf, 1, 8, f);
    int err = ferror(f) ? errno : 0;
    fclose(f);
    if (err) {
        slm_log_error("cannot read '%s': %s", path, strerror(err));
        return -1;
    }
    return n == 8 && !memcmp(buf, magic, 8);
}

static slm_status tokenize_file(const slm_tokenizer *tok, const char *path, int32_t **ids,
                                int64_t *n) {
    char *text = NULL;
    size_t len = 0, nn = 0;
    slm_status st = slm_read_file(path, &text, &len);
    if (st != SLM_OK) return st;
    st = slm_tokenizer_encode(tok, text, len, slm_tokenizer_add_bos(tok), false, ids, &nn);
    free(text);
    *n = (int64_t)nn;
    return st;
}

static slm_status load_data(const slm_train_config *c, const slm_tokenizer *tok, int64_t V,
                            slm_token_data *td) {
    int h5 = is_hdf5(c->train);
    if (h5 < 0) return SLM_ERR_IO;
    if (h5) {
        char fp[65];
        slm_tokenizer_fingerprint(tok, fp);
        return slm_token_data_from_dataset(td, c->train, c->seq_len, V, fp,
                                           c->mode == SLM_MODE_PRETRAIN ? c->vocab : c->base);
    }
    int32_t *tr = NULL, *va = NULL;
    int64_t ntr = 0, nva = 0;
    slm_status st = tokenize_file(tok, c->train, &tr, &ntr);
    if (st == SLM_OK && c->val[0]) {
        st = tokenize_file(tok, c->val, &va, &nva);
    } else if (st == SLM_OK) {
        nva = (int64_t)((double)ntr * c->val_fraction);
        if (nva > 0 && !(va = slm_alloc((size_t)nva * sizeof *va))) st = SLM_ERR_NOMEM;
        if (st == SLM_OK && nva > 0) {
            memcpy(va, tr + ntr - nva, (size_t)nva * sizeof *va);
            ntr -= nva;
        }
    }
    if (st == SLM_OK) {
        slm_log_info("data: %s: %lld training tokens, %lld validation tokens (text, tokenized now)",
                     c->train, (long long)ntr, (long long)nva);
        return slm_token_data_init(td, tr, NULL, ntr, va, NULL, nva, c->seq_len, V, c->train);
    }
    free(tr);
    free(va);
    return st;
}


typedef struct {
    const slm_train_config *now;
    const char *fingerprint;
} check_ctx;

/* A checkpoint may be resumed only with the same base model and compatible config. */
static slm_status check_ckpt(void *ctx, const slm_ckpt_state *s, const char *path) {
    check_ctx *x = ctx;
    if (strcmp(s->fingerprint, x->fingerprint)) {
        slm_log_error("%s was trained from a %s with SHA-256 %s, but %s has %s; use the "
                      "original model or a new output.dir",
                      path, x->now->mode == SLM_MODE_PRETRAIN ? "vocabulary" : "base model",
                      s->fingerprint,
                      x->now->mode == SLM_MODE_PRETRAIN ? x->now->vocab : x->now->base,
                      x->fingerprint);
        return SLM_ERR_USAGE;
    }
    slm_train_config old;
    slm_train_config_defaults(&old);
    slm_status st = slm_train_config_load_string(&old, s->config, path);
    if (st == SLM_OK) st = slm_train_config_check_compat(&old, x->now);
    if (st != SLM_OK) slm_log_error("%s: refusing to resume an incompatible run", path);
    slm_train_config_free(&old);
    return st == SLM_OK ? SLM_OK : SLM_ERR_USAGE;
}

/* Input files named by the config must exist before anything is loaded. */
static slm_status check_inputs(const slm_train_config *c) {
    const struct {
        const char *key, *path;
    } in[] = {
        {c->mode == SLM_MODE_PRETRAIN ? "model.vocab" : "model.base",
         c->mode == SLM_MODE_PRETRAIN ? c->vocab : c->base},
        {"data.train", c->train},
        {"data.val", c->val},
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        if (!in[i].path[0]) continue;
        if (access(in[i].path, R_OK) != 0) {
            slm_log_error("config: %s = '%s': %s", in[i].key, in[i].path, strerror(errno));
            return SLM_ERR_USAGE;
        }
    }
    return SLM_OK;
}

slm_status slm_train_job_run(const slm_train_config *c, volatile sig_atomic_t *stop,
                             bool progress, slm_trainer_result *res) {
    int lock_fd = -1;
    slm_gguf *g = NULL;
    slm_tokenizer *tok = NULL;
    slm_llama_weights w = {0};
    slm_llama_train *tr = NULL;
    slm_token_data td = {0};
    char *cfg_text = NULL, fingerprint[65] = "";
    slm_status st = check_inputs(c);
    if (st == SLM_OK) st = slm_mkdirs(c->dir);
    /* with MPI only rank 0 owns the run directory (lock, config, checkpoints) */
    const bool writer = slm_dist_rank() == 0;
    if (st == SLM_OK && writer) st = slm_lock_dir(c->dir, "slm train", &lock_fd);
    if (st != SLM_OK) goto done;
    int64_t n_stale = writer ? slm_ckpt_remove_stale_tmp(c->dir) : 0;
    if (n_stale > 0)
        slm_log_info("removed %lld unfinished checkpoint file(s) of a killed run in %s",
                     (long long)n_stale, c->dir);
    if (c->threads > 0) omp_set_num_threads((int)c->threads);

    slm_rng init_rng;
    slm_rng_seed(&init_rng, (uint64_t)c->seed);
    const char *model_path = c->mode == SLM_MODE_PRETRAIN ? c->vocab : c->base;
    if ((st = slm_file_sha256(model_path, fingerprint)) != SLM_OK) goto done;
    if (c->mode == SLM_MODE_PRETRAIN) {
        int64_t V = 0;
        slm_llama_hparams hp;
        if ((st = slm_gguf_open(c->vocab, &g)) != SLM_OK) goto done;
        if ((st = slm_gguf_vocab_size(g, &V)) != SLM_OK) goto done;
        slm_train_hparams_from_config(c, V, &hp);
        if ((st = slm_llama_weights_alloc(&hp, &w)) != SLM_OK) goto done;
        slm_train_init_weights(&w, (float)c->init_std, &init_rng);
    } else if ((st = slm_llama_load(c->base, &g, &w)) != SLM_OK) {
        goto done;
    }
    if ((st = slm_tokenizer_from_gguf(g, &tok)) != SLM_OK) goto done;

    slm_llama_train_params tp = slm_llama_train_default_params();
    tp.B = c->batch;
    tp.T = c->seq_len;
    tp.lora = c->mode == SLM_MODE_LORA;
    if (tp.lora) {
        tp.lora_rank = c->lora_rank;
        tp.lora_alpha = (float)c->lora_alpha;
        tp.lora_rslora = c->lora_rslora;
        tp.lora_dropout = (float)c->lora_dropout;
        if ((st = slm_lora_parse_targets(c->lora_targets, &tp.lora_targets)) != SLM_OK) goto done;
    }
    if (c->seq_len > w.hp.n_ctx)
        slm_log_warn("data.seq_len = %lld exceeds the model's context length %lld",
                     (long long)c->seq_len, (long long)w.hp.n_ctx);
    if ((st = slm_llama_train_init(&w, &tp, &init_rng, &tr)) != SLM_OK) goto done;
    if ((st = load_data(c, tok, w.hp.n_vocab, &td)) != SLM_OK) goto done;

    /* resolved config: printed and kept beside the checkpoints */
    if (!(cfg_text = slm_train_config_to_ini(c))) {
        st = SLM_ERR_NOMEM;
        goto done;
    }
    if (writer) {
        char path[4096];
        snprintf(path, sizeof path, "%s/config.ini", c->dir);
        slm_outfile of;
        if ((st = slm_outfile_open(&of, path)) != SLM_OK) goto done;
        st = slm_outfile_write(&of, cfg_text, strlen(cfg_text));
        st = st == SLM_OK ? slm_outfile_commit(&of) : (slm_outfile_abort(&of), st);
        if (st != SLM_OK) goto done;
    }
    const slm_param_list *params = slm_llama_train_param_list(tr);
    int64_t n_train = 0;
    for (int64_t i = 0; i < params->n; i++) n_train += params->v[i].n;
    slm_log_info("slm %s train: mode %s, %lld trainable parameters in %lld tensors, "
                 "%lld threads x %d rank(s), seed %lld%s%s%s",
                 SLM_VERSION, slm_train_mode_name((slm_train_mode)c->mode), (long long)n_train,
                 (long long)params->n, (long long)omp_get_max_threads(), slm_dist_size(),
                 (long long)c->seed, /* --quiet: the config is in DIR/config.ini, not on stderr */
                 progress ? "\n--- resolved config ---\n" : "", progress ? cfg_text : "",
                 progress ? "-----------------------" : "");

    slm_graph_ctx gr = {tr, tp.lora && tp.lora_dropout > 0};
    slm_train_model model = slm_graph_model(&gr, w.hp.n_vocab);
    slm_train_data data = slm_token_data_source(&td);
    if (data.n_val == 0 && c->eval_batches > 0)
        slm_log_warn("no validation sequences of %lld tokens: validation loss is off",
                     (long long)c->seq_len);
    check_ctx cx = {c, fingerprint};
    slm_trainer_params p = slm_trainer_params_from_config(c);
    p.config_text = cfg_text;
    p.fingerprint = fingerprint;
    p.check = check_ckpt;
    p.check_ctx = &cx;
    p.progress = progress;
    p.stop = stop;
    st = slm_trainer_run(&p, &model, &data, slm_loss_cross_entropy, NULL, res);
    if (st == SLM_OK) {
        char val[32] = "n/a";
        if (isfinite(res->val_loss)) snprintf(val, sizeof val, "%.4f", res->val_loss);
        if (res->step == res->start_step)
            slm_log_info("nothing to do: %s already holds step %lld of %lld (raise train.steps "
                         "to continue)", c->dir, (long long)res->step, (long long)c->steps);
        else
            slm_log_info("done: step %lld, loss %.4f, val_loss %s, %lld tokens; checkpoints in "
                         "%s (slm export --ckpt %s --out model.gguf)",
                         (long long)res->step, res->loss, val, (long long)res->tokens_seen,
                         c->dir, c->dir);
    }
done:
    free(cfg_text);
    slm_token_data_free(&td);
    slm_llama_train_free(tr);
    slm_tokenizer_free(tok);
    slm_llama_weights_free(&w);
    slm_gguf_close(g);
    if (lock_fd >= 0) close(lock_fd);
    return st;
}
