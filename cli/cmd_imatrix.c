/* cli/cmd_imatrix.c — `slm imatrix --model M.gguf --data TEXT --out imatrix.gguf`:
 * importance matrix (per-column mean squared input activation of every
 * weight matrix) from calibration text, in llama.cpp's GGUF imatrix format,
 * for `slm quantize --imatrix` (and llama-quantize). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "core/fileio.h"
#include "data/dataset.h"
#include "data/tokenizer.h"
#include "quantize/hessian.h"
#include "quantize/imatrix_collect.h"

/* Calibration tokens: a dataset of `slm data prepare` (*.h5: the split's
 * token stream as stored, checked against the model's tokenizer) or a UTF-8
 * text tokenized now. */
static slm_status calib_tokens(const char *data, const char *split, const slm_tokenizer *tok, char **text,
                               size_t *len, int32_t **ids, size_t *n_ids) {
    size_t dl = strlen(data);
    if (!(dl > 3 && !strcmp(data + dl - 3, ".h5"))) {
        slm_status st = slm_read_file(data, text, len);
        return st == SLM_OK ? slm_tokenizer_encode(tok, *text, *len, false, false, ids, n_ids) : st;
    }
    slm_dataset *ds = NULL;
    int64_t n = 0;
    slm_status st = slm_dataset_open(data, split, &ds);
    if (st == SLM_OK) st = slm_dataset_check_tokenizer(ds, tok);
    if (st == SLM_OK) st = slm_dataset_read_all(ds, ids, NULL, &n);
    slm_dataset_close(ds);
    *n_ids = (size_t)n;
    return st;
}

/* The activation second moments plus, for an untied embedding (which has no
 * input activations), its sensitivity matrix as one more entry. */
static slm_status save_hessian(const char *path, const slm_imatrix_stats *s, const slm_llama_weights *w,
                               const slm_imatrix_acc *acc, int64_t n) {
    const int64_t C = w->hp.n_embd;
    slm_imatrix_acc *all = calloc((size_t)n + 1, sizeof *all);
    double *M = w->hp.tied_output ? NULL : malloc(sizeof(double) * (size_t)(C * C));
    slm_status st = (all && (M || w->hp.tied_output)) ? SLM_OK : SLM_ERR_NOMEM;
    if (st == SLM_OK) {
        memcpy(all, acc, sizeof *all * (size_t)n);
        if (M) {
            st = slm_imatrix_stats_embd_cov(s, M);
            all[n] = (slm_imatrix_acc){"token_embd.weight", C, NULL, 1.0, M};
        }
    }
    if (st == SLM_OK) st = slm_hessian_save(path, all, M ? n + 1 : n);
    free(M);
    free(all);
    return st;
}

int slm_cmd_imatrix(int argc, char **argv) {
    const char *model = NULL, *data = NULL, *out = NULL, *hessian = NULL, *split = "train";
    int64_t ctx = 128, chunks = 0;
    slm_opt opts[] = {
        {"model", 'm', SLM_OPT_STR, &model, NULL, "FILE", "model GGUF (required)"},
        {"data", 'd', SLM_OPT_STR, &data, NULL, "FILE",
         "calibration text (UTF-8) or dataset (*.h5 from 'slm data prepare') (required)"},
        {"split", 0, SLM_OPT_STR, &split, "train", "NAME", "dataset split to read (train or val)"},
        {"out", 'o', SLM_OPT_STR, &out, NULL, "FILE", "output imatrix GGUF (required)"},
        {"hessian", 0, SLM_OPT_STR, &hessian, NULL, "FILE",
         "also write the inputs' second moments (x x^T) for 'slm quantize --hessian'"},
        {"ctx", 0, SLM_OPT_INT, &ctx, "128", "N", "tokens per chunk"},
        {"chunks", 0, SLM_OPT_INT, &chunks, "0", "N", "at most N chunks (0: all the text)"},
        {0},
    };
    int rc = slm_opts_parse("imatrix", "slm imatrix --model M.gguf --data TEXT --out imatrix.gguf [--ctx N]",
                            "Importance matrix (mean squared input activation per column of every\n"
                            "weight matrix) from calibration text, in llama.cpp's imatrix GGUF format.",
                            opts, argc, argv, NULL);
    if (rc >= 0) return rc;
    if (!model || !data || !out) {
        fprintf(stderr, "slm imatrix: --model, --data and --out are required (see 'slm imatrix --help')\n");
        return 2;
    }
    /* the outputs replace their files: never the model's, nor each other's */
    const char *names[3] = {"--model", "--out", "--hessian"}, *paths[3] = {model, out, hessian};
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (paths[i] && paths[j] && slm_same_file(paths[i], paths[j])) {
                fprintf(stderr, "slm imatrix: %s and %s name the same file '%s'; give each its own file\n",
                        names[i], names[j], paths[j]);
                return 2;
            }
    if (ctx < 2 || ctx > 65536 || chunks < 0) {
        fprintf(stderr, "slm imatrix: --ctx %lld must be in 2..65536 and --chunks >= 0\n", (long long)ctx);
        return 2;
    }
    slm_gguf *g = NULL;
    slm_llama_weights w = {0};
    slm_tokenizer *tok = NULL;
    slm_imatrix_stats *s = NULL;
    char *text = NULL;
    int32_t *ids = NULL;
    size_t n_ids = 0, len = 0;
    slm_status st = slm_llama_load(model, &g, &w);
    if (st == SLM_OK) st = slm_tokenizer_from_gguf(g, &tok);
    if (st == SLM_OK) st = calib_tokens(data, split, tok, &text, &len, &ids, &n_ids);
    const int64_t body = slm_tokenizer_add_bos(tok) ? ctx - 1 : ctx;
    int64_t n_chunks = st == SLM_OK ? (int64_t)n_ids / body : 0;
    if (chunks > 0 && n_chunks > chunks) n_chunks = chunks;
    if (st == SLM_OK && n_chunks < 1) {
        fprintf(stderr, "slm imatrix: %s has %zu tokens, fewer than one chunk of %lld; use a longer text or "
                        "a smaller --ctx\n", data, n_ids, (long long)ctx);
        st = SLM_ERR_USAGE;
    }
    if (st == SLM_OK) st = slm_imatrix_stats_init(&w, &s);
    if (st == SLM_OK && hessian) st = slm_imatrix_stats_enable_cov(s);
    int32_t *chunk = st == SLM_OK ? malloc(sizeof(int32_t) * (size_t)ctx) : NULL;
    if (st == SLM_OK && !chunk) st = SLM_ERR_NOMEM;
    const double t0 = slm_time_sec();
    for (int64_t c = 0; st == SLM_OK && c < n_chunks; c++) {
        int64_t T = 0;
        if (body < ctx) chunk[T++] = slm_tokenizer_bos(tok);
        memcpy(chunk + T, ids + c * body, sizeof(int32_t) * (size_t)body);
        st = slm_imatrix_stats_add(s, chunk, ctx);
        fprintf(stderr, "\rimatrix: chunk %lld/%lld (%.1f s)", (long long)c + 1, (long long)n_chunks,
                slm_time_sec() - t0);
    }
    if (n_chunks > 0) fprintf(stderr, "\n");
    if (st == SLM_OK) {
        int64_t n;
        const slm_imatrix_acc *acc = slm_imatrix_stats_entries(s, &n);
        st = slm_imatrix_save(out, acc, n, data, (uint32_t)n_chunks, (uint32_t)ctx);
        if (st == SLM_OK)
            fprintf(stderr, "imatrix: %lld entries from %lld chunks of %lld tokens -> %s\n", (long long)n,
                    (long long)n_chunks, (long long)ctx, out);
        if (st == SLM_OK && hessian) st = save_hessian(hessian, s, &w, acc, n);
        if (st == SLM_OK && hessian) fprintf(stderr, "imatrix: input second moments -> %s\n", hessian);
    }
    free(chunk);
    free(ids);
    free(text);
    slm_imatrix_stats_free(s);
    slm_tokenizer_free(tok);
    slm_llama_weights_free(&w);
    slm_gguf_close(g);
    return slm_status_exit_code(st);
}
