/* tests/fuzz/fuzz_kld.c — libFuzzer harness for the reader of llama.cpp's
 * --kl-divergence-base files (distill/kld_llamacpp.c).  Control byte:
 * bit 0 clear: the rest is the file as it is (header and size checks);
 * bit 0 set: the rest is n_ctx, n_vocab (one byte each, small) and a body
 * whose length fixes n_chunk, so the header is consistent and conversion
 * runs over arbitrary row contents (NaN/Inf scales, q values, token ids).
 * Bits 1-2: top-k K-1, bit 3: f16 log-probs.  Every converted dump must
 * open and validate with slm's dump reader. */
#include "core/base.h"
#include "distill/dump.h"
#include "distill/kld_llamacpp.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    fuzz_quiet();
    uint8_t ctl = data[0];
    data++, size--;
    char kld[512], out[512];
    fuzz_scratch_path(kld, sizeof kld, "kld", ".bin");
    fuzz_scratch_path(out, sizeof out, "kld-out", ".h5");
    if (!(ctl & 1)) {
        fuzz_write_file(kld, data, size);
    } else {
        if (size < 2) return 0;
        int32_t n_ctx = 2 + data[0] % 14, n_vocab = 1 + data[1] % 40;
        data += 2, size -= 2;
        size_t nv = 2 * (((size_t)n_vocab + 1) / 2) + 4;
        size_t rows = (size_t)(n_ctx - 1 - n_ctx / 2);
        size_t per_chunk = 4 * (size_t)n_ctx + 2 * nv * rows;
        int32_t n_chunk = (int32_t)(size / per_chunk);
        if (n_chunk > 8) n_chunk = 8;
        FILE *f = fopen(kld, "wb");
        CHECK(f != NULL);
        int32_t hdr[3] = {n_ctx, n_vocab, n_chunk};
        CHECK(fwrite("_logits_", 1, 8, f) == 8 && fwrite(hdr, 4, 3, f) == 3);
        /* tokens of all chunks first, then the rows: the body is split accordingly */
        size_t body = per_chunk * (size_t)n_chunk;
        if (body) CHECK(fwrite(data, 1, body, f) == body);
        CHECK(fclose(f) == 0);
    }
    slm_kld_header h;
    if (slm_kld_read_header(kld, &h) == SLM_OK) {
        CHECK(h.n_ctx > 0 && h.n_vocab > 0 && h.n_chunk >= 0);
        slm_dump_info in = slm_dump_default_info();
        in.k = 1 + ((ctl >> 1) & 3);
        in.f16 = ctl & 8;
        in.deflate = 0;
        if ((int64_t)h.n_ctx * h.n_chunk * in.k < 100000 &&
            slm_kld_convert(kld, out, &in, (ctl & 16) ? 1 : -1) == SLM_OK) {
            slm_dump *d = NULL;
            CHECK(slm_dump_open(out, &d) == SLM_OK);
            double tail = 0, bpp = 0;
            CHECK(slm_dump_validate_all(d, &tail, &bpp) == SLM_OK);
            slm_dump_close(d);
            unlink(out);
        }
    }
    unlink(kld);
    return 0;
}
