/* cli/cmd_export.c — `slm export`: a training checkpoint -> GGUF.
 *   full / pretrain: every trained tensor written into a llama GGUF;
 *   lora: the adapters merged into the base weights, or (--adapter) a
 *         llama.cpp LoRA adapter GGUF (model/lora.h).
 * Metadata (general.*, tokenizer.*) comes from the base model (pretrain: the
 * vocabulary GGUF); its SHA-256 must be the one recorded in the checkpoint. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "core/gguf.h"
#include "model/llama.h"
#include "model/llama_train.h"
#include "model/lora.h"
#include "train/ckpt.h"
#include "train/config.h"
#include "train/setup.h"

/* Newest checkpoint of a directory whose state reads back (or the file itself). */
static slm_status resolve_ckpt(const char *arg, char **path, slm_ckpt_state *s) {
    struct stat sb;
    if (stat(arg, &sb) != 0) {
        slm_log_error("export: --ckpt '%s' does not exist", arg);
        return SLM_ERR_USAGE;
    }
    if (!S_ISDIR(sb.st_mode)) {
        *path = slm_strdup(arg);
        return *path ? slm_ckpt_read_state(arg, s) : SLM_ERR_NOMEM;
    }
    int64_t *steps = NULL, n = 0;
    slm_status st = slm_ckpt_list(arg, &steps, &n);
    if (st == SLM_OK && n == 0) {
        slm_log_error("export: no ckpt-<step>.h5 in '%s'", arg);
        st = SLM_ERR_USAGE;
    }
    for (int64_t i = 0; st == SLM_OK && i < n; i++) {
        char *p = slm_ckpt_path(arg, steps[i]);
        if (!p) {
            st = SLM_ERR_NOMEM;
            break;
        }
        slm_status r = slm_ckpt_read_state(p, s);
        if (r == SLM_OK) {
            *path = p;
            free(steps);
            return SLM_OK;
        }
        if (r == SLM_ERR_IO) { /* the disk failed, not the file: an older model is not what was asked for */
            free(p);
            st = r;
            break;
        }
        slm_log_warn("export: skipping unreadable checkpoint '%s'", p);
        free(p);
        if (i + 1 == n) st = SLM_ERR_FORMAT;
    }
    free(steps);
    return st;
}

/* Every tensor under /params as a param list (data owned by the list). */
static slm_status read_params(const char *path, slm_param_list *L) {
    char **names = NULL;
    int64_t n = 0;
    memset(L, 0, sizeof *L);
    slm_status st = slm_ckpt_list_params(path, &names, &n);
    if (st != SLM_OK) return st;
    L->v = slm_calloc((size_t)(n ? n : 1), sizeof *L->v);
    if (!L->v) st = SLM_ERR_NOMEM;
    for (int64_t i = 0; st == SLM_OK && i < n; i++) {
        slm_param *P = &L->v[i];
        if (strlen(names[i]) >= sizeof P->name) {
            slm_log_error("%s: tensor name '%s' too long", path, names[i]);
            st = SLM_ERR_FORMAT;
            break;
        }
        snprintf(P->name, sizeof P->name, "%s", names[i]);
        st = slm_ckpt_read_param(path, names[i], &P->data, P->ne, &P->n_dims);
        if (st == SLM_OK) {
            P->n = P->ne[0] * P->ne[1];
            L->n = i + 1;
        }
    }
    slm_ckpt_names_free(names, n);
    return st;
}

static void free_params(slm_param_list *L) {
    for (int64_t i = 0; i < L->n; i++) free(L->v[i].data);
    free(L->v);
    memset(L, 0, sizeof *L);
}

/* Copies every model tensor from L by name; all must be present with their shape. */
static slm_status fill_weights(slm_llama_weights *w, const slm_param_list *L, const char *ckpt) {
    for (int64_t i = 0; i < slm_llama_n_tensors(w); i++) {
        slm_llama_tensor_ref t;
        slm_llama_tensor(w, i, &t);
        const slm_param *P = NULL;
        for (int64_t j = 0; j < L->n && !P; j++)
            if (!strcmp(L->v[j].name, t.name)) P = &L->v[j];
        int64_t n = t.ne[0] * (t.n_dims == 2 ? t.ne[1] : 1);
        if (!P) {
            slm_log_error("%s: tensor '%s' of the model is not in the checkpoint", ckpt, t.name);
            return SLM_ERR_FORMAT;
        }
        if (P->n != n || P->ne[0] != t.ne[0]) {
            slm_log_error("%s: tensor '%s' has ne [%lld, %lld] but the model needs [%lld, %lld]",
                          ckpt, t.name, (long long)P->ne[0], (long long)P->ne[1],
                          (long long)t.ne[0], (long long)(t.n_dims == 2 ? t.ne[1] : 1));
            return SLM_ERR_FORMAT;
        }
        memcpy(t.data, P->data, (size_t)n * sizeof(float));
    }
    return SLM_OK;
}

int slm_cmd_export(int argc, char **argv) {
    const char *ckpt_arg = NULL, *base_arg = NULL, *out = NULL, *type_name = "F32";
    bool adapter = false;
    slm_opt opts[] = {
        {"ckpt", 'c', SLM_OPT_STR, &ckpt_arg, NULL, "DIR|FILE", "run directory (newest readable checkpoint) or a ckpt-<step>.h5"},
        {"base", 'b', SLM_OPT_STR, &base_arg, NULL, "FILE", "base GGUF (default: the one named in the checkpoint's config; pretrain: the vocabulary)"},
        {"out", 'o', SLM_OPT_STR, &out, NULL, "FILE", "output GGUF (required)"},
        {"type", 't', SLM_OPT_STR, &type_name, "F32", "TYPE", "F32, F16 or BF16 for 2-D weights (norms stay F32)"},
        {"adapter", 'a', SLM_OPT_FLAG, &adapter, NULL, NULL, "write a llama.cpp LoRA adapter GGUF instead of a merged model"},
        {0},
    };
    int rc = slm_opts_parse("export", "slm export --ckpt DIR|FILE [--base B.gguf] --out OUT.gguf [--type F32|F16|BF16] [--adapter]",
                            "Turn a training checkpoint into a GGUF model for llama.cpp: full or\n"
                            "pretrained weights, LoRA merged into the base, or a LoRA adapter.",
                            opts, argc, argv, NULL);
    if (rc >= 0) return rc;
    if (!ckpt_arg || !out) {
        fprintf(stderr, "slm export: --ckpt and --out are required (see 'slm export --help')\n");
        return 2;
    }
    slm_type type;
    if (!slm_type_from_name(type_name, &type) ||
        (type != SLM_TYPE_F32 && type != SLM_TYPE_F16 && type != SLM_TYPE_BF16)) {
        fprintf(stderr, "slm export: --type '%s' is not F32, F16 or BF16 (quantize with slm quantize)\n",
                type_name);
        return 2;
    }
    char *path = NULL;
    slm_ckpt_state s = {0};
    slm_train_config c;
    slm_train_config_defaults(&c);
    slm_param_list L = {0};
    slm_gguf *g = NULL;
    slm_llama_weights w = {0};
    slm_status st = resolve_ckpt(ckpt_arg, &path, &s);
    if (st == SLM_OK) st = slm_train_config_load_string(&c, s.config, path);
    if (st != SLM_OK) goto done;
    const bool lora = c.mode == SLM_MODE_LORA, pre = c.mode == SLM_MODE_PRETRAIN;
    const char *base = base_arg ? base_arg : pre ? c.vocab : c.base;
    if (adapter && !lora) {
        slm_log_error("export: --adapter needs a LoRA checkpoint; %s is mode %s", path,
                      slm_train_mode_name((slm_train_mode)c.mode));
        st = SLM_ERR_USAGE;
        goto done;
    }
    char fp[65];
    if (access(base, R_OK) != 0) {
        slm_log_error("export: %s '%s' named in %s is not readable (%s); pass it with --base",
                      pre ? "vocabulary" : "base model", base, path, strerror(errno));
        st = SLM_ERR_USAGE;
        goto done;
    }
    if ((st = slm_file_sha256(base, fp)) != SLM_OK) goto done;
    if (strcmp(fp, s.fingerprint)) {
        slm_log_error("export: %s has SHA-256 %s but %s was trained from a file with %s; "
                      "pass the original with --base",
                      base, fp, path, s.fingerprint);
        st = SLM_ERR_USAGE;
        goto done;
    }
    if ((st = read_params(path, &L)) != SLM_OK) goto done;
    slm_log_info("export: %s (step %lld, mode %s, %lld tensors) -> %s", path, (long long)s.step,
                 slm_train_mode_name((slm_train_mode)c.mode), (long long)L.n, out);
    if (adapter) {
        if (type != SLM_TYPE_F32) slm_log_warn("export: adapters are written as F32");
        slm_gguf_writer *gw = NULL;
        float a = slm_lora_adapter_alpha((float)c.lora_alpha, c.lora_rank, c.lora_rslora);
        st = slm_lora_adapter_writer(&L, a, &gw);
        if (st == SLM_OK) st = slm_gguf_writer_write(gw, out);
        slm_gguf_writer_free(gw);
        goto done;
    }
    if (pre) {
        int64_t V;
        slm_llama_hparams hp;
        if ((st = slm_gguf_open(base, &g)) != SLM_OK) goto done;
        if ((st = slm_gguf_vocab_size(g, &V)) != SLM_OK) goto done;
        slm_train_hparams_from_config(&c, V, &hp);
        if ((st = slm_llama_weights_alloc(&hp, &w)) != SLM_OK) goto done;
        st = fill_weights(&w, &L, path);
    } else {
        if ((st = slm_llama_load(base, &g, &w)) != SLM_OK) goto done;
        st = lora ? slm_lora_merge(&w, &L, slm_lora_scale((float)c.lora_alpha, c.lora_rank,
                                                          c.lora_rslora))
                  : fill_weights(&w, &L, path);
    }
    if (st == SLM_OK) st = slm_llama_save_gguf(&w, g, type, out);
done:
    if (st == SLM_OK) slm_log_info("export: wrote %s", out);
    slm_llama_weights_free(&w);
    slm_gguf_close(g);
    free_params(&L);
    slm_ckpt_state_free(&s);
    slm_train_config_free(&c);
    free(path);
    return slm_status_exit_code(st);
}
