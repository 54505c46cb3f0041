/* data/prepare.c — `slm data prepare` pipeline (choices in data/prepare.h). */
#include "data/prepare.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/sha256.h"

#define BATCH_RECORDS 256
#define BATCH_BYTES ((size_t)8 << 20)
#define MAX_REPORTED_BAD 100 /* bad records logged one by one; the rest counted */
#define MAX_REPORTED_DUPS 20
#define COPY_BLOCK ((int64_t)1 << 20) /* tokens per read when copying an existing dataset */

slm_prepare_params slm_prepare_default_params(void) {
    slm_prepare_params p;
    memset(&p, 0, sizeof p);
    p.reader = slm_reader_default_opts();
    p.val_fraction = 0.05;
    p.seed = 1234;
    p.on_error = SLM_ON_ERROR_FAIL;
    return p;
}

/* ---- 128-bit key set (open addressing, linear probing) ---- */

typedef struct {
    uint64_t a, b;
} key128;

typedef struct {
    key128 *slots; /* (cap); a == 0 && b == 0 marks empty */
    int64_t n, cap;
} keyset;

static slm_status keyset_insert(keyset *s, key128 k, bool *was_new);

static slm_status keyset_grow(keyset *s) {
    keyset ns = {calloc((size_t)(s->cap ? s->cap * 2 : 1024), sizeof(key128)), 0,
                 s->cap ? s->cap * 2 : 1024};
    if (!ns.slots) return SLM_ERR_NOMEM;
    for (int64_t i = 0; i < s->cap; i++)
        if (s->slots[i].a || s->slots[i].b) {
            bool dummy;
            keyset_insert(&ns, s->slots[i], &dummy);
        }
    free(s->slots);
    *s = ns;
    return SLM_OK;
}

static slm_status keyset_insert(keyset *s, key128 k, bool *was_new) {
    if (!k.a && !k.b) k.b = 1; /* keep the empty marker free */
    if (2 * (s->n + 1) > s->cap) {
        slm_status st = keyset_grow(s);
        if (st != SLM_OK) return st;
    }
    uint64_t i = k.a & (uint64_t)(s->cap - 1);
    for (;; i = (i + 1) & (uint64_t)(s->cap - 1)) {
        key128 *q = &s->slots[i];
        if (!q->a && !q->b) {
            *q = k;
            s->n++;
            *was_new = true;
            return SLM_OK;
        }
        if (q->a == k.a && q->b == k.b) {
            *was_new = false;
            return SLM_OK;
        }
    }
}

static uint64_t load_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* SHA-256 over the tokens (int32 LE) then the mask bytes. */
static key128 doc_key(const int32_t *t, const uint8_t *m, int64_t n) {
    slm_sha256 s;
    uint8_t d[32];
    slm_sha256_init(&s);
    slm_sha256_update(&s, t, sizeof(int32_t) * (size_t)n);
    slm_sha256_update(&s, m, (size_t)n);
    slm_sha256_final(&s, d);
    key128 k = {load_u64(d), load_u64(d + 8)};
    return k;
}

/* splitmix64 (Steele et al. 2014) */
static uint64_t mix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static slm_split split_of(key128 k, uint64_t seed, double frac) {
    double u = (double)(mix64(k.a ^ mix64(seed)) >> 11) * 0x1.0p-53;
    return u < frac ? SLM_SPLIT_VAL : SLM_SPLIT_TRAIN;
}

/* ---- file hashing ---- */

static slm_status hash_file(const char *path, int64_t *size, char hex[65]) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        slm_log_error("%s: cannot open for hashing: %s", path, strerror(errno));
        return SLM_ERR_IO;
    }
    slm_sha256 s;
    slm_sha256_init(&s);
    static _Thread_local uint8_t buf[1 << 16];
    size_t n;
    int64_t total = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        slm_sha256_update(&s, buf, n);
        total += (int64_t)n;
    }
    int read_errno = errno;
    bool err = ferror(f);
    fclose(f);
    if (err) {
        slm_log_error("%s: read error while hashing: %s", path, strerror(read_errno));
        return SLM_ERR_IO;
    }
    uint8_t d[32];
    slm_sha256_final(&s, d);
    slm_sha256_hex(d, hex);
    *size = total;
    return SLM_OK;
}

/* ---- the run ---- */

typedef struct {
    slm_record rec;
    slm_token_buf toks;
    char err[256];
    int64_t file; /* index into paths */
} slot;

typedef struct {
    const slm_prepare_params *p;
    const slm_encoder *e;
    const slm_chat_template *ct;
    slm_dataset_writer *w;
    keyset seen;
    char **paths;
    int64_t *file_docs; /* (n_paths) docs kept per file */
    slm_outfile rejects;
    bool rejects_open;
    char *reject_path;
    slm_prepare_stats *stats;
    int n_threads;
    slm_encoder *thread_enc; /* (n_threads) */
    int n_thread_enc;        /* how many were made (and need releasing) */
} run;

static slm_status bad_record(run *r, slot *s, const char *reason) {
    const char *path = r->paths[s->file];
    r->stats->bad++;
    if (r->p->on_error == SLM_ON_ERROR_FAIL) {
        if (s->rec.line > 0)
            slm_log_error("%s:%" PRId64 ": %s\n  (nothing written; fix the record or use "
                          "--on-error skip)", path, s->rec.line, reason);
        else
            slm_log_error("%s: %s\n  (nothing written; fix the file or use --on-error skip)",
                          path, reason);
        return SLM_ERR_FORMAT;
    }
    if (r->stats->bad <= MAX_REPORTED_BAD) {
        if (s->rec.line > 0) slm_log_warn("%s:%" PRId64 ": skipped: %s", path, s->rec.line, reason);
        else slm_log_warn("%s: skipped: %s", path, reason);
    }
    if (s->rec.line <= 0) return SLM_OK; /* whole-file documents: reported only */
    if (!r->rejects_open) {
        slm_status st = slm_outfile_open(&r->rejects, r->reject_path);
        if (st != SLM_OK) return st;
        r->rejects_open = true;
    }
    slm_status st = slm_outfile_write(&r->rejects, s->rec.raw, s->rec.raw_len);
    if (st == SLM_OK) st = slm_outfile_write(&r->rejects, "\n", 1);
    return st;
}

static slm_status process_batch(run *r, slot *slots, int n) {
    const slm_prepare_params *p = r->p;
    slm_status st_par = SLM_OK;
#pragma omp parallel num_threads(r->n_threads)
    {
        const slm_encoder *e = &r->thread_enc[omp_get_thread_num()];
#pragma omp for schedule(dynamic, 1)
        for (int i = 0; i < n; i++) {
            slot *s = &slots[i];
            s->err[0] = 0;
            s->toks.n = 0;
            if (s->rec.error[0]) continue;
            slm_status st = slm_render_record(r->ct, e, &s->rec, &s->toks, s->err);
            if (st != SLM_OK) {
#pragma omp critical
                st_par = st;
            }
        }
    }
    if (st_par != SLM_OK) return st_par;
    for (int i = 0; i < n; i++) {
        slot *s = &slots[i];
        r->stats->records++;
        char reason[320];
        if (s->rec.error[0] || s->err[0]) {
            slm_status st = bad_record(r, s, s->rec.error[0] ? s->rec.error : s->err);
            if (st != SLM_OK) return st;
            continue;
        }
        size_t content = 0;
        for (int64_t m = 0; m < s->rec.n_msgs; m++) content += s->rec.msgs[m].len;
        if (content == 0) {
            r->stats->empty++;
            continue;
        }
        if (p->max_tokens > 0 && s->toks.n > p->max_tokens) {
            snprintf(reason, sizeof reason, "record has %" PRId64 " tokens, more than "
                     "--max-tokens %" PRId64, s->toks.n, p->max_tokens);
            slm_status st = bad_record(r, s, reason);
            if (st != SLM_OK) return st;
            continue;
        }
        key128 k = doc_key(s->toks.tokens, s->toks.mask, s->toks.n);
        bool is_new;
        slm_status st = keyset_insert(&r->seen, k, &is_new);
        if (st != SLM_OK) return st;
        if (!is_new) {
            r->stats->duplicates++;
            if (r->stats->duplicates <= MAX_REPORTED_DUPS) {
                if (s->rec.line > 0)
                    slm_log_info("%s:%" PRId64 ": duplicate document dropped%s",
                                 r->paths[s->file], s->rec.line,
                                 r->stats->duplicates == MAX_REPORTED_DUPS ? " (further duplicates counted only)" : "");
                else
                    slm_log_info("%s: duplicate document dropped%s", r->paths[s->file],
                                 r->stats->duplicates == MAX_REPORTED_DUPS ? " (further duplicates counted only)" : "");
            }
            continue;
        }
        slm_split sp = split_of(k, p->seed, p->val_fraction);
        st = slm_dataset_writer_add_doc(r->w, sp, s->toks.tokens, s->toks.mask, s->toks.n);
        if (st != SLM_OK) return st;
        r->stats->docs_new[sp]++;
        r->stats->tokens_new[sp] += s->toks.n;
        for (int64_t t = 0; t < s->toks.n; t++) r->stats->masked_total += s->toks.mask[t];
        r->file_docs[s->file]++;
    }
    return SLM_OK;
}

/* Copies the splits and sources of an existing dataset into the writer and
 * the dedup set.  Refuses another tokenizer or template. */
static slm_status copy_existing(run *r, const char *fingerprint, char ***known,
                                char ***known_paths, int64_t *n_known) {
    const slm_prepare_params *p = r->p;
    for (int sp = 0; sp < SLM_SPLIT_COUNT; sp++) {
        slm_dataset *ds;
        slm_status st = slm_dataset_open(p->out, slm_split_name((slm_split)sp), &ds);
        /* a failed read(2) is not a reason to advise removing the dataset */
        if (st == SLM_ERR_IO || st == SLM_ERR_NOMEM) return st;
        if (st != SLM_OK) {
            slm_log_error("%s: exists but cannot be read as a dataset; remove it or choose "
                          "another --out", p->out);
            return st == SLM_ERR_NOMEM ? st : SLM_ERR_USAGE;
        }
        const slm_dataset_header *h = slm_dataset_header_of(ds);
        if (strcmp(h->fingerprint, fingerprint)) {
            slm_log_error("%s: existing dataset was tokenized with another vocabulary "
                          "(fingerprint %.16s..., this --vocab %.16s...); use a new --out",
                          p->out, h->fingerprint, fingerprint);
            slm_dataset_close(ds);
            return SLM_ERR_USAGE;
        }
        const char *tname = slm_template_name(p->template_kind);
        const char *old = h->template_name[0] ? h->template_name : "none";
        if (strcmp(old, tname)) {
            slm_log_error("%s: existing dataset used --template %s, this run %s; use the same "
                          "template or a new --out", p->out, old, tname);
            slm_dataset_close(ds);
            return SLM_ERR_USAGE;
        }
        /* stream whole documents in blocks of about COPY_BLOCK tokens */
        const int64_t *off = slm_dataset_doc_offsets(ds);
        int64_t n = slm_dataset_n_tokens(ds), n_docs = slm_dataset_n_docs(ds), cap = 0;
        int32_t *t = NULL;
        uint8_t *m = NULL;
        for (int64_t d0 = 0, d1; st == SLM_OK && d0 < n_docs; d0 = d1) {
            for (d1 = d0 + 1; d1 < n_docs && off[d1 + 1] - off[d0] <= COPY_BLOCK; d1++) {}
            int64_t len = off[d1] - off[d0];
            if (len > cap) {
                free(t), free(m);
                cap = len;
                t = malloc(sizeof(int32_t) * (size_t)(cap > 0 ? cap : 1));
                m = malloc((size_t)(cap > 0 ? cap : 1));
                if (!t || !m) {
                    st = SLM_ERR_NOMEM;
                    break;
                }
            }
            st = slm_dataset_read(ds, off[d0], len, t, m);
            for (int64_t d = d0; st == SLM_OK && d < d1; d++) {
                int64_t a = off[d] - off[d0], dl = off[d + 1] - off[d];
                bool dummy;
                st = keyset_insert(&r->seen, doc_key(t + a, m + a, dl), &dummy);
                if (st == SLM_OK)
                    st = slm_dataset_writer_add_doc(r->w, (slm_split)sp, t + a, m + a, dl);
                for (int64_t i = 0; i < dl; i++) r->stats->masked_total += m[a + i];
            }
        }
        r->stats->docs_total[sp] = slm_dataset_n_docs(ds);
        r->stats->tokens_total[sp] = n;
        free(t);
        free(m);
        slm_dataset_close(ds);
        if (st != SLM_OK) return st;
    }
    slm_dataset_source *src;
    int64_t ns;
    slm_status st = slm_dataset_read_sources(p->out, &src, &ns);
    if (st != SLM_OK) return st;
    *known = calloc((size_t)(ns > 0 ? ns : 1), sizeof(char *));
    *known_paths = calloc((size_t)(ns > 0 ? ns : 1), sizeof(char *));
    if (!*known || !*known_paths) st = SLM_ERR_NOMEM;
    else *n_known = ns;
    for (int64_t i = 0; i < ns && st == SLM_OK; i++) {
        st = slm_dataset_writer_add_source(r->w, &src[i]);
        (*known)[i] = slm_strdup(src[i].sha256);
        (*known_paths)[i] = slm_strdup(src[i].path);
    }
    slm_dataset_sources_free(src, ns);
    return st;
}

slm_status slm_data_prepare(const slm_prepare_params *p, const slm_encoder *e,
                            const char *fingerprint, slm_prepare_stats *stats) {
    memset(stats, 0, sizeof *stats);
    double t0 = slm_time_sec();
    if (!(p->val_fraction >= 0 && p->val_fraction < 1)) {
        slm_log_error("--val-fraction %g is outside [0, 1)", p->val_fraction);
        return SLM_ERR_USAGE;
    }
    slm_chat_template ct;
    slm_status st = slm_chat_template_init(&ct, p->template_kind, e);
    if (st != SLM_OK) return st;

    run r = {.p = p, .e = e, .ct = &ct, .stats = stats};
    char **known = NULL, **known_paths = NULL, *hexes = NULL;
    int64_t n_known = 0, n_paths = 0, *sizes = NULL;
    slot *slots = NULL;
    st = slm_inputs_expand(p->inputs, p->n_inputs, &r.paths, &n_paths);
    if (st != SLM_OK) return st;
    stats->files_total = n_paths;
    r.file_docs = calloc((size_t)n_paths + 1, sizeof(int64_t));
    sizes = calloc((size_t)n_paths + 1, sizeof(int64_t));
    hexes = calloc((size_t)n_paths + 1, 65);
    bool *is_new = calloc((size_t)n_paths + 1, sizeof(bool));
    bool *listed = calloc((size_t)n_paths + 1, sizeof(bool)); /* (path, hash) in /sources */
    int64_t n_new_rows = 0;
    if (!r.file_docs || !sizes || !hexes || !is_new || !listed) {
        st = SLM_ERR_NOMEM;
        goto done;
    }
    if (p->reject_path) r.reject_path = slm_strdup(p->reject_path);
    else {
        size_t n = strlen(p->out) + 16;
        r.reject_path = malloc(n);
        if (r.reject_path) snprintf(r.reject_path, n, "%s.rejects", p->out);
    }

    slm_dataset_header h = slm_dataset_default_header();
    snprintf(h.fingerprint, sizeof h.fingerprint, "%s", fingerprint);
    h.vocab_size = e->n_vocab;
    h.eos_id = e->eos;
    h.bos_id = e->bos;
    snprintf(h.template_name, sizeof h.template_name, "%s", slm_template_name(p->template_kind));
    if ((st = slm_dataset_writer_open(p->out, &h, &r.w)) != SLM_OK) goto done;
    if (access(p->out, F_OK) == 0 && (st = copy_existing(&r, fingerprint, &known, &known_paths, &n_known)) != SLM_OK)
        goto done;

    /* which files are new (by content hash) */
    for (int64_t i = 0; i < n_paths; i++) {
        if ((st = hash_file(r.paths[i], &sizes[i], hexes + 65 * i)) != SLM_OK) goto done;
        is_new[i] = true;
        for (int64_t k = 0; k < n_known; k++)
            if (!strcmp(known[k], hexes + 65 * i)) {
                is_new[i] = false;
                if (!strcmp(known_paths[k], r.paths[i])) listed[i] = true;
            }
        for (int64_t k = 0; k < i && is_new[i]; k++)
            if (is_new[k] && !strcmp(hexes + 65 * k, hexes + 65 * i)) {
                slm_log_info("%s: same content as %s, read once", r.paths[i], r.paths[k]);
                is_new[i] = false;
            }
        if (!listed[i]) n_new_rows++;
        if (is_new[i]) {
            stats->files_new++;
            stats->bytes_new += sizes[i];
        } else {
            stats->files_known++;
        }
    }
    if (stats->files_new == 0 && n_new_rows == 0 && n_known > 0) {
        slm_log_info("%s: no new input files (all %" PRId64 " already in the dataset); "
                     "unchanged", p->out, n_paths);
        stats->unchanged = true;
        slm_dataset_writer_abort(r.w);
        r.w = NULL;
        goto done;
    }

    slots = calloc(BATCH_RECORDS, sizeof *slots);
    r.n_threads = p->n_threads > 0 ? p->n_threads : omp_get_max_threads();
    r.thread_enc = calloc((size_t)r.n_threads, sizeof *r.thread_enc);
    if (!slots || !r.thread_enc) {
        st = SLM_ERR_NOMEM;
        goto done;
    }
    for (int t = 0; t < r.n_threads && st == SLM_OK; t++) {
        if (e->thread_copy) st = e->thread_copy(e, &r.thread_enc[t]);
        else r.thread_enc[t] = *e;
        if (st == SLM_OK) r.n_thread_enc++;
    }
    if (st != SLM_OK) goto done;
    int n_slots = 0;
    size_t batch_bytes = 0;
    for (int64_t f = 0; f < n_paths && st == SLM_OK; f++) {
        if (!is_new[f]) continue;
        slm_reader *rd;
        if ((st = slm_reader_open(r.paths[f], &p->reader, &rd)) != SLM_OK) break;
        for (;;) {
            slot *s = &slots[n_slots];
            if ((st = slm_reader_next(rd, &s->rec)) != SLM_OK) break;
            if (s->rec.eof) break;
            s->file = f;
            for (int64_t m = 0; m < s->rec.n_msgs; m++) batch_bytes += s->rec.msgs[m].len;
            if (++n_slots == BATCH_RECORDS || batch_bytes >= BATCH_BYTES) {
                st = process_batch(&r, slots, n_slots);
                n_slots = 0;
                batch_bytes = 0;
                if (st != SLM_OK) break;
            }
        }
        slm_reader_close(rd);
    }
    if (st == SLM_OK && n_slots) st = process_batch(&r, slots, n_slots);
    if (st != SLM_OK) goto done;

    /* every input not yet listed gets a row; copies of known content have 0 docs */
    for (int64_t f = 0; f < n_paths && st == SLM_OK; f++) {
        if (listed[f]) continue;
        slm_dataset_source src = {r.paths[f], sizes[f], {0}, r.file_docs[f]};
        memcpy(src.sha256, hexes + 65 * f, 65);
        st = slm_dataset_writer_add_source(r.w, &src);
    }
    if (st != SLM_OK) goto done;
    if (r.rejects_open) {
        st = slm_outfile_commit(&r.rejects);
        r.rejects_open = false;
        if (st != SLM_OK) goto done;
        slm_log_warn("%" PRId64 " bad record(s) skipped; their lines are in %s", stats->bad,
                     r.reject_path);
    } else if (stats->bad > 0) {
        slm_log_warn("%" PRId64 " bad record(s) skipped", stats->bad);
    }
    st = slm_dataset_writer_commit(r.w);
    r.w = NULL;
    for (int sp = 0; sp < SLM_SPLIT_COUNT; sp++) {
        stats->docs_total[sp] += stats->docs_new[sp];
        stats->tokens_total[sp] += stats->tokens_new[sp];
    }
done:
    if (r.w) slm_dataset_writer_abort(r.w);
    if (r.rejects_open) slm_outfile_abort(&r.rejects);
    if (slots)
        for (int i = 0; i < BATCH_RECORDS; i++) {
            slm_record_free(&slots[i].rec);
            slm_token_buf_free(&slots[i].toks);
        }
    free(slots);
    for (int t = 0; t < r.n_thread_enc; t++)
        if (e->thread_release) e->thread_release(&r.thread_enc[t]);
    free(r.thread_enc);
    for (int64_t i = 0; i < n_known; i++) {
        if (known) free(known[i]);
        if (known_paths) free(known_paths[i]);
    }
    free(known);
    free(known_paths);
    free(listed);
    for (int64_t i = 0; i < n_paths; i++) free(r.paths[i]);
    free(r.paths);
    free(r.file_docs);
    free(r.reject_path);
    free(r.seen.slots);
    free(sizes);
    free(hexes);
    free(is_new);
    stats->seconds = slm_time_sec() - t0;
    return st;
}
