/* data/dataset_tok.c — dataset vs tokenizer check, apart from dataset.c so
 * that readers of datasets that never tokenize need not link a tokenizer. */
#include <inttypes.h>

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
