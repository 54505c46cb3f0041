/* tests/fuzz/fuzz_h5.c — structured libFuzzer harness for slm's HDF5 readers
 * (data/dataset.c, train/ckpt.c, distill/dump.c): the validation of
 * attributes, shapes, types and values above the HDF5 library.  Small valid
 * files are written once by slm's own writers; each input picks one, and a
 * program of edits made through the HDF5 API (so the file stays a
 * well-formed HDF5 file) changes it: attribute values overwritten, attributes
 * deleted or retyped, datasets replaced by ones of another shape or type,
 * their contents overwritten, or deleted.  Then every reader entry point runs
 * on the result; it may refuse the file but must not crash, leak or return
 * inconsistent data.
 *
 * Input: byte 0 selects the file (dataset, checkpoint, top-k dump, sample
 * dump); then ops of [op, index, len, len payload bytes]. */
#include <hdf5.h>

#include "core/base.h"
#include "core/params.h"
#include "data/dataset.h"
#include "distill/dump.h"
#include "train/ckpt.h"
#include "train/optim.h"
#include "tests/fuzz/fuzz_util.h"

enum { N_BASE = 4, MAX_OBJ = 64, MAX_ATTR = 256 };
static uint8_t *base_img[N_BASE];
static size_t base_len[N_BASE];

/* checkpoint fixture: the param list the reader is asked to fill */
static float pa[6], pga[6], pb[3], pgb[3];
static slm_param P[2];
static slm_param_list PL = {P, 2};

static void read_whole(const char *path, uint8_t **img, size_t *len) {
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    *img = malloc((size_t)n);
    CHECK(*img && fread(*img, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    unlink(path);
}

static void make_dataset(const char *path) {
    slm_dataset_header h = slm_dataset_default_header();
    snprintf(h.fingerprint, sizeof h.fingerprint, "%064d", 3);
    h.vocab_size = 50, h.eos_id = 2, h.bos_id = 1;
    snprintf(h.template_name, sizeof h.template_name, "chatml");
    slm_dataset_writer *w;
    CHECK(slm_dataset_writer_open(path, &h, &w) == SLM_OK);
    int32_t t[7] = {1, 5, 9, 13, 17, 21, 2};
    uint8_t m[7] = {0, 0, 1, 1, 1, 1, 1};
    CHECK(slm_dataset_writer_add_doc(w, SLM_SPLIT_TRAIN, t, m, 7) == SLM_OK);
    CHECK(slm_dataset_writer_add_doc(w, SLM_SPLIT_TRAIN, t + 2, NULL, 4) == SLM_OK);
    CHECK(slm_dataset_writer_add_doc(w, SLM_SPLIT_VAL, t + 1, m + 1, 5) == SLM_OK);
    slm_dataset_source s = {.path = "in.jsonl", .size = 123, .docs = 3};
    snprintf(s.sha256, sizeof s.sha256, "%064d", 5);
    CHECK(slm_dataset_writer_add_source(w, &s) == SLM_OK);
    CHECK(slm_dataset_writer_commit(w) == SLM_OK);
}

static void make_ckpt(const char *path) {
    slm_adamw opt;
    slm_adamw_params ap = slm_adamw_default_params();
    CHECK(slm_adamw_init(&opt, &PL, &ap) == SLM_OK);
    for (int i = 0; i < 6; i++) pa[i] = 0.5f * (float)i, opt.m[0][i] = 0.1f, opt.v[0][i] = 1e-3f;
    for (int i = 0; i < 3; i++) pb[i] = 1.0f - (float)i;
    opt.t = 7;
    slm_ckpt_state s = {.step = 7, .tokens_seen = 700, .epoch = 1, .cursor = 3, .mode = "full",
                        .fingerprint = "abc", .config = "[train]\nsteps = 9\n", .elapsed = 2.5};
    slm_rng_seed(&s.rng, 7);
    CHECK(slm_ckpt_write(path, &s, &PL, &opt) == SLM_OK);
    slm_adamw_free(&opt);
}

static void make_dump(const char *path, slm_dump_mode mode) {
    enum { V = 20, K = 3, T = 5, S = 3 };
    slm_dump_info in = slm_dump_default_info();
    in.mode = mode, in.vocab_size = V, in.k = K, in.seq_len = T;
    if (mode == SLM_DUMP_SAMPLE) in.sample_n = 4;
    in.deflate = 0;
    snprintf(in.tokenizer_fp, sizeof in.tokenizer_fp, "%064d", 7);
    snprintf(in.teacher, sizeof in.teacher, "fuzz teacher");
    snprintf(in.teacher_fp, sizeof in.teacher_fp, "%064d", 9);
    slm_dump_writer *w;
    CHECK(slm_dump_writer_open(path, &in, false, &w) == SLM_OK);
    slm_dump_batch b;
    CHECK(slm_dump_batch_alloc(&in, S, &b) == SLM_OK);
    for (int64_t i = 0; i < S * T; i++) {
        b.tokens[i] = (int32_t)(i % V);
        b.targets[i] = (int32_t)((i + 1) % V);
        b.mask[i] = i % T != 0;
        for (int64_t j = 0; j < K; j++) {
            b.ids[i * K + j] = (int32_t)((i + j * 5) % V);
            b.logprobs[i * K + j] = -0.5f - (float)j;
            if (b.counts) b.counts[i * K + j] = (uint16_t)(j == 0 ? 2 : 1);
        }
        if (b.counts) b.counts[i * K + 2] = 0; /* 2 + 1 + ... = sample_n draws */
        if (b.counts) b.counts[i * K + 1] = 2;
    }
    CHECK(slm_dump_writer_append(w, &b) == SLM_OK);
    slm_dump_batch_free(&b);
    CHECK(slm_dump_writer_finish(w) == SLM_OK);
}

static void init(void) {
    fuzz_quiet();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    P[0] = (slm_param){.name = "blk.0.attn_q.weight", .data = pa, .grad = pga, .n = 6,
                       .n_dims = 2, .ne = {3, 2}, .decay = true};
    P[1] = (slm_param){.name = "blk.0.attn_norm.weight", .data = pb, .grad = pgb, .n = 3,
                       .n_dims = 1, .ne = {3, 1}};
    char p[512];
    fuzz_scratch_path(p, sizeof p, "h5base", ".h5");
    make_dataset(p);
    read_whole(p, &base_img[0], &base_len[0]);
    make_ckpt(p);
    read_whole(p, &base_img[1], &base_len[1]);
    make_dump(p, SLM_DUMP_TOPK);
    read_whole(p, &base_img[2], &base_len[2]);
    make_dump(p, SLM_DUMP_SAMPLE);
    read_whole(p, &base_img[3], &base_len[3]);
}

/* ---- the edit program ---- */
typedef struct {
    char obj[MAX_OBJ][128];
    int n_obj; /* groups and datasets; obj[0] = "/" */
    bool is_dset[MAX_OBJ];
    int a_obj[MAX_ATTR];
    char a_name[MAX_ATTR][64];
    int n_attr;
} inventory;

static herr_t visit_cb(hid_t g, const char *name, const H5L_info_t *info, void *d) {
    (void)info;
    inventory *inv = d;
    if (inv->n_obj >= MAX_OBJ) return 0;
    hid_t o = H5Oopen(g, name, H5P_DEFAULT);
    if (o < 0) return 0;
    inv->is_dset[inv->n_obj] = H5Iget_type(o) == H5I_DATASET;
    H5Oclose(o);
    snprintf(inv->obj[inv->n_obj++], 128, "/%s", name);
    return 0;
}

static herr_t attr_cb(hid_t loc, const char *name, const H5A_info_t *info, void *d) {
    (void)loc, (void)info;
    inventory *inv = d;
    if (inv->n_attr >= MAX_ATTR) return 0;
    inv->a_obj[inv->n_attr] = inv->n_obj; /* set by the caller's loop below */
    snprintf(inv->a_name[inv->n_attr++], 64, "%s", name);
    return 0;
}

static void take_inventory(hid_t f, inventory *inv) {
    memset(inv, 0, sizeof *inv);
    snprintf(inv->obj[0], 128, "/");
    inv->n_obj = 1;
    H5Lvisit(f, H5_INDEX_NAME, H5_ITER_INC, visit_cb, inv);
    int n_obj = inv->n_obj;
    for (int i = 0; i < n_obj; i++) {
        hid_t o = H5Oopen(f, inv->obj[i], H5P_DEFAULT);
        if (o < 0) continue;
        int before = inv->n_attr;
        H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, NULL, attr_cb, inv);
        for (int a = before; a < inv->n_attr; a++) inv->a_obj[a] = i;
        H5Oclose(o);
    }
}

static void fill(uint8_t *dst, size_t n, const uint8_t *src, size_t m) {
    for (size_t i = 0; i < n; i++) dst[i] = m ? src[i % m] : 0;
}

static void new_attr(hid_t o, const char *name, const uint8_t *p, size_t n) {
    hid_t sp, ty;
    uint8_t kind = n ? p[0] % 4 : 0;
    if (kind == 0) { /* scalar int64 */
        int64_t v = 0;
        memcpy(&v, p + (n > 0), n > 9 ? 8 : (n > 1 ? n - 1 : 0));
        sp = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate2(o, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
        if (a >= 0) H5Awrite(a, H5T_NATIVE_INT64, &v), H5Aclose(a);
    } else if (kind == 1) { /* scalar double */
        double v = 0;
        memcpy(&v, p + 1, n > 9 ? 8 : n - 1);
        sp = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate2(o, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
        if (a >= 0) H5Awrite(a, H5T_NATIVE_DOUBLE, &v), H5Aclose(a);
    } else { /* string: fixed (2) or variable (3) length */
        char s[300];
        size_t l = n - 1 < sizeof s - 1 ? n - 1 : sizeof s - 1;
        memcpy(s, p + 1, l);
        s[l] = '\0';
        sp = H5Screate(H5S_SCALAR);
        ty = H5Tcopy(H5T_C_S1);
        H5Tset_size(ty, kind == 2 ? (l ? l : 1) : H5T_VARIABLE);
        hid_t a = H5Acreate2(o, name, ty, sp, H5P_DEFAULT, H5P_DEFAULT);
        const char *sv = s;
        if (a >= 0) H5Awrite(a, ty, kind == 2 ? (const void *)s : (const void *)&sv), H5Aclose(a);
        H5Tclose(ty);
    }
    H5Sclose(sp);
}

static void new_dset(hid_t f, const char *path, const uint8_t *p, size_t n) {
    static const hid_t *types[] = {&H5T_STD_I32LE_g, &H5T_STD_I64LE_g, &H5T_STD_U8LE_g,
                                   &H5T_IEEE_F32LE_g, &H5T_IEEE_F64LE_g, &H5T_STD_U16LE_g,
                                   &H5T_STD_I8LE_g, &H5T_IEEE_F32BE_g};
    if (n < 2) return;
    hid_t ty = *types[p[0] % 8];
    int rank = 1 + p[1] % 3;
    hsize_t dims[3] = {1, 1, 1};
    size_t total = 1;
    for (int r = 0; r < rank; r++) {
        dims[r] = 2 + r < (int)n ? p[2 + r] % 17 : 1;
        total *= dims[r];
    }
    H5Ldelete(f, path, H5P_DEFAULT);
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(f, path, ty, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d >= 0) {
        size_t bytes = total * H5Tget_size(ty);
        uint8_t *buf = malloc(bytes ? bytes : 1);
        fill(buf, bytes, p + 2, n - 2);
        if (bytes) H5Dwrite(d, ty, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
        free(buf);
        H5Dclose(d);
    }
    H5Sclose(sp);
}

static void overwrite_dset(hid_t f, const char *path, const uint8_t *p, size_t n) {
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0) return;
    hid_t ty = H5Dget_type(d), sp = H5Dget_space(d);
    hssize_t cnt = H5Sget_simple_extent_npoints(sp);
    size_t esz = H5Tget_size(ty);
    if (cnt > 0 && (size_t)cnt * esz <= (1u << 20) && H5Tis_variable_str(ty) <= 0 && n >= 2) {
        size_t bytes = (size_t)cnt * esz;
        uint8_t *buf = malloc(bytes);
        if (buf && H5Dread(d, ty, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0) {
            size_t off = ((size_t)p[0] | (size_t)p[1] << 8) % bytes;
            for (size_t i = 2; i < n && off < bytes; i++) buf[off++] = p[i];
            H5Dwrite(d, ty, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
        }
        free(buf);
    }
    H5Sclose(sp);
    H5Tclose(ty);
    H5Dclose(d);
}

static void apply(hid_t f, const uint8_t *data, size_t size) {
    inventory *inv = malloc(sizeof *inv);
    CHECK(inv != NULL);
    take_inventory(f, inv);
    for (int n_ops = 0; size >= 3 && n_ops < 16; n_ops++) {
        uint8_t op = data[0] % 7, idx = data[1];
        size_t len = data[2] < size - 3 ? data[2] : size - 3;
        const uint8_t *p = data + 3;
        data += 3 + len, size -= 3 + len;
        if (op <= 3 && inv->n_attr > 0) {
            int a = idx % inv->n_attr;
            hid_t o = H5Oopen(f, inv->obj[inv->a_obj[a]], H5P_DEFAULT);
            if (o < 0) continue;
            const char *name = inv->a_name[a];
            if (op == 0) { /* same type, new value */
                hid_t at = H5Aopen(o, name, H5P_DEFAULT);
                if (at >= 0) {
                    hid_t ty = H5Aget_type(at), sp = H5Aget_space(at);
                    if (H5Tis_variable_str(ty) > 0) {
                        char s[300];
                        size_t l = len < sizeof s - 1 ? len : sizeof s - 1;
                        memcpy(s, p, l);
                        s[l] = '\0';
                        const char *sv = s;
                        H5Awrite(at, ty, &sv);
                    } else {
                        hssize_t cnt = H5Sget_simple_extent_npoints(sp);
                        size_t bytes = cnt > 0 ? (size_t)cnt * H5Tget_size(ty) : 0;
                        if (bytes && bytes < (1u << 16)) {
                            uint8_t *buf = malloc(bytes);
                            fill(buf, bytes, p, len);
                            H5Awrite(at, ty, buf);
                            free(buf);
                        }
                    }
                    H5Sclose(sp);
                    H5Tclose(ty);
                    H5Aclose(at);
                }
            } else if (op == 1) {
                H5Adelete(o, name);
            } else { /* retyped */
                H5Adelete(o, name);
                new_attr(o, name, p, len);
            }
            H5Oclose(o);
        } else if (op >= 4) {
            int nd = 0, which[MAX_OBJ];
            for (int i = 0; i < inv->n_obj; i++)
                if (inv->is_dset[i]) which[nd++] = i;
            if (nd == 0) continue;
            const char *path = inv->obj[which[idx % nd]];
            if (op == 4) new_dset(f, path, p, len);
            else if (op == 5) overwrite_dset(f, path, p, len);
            else H5Ldelete(f, path, H5P_DEFAULT);
        }
    }
    free(inv);
}

/* ---- the readers ---- */
static void read_dataset(const char *path) {
    static const char *splits[] = {"train", "val"};
    for (int s = 0; s < 2; s++) {
        slm_dataset *ds = NULL;
        if (slm_dataset_open(path, splits[s], &ds) != SLM_OK) continue;
        int64_t n = slm_dataset_n_tokens(ds), nd = slm_dataset_n_docs(ds);
        const int64_t *off = slm_dataset_doc_offsets(ds);
        CHECK(n >= 0 && nd >= 0 && off[0] == 0 && off[nd] == n);
        for (int64_t i = 0; i < nd; i++) CHECK(off[i] <= off[i + 1]);
        int32_t *tok = NULL;
        uint8_t *mask = NULL;
        int64_t got = 0;
        if (n < 100000 && slm_dataset_read_all(ds, &tok, &mask, &got) == SLM_OK) {
            CHECK(got == n);
            int64_t v = slm_dataset_vocab_size(ds);
            for (int64_t i = 0; i < n; i++) CHECK(tok[i] >= 0 && tok[i] < v);
        }
        free(tok);
        free(mask);
        int32_t t1[2];
        uint8_t m1[2];
        (void)slm_dataset_read(ds, n > 2 ? n - 2 : 0, n >= 2 ? 2 : n, t1, m1);
        (void)slm_dataset_read(ds, n, 1, t1, m1); /* out of range: refused */
        slm_dataset_close(ds);
    }
    slm_dataset_source *src = NULL;
    int64_t ns = 0;
    if (slm_dataset_read_sources(path, &src, &ns) == SLM_OK) {
        for (int64_t i = 0; i < ns; i++) CHECK(src[i].path != NULL);
        slm_dataset_sources_free(src, ns);
    }
}

static void read_ckpt(const char *path) {
    slm_ckpt_state s;
    memset(&s, 0, sizeof s);
    if (slm_ckpt_read_state(path, &s) == SLM_OK) {
        CHECK(s.mode[sizeof s.mode - 1] == '\0' || strlen(s.mode) < sizeof s.mode);
        slm_ckpt_state_free(&s);
    }
    char **names = NULL;
    int64_t n = 0;
    if (slm_ckpt_list_params(path, &names, &n) == SLM_OK) {
        for (int64_t i = 0; i < n; i++) {
            float *d = NULL;
            int64_t ne[2] = {0, 0};
            int nd = 0;
            if (slm_ckpt_read_param(path, names[i], &d, ne, &nd) == SLM_OK) {
                CHECK(nd >= 1 && nd <= 2 && ne[0] >= 0 && ne[1] >= 0);
                volatile float sum = 0;
                for (int64_t j = 0; j < ne[0] * (nd == 2 ? ne[1] : 1); j++) sum += d[j];
            }
            free(d);
        }
        slm_ckpt_names_free(names, n);
    }
    slm_adamw opt;
    slm_adamw_params ap = slm_adamw_default_params();
    CHECK(slm_adamw_init(&opt, &PL, &ap) == SLM_OK);
    (void)slm_ckpt_read_tensors(path, &PL, &opt);
    slm_adamw_free(&opt);
}

static void read_dump(const char *path) {
    slm_dump *d = NULL;
    if (slm_dump_open(path, &d) != SLM_OK) return;
    const slm_dump_info *in = slm_dump_get_info(d);
    int64_t ns = slm_dump_n_seqs(d);
    CHECK(ns >= 0 && in->k > 0 && in->seq_len > 0 && in->vocab_size > 0);
    double tail, bpp;
    bool valid = slm_dump_validate_all(d, &tail, &bpp) == SLM_OK;
    slm_dump_batch b;
    if (ns > 0 && ns * in->seq_len * in->k < 1000000 && slm_dump_batch_alloc(in, ns, &b) == SLM_OK) {
        b.n = ns;
        slm_status st = slm_dump_read(d, 0, &b);
        if (valid) CHECK(st == SLM_OK);
        if (st == SLM_OK)
            for (int64_t i = 0; i < ns * in->seq_len * in->k; i++)
                CHECK(b.ids[i] >= 0 && b.ids[i] < in->vocab_size);
        b.n = 1;
        (void)slm_dump_read_tokens(d, ns - 1, &b);
        slm_dump_batch_free(&b);
    }
    (void)slm_dump_check_vocab(d, in->vocab_size, in->tokenizer_fp);
    slm_dump_close(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!base_img[0]) init();
    if (size < 1) return 0;
    int which = data[0] % N_BASE;
    char path[512];
    fuzz_scratch_path(path, sizeof path, "h5", ".h5");
    fuzz_write_file(path, base_img[which], base_len[which]);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    CHECK(f >= 0);
    apply(f, data + 1, size - 1);
    CHECK(H5Fclose(f) >= 0);
    if (which == 0) read_dataset(path);
    else if (which == 1) read_ckpt(path);
    else read_dump(path);
    unlink(path);
    return 0;
}
