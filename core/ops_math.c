/* core/ops_math.c — see ops_math.h. */
#include <math.h>
#include <omp.h>

#include "core/ops_math.h"

static float *g_rope_tab;
static int32_t g_rope_max = -1;
static int64_t g_rope_hs;
static float g_rope_base;

const float *slm_rope_cache(int32_t max_pos, int64_t hs, float base) {
    SLM_ASSERT(!omp_in_parallel());
    SLM_ASSERT(max_pos >= 0 && max_pos < (1 << 24) && hs % 2 == 0);
    if (g_rope_tab && hs == g_rope_hs && base == g_rope_base && max_pos <= g_rope_max)
        return g_rope_tab;
    /* grow geometrically, so that generation (one new position per call)
     * rebuilds O(log n) times */
    int64_t P = (int64_t)max_pos + 1;
    if (hs == g_rope_hs && base == g_rope_base && P < 2 * ((int64_t)g_rope_max + 1))
        P = 2 * ((int64_t)g_rope_max + 1);
    if (P < 256) P = 256;
    const int64_t half = hs / 2;
    slm_free(g_rope_tab);
    g_rope_tab = slm_alloc((size_t)(2 * P * half > 0 ? 2 * P * half : 1) * sizeof(float));
    SLM_ASSERT(g_rope_tab != NULL);
#pragma omp parallel for schedule(static) if (P * half > 4096)
    for (int64_t p = 0; p < P; p++)
        for (int64_t i = 0; i < half; i++) {
            const double theta = (double)p * pow((double)base, -2.0 * (double)i / (double)hs);
            g_rope_tab[p * hs + i] = (float)cos(theta);
            g_rope_tab[p * hs + half + i] = (float)sin(theta);
        }
    g_rope_max = (int32_t)(P - 1), g_rope_hs = hs, g_rope_base = base;
    return g_rope_tab;
}
