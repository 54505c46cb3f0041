/* cli/cmd_quantize.c — `slm quantize IN.gguf OUT.gguf TYPE [options]`:
 * llama.cpp-compatible quantization mixes (Q8_0 ... Q2_K, Q4_K_M, F16, BF16)
 * with optional importance matrix, user overrides and kept tensors.  The work
 * is slm_quantize_model (quantize/quantize_model.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "core/fileio.h"
#include "quantize/quantize_model.h"
#include "quantize/quants.h"

int slm_cmd_quantize(int argc, char **argv) {
    const char *imatrix_path = NULL, *hessian_path = NULL;
    double damp = 0.01;
    slm_strlist keep = {0}, over = {0};
    int64_t threads = 0;
    bool refine = false, no_refine = false, quiet = false;
    char *pv[3];
    slm_positional pos = {0, pv, 3};
    slm_opt opts[] = {
        {"imatrix", 0, SLM_OPT_STR, &imatrix_path, NULL, "FILE",
         "importance matrix (llama.cpp imatrix GGUF, e.g. from 'slm imatrix')"},
        {"hessian", 0, SLM_OPT_STR, &hessian_path, NULL, "FILE",
         "input second moments from 'slm imatrix --hessian': block-type tensors are quantized with "
         "error feedback (GPTQ-style, same GGUF types)"},
        {"damp", 0, SLM_OPT_FLOAT, &damp, "0.01", "X", "dampening of --hessian, relative to its mean diagonal"},
        {"keep", 0, SLM_OPT_LIST, &keep, NULL, "PATTERN",
         "leave tensors whose name matches the regex in their input type (repeatable)"},
        {"type-override", 0, SLM_OPT_LIST, &over, NULL, "PATTERN=TYPE",
         "quantize tensors matching the regex to TYPE (Q4_K, Q8_0, F16, ...; repeatable, first match wins)"},
        {"threads", 't', SLM_OPT_INT, &threads, "0", "N", "threads (0: OMP_NUM_THREADS or all cores)"},
        {"refine", 0, SLM_OPT_FLAG, &refine, NULL, NULL,
         "least-squares refinement of ggml's block scales: lower squared weight error, but higher KL "
         "and perplexity on a trained model (docs/quantization.md), so off by default"},
        {"no-refine", 0, SLM_OPT_FLAG, &no_refine, NULL, NULL,
         "the default: ggml's block search, so without --hessian the tensors equal llama.cpp's"},
        {"quiet", 'q', SLM_OPT_FLAG, &quiet, NULL, NULL, "no per-tensor progress"},
        {0},
    };
    int rc = slm_opts_parse(
        "quantize", "slm quantize IN.gguf OUT.gguf TYPE [--imatrix F] [--hessian F] [--keep PATTERN] "
                    "[--type-override PATTERN=TYPE] [--threads N]",
        "Quantize a Llama GGUF the way llama.cpp's llama-quantize does (same per-tensor types; by\n"
        "default the same bytes), --hessian adding error feedback.  TYPE: Q8_0 Q4_0 Q4_1 Q5_0 Q5_1\n"
        "Q2_K Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M Q6_K F16 BF16.",
        opts, argc, argv, &pos);
    if (rc >= 0) return rc;
    rc = 2;
    slm_imatrix *im = NULL;
    slm_hessian *hs = NULL;
    slm_mix_override *ov = NULL;
    if (pos.n != 3) {
        fprintf(stderr, "slm quantize: expected IN.gguf OUT.gguf TYPE (see 'slm quantize --help')\n");
        goto done;
    }
    slm_quantize_params p = slm_quantize_default_params();
    if (!slm_ftype_from_name(pos.v[2], &p.ftype)) {
        fprintf(stderr, "slm quantize: unknown TYPE '%s'; expected one of: %s\n", pos.v[2], slm_ftype_list());
        goto done;
    }
    if (threads < 0 || threads > 4096) {
        fprintf(stderr, "slm quantize: --threads %lld out of range (0..4096)\n", (long long)threads);
        goto done;
    }
    ov = calloc((size_t)over.n + 1, sizeof *ov);
    if (!ov) {
        rc = 1;
        goto done;
    }
    for (int i = 0; i < over.n; i++) {
        const char *eq = strrchr(over.v[i], '=');
        slm_type t;
        if (!eq || eq == over.v[i] || !slm_type_from_name(eq + 1, &t) || !slm_quant_can_quantize(t)) {
            fprintf(stderr, "slm quantize: --type-override '%s': expected PATTERN=TYPE with TYPE one of "
                            "F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K\n", over.v[i]);
            goto done;
        }
        char *pat = strndup(over.v[i], (size_t)(eq - over.v[i]));
        if (!pat) {
            rc = 1;
            goto done;
        }
        ov[i].pattern = pat;
        ov[i].type = t;
    }
    /* OUT replaces its file: never an input's */
    const char *in_opt[3] = {"IN", "--imatrix", "--hessian"}, *in_path[3] = {pos.v[0], imatrix_path, hessian_path};
    for (int i = 0; i < 3; i++)
        if (in_path[i] && slm_same_file(in_path[i], pos.v[1])) {
            fprintf(stderr, "slm quantize: OUT '%s' is the %s file; write to a new file\n", pos.v[1], in_opt[i]);
            goto done;
        }
    if (imatrix_path) {
        slm_status st = slm_imatrix_load(imatrix_path, &im);
        if (st != SLM_OK) {
            rc = slm_status_exit_code(st);
            goto done;
        }
    }
    /* checked with or without --hessian: a bad value is a typo either way */
    if (!(damp > 0 && damp <= 10)) {
        fprintf(stderr, "slm quantize: --damp %g out of range (0, 10] (default 0.01)\n", damp);
        goto done;
    }
    if (hessian_path) {
        slm_status st = slm_hessian_load(hessian_path, &hs);
        if (st != SLM_OK) {
            rc = slm_status_exit_code(st);
            goto done;
        }
    }
    p.imatrix = im;
    p.hessian = hs;
    p.damp = damp;
    if (refine && no_refine) {
        fprintf(stderr, "slm quantize: --refine and --no-refine contradict each other\n");
        goto done;
    }
    p.refine = refine;
    p.overrides = ov;
    p.n_overrides = over.n;
    p.keep = keep.v;
    p.n_keep = keep.n;
    p.n_threads = (int)threads;
    p.quiet = quiet;
    rc = slm_status_exit_code(slm_quantize_model(pos.v[0], pos.v[1], &p));
done:
    if (ov)
        for (int i = 0; i < over.n; i++) free((char *)ov[i].pattern);
    free(ov);
    slm_imatrix_free(im);
    slm_hessian_free(hs);
    slm_strlist_free(&keep);
    slm_strlist_free(&over);
    return rc;
}
