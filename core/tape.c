/* core/tape.c — see tape.h. */
#include <stdlib.h>
#include <string.h>

#include "core/tape.h"

#define ARENA_ALIGN 64

static size_t round_up(size_t n) { return (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN; }

slm_status slm_arena_init(slm_arena *a, size_t bytes) {
    memset(a, 0, sizeof *a);
    bytes = round_up(bytes ? bytes : ARENA_ALIGN);
    a->mem = slm_alloc_aligned(bytes);
    if (!a->mem) return SLM_ERR_NOMEM;
    a->cap = bytes;
    return SLM_OK;
}

static void free_extra(slm_arena *a) {
    for (int64_t i = 0; i < a->n_extra; i++) slm_free(a->extra[i]);
    a->n_extra = 0;
}

void slm_arena_free(slm_arena *a) {
    if (!a) return;
    free_extra(a);
    slm_free(a->extra);
    slm_free(a->mem);
    memset(a, 0, sizeof *a);
}

void *slm_arena_alloc(slm_arena *a, size_t bytes) {
    bytes = round_up(bytes ? bytes : 1);
    a->total += bytes;
    if (a->total > a->peak) a->peak = a->total;
    if (a->used + bytes <= a->cap) {
        void *p = a->mem + a->used;
        a->used += bytes;
        return p;
    }
    /* overflow: a block of its own, merged into the main block at reset */
    if (a->n_extra == a->cap_extra) {
        int64_t nc = a->cap_extra ? 2 * a->cap_extra : 16;
        void **ne = realloc(a->extra, (size_t)nc * sizeof(void *));
        SLM_ASSERT(ne != NULL);
        a->extra = ne;
        a->cap_extra = nc;
    }
    void *p = slm_alloc_aligned(bytes);
    SLM_ASSERT(p != NULL);
    a->extra[a->n_extra++] = p;
    a->n_grow++;
    return p;
}

float *slm_arena_floats(slm_arena *a, int64_t n) {
    SLM_ASSERT(n >= 0);
    return slm_arena_alloc(a, (size_t)n * sizeof(float));
}

void slm_arena_reset(slm_arena *a) {
    if (a->n_extra > 0) {
        free_extra(a);
        slm_free(a->mem);
        a->mem = slm_alloc_aligned(a->peak);
        SLM_ASSERT(a->mem != NULL);
        a->cap = a->peak;
    }
    a->used = 0;
    a->total = 0;
}

slm_status slm_tape_init(slm_tape *t, size_t arena_bytes) {
    memset(t, 0, sizeof *t);
    slm_status st = slm_arena_init(&t->arena, arena_bytes);
    if (st != SLM_OK) return st;
    t->cap = 256;
    t->ops = slm_alloc((size_t)t->cap * sizeof(slm_tape_op));
    if (!t->ops) {
        slm_arena_free(&t->arena);
        return SLM_ERR_NOMEM;
    }
    return SLM_OK;
}

void slm_tape_free(slm_tape *t) {
    if (!t) return;
    slm_arena_free(&t->arena);
    slm_free(t->ops);
    memset(t, 0, sizeof *t);
}

void slm_tape_reset(slm_tape *t) {
    slm_arena_reset(&t->arena);
    t->n = 0;
}

void *slm_tape_record(slm_tape *t, const char *name, slm_tape_fn fn, size_t ctx_bytes) {
    if (t->n == t->cap) { /* grows on the first step only: the graph is the same every step */
        slm_tape_op *no = realloc(t->ops, (size_t)(2 * t->cap) * sizeof(slm_tape_op));
        SLM_ASSERT(no != NULL);
        t->ops = no;
        t->cap *= 2;
    }
    void *ctx = slm_arena_alloc(&t->arena, ctx_bytes);
    memset(ctx, 0, ctx_bytes);
    t->ops[t->n++] = (slm_tape_op){fn, ctx, name, 0.0};
    return ctx;
}

void slm_tape_backward(slm_tape *t) {
    for (int64_t i = t->n - 1; i >= 0; i--) {
        if (!t->profile) {
            t->ops[i].fn(t->ops[i].ctx);
            continue;
        }
        double t0 = slm_time_sec();
        t->ops[i].fn(t->ops[i].ctx);
        t->ops[i].seconds = slm_time_sec() - t0;
    }
}
