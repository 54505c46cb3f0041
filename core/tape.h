/* core/tape.h — per-step activation arena and the reverse-mode tape.
 *
 * The arena is one 64-byte aligned block carved by a bump pointer and reset
 * at the start of every step.  If a step asks for more than the block holds,
 * the excess comes from extra blocks (first step only): at the next reset the
 * arena is re-made as one block of the peak size, so from the second step on
 * nothing is allocated.
 *
 * The tape is a list of recorded ops, each a backward function plus a
 * closure (a small struct of pointers to arena tensors and dimensions) that
 * lives in the arena.  slm_tape_backward() runs the closures in reverse
 * order.  The Llama graph records ~10 ops per layer, so the tape itself costs
 * nothing next to the kernels.
 *
 *   slm_tape_init(&tape, bytes);
 *   each step:
 *       slm_tape_reset(&tape);
 *       float *h = slm_arena_floats(&tape.arena, n);           // activations
 *       my_ctx *c = slm_tape_record(&tape, "matmul", my_backward, sizeof *c);
 *       c->inp = ...;                                          // fill the closure
 *       ...
 *       slm_tape_backward(&tape);
 *   slm_tape_free(&tape);
 */
#ifndef SLM_CORE_TAPE_H
#define SLM_CORE_TAPE_H

#include "core/base.h"

typedef struct {
    uint8_t *mem;     /* the main block (owned) */
    size_t cap;       /* bytes in mem */
    size_t used;      /* bytes handed out from mem */
    size_t total;     /* bytes handed out this step, main block + extra blocks */
    size_t peak;      /* largest total of any step */
    void **extra;     /* overflow blocks of this step (owned) */
    int64_t n_extra, cap_extra;
    int64_t n_grow;   /* how many times an overflow block was needed (tests) */
} slm_arena;

slm_status slm_arena_init(slm_arena *a, size_t bytes);
void slm_arena_free(slm_arena *a); /* accepts a zeroed struct */
/* 64-byte aligned, uninitialised; aborts only if the system is out of memory. */
void *slm_arena_alloc(slm_arena *a, size_t bytes);
float *slm_arena_floats(slm_arena *a, int64_t n);
/* Releases everything handed out; coalesces overflow into one block. */
void slm_arena_reset(slm_arena *a);

typedef void (*slm_tape_fn)(void *ctx);

typedef struct {
    slm_tape_fn fn;
    void *ctx;        /* in the arena */
    const char *name; /* static string, for debugging and profiles */
    double seconds;   /* backward time of this op when the tape profiles */
} slm_tape_op;

typedef struct {
    slm_arena arena;
    slm_tape_op *ops; /* (cap) owned, reused across steps */
    int64_t n, cap;
    bool profile;     /* time every backward closure into ops[i].seconds */
} slm_tape;

slm_status slm_tape_init(slm_tape *t, size_t arena_bytes);
void slm_tape_free(slm_tape *t);
void slm_tape_reset(slm_tape *t);
/* Appends an op; returns its zeroed closure of ctx_bytes in the arena. */
void *slm_tape_record(slm_tape *t, const char *name, slm_tape_fn fn, size_t ctx_bytes);
/* Runs every recorded backward in reverse order (the tape stays recorded). */
void slm_tape_backward(slm_tape *t);

#endif
