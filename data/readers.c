/* data/readers.c — file readers (text, JSONL, gzip), UTF-8 sanitising and
 * directory expansion.  JSON parsing of a line is in data/jsonl.c. */
#include "data/readers.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

bool slm_format_from_name(const char *name, slm_format *out) {
    static const char *names[SLM_FORMAT_COUNT] = {"auto", "text", "jsonl", "chat"};
    for (int i = 0; i < SLM_FORMAT_COUNT; i++)
        if (!strcmp(name, names[i])) {
            *out = (slm_format)i;
            return true;
        }
    return false;
}

const char *slm_role_name(slm_role r) {
    static const char *names[SLM_ROLE_COUNT] = {"system", "user", "assistant"};
    SLM_ASSERT(r >= 0 && r < SLM_ROLE_COUNT);
    return names[r];
}

slm_reader_opts slm_reader_default_opts(void) {
    slm_reader_opts o = {SLM_FORMAT_AUTO, "text", "prompt", "completion", "messages", "role",
                         "content"};
    return o;
}

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if invalid
 * (RFC 3629: no overlongs, no surrogates, max U+10FFFF). */
static int utf8_valid_len(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    int len;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07, min = 0x10000;
    else return 0;
    if ((size_t)len > n) return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

slm_status slm_utf8_sanitize(const char *in, size_t len, char **out, size_t *out_len,
                             int64_t *n_bad, int64_t *first_bad) {
    const unsigned char *s = (const unsigned char *)in;
    *n_bad = 0;
    *first_bad = -1;
    /* fast path: count bad sequences first */
    size_t i = 0, extra = 0;
    while (i < len) {
        int l = utf8_valid_len(s + i, len - i);
        if (l == 0) {
            if (*first_bad < 0) *first_bad = (int64_t)i;
            (*n_bad)++;
            extra += 2; /* 1 byte -> 3 bytes */
            l = 1;
        }
        i += (size_t)l;
    }
    char *o = malloc(len + extra + 1);
    if (!o) return SLM_ERR_NOMEM;
    size_t k = 0;
    if (*n_bad == 0) {
        memcpy(o, in, len);
        k = len;
    } else {
        /* each maximal invalid byte is replaced by one U+FFFD (one per byte,
         * as Python's errors="replace" does for stray bytes) */
        for (i = 0; i < len;) {
            int l = utf8_valid_len(s + i, len - i);
            if (l == 0) {
                o[k++] = (char)0xEF;
                o[k++] = (char)0xBF;
                o[k++] = (char)0xBD;
                i++;
            } else {
                memcpy(o + k, s + i, (size_t)l);
                k += (size_t)l;
                i += (size_t)l;
            }
        }
    }
    o[k] = 0;
    *out = o;
    *out_len = k;
    return SLM_OK;
}

/* ---- records ---- */

void slm_record_free(slm_record *rec) {
    for (int64_t i = 0; i < rec->cap_msgs; i++) free(rec->msgs[i].text);
    free(rec->msgs);
    free(rec->raw);
    memset(rec, 0, sizeof *rec);
}

slm_status slm_record_set_text(slm_record *rec, slm_record_kind kind, slm_role role,
                               const char *text, size_t len) {
    rec->n_msgs = 0;
    rec->kind = kind;
    return slm_record_add_msg(rec, role, text, len);
}

slm_status slm_record_add_msg(slm_record *rec, slm_role role, const char *text, size_t len) {
    if (rec->n_msgs == rec->cap_msgs) {
        int64_t nc = rec->cap_msgs ? rec->cap_msgs * 2 : 4;
        slm_message *nm = realloc(rec->msgs, sizeof *nm * (size_t)nc);
        if (!nm) return SLM_ERR_NOMEM;
        memset(nm + rec->cap_msgs, 0, sizeof *nm * (size_t)(nc - rec->cap_msgs));
        rec->msgs = nm;
        rec->cap_msgs = nc;
    }
    slm_message *m = &rec->msgs[rec->n_msgs];
    if (!m->text || m->len < len) { /* reuse the buffer when large enough */
        char *t = realloc(m->text, len + 1);
        if (!t) return SLM_ERR_NOMEM;
        m->text = t;
    }
    memcpy(m->text, text, len);
    m->text[len] = 0;
    m->len = len;
    m->role = role;
    rec->n_msgs++;
    return SLM_OK;
}

/* ---- reader ---- */

struct slm_reader {
    char *path;
    gzFile gz;
    slm_reader_opts opts;
    bool jsonl;
    bool done;
    int64_t line;
};

static bool has_suffix(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && !strcasecmp(s + n - m, suf);
}

static bool is_jsonl_name(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    if (has_suffix(buf, ".gz")) buf[strlen(buf) - 3] = 0;
    return has_suffix(buf, ".jsonl") || has_suffix(buf, ".json");
}

slm_status slm_reader_open(const char *path, const slm_reader_opts *opts, slm_reader **out) {
    *out = NULL;
    slm_reader *r = calloc(1, sizeof *r);
    if (!r) return SLM_ERR_NOMEM;
    r->path = slm_strdup(path);
    r->opts = *opts;
    r->jsonl = opts->format == SLM_FORMAT_JSONL || opts->format == SLM_FORMAT_CHAT ||
               (opts->format == SLM_FORMAT_AUTO && is_jsonl_name(path));
    r->gz = gzopen(path, "rb");
    if (!r->gz) {
        slm_log_error("%s: cannot open: %s", path, errno ? strerror(errno) : "zlib error");
        slm_reader_close(r);
        return SLM_ERR_IO;
    }
    gzbuffer(r->gz, 1 << 17);
    *out = r;
    return SLM_OK;
}

void slm_reader_close(slm_reader *r) {
    if (!r) return;
    if (r->gz) gzclose(r->gz);
    free(r->path);
    free(r);
}

static slm_status gz_error(slm_reader *r) {
    int err = 0;
    const char *msg = gzerror(r->gz, &err);
    if (err == Z_ERRNO) /* the read(2) failed: an I/O error, not bad content */
        slm_log_error("%s: read failed: %s", r->path, strerror(errno));
    else
        slm_log_error("%s: read failed: %s (corrupt or truncated gzip?)", r->path, msg);
    return err == Z_ERRNO ? SLM_ERR_IO : SLM_ERR_FORMAT;
}

/* Appends up to a newline (excluded) to rec->raw; false at EOF with nothing read. */
static slm_status read_line(slm_reader *r, slm_record *rec, bool *got) {
    rec->raw_len = 0;
    *got = false;
    for (;;) {
        if (rec->raw_cap - rec->raw_len < 4096) {
            size_t nc = rec->raw_cap ? rec->raw_cap * 2 : 65536;
            char *nr = realloc(rec->raw, nc);
            if (!nr) return SLM_ERR_NOMEM;
            rec->raw = nr;
            rec->raw_cap = nc;
        }
        char *dst = rec->raw + rec->raw_len;
        int cap = (int)(rec->raw_cap - rec->raw_len);
        if (!gzgets(r->gz, dst, cap)) {
            if (!gzeof(r->gz)) return gz_error(r);
            break;
        }
        size_t n = strlen(dst); /* a NUL byte cuts the line short: it then fails to parse */
        *got = true;
        rec->raw_len += n;
        if (n > 0 && dst[n - 1] == '\n') {
            rec->raw_len--;
            break;
        }
        if (gzeof(r->gz)) break;
    }
    if (rec->raw_len > 0 && rec->raw[rec->raw_len - 1] == '\r') rec->raw_len--;
    rec->raw[rec->raw_len] = 0;
    return SLM_OK;
}

static slm_status read_whole(slm_reader *r, slm_record *rec) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) return SLM_ERR_NOMEM;
    for (;;) {
        if (cap - n < (1 << 15)) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return SLM_ERR_NOMEM;
            }
            buf = nb;
            cap *= 2;
        }
        int got = gzread(r->gz, buf + n, (unsigned)(cap - n));
        if (got < 0) {
            free(buf);
            return gz_error(r);
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    const char *p = buf;
    size_t len = n;
    if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3, len -= 3;
    char *clean;
    size_t clean_len;
    int64_t first_bad;
    slm_status st = slm_utf8_sanitize(p, len, &clean, &clean_len, &rec->n_replaced, &first_bad);
    free(buf);
    if (st != SLM_OK) return st;
    if (rec->n_replaced)
        slm_log_warn("%s: %" PRId64 " invalid UTF-8 sequence(s) replaced by U+FFFD (first at "
                     "byte %" PRId64 ")", r->path, rec->n_replaced, first_bad);
    st = slm_record_set_text(rec, SLM_REC_TEXT, SLM_ROLE_ASSISTANT, clean, clean_len);
    free(clean);
    return st;
}

slm_status slm_reader_next(slm_reader *r, slm_record *rec) {
    rec->error[0] = 0;
    rec->eof = false;
    rec->n_msgs = 0;
    rec->n_replaced = 0;
    rec->file = r->path;
    rec->raw_len = 0;
    if (r->done) {
        rec->eof = true;
        return SLM_OK;
    }
    if (!r->jsonl) {
        r->done = true;
        rec->line = 0;
        return read_whole(r, rec);
    }
    for (;;) {
        bool got;
        slm_status st = read_line(r, rec, &got);
        if (st != SLM_OK) return st;
        if (!got) {
            r->done = true;
            rec->eof = true;
            return SLM_OK;
        }
        r->line++;
        rec->line = r->line;
        size_t i = 0;
        while (i < rec->raw_len && (rec->raw[i] == ' ' || rec->raw[i] == '\t')) i++;
        if (i == rec->raw_len) continue; /* blank line */
        /* a UTF-8 BOM on the first line */
        const char *p = rec->raw;
        size_t len = rec->raw_len;
        if (r->line == 1 && len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3, len -= 3;
        return slm_jsonl_parse_line(p, len, &r->opts, rec);
    }
}

/* ---- directory expansion ---- */

typedef struct {
    char **v;
    int64_t n, cap;
} strvec;

static slm_status strvec_push(strvec *s, const char *p) {
    if (s->n == s->cap) {
        int64_t nc = s->cap ? s->cap * 2 : 64;
        char **nv = realloc(s->v, sizeof *nv * (size_t)nc);
        if (!nv) return SLM_ERR_NOMEM;
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n] = slm_strdup(p);
    return s->v[s->n++] ? SLM_OK : SLM_ERR_NOMEM;
}

static bool wanted_in_dir(const char *name) {
    static const char *exts[] = {".txt", ".md", ".markdown", ".text", ".jsonl", ".json"};
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", name);
    if (has_suffix(buf, ".gz")) buf[strlen(buf) - 3] = 0;
    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++)
        if (has_suffix(buf, exts[i])) return true;
    return false;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static slm_status walk(const char *dir, strvec *out, int depth) {
    if (depth > 64) {
        slm_log_error("%s: directory nesting deeper than 64 (symlink loop?)", dir);
        return SLM_ERR_USAGE;
    }
    DIR *d = opendir(dir);
    if (!d) {
        slm_log_error("%s: cannot read directory: %s", dir, strerror(errno));
        return SLM_ERR_IO;
    }
    strvec names = {0};
    slm_status st = SLM_OK;
    struct dirent *e;
    while (st == SLM_OK && (e = readdir(d)))
        if (e->d_name[0] != '.') st = strvec_push(&names, e->d_name);
    closedir(d);
    if (names.n) qsort(names.v, (size_t)names.n, sizeof *names.v, cmp_str);
    for (int64_t i = 0; i < names.n && st == SLM_OK; i++) {
        size_t n = strlen(dir) + strlen(names.v[i]) + 2;
        char *p = malloc(n);
        if (!p) {
            st = SLM_ERR_NOMEM;
            break;
        }
        snprintf(p, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", names.v[i]);
        struct stat sb;
        if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) st = walk(p, out, depth + 1);
        else if (wanted_in_dir(names.v[i])) st = strvec_push(out, p);
        else slm_log_debug("%s: skipped (not .txt/.md/.jsonl/.json[.gz])", p);
        free(p);
    }
    for (int64_t i = 0; i < names.n; i++) free(names.v[i]);
    free(names.v);
    return st;
}

slm_status slm_inputs_expand(const char *const *inputs, int n_inputs, char ***paths,
                             int64_t *n_paths) {
    strvec out = {0};
    slm_status st = SLM_OK;
    for (int i = 0; i < n_inputs && st == SLM_OK; i++) {
        struct stat sb;
        if (stat(inputs[i], &sb) != 0) {
            slm_log_error("%s: no such file or directory (--input)", inputs[i]);
            st = SLM_ERR_USAGE;
        } else if (S_ISDIR(sb.st_mode)) {
            int64_t before = out.n;
            st = walk(inputs[i], &out, 0);
            if (st == SLM_OK && out.n == before)
                slm_log_warn("%s: directory has no .txt/.md/.jsonl/.json(.gz) files", inputs[i]);
        } else {
            st = strvec_push(&out, inputs[i]);
        }
    }
    if (st != SLM_OK) {
        for (int64_t i = 0; i < out.n; i++) free(out.v[i]);
        free(out.v);
        return st;
    }
    *paths = out.v;
    *n_paths = out.n;
    return SLM_OK;
}
