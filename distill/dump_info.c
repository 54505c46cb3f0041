/* distill/dump_info.c — human-readable summary of a logit dump with full
 * validation (used by `slm info dump.h5`). */
#include <stdio.h>

#include "distill/dump.h"

slm_status slm_dump_describe(const char *path, FILE *out) {
    slm_dump *d;
    slm_status st = slm_dump_open(path, &d);
    if (st) return st;
    const slm_dump_info *in = slm_dump_get_info(d);
    fprintf(out, "%s: slm logit dump (format %s v%lld)\n", path, SLM_DUMP_FORMAT,
            (long long)in->version);
    fprintf(out, "  teacher              %s\n", in->teacher);
    fprintf(out, "  teacher fingerprint  %s\n", in->teacher_fp[0] ? in->teacher_fp : "(none)");
    fprintf(out, "  tokenizer            %s\n", in->tokenizer_fp[0] ? in->tokenizer_fp : "(none)");
    fprintf(out, "  vocabulary           %lld\n", (long long)in->vocab_size);
    fprintf(out, "  mode                 %s", slm_dump_mode_name(in->mode));
    if (in->mode == SLM_DUMP_SAMPLE) fprintf(out, " (%lld draws per position)", (long long)in->sample_n);
    fprintf(out, "\n  k                    %lld\n", (long long)in->k);
    fprintf(out, "  log-probs            %s\n", in->f16 ? "float16" : "float32");
    fprintf(out, "  ids                  %d-byte integers\n", in->id_bytes);
    fprintf(out, "  sequences            %lld x %lld tokens\n", (long long)slm_dump_n_seqs(d),
            (long long)in->seq_len);
    double tail = 0, bpp = 0;
    st = slm_dump_validate_all(d, &tail, &bpp);
    if (!st) {
        if (in->mode == SLM_DUMP_TOPK)
            fprintf(out, "  mean tail mass       %.4f (probability outside the top-%lld)\n", tail,
                    (long long)in->k);
        fprintf(out, "  stored bytes/token   %.1f\n", bpp);
        fprintf(out, "  validation           ok (ids, log-probs, counts, tokens)\n");
    }
    slm_dump_close(d);
    return st;
}
