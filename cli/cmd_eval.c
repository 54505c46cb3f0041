/* cli/cmd_eval.c — `slm eval --model M.gguf --text FILE [--ctx N] [--bos]
 * [--json] [--threads N] [--lora A.gguf]`: perplexity of a model on a text.
 * The text is tokenized (no BOS unless --bos), cut into consecutive
 * non-overlapping windows of N tokens (default: the model's context length;
 * the last window may be shorter); within each window every token but the
 * first is predicted from the ones before it.  Prints the number of
 * predicted tokens, their mean negative log-likelihood (nats) and
 * perplexity = exp(mean NLL); --json ends the output with one line
 * {"tokens": N, "nll": mean, "ppl": exp(mean)}. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "cli/model_cli.h"
#include "cli/opts.h"
#include "core/fileio.h"
#include "core/ops.h"
#include "distill/kd_eval.h"
#include "model/infer.h"

int slm_cmd_eval(int argc, char **argv) {
    const char *model = NULL, *text = NULL, *dump = NULL;
    int64_t dump_seqs = 0;
    int64_t ctx = 0, threads = 0;
    bool bos = false, json = false;
    double lora_scale = 1.0;
    slm_strlist loras = {0};
    const slm_opt opts[] = {
        {"model", 'm', SLM_OPT_STR, &model, NULL, "FILE", "model GGUF (required)"},
        {"text", 0, SLM_OPT_STR, &text, NULL, "FILE", "UTF-8 text to evaluate (required)"},
        {"ctx", 0, SLM_OPT_INT, &ctx, "0", "N", "window length in tokens (0: the model's context length)"},
        {"bos", 0, SLM_OPT_FLAG, &bos, NULL, NULL, "prepend BOS to the text before cutting windows"},
        {"json", 0, SLM_OPT_FLAG, &json, NULL, NULL, "end with one JSON line {tokens, nll, ppl}"},
        {"threads", 't', SLM_OPT_INT, &threads, "0", "N", "threads (0: OMP_NUM_THREADS or all cores)"},
        {"lora", 0, SLM_OPT_LIST, &loras, NULL, "FILE", "llama.cpp LoRA adapter GGUF to merge (repeatable)"},
        {"lora-scale", 0, SLM_OPT_FLOAT, &lora_scale, "1", "X", "multiplier of the adapters' alpha / r"},
        {"dump", 0, SLM_OPT_STR, &dump, NULL, "DUMP.h5",
         "teacher logit dump: KL(teacher || model), top-1 agreement and CE on its sequences"},
        {"dump-seqs", 0, SLM_OPT_INT, &dump_seqs, "0", "N", "with --dump: first N sequences (0: all)"},
        {0},
    };
    int rc = slm_opts_parse("eval", "slm eval --model M.gguf --text FILE [options]",
                            "Perplexity of a model on a text: mean NLL over consecutive windows.",
                            opts, argc, argv, NULL);
    if (rc >= 0) return rc;
    if (!model || (!text && !dump)) {
        fprintf(stderr, "slm eval: --model and --text (or --dump) are required (see slm eval --help)\n");
        slm_strlist_free(&loras);
        return 2;
    }
    if (ctx < 0 || ctx == 1) {
        fprintf(stderr, "slm eval: --ctx %lld: a window needs at least 2 tokens\n", (long long)ctx);
        slm_strlist_free(&loras);
        return 2;
    }
    slm_cli_set_threads(threads);
    slm_cli_model m;
    char *buf = NULL;
    size_t len = 0, n_ids = 0;
    int32_t *ids = NULL;
    float *losses = NULL;
    slm_llama_infer *s = NULL;
    slm_status st = slm_cli_model_load(model, &loras, lora_scale, &m);
    if (st != SLM_OK) goto done;
    if (dump) { /* distill/kd_eval: closeness to a teacher */
        char fp[65];
        slm_kd_eval_result r;
        slm_tokenizer_fingerprint(m.tok, fp);
        if ((st = slm_kd_eval(&m.w, fp, dump, dump_seqs, 4, &r)) != SLM_OK) goto done;
        printf("dump %s: %lld sequences, %lld positions\nkl %.6f\ntop1 %.6f\nce %.6f\n", dump,
               (long long)r.n_seqs, (long long)r.n_pos, r.kl, r.top1, r.ce);
        if (json)
            printf("{\"positions\": %lld, \"kl\": %.10g, \"top1\": %.10g, \"ce\": %.10g}\n",
                   (long long)r.n_pos, r.kl, r.top1, r.ce);
        if (!text) goto done;
    }
    if ((st = slm_read_file(text, &buf, &len)) != SLM_OK) goto done;
    if ((st = slm_tokenizer_encode(m.tok, buf, len, bos, false, &ids, &n_ids)) != SLM_OK) goto done;
    const int64_t N = ctx > 0 ? ctx : m.w.hp.n_ctx, V = m.w.hp.n_vocab;
    const int64_t n_win = ((int64_t)n_ids + N - 1) / N;
    int64_t predicted = 0;
    for (int64_t i = 0; i < n_win; i++) {
        int64_t wl = (int64_t)n_ids - i * N < N ? (int64_t)n_ids - i * N : N;
        predicted += wl - 1;
    }
    if (predicted <= 0) {
        slm_log_error("slm eval: %s gives %zu tokens: nothing to predict (need at least 2 in a window)",
                      text, n_ids);
        st = SLM_ERR_USAGE;
        goto done;
    }
    slm_llama_infer_params p = {.B = 1, .T_max = N < (int64_t)n_ids ? N : (int64_t)n_ids,
                                .n_kv = 0, .all_logits = true};
    if ((st = slm_llama_infer_init(&m.w, &p, &s)) != SLM_OK) goto done;
    if (!(losses = slm_alloc((size_t)N * sizeof(float)))) {
        st = SLM_ERR_NOMEM;
        goto done;
    }
    double sum = 0.0; /* windows in order, tokens in order: deterministic */
    for (int64_t i = 0; i < n_win; i++) {
        const int32_t *w = ids + i * N;
        int64_t wl = (int64_t)n_ids - i * N < N ? (int64_t)n_ids - i * N : N;
        if (wl >= 2) {
            const float *lg = slm_llama_infer_forward(s, w, wl - 1, SLM_LOGITS_ALL);
            slm_cross_entropy_forward_backward(NULL, losses, lg, w + 1, NULL, wl - 1, V, 1.0f);
            for (int64_t t = 0; t < wl - 1; t++) sum += losses[t];
        }
        slm_cli_progress(i + 1, n_win, "windows");
    }
    const double nll = sum / (double)predicted;
    printf("tokens %lld\nnll %.6f\nppl %.6f\n", (long long)predicted, nll, exp(nll));
    if (json) printf("{\"tokens\": %lld, \"nll\": %.10g, \"ppl\": %.10g}\n", (long long)predicted, nll, exp(nll));
done:
    slm_free(losses);
    slm_llama_infer_free(s);
    free(ids);
    free(buf);
    slm_cli_model_free(&m);
    slm_strlist_free(&loras);
    return slm_status_exit_code(st);
}
