/* data/tok_glue.c — the parts of datasets and chat rendering that call the
 * tokenizer, kept apart so that dataset.o and chat.o link without one
 * (trainers reading datasets; tests rendering with a fake encoder). */
#include <inttypes.h>
#include <stdlib.h>

#include "data/chat.h"
#include "data/dataset.h"

slm_status slm_dataset_check_tokenizer(const slm_dataset *ds, const slm_tokenizer *t) {
    char fp[65];
    slm_tokenizer_fingerprint(t, fp);
    slm_status st = slm_dataset_check_fingerprint(ds, fp, "the tokenizer");
    if (st == SLM_OK && slm_tokenizer_n_vocab(t) != slm_dataset_vocab_size(ds)) {
        slm_log_error("dataset: vocab_size %" PRId64 " differs from the tokenizer's %d",
                      slm_dataset_vocab_size(ds), (int)slm_tokenizer_n_vocab(t));
        return SLM_ERR_FORMAT;
    }
    return st;
}

static slm_status tok_encode(const void *ctx, const char *text, size_t len, int32_t **ids,
                             size_t *n) {
    return slm_tokenizer_encode(ctx, text, len, false, false, ids, n);
}

static int32_t tok_find(const void *ctx, const char *piece) {
    return slm_tokenizer_find(ctx, piece);
}

static slm_status session_encode(const void *ctx, const char *text, size_t len, int32_t **ids,
                                 size_t *n) {
    return slm_tok_session_encode((slm_tok_session *)ctx, text, len, false, false, ids, n);
}

static slm_status tok_thread_copy(const slm_encoder *e, slm_encoder *out) {
    *out = *e;
    slm_tok_session *s = slm_tok_session_new(e->ctx);
    if (!s) return SLM_ERR_NOMEM;
    out->ctx = s;
    out->encode = session_encode;
    out->thread_copy = NULL;
    return SLM_OK;
}

static void tok_thread_release(slm_encoder *e) {
    slm_tok_session_free((slm_tok_session *)e->ctx);
    e->ctx = NULL;
}

void slm_encoder_from_tokenizer(slm_encoder *e, const slm_tokenizer *t) {
    e->ctx = t;
    e->encode = tok_encode;
    e->find = tok_find;
    e->bos = slm_tokenizer_bos(t);
    e->eos = slm_tokenizer_eos(t);
    e->add_bos = slm_tokenizer_add_bos(t);
    e->n_vocab = slm_tokenizer_n_vocab(t);
    /* does encoding prepend a space (SentencePiece add_space_prefix)? */
    e->space_prefix = false;
    int32_t *ids = NULL;
    size_t n = 0;
    if (slm_tokenizer_encode(t, "a", 1, false, false, &ids, &n) == SLM_OK && n > 0) {
        size_t len = 0;
        const char *piece = slm_tokenizer_piece(t, ids[0], false, &len);
        e->space_prefix = piece && len > 0 && piece[0] == ' ';
    }
    free(ids);
    e->thread_copy = tok_thread_copy;
    e->thread_release = tok_thread_release;
}
