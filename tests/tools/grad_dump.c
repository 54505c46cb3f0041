/* tests/tools/grad_dump.c — slm's side of the PyTorch reference check
 * (tests/e2e/test_autograd_torch.sh, scripts/torch_ref.py).
 *
 *   grad_dump make FILE.h5 full|lora TIED SEED
 *       builds a tiny random Llama (2 layers, GQA, V = 256), a batch of tokens,
 *       targets and a loss mask, and writes them with slm's loss, the gradient
 *       of every trainable tensor, and the losses of 20 AdamW steps (train/optim)
 *       to FILE.h5 (format below).
 *   grad_dump compare FILE.h5 TOL
 *       after torch_ref.py has added /torch, compares per tensor
 *       ||g_slm - g_torch||_2 / ||g_torch||_2 <= TOL, |loss_slm - loss_torch| /
 *       |loss_torch| <= TOL at step 0 and after each of the 20 AdamW steps.
 *       Exit 0 when everything agrees, 1 otherwise.
 *
 * FILE.h5 (attributes on /: format "slm.gradcheck", format_version 1, the
 * hyper-parameters n_vocab n_embd n_layer n_head n_head_kv n_ff rms_eps
 * rope_base tied B T lora lora_rank lora_scale lr beta1 beta2 eps
 * weight_decay steps):
 *   /weights/<gguf name>        float32, the base model
 *   /lora_init/<name>.lora_a|b  float32, LoRA initial values (lora mode)
 *   /tokens, /targets int32 (B, T); /mask uint8 (B, T)
 *   /slm/loss float64 (1); /slm/losses float64 (steps + 1): loss before each
 *       AdamW step and after the last; /slm/grad/<trainable name> float32
 *       (with attribute decay 0/1)
 *   /torch/...                  the same, written by torch_ref.py
 */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ops.h"
#include "model/llama_train.h"
#include "train/optim.h"

#define N_STEPS 20

static void attr_d(hid_t obj, const char *name, double v) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_DOUBLE, &v);
    H5Aclose(a);
    H5Sclose(sp);
}

static void attr_s(hid_t obj, const char *name, const char *v) {
    hid_t sp = H5Screate(H5S_SCALAR), t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(v));
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, v);
    H5Aclose(a);
    H5Tclose(t);
    H5Sclose(sp);
}

static double attr_get_d(hid_t obj, const char *name) {
    double v = NAN;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a >= 0) {
        H5Aread(a, H5T_NATIVE_DOUBLE, &v);
        H5Aclose(a);
    }
    return v;
}

static hid_t write_ds(hid_t loc, const char *name, hid_t type, int nd, const hsize_t *dims,
                      const void *data) {
    hid_t sp = H5Screate_simple(nd, dims, NULL);
    hid_t d = H5Dcreate2(loc, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d < 0) {
        fprintf(stderr, "grad_dump: cannot create dataset %s\n", name);
        exit(1);
    }
    H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Sclose(sp);
    return d;
}

static void write_f32(hid_t loc, const char *name, const float *x, int64_t n0, int64_t n1) {
    hsize_t dims[2] = {(hsize_t)n0, (hsize_t)n1};
    H5Dclose(write_ds(loc, name, H5T_NATIVE_FLOAT, n1 > 0 ? 2 : 1, dims, x));
}

/* reads a whole dataset as double; n receives the element count; NULL if absent */
static double *read_d(hid_t loc, const char *name, int64_t *n) {
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) return NULL;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    hid_t sp = H5Dget_space(d);
    *n = (int64_t)H5Sget_simple_extent_npoints(sp);
    double *x = malloc((size_t)(*n > 0 ? *n : 1) * sizeof(double));
    H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
    H5Sclose(sp);
    H5Dclose(d);
    return x;
}

static int cmd_make(const char *path, bool lora, bool tied, uint64_t seed) {
    slm_llama_hparams hp = {.n_vocab = 256, .n_embd = 32, .n_layer = 2, .n_head = 4,
                            .n_head_kv = 2, .head_dim = 8, .n_ff = 48, .n_ctx = 64,
                            .rms_eps = 1e-5f, .rope_base = 10000.0f, .tied_output = tied};
    const int64_t B = 2, T = 70, N = B * T, V = hp.n_vocab; /* T > 64: two attention tiles */
    slm_llama_weights w;
    if (slm_llama_weights_alloc(&hp, &w) != SLM_OK) return 1;
    slm_rng r;
    slm_rng_seed(&r, seed);
    for (int64_t i = 0; i < slm_llama_n_tensors(&w); i++) {
        slm_llama_tensor_ref t;
        slm_llama_tensor(&w, i, &t);
        for (int64_t j = 0; j < t.ne[0] * t.ne[1]; j++)
            t.data[j] = t.n_dims == 1 ? 0.7f + 0.6f * slm_rng_uniform(&r)
                                      : 0.5f * slm_rng_normal(&r) / sqrtf((float)t.ne[0]) * 2.0f;
    }
    int32_t tok[140], tgt[140];
    uint8_t mask[140];
    for (int64_t i = 0; i < N; i++) {
        tok[i] = (int32_t)slm_rng_below(&r, (uint64_t)V);
        tgt[i] = (int32_t)slm_rng_below(&r, (uint64_t)V);
        mask[i] = (i % 5) != 2; /* some positions do not count */
    }
    slm_llama_train_params p = slm_llama_train_default_params();
    p.B = B, p.T = T, p.lora = lora, p.lora_rank = 4, p.lora_alpha = 8.0f;
    p.lora_targets = SLM_LORA_ALL;
    slm_llama_train *tr;
    if (slm_llama_train_init(&w, &p, &r, &tr) != SLM_OK) return 1;
    const slm_param_list *pl = slm_llama_train_param_list(tr);
    if (lora) /* B non-zero so that every A gets a gradient */
        for (int64_t t = 1; t < pl->n; t += 2)
            for (int64_t j = 0; j < pl->v[t].n; j++) pl->v[t].data[j] = 0.2f * slm_rng_normal(&r);

    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        fprintf(stderr, "grad_dump: cannot create %s\n", path);
        return 1;
    }
    slm_adamw_params ap = slm_adamw_default_params();
    ap.weight_decay = 0.1f;
    const float lr = 3e-3f;
    attr_s(f, "format", "slm.gradcheck");
    attr_d(f, "format_version", 1);
    attr_d(f, "n_vocab", (double)V), attr_d(f, "n_embd", (double)hp.n_embd);
    attr_d(f, "n_layer", (double)hp.n_layer), attr_d(f, "n_head", (double)hp.n_head);
    attr_d(f, "n_head_kv", (double)hp.n_head_kv), attr_d(f, "n_ff", (double)hp.n_ff);
    attr_d(f, "rms_eps", hp.rms_eps), attr_d(f, "rope_base", hp.rope_base);
    attr_d(f, "tied", tied), attr_d(f, "B", (double)B), attr_d(f, "T", (double)T);
    attr_d(f, "lora", lora), attr_d(f, "lora_rank", (double)p.lora_rank);
    attr_d(f, "lora_scale", slm_lora_scale(p.lora_alpha, p.lora_rank, p.lora_rslora));
    attr_d(f, "lr", lr), attr_d(f, "beta1", ap.beta1), attr_d(f, "beta2", ap.beta2);
    attr_d(f, "eps", ap.eps), attr_d(f, "weight_decay", ap.weight_decay);
    attr_d(f, "steps", N_STEPS);
    hid_t gw = H5Gcreate2(f, "weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    for (int64_t i = 0; i < slm_llama_n_tensors(&w); i++) {
        slm_llama_tensor_ref t;
        slm_llama_tensor(&w, i, &t);
        write_f32(gw, t.name, t.data, t.n_dims == 2 ? t.ne[1] : t.ne[0],
                  t.n_dims == 2 ? t.ne[0] : 0);
    }
    H5Gclose(gw);
    if (lora) {
        hid_t gl = H5Gcreate2(f, "lora_init", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        for (int64_t t = 0; t < pl->n; t++)
            write_f32(gl, pl->v[t].name, pl->v[t].data, pl->v[t].ne[1], pl->v[t].ne[0]);
        H5Gclose(gl);
    }
    hsize_t bt[2] = {(hsize_t)B, (hsize_t)T};
    H5Dclose(write_ds(f, "tokens", H5T_NATIVE_INT32, 2, bt, tok));
    H5Dclose(write_ds(f, "targets", H5T_NATIVE_INT32, 2, bt, tgt));
    H5Dclose(write_ds(f, "mask", H5T_NATIVE_UINT8, 2, bt, mask));

    /* step 0: loss and gradients, then N_STEPS AdamW steps on the same batch */
    slm_adamw opt;
    if (slm_adamw_init(&opt, pl, &ap) != SLM_OK) return 1;
    double losses[N_STEPS + 1];
    hid_t gs = H5Gcreate2(f, "slm", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    for (int s = 0; s <= N_STEPS; s++) {
        slm_llama_train_zero_grad(tr);
        float *lg = slm_llama_train_forward(tr, tok, NULL);
        losses[s] = slm_cross_entropy_forward_backward(lg, NULL, lg, tgt, mask, N, V, 1.0f);
        if (s == N_STEPS) break;
        slm_llama_train_backward(tr, lg);
        if (s == 0) {
            hid_t gg = H5Gcreate2(gs, "grad", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            for (int64_t t = 0; t < pl->n; t++) {
                const slm_param *pp = &pl->v[t];
                hsize_t dims[2] = {(hsize_t)(pp->n_dims == 2 ? pp->ne[1] : pp->ne[0]),
                                   (hsize_t)pp->ne[0]};
                hid_t d = write_ds(gg, pp->name, H5T_NATIVE_FLOAT, pp->n_dims, dims, pp->grad);
                attr_d(d, "decay", pp->decay);
                H5Dclose(d);
            }
            H5Gclose(gg);
        }
        slm_adamw_step(&opt, pl, lr);
    }
    hsize_t one = 1, ns = N_STEPS + 1;
    H5Dclose(write_ds(gs, "loss", H5T_NATIVE_DOUBLE, 1, &one, &losses[0]));
    H5Dclose(write_ds(gs, "losses", H5T_NATIVE_DOUBLE, 1, &ns, losses));
    H5Gclose(gs);
    H5Fclose(f);
    printf("grad_dump: %s: %s%s, %lld trainable tensors, loss %.6f -> %.6f after %d AdamW "
           "steps\n", path, lora ? "lora" : "full", tied ? " tied" : "", (long long)pl->n,
           losses[0], losses[N_STEPS], N_STEPS);
    slm_adamw_free(&opt);
    slm_llama_train_free(tr);
    slm_llama_weights_free(&w);
    return 0;
}

typedef struct {
    double tol, worst;
    int n_bad, n_cmp;
    hid_t ts, tt;
} cmp_state;

static herr_t cmp_one(hid_t g, const char *name, const H5L_info_t *info, void *vs) {
    (void)info;
    cmp_state *s = vs;
    int64_t na = 0, nb = 0;
    double *a = read_d(g, name, &na), *b = read_d(s->tt, name, &nb);
    if (!b || na != nb) {
        printf("  %-36s MISSING or size differs in /torch/grad\n", name);
        s->n_bad++;
    } else {
        double num = 0, den = 0, mx = 0;
        for (int64_t i = 0; i < na; i++) {
            num += (a[i] - b[i]) * (a[i] - b[i]);
            den += b[i] * b[i];
            mx = fmax(mx, fabs(a[i] - b[i]));
        }
        double rel = sqrt(num) / (sqrt(den) + 1e-300);
        bool ok = rel <= s->tol && den > 0;
        printf("  %-36s ||g_torch|| %.3e  rel L2 err %.2e  max-abs %.2e %s\n", name, sqrt(den),
               rel, mx, ok ? "" : "FAIL");
        s->n_bad += !ok;
        s->worst = fmax(s->worst, rel);
        s->n_cmp++;
    }
    free(a);
    free(b);
    return 0;
}

static int cmd_compare(const char *path, double tol) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return 1;
    cmp_state s = {.tol = tol};
    if (H5Lexists(f, "torch", H5P_DEFAULT) <= 0) {
        fprintf(stderr, "grad_dump: %s has no /torch group (run scripts/torch_ref.py)\n", path);
        return 1;
    }
    s.ts = H5Gopen2(f, "slm/grad", H5P_DEFAULT);
    s.tt = H5Gopen2(f, "torch/grad", H5P_DEFAULT);
    printf("%s: lora=%g tied=%g, per tensor ||g_slm - g_torch||_2 / ||g_torch||_2 <= %.0e\n",
           path, attr_get_d(f, "lora"), attr_get_d(f, "tied"), tol);
    H5Literate(s.ts, H5_INDEX_NAME, H5_ITER_INC, NULL, cmp_one, &s);
    int64_t nl = 0, nt = 0;
    double *la = read_d(f, "slm/losses", &nl), *lb = read_d(f, "torch/losses", &nt);
    if (!la || !lb || nl != nt) {
        printf("  losses missing or of different length\n");
        s.n_bad++;
    } else {
        double worst = 0;
        for (int64_t i = 0; i < nl; i++) worst = fmax(worst, fabs(la[i] - lb[i]) / fabs(lb[i]));
        bool ok = worst <= tol;
        printf("  loss step 0: slm %.9f torch %.9f; after %lld AdamW steps: slm %.9f torch "
               "%.9f; worst rel diff over steps %.2e %s\n", la[0], lb[0], (long long)(nl - 1),
               la[nl - 1], lb[nl - 1], worst, ok ? "" : "FAIL");
        s.n_bad += !ok;
    }
    free(la);
    free(lb);
    H5Gclose(s.ts);
    H5Gclose(s.tt);
    H5Fclose(f);
    printf("%d tensors compared, worst rel L2 err %.2e, %d failures\n", s.n_cmp, s.worst,
           s.n_bad);
    return s.n_bad == 0 && s.n_cmp > 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc == 6 && strcmp(argv[1], "make") == 0)
        return cmd_make(argv[2], strcmp(argv[3], "lora") == 0, atoi(argv[4]) != 0,
                        strtoull(argv[5], NULL, 10));
    if (argc == 4 && strcmp(argv[1], "compare") == 0) return cmd_compare(argv[2], atof(argv[3]));
    fprintf(stderr, "usage: grad_dump make FILE.h5 full|lora TIED SEED\n"
                    "       grad_dump compare FILE.h5 TOL\n");
    return 2;
}
