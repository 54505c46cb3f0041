/* cli/model_cli.c — see cli/model_cli.h. */
#include "cli/model_cli.h"

#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "model/adapter.h"

void openblas_set_num_threads(int n); /* OpenBLAS's cblas.h declares it; no header clash */

void slm_cli_set_threads(int64_t threads) {
    if (threads <= 0) return;
    omp_set_num_threads((int)threads);
    openblas_set_num_threads((int)threads);
}

slm_status slm_cli_model_load(const char *path, const slm_strlist *loras, double lora_scale,
                              slm_cli_model *m) {
    memset(m, 0, sizeof *m);
    slm_status st = slm_llama_load(path, &m->g, &m->w);
    if (st == SLM_OK) st = slm_tokenizer_from_gguf(m->g, &m->tok);
    if (st == SLM_OK && slm_tokenizer_n_vocab(m->tok) != m->w.hp.n_vocab) {
        slm_log_error("%s: the tokenizer has %d tokens but the model %lld", path,
                      slm_tokenizer_n_vocab(m->tok), (long long)m->w.hp.n_vocab);
        st = SLM_ERR_FORMAT;
    }
    for (int i = 0; loras && i < loras->n && st == SLM_OK; i++)
        st = slm_adapter_merge_file(loras->v[i], (float)lora_scale, &m->w);
    if (st != SLM_OK) slm_cli_model_free(m);
    return st;
}

void slm_cli_model_free(slm_cli_model *m) {
    slm_tokenizer_free(m->tok);
    slm_llama_weights_free(&m->w);
    slm_gguf_close(m->g);
    memset(m, 0, sizeof *m);
}

void slm_cli_progress(int64_t done, int64_t total, const char *what) {
    if (!isatty(2) || total <= 0) return;
    const int width = 30;
    int fill = (int)(done * width / total);
    char bar[32];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : ' ';
    bar[width] = 0;
    fprintf(stderr, "\r[%s] %lld/%lld %s", bar, (long long)done, (long long)total, what);
    if (done >= total) fprintf(stderr, "\n");
    fflush(stderr);
}
