/* tests/tools/gguf_writer_tool.c — drives core/gguf's writer for the fault
 * tests (tests/e2e/test_gguf_faults.sh).
 *   gguf_writer_tool OUT small          a 1-tensor file
 *   gguf_writer_tool OUT big MB         MB MiB of streamed F32 data
 *   gguf_writer_tool OUT fillfail       the 2nd streamed tensor's producer fails
 *   gguf_writer_tool OUT nan            F32 data holding a NaN
 *   gguf_writer_tool OUT slow           streams 20 tensors, 0.2 s each (to be killed)
 * Exit code: slm_status_exit_code of the write. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/gguf.h"

typedef struct {
    int calls, fail_at;
    double sleep_s;
} fill_state;

static slm_status fill(void *ctx, void *dst, size_t n) {
    fill_state *s = ctx;
    if (++s->calls == s->fail_at) {
        slm_log_error("gguf_writer_tool: producer of tensor %d fails on purpose", s->calls);
        return SLM_ERR_RUNTIME;
    }
    if (s->sleep_s > 0) {
        struct timespec ts = {0, (long)(s->sleep_s * 1e9)};
        nanosleep(&ts, NULL);
    }
    float *f = dst;
    for (size_t i = 0; i < n / 4; i++) f[i] = (float)(i % 1000) * 1e-3f;
    return SLM_OK;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: gguf_writer_tool OUT small|big MB|fillfail|nan|slow\n");
        return 2;
    }
    const char *out = argv[1], *mode = argv[2];
    slm_gguf_writer *w = slm_gguf_writer_new();
    if (!w) return 1;
    slm_gguf_set_str(w, "general.architecture", "llama");
    slm_gguf_set_str(w, "general.name", mode);
    static float small[256];
    for (int i = 0; i < 256; i++) small[i] = (float)i;
    fill_state fs = {0, 0, 0};
    int64_t ne[2] = {256, 1};
    if (!strcmp(mode, "small")) {
        slm_gguf_add_tensor(w, "t", SLM_TYPE_F32, 1, ne, small);
    } else if (!strcmp(mode, "nan")) {
        small[100] = NAN;
        slm_gguf_add_tensor(w, "t", SLM_TYPE_F32, 1, ne, small);
    } else if (!strcmp(mode, "big") || !strcmp(mode, "fillfail") || !strcmp(mode, "slow")) {
        long mb = !strcmp(mode, "big") && argc > 3 ? atol(argv[3]) : 1;
        int n_t = !strcmp(mode, "slow") ? 20 : (int)(mb > 0 ? mb : 1);
        if (!strcmp(mode, "fillfail")) {
            fs.fail_at = 2;
            n_t = 4;
        }
        if (!strcmp(mode, "slow")) fs.sleep_s = 0.2;
        int64_t ne_mb[2] = {1024, 256}; /* 1 MiB of f32 */
        for (int i = 0; i < n_t; i++) {
            char name[32];
            snprintf(name, sizeof name, "blk.%d.w", i);
            slm_gguf_add_tensor_fn(w, name, SLM_TYPE_F32, 2, ne_mb, fill, &fs);
        }
    } else {
        fprintf(stderr, "gguf_writer_tool: unknown mode '%s'\n", mode);
        slm_gguf_writer_free(w);
        return 2;
    }
    slm_status st = slm_gguf_writer_write(w, out);
    slm_gguf_writer_free(w);
    return slm_status_exit_code(st);
}
