/* distill/kd_eval.c — KL to the teacher and top-1 agreement of a model on a
 * logit dump (see kd_eval.h). */
#include "distill/kd_eval.h"

#include <stdlib.h>
#include <string.h>

#include "distill/dump.h"
#include "distill/kd_loss.h"
#include "model/infer.h"

slm_status slm_kd_eval(const slm_llama_weights *w, const char *tokenizer_fp,
                       const char *dump_path, int64_t max_seqs, int64_t batch,
                       slm_kd_eval_result *r) {
    memset(r, 0, sizeof *r);
    slm_dump *d = NULL;
    slm_llama_infer *inf = NULL;
    slm_dump_batch b;
    memset(&b, 0, sizeof b);
    slm_status st = slm_dump_open(dump_path, &d);
    if (!st) st = slm_dump_check_vocab(d, w->hp.n_vocab, tokenizer_fp);
    if (st) {
        slm_dump_close(d);
        return st;
    }
    const slm_dump_info *in = slm_dump_get_info(d);
    const int64_t T = in->seq_len, K = in->k, V = w->hp.n_vocab;
    const int64_t B = batch > 0 ? batch : 1;
    int64_t S = slm_dump_n_seqs(d);
    if (max_seqs > 0 && S > max_seqs) S = max_seqs;
    slm_llama_infer_params ip = slm_llama_infer_default_params();
    ip.B = B;
    ip.T_max = T;
    ip.n_kv = 0;
    ip.all_logits = true;
    st = slm_llama_infer_init(w, &ip, &inf);
    if (!st) st = slm_dump_batch_alloc(in, B, &b);
    const slm_kd_params kp = {1.0f, 1.0f, SLM_KD_FORWARD, false};
    double kl_sum = 0, ce_sum = 0;
    int64_t n_kl = 0, n_ce = 0, agree = 0;
    for (int64_t s = 0; !st && s < S; s += B) {
        int64_t n = S - s < B ? S - s : B;
        b.n = n;
        if ((st = slm_dump_read(d, s, &b))) break;
        for (int64_t i = n * T; i < B * T; i++) b.tokens[i] = b.tokens[i % T]; /* pad */
        const float *logits = slm_llama_infer_forward(inf, b.tokens, T, SLM_LOGITS_ALL); /* (B,T,V) */
        slm_kd_teacher t = {b.ids, b.logprobs, b.counts, K, in->sample_n};
        slm_kd_stats ks;
        slm_kd_forward_backward(NULL, NULL, logits, b.targets, b.mask, &t, &kp, n * T, V, 1.0f, &ks);
        int64_t nce = 0;
        for (int64_t i = 0; i < n * T; i++) {
            if (!b.mask[i]) continue;
            nce += b.targets[i] >= 0;
            const float *z = logits + i * V;
            int64_t am = 0;
            for (int64_t j = 1; j < V; j++)
                if (z[j] > z[am]) am = j;
            int64_t best = 0; /* the teacher's most probable stored id */
            for (int64_t j = 1; j < K; j++)
                if (b.ids[i * K + j] >= 0 && b.logprobs[i * K + j] > b.logprobs[i * K + best]) best = j;
            agree += b.ids[i * K + best] == am;
        }
        kl_sum += ks.kd * (double)ks.n_rows;
        ce_sum += ks.ce * (double)nce;
        n_kl += ks.n_rows;
        n_ce += nce;
    }
    if (!st) {
        r->kl = n_kl ? kl_sum / (double)n_kl : 0;
        r->ce = n_ce ? ce_sum / (double)n_ce : 0;
        r->top1 = n_kl ? (double)agree / (double)n_kl : 0;
        r->n_pos = n_kl;
        r->n_seqs = S;
    }
    slm_dump_batch_free(&b);
    slm_llama_infer_free(inf);
    slm_dump_close(d);
    return st;
}
