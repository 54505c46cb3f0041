/* tests/fuzz/seeds_kld.c — writes the seed corpus of fuzz_kld: small files in
 * llama.cpp's --kl-divergence-base layout (rows compressed the way
 * perplexity.cpp's log_softmax stores them), raw (control byte 0) and in the
 * harness's consistent-header form (control byte 1).  usage: seeds_kld DIR */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void row(int nvocab, int t, uint16_t *out) {
    float z[64], mx = -1e30f, mn = 1e30f;
    for (int j = 0; j < nvocab; j++) z[j] = sinf((float)(j * 7 + t)), mx = fmaxf(mx, z[j]), mn = fminf(mn, z[j]);
    double se = 0;
    for (int j = 0; j < nvocab; j++) se += expf(z[j] - mx);
    float minlp = mn - mx - (float)log(se), scale = (mx - mn) / 65535.f;
    int nv = 2 * ((nvocab + 1) / 2) + 4;
    memset(out, 0, (size_t)nv * 2);
    memcpy(out, &scale, 4);
    memcpy(out + 2, &minlp, 4);
    for (int j = 0; j < nvocab; j++) out[4 + j] = (uint16_t)lrintf((z[j] - mn) / scale);
}

static int write_seed(const char *dir, int raw, int nctx, int nvocab, int nchunk) {
    char p[1024];
    snprintf(p, sizeof p, "%s/seed-%s-%d-%d-%d", dir, raw ? "raw" : "fixed", nctx, nvocab, nchunk);
    FILE *f = fopen(p, "wb");
    if (!f) return 1;
    uint8_t ctl = raw ? 0 : 1;
    fwrite(&ctl, 1, 1, f);
    if (raw) {
        int32_t hdr[3] = {nctx, nvocab, nchunk};
        fwrite("_logits_", 1, 8, f);
        fwrite(hdr, 4, 3, f);
    } else {
        uint8_t b[2] = {(uint8_t)(nctx - 2), (uint8_t)(nvocab - 1)};
        fwrite(b, 1, 2, f);
    }
    for (int i = 0; i < nctx * nchunk; i++) {
        int32_t tok = (i * 5) % nvocab;
        fwrite(&tok, 4, 1, f);
    }
    uint16_t buf[80];
    int nv = 2 * ((nvocab + 1) / 2) + 4;
    for (int c = 0; c < nchunk; c++)
        for (int t = nctx / 2; t < nctx - 1; t++) {
            row(nvocab, t, buf);
            fwrite(buf, 2, (size_t)nv, f);
        }
    return fclose(f) != 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: seeds_kld DIR\n");
        return 2;
    }
    int bad = 0;
    bad |= write_seed(argv[1], 1, 6, 9, 2);
    bad |= write_seed(argv[1], 1, 4, 16, 1);
    bad |= write_seed(argv[1], 0, 6, 9, 2);
    bad |= write_seed(argv[1], 0, 8, 33, 1);
    return bad;
}
