/* tests/tools/kd_cases.c — writes KD-loss test cases for the PyTorch
 * reference (scripts/kd_ref.py): for each case, random student logits, a
 * random teacher (full logits in float64, and the top-k / sampled entries a
 * dump would hold), the options, and slm's loss and dlogits.
 *
 *   kd_cases OUT.h5
 * Groups /case_NN with datasets logits (N,V) f32, teacher_logits (N,V) f64,
 * targets (N) i32, mask (N) u8, ids/logprobs/counts (N,K), loss (scalar),
 * dlogits (N,V) f32 and attributes K, V, alpha, T, reverse, renorm, sample,
 * sample_n, grad_scale. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"
#include "distill/h5util.h"
#include "distill/kd_loss.h"

enum { N = 12, V = 40 };

typedef struct {
    int64_t K;
    float alpha, T;
    int reverse, renorm, sample;
} kcase;

static void put(hid_t g, const char *name, hid_t ftype, hid_t mtype, int rank,
                const hsize_t *dims, const void *data) {
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d < 0 || H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
        fprintf(stderr, "kd_cases: cannot write %s\n", name);
        exit(1);
    }
    H5Dclose(d);
    H5Sclose(sp);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: kd_cases OUT.h5\n");
        return 2;
    }
    const kcase cases[] = {
        {1, 0.5f, 1.0f, 0, 0, 0},  {1, 1.0f, 2.0f, 1, 0, 0},  {7, 0.7f, 1.0f, 0, 0, 0},
        {7, 0.7f, 2.0f, 0, 0, 0},  {7, 0.9f, 1.5f, 1, 0, 0},  {7, 0.8f, 2.0f, 0, 1, 0},
        {7, 0.8f, 0.5f, 1, 1, 0},  {V, 1.0f, 1.0f, 0, 0, 0},  {V, 1.0f, 3.0f, 0, 0, 0},
        {V, 1.0f, 2.0f, 1, 0, 0},  {V, 0.3f, 1.0f, 1, 0, 0},  {16, 0.75f, 1.0f, 0, 0, 1},
    };
    slm_h5_quiet();
    hid_t f = H5Fcreate(argv[1], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return 1;
    slm_rng r;
    slm_rng_seed(&r, 2024);
    const int64_t sample_n = 32;
    const float grad_scale = 0.25f;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const kcase *kc = &cases[c];
        int64_t K = kc->K;
        static float z[N * V], dl[N * V], lp[N * V];
        static double tz[N * V];
        static int32_t ids[N * V], targets[N];
        static uint16_t counts[N * V];
        uint8_t mask[N];
        memset(counts, 0, sizeof counts);
        for (int i = 0; i < N * V; i++) {
            z[i] = 1.5f * slm_rng_normal(&r);
            tz[i] = 2.5 * slm_rng_normal(&r);
        }
        for (int n = 0; n < N; n++) {
            targets[n] = n % 5 == 4 ? -1 : (int32_t)slm_rng_below(&r, V);
            mask[n] = n % 4 != 1;
            double m = -INFINITY, s = 0, lsm[V];
            for (int j = 0; j < V; j++) m = fmax(m, tz[n * V + j]);
            for (int j = 0; j < V; j++) s += exp(tz[n * V + j] - m);
            for (int j = 0; j < V; j++) lsm[j] = tz[n * V + j] - m - log(s);
            if (!kc->sample) {
                bool used[V] = {0};
                for (int64_t i = 0; i < K; i++) {
                    int b = -1;
                    for (int j = 0; j < V; j++)
                        if (!used[j] && (b < 0 || lsm[j] > lsm[b])) b = j;
                    used[b] = true;
                    ids[n * K + i] = b;
                    lp[n * K + i] = (float)lsm[b];
                }
            } else {
                int cnt[V] = {0};
                for (int64_t d = 0; d < sample_n; d++) {
                    double u = slm_rng_uniform(&r), acc = 0;
                    int j = 0;
                    for (; j < V - 1; j++) {
                        acc += exp(lsm[j]);
                        if (u < acc) break;
                    }
                    cnt[j]++;
                }
                int64_t i = 0;
                for (int j = 0; j < V && i < K; j++)
                    if (cnt[j]) {
                        ids[n * K + i] = j;
                        lp[n * K + i] = (float)lsm[j];
                        counts[n * K + i] = (uint16_t)cnt[j];
                        i++;
                    }
                for (; i < K; i++) ids[n * K + i] = -1, lp[n * K + i] = 0;
            }
        }
        slm_kd_params p = {kc->alpha, kc->T, kc->reverse ? SLM_KD_REVERSE : SLM_KD_FORWARD,
                           kc->renorm != 0};
        slm_kd_teacher t = {ids, lp, kc->sample ? counts : NULL, K, kc->sample ? sample_n : 0};
        double loss = slm_kd_forward_backward(dl, NULL, z, targets, mask, &t, &p, N, V,
                                              grad_scale, NULL);
        char name[32];
        snprintf(name, sizeof name, "case_%02zu", c);
        hid_t g = H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        hsize_t nv[2] = {N, V}, nk[2] = {N, (hsize_t)K}, n1[1] = {N}, one[1] = {1};
        put(g, "logits", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, nv, z);
        put(g, "teacher_logits", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, nv, tz);
        put(g, "targets", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, n1, targets);
        put(g, "mask", H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, n1, mask);
        put(g, "ids", H5T_STD_I32LE, H5T_NATIVE_INT32, 2, nk, ids);
        put(g, "logprobs", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, nk, lp);
        put(g, "counts", H5T_STD_U16LE, H5T_NATIVE_UINT16, 2, nk, counts);
        put(g, "loss", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, one, &loss);
        put(g, "dlogits", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, nv, dl);
        slm_h5_set_i64(g, "K", K);
        slm_h5_set_i64(g, "V", V);
        slm_h5_set_i64(g, "reverse", kc->reverse);
        slm_h5_set_i64(g, "renorm", kc->renorm);
        slm_h5_set_i64(g, "sample", kc->sample);
        slm_h5_set_i64(g, "sample_n", kc->sample ? sample_n : 0);
        double a = kc->alpha, T = kc->T, gs = grad_scale;
        hid_t sp = H5Screate(H5S_SCALAR);
        const char *fn[3] = {"alpha", "T", "grad_scale"};
        double fv[3] = {a, T, gs};
        for (int i = 0; i < 3; i++) {
            hid_t at = H5Acreate2(g, fn[i], H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
            H5Awrite(at, H5T_NATIVE_DOUBLE, &fv[i]);
            H5Aclose(at);
        }
        H5Sclose(sp);
        H5Gclose(g);
    }
    H5Fclose(f);
    printf("kd_cases: wrote %zu cases to %s\n", sizeof cases / sizeof *cases, argv[1]);
    return 0;
}
