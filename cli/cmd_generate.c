/* cli/cmd_generate.c — `slm generate --model M.gguf --prompt "..."`: sample
 * a continuation with the KV cache.  Greedy with --temp 0; otherwise top-k,
 * top-p, temperature and a seeded draw (model/sample.h).  Stops at EOS, at
 * --max-tokens, or when the context is full.  The continuation is streamed
 * to stdout; with --json the output is instead one line
 * {"ids": [...generated ids...], "text": "..."}. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/model_cli.h"
#include "cli/opts.h"
#include "model/infer.h"
#include "model/sample.h"

int slm_cmd_generate(int argc, char **argv) {
    const char *model = NULL, *prompt = NULL;
    double temp = 0.8, top_p = 0.95, lora_scale = 1.0;
    int64_t top_k = 40, seed = 42, max_tokens = 128, threads = 0;
    bool json = false, bos = false, no_bos = false, special = false;
    slm_strlist loras = {0};
    const slm_opt opts[] = {
        {"model", 'm', SLM_OPT_STR, &model, NULL, "FILE", "model GGUF (required)"},
        {"prompt", 'p', SLM_OPT_STR, &prompt, NULL, "TEXT", "prompt text (required; may be empty)"},
        {"temp", 0, SLM_OPT_FLOAT, &temp, "0.8", "X", "temperature; 0 = greedy"},
        {"top-k", 0, SLM_OPT_INT, &top_k, "40", "N", "keep the N most likely tokens (0: off)"},
        {"top-p", 0, SLM_OPT_FLOAT, &top_p, "0.95", "X", "nucleus: smallest set with probability >= X (1: off)"},
        {"seed", 0, SLM_OPT_INT, &seed, "42", "N", "sampling seed"},
        {"max-tokens", 'n', SLM_OPT_INT, &max_tokens, "128", "N", "generate at most N tokens"},
        {"bos", 0, SLM_OPT_FLAG, &bos, NULL, NULL, "prepend BOS (default: the vocabulary's add_bos)"},
        {"no-bos", 0, SLM_OPT_FLAG, &no_bos, NULL, NULL, "do not prepend BOS"},
        {"special", 0, SLM_OPT_FLAG, &special, NULL, NULL,
         "parse special-token text in the prompt (e.g. <|im_start|>) and print special tokens"},
        {"json", 0, SLM_OPT_FLAG, &json, NULL, NULL, "print one JSON line {ids, text} instead of the text"},
        {"threads", 't', SLM_OPT_INT, &threads, "0", "N", "threads (0: OMP_NUM_THREADS or all cores)"},
        {"lora", 0, SLM_OPT_LIST, &loras, NULL, "FILE", "llama.cpp LoRA adapter GGUF to merge (repeatable)"},
        {"lora-scale", 0, SLM_OPT_FLOAT, &lora_scale, "1", "X", "multiplier of the adapters' alpha / r"},
        {0},
    };
    int rc = slm_opts_parse("generate", "slm generate --model M.gguf --prompt TEXT [options]",
                            "Sample a continuation of a prompt (greedy with --temp 0).", opts, argc,
                            argv, NULL);
    if (rc >= 0) return rc;
    if (!model || !prompt || max_tokens < 0 || (bos && no_bos) || top_p <= 0) {
        fprintf(stderr, "slm generate: %s (see slm generate --help)\n",
                !model || !prompt ? "--model and --prompt are required"
                : max_tokens < 0  ? "--max-tokens must be >= 0"
                : top_p <= 0      ? "--top-p must be > 0"
                                  : "--bos and --no-bos exclude each other");
        slm_strlist_free(&loras);
        return 2;
    }
    slm_cli_set_threads(threads);
    slm_cli_model m;
    int32_t *ids = NULL, *out = NULL;
    size_t n_ids = 0, n_out = 0, text_len = 0, shown = 0;
    char *text = NULL;
    slm_llama_infer *s = NULL;
    slm_sampler *sm = NULL;
    slm_status st = slm_cli_model_load(model, &loras, lora_scale, &m);
    if (st != SLM_OK) goto done;
    bool add_bos = bos || (!no_bos && slm_tokenizer_add_bos(m.tok));
    if ((st = slm_tokenizer_encode(m.tok, prompt, strlen(prompt), add_bos, special, &ids, &n_ids)) != SLM_OK)
        goto done;
    if (n_ids == 0) {
        slm_log_error("slm generate: the prompt is empty and the vocabulary adds no BOS; "
                      "give a prompt or --bos");
        st = SLM_ERR_USAGE;
        goto done;
    }
    const int64_t n_ctx = m.w.hp.n_ctx, V = m.w.hp.n_vocab;
    if ((int64_t)n_ids >= n_ctx) {
        slm_log_error("slm generate: the prompt has %zu tokens, the model's context is %lld",
                      n_ids, (long long)n_ctx);
        st = SLM_ERR_USAGE;
        goto done;
    }
    int64_t budget = n_ctx - (int64_t)n_ids;
    if (max_tokens < budget) budget = max_tokens;
    slm_llama_infer_params p = {.B = 1, .T_max = (int64_t)n_ids,
                                .n_kv = (int64_t)n_ids + budget + 1, .all_logits = false};
    slm_sampler_params sp = {.temp = (float)temp, .top_k = top_k, .top_p = (float)top_p};
    if ((st = slm_llama_infer_init(&m.w, &p, &s)) != SLM_OK) goto done;
    if ((st = slm_sampler_init(V, &sp, &sm)) != SLM_OK) goto done;
    if (!(out = slm_alloc((size_t)(budget + 1) * sizeof(int32_t)))) {
        st = SLM_ERR_NOMEM;
        goto done;
    }
    slm_rng rng;
    slm_rng_seed(&rng, (uint64_t)seed);
    const int32_t eos = slm_tokenizer_eos(m.tok);
    const float *lg = slm_llama_infer_forward(s, ids, (int64_t)n_ids, SLM_LOGITS_LAST);
    for (int64_t i = 0; i < budget; i++) {
        int32_t t = slm_sampler_sample(sm, lg, &rng);
        if (t == eos) break;
        out[n_out++] = t;
        if (!json) { /* stream what is complete: decode all, print the new suffix */
            free(text), text = NULL;
            if ((st = slm_tokenizer_decode(m.tok, out, n_out, special, &text, &text_len)) != SLM_OK) goto done;
            if (text_len > shown) fwrite(text + shown, 1, text_len - shown, stdout), shown = text_len;
            fflush(stdout);
        }
        if (i + 1 < budget) lg = slm_llama_infer_forward(s, &t, 1, SLM_LOGITS_LAST);
    }
    free(text), text = NULL;
    if ((st = slm_tokenizer_decode(m.tok, out, n_out, special, &text, &text_len)) != SLM_OK) goto done;
    if (!json) {
        /* end the text with a newline, flushed before the summary on stderr:
         * with both streams on one pipe the summary would otherwise follow the
         * text on its line (stdout is block-buffered there) */
        printf("\n");
        fflush(stdout);
    } else {
        json_t *arr = json_array(), *o = json_object();
        for (size_t i = 0; i < n_out; i++) json_array_append_new(arr, json_integer(out[i]));
        json_object_set_new(o, "ids", arr);
        json_t *jt = json_stringn(text, text_len);
        if (!jt) { /* not valid UTF-8 (a character cut by max-tokens): keep the ids */
            slm_log_warn("slm generate: the generated bytes are not valid UTF-8; \"text\" left empty");
            jt = json_string("");
        }
        json_object_set_new(o, "text", jt);
        char *js = json_dumps(o, JSON_COMPACT);
        printf("%s\n", js ? js : "{}");
        fflush(stdout);
        free(js);
        json_decref(o);
    }
    slm_log_info("slm generate: %zu prompt tokens, %zu generated, seed %lld", n_ids, n_out, (long long)seed);
done:
    free(text);
    slm_free(out);
    slm_sampler_free(sm);
    slm_llama_infer_free(s);
    free(ids);
    slm_cli_model_free(&m);
    slm_strlist_free(&loras);
    return slm_status_exit_code(st);
}
