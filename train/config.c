/* train/config.c — table-driven INI configuration (see config.h). */
#include "train/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"

#define OFF(f) offsetof(slm_train_config, f)
#define BIG 1e18

/* section, name, kind, offset, default, choices, min, max, compat, help */
const slm_cfg_key slm_train_config_keys[] = {
    {"model", "mode", SLM_CFG_ENUM, OFF(mode), "lora", "pretrain|full|lora", 0, 0, true,
     "pretrain: random init from the hyper-parameters below and a vocabulary; full: train every weight of `base`; lora: train low-rank adapters on a frozen `base`"},
    {"model", "base", SLM_CFG_STR, OFF(base), "", NULL, 0, 0, false,
     "base model GGUF (full, lora); its SHA-256 is stored in checkpoints and checked on resume"},
    {"model", "vocab", SLM_CFG_STR, OFF(vocab), "", NULL, 0, 0, false,
     "GGUF holding the tokenizer (pretrain; e.g. from `slm tokenizer train`); its metadata is copied into exports"},
    {"model", "dim", SLM_CFG_INT, OFF(dim), "128", NULL, 8, 65536, true, "pretrain: embedding width C"},
    {"model", "layers", SLM_CFG_INT, OFF(layers), "4", NULL, 1, 1024, true, "pretrain: number of blocks L"},
    {"model", "heads", SLM_CFG_INT, OFF(heads), "4", NULL, 1, 1024, true, "pretrain: attention heads NH (dim / heads must be even)"},
    {"model", "kv_heads", SLM_CFG_INT, OFF(kv_heads), "0", NULL, 0, 1024, true, "pretrain: key/value heads (0 = heads); must divide heads"},
    {"model", "ffn", SLM_CFG_INT, OFF(ffn), "0", NULL, 0, 1 << 20, true, "pretrain: feed-forward width F (0 = 8/3 dim rounded up to a multiple of 32)"},
    {"model", "ctx", SLM_CFG_INT, OFF(ctx), "0", NULL, 0, 1 << 24, true, "pretrain: context length written to the GGUF (0 = data.seq_len)"},
    {"model", "rope_base", SLM_CFG_FLOAT, OFF(rope_base), "10000", NULL, 1, 1e9, true, "pretrain: RoPE frequency base"},
    {"model", "rms_eps", SLM_CFG_FLOAT, OFF(rms_eps), "1e-5", NULL, 1e-12, 1e-1, true, "pretrain: RMSNorm epsilon"},
    {"model", "init_std", SLM_CFG_FLOAT, OFF(init_std), "0.02", NULL, 0, 1, false, "pretrain: standard deviation of the normal initialisation (output projections scaled by 1/sqrt(2 L))"},
    {"model", "tied", SLM_CFG_BOOL, OFF(tied), "true", NULL, 0, 0, true, "pretrain: output head tied to token_embd (no output.weight)"},
    {"lora", "rank", SLM_CFG_INT, OFF(lora_rank), "8", NULL, 1, 4096, true, "adapter rank r"},
    {"lora", "alpha", SLM_CFG_FLOAT, OFF(lora_alpha), "16", NULL, 0, 1e6, true, "scale numerator: W + (alpha / r) B A"},
    {"lora", "dropout", SLM_CFG_FLOAT, OFF(lora_dropout), "0", NULL, 0, 0.99, false, "dropout on the adapter input during training"},
    {"lora", "rslora", SLM_CFG_BOOL, OFF(lora_rslora), "false", NULL, 0, 0, true, "rank-stabilised scale alpha / sqrt(r)"},
    {"lora", "targets", SLM_CFG_STR, OFF(lora_targets), "q,k,v,o", NULL, 0, 0, true, "comma list of q,k,v,o,gate,up,down, or all"},
    {"data", "train", SLM_CFG_STR, OFF(train), "", NULL, 0, 0, false, "training data: a tokenized HDF5 dataset (.h5, from `slm data prepare`) or a plain UTF-8 text file tokenized on the fly"},
    {"data", "val", SLM_CFG_STR, OFF(val), "", NULL, 0, 0, false, "validation text file (text input only; empty: the last val_fraction of `train`)"},
    {"data", "val_fraction", SLM_CFG_FLOAT, OFF(val_fraction), "0.05", NULL, 0, 0.5, false, "share of a text `train` file held out for validation when `val` is empty"},
    {"data", "seq_len", SLM_CFG_INT, OFF(seq_len), "128", NULL, 1, 1 << 20, false, "tokens per training sequence T"},
    {"data", "batch", SLM_CFG_INT, OFF(batch), "8", NULL, 1, 1 << 16, false, "sequences per micro-batch B"},
    {"optim", "lr", SLM_CFG_FLOAT, OFF(lr), "1e-3", NULL, 0, 10, false, "peak learning rate"},
    {"optim", "schedule", SLM_CFG_ENUM, OFF(schedule), "cosine", "constant|linear|cosine", 0, 0, false, "decay after warm-up, down to min_lr at the last step"},
    {"optim", "warmup", SLM_CFG_INT, OFF(warmup), "0", NULL, 0, BIG, false, "linear warm-up steps"},
    {"optim", "min_lr", SLM_CFG_FLOAT, OFF(min_lr), "0", NULL, 0, 10, false, "final learning rate of linear/cosine"},
    {"optim", "beta1", SLM_CFG_FLOAT, OFF(beta1), "0.9", NULL, 0, 0.999999, false, "AdamW beta1"},
    {"optim", "beta2", SLM_CFG_FLOAT, OFF(beta2), "0.999", NULL, 0, 0.999999, false, "AdamW beta2"},
    {"optim", "eps", SLM_CFG_FLOAT, OFF(eps), "1e-8", NULL, 0, 1, false, "AdamW epsilon"},
    {"optim", "weight_decay", SLM_CFG_FLOAT, OFF(weight_decay), "0", NULL, 0, 10, false, "decoupled weight decay (matrices only unless decay_all)"},
    {"optim", "decay_all", SLM_CFG_BOOL, OFF(decay_all), "false", NULL, 0, 0, false, "also decay norms and embeddings"},
    {"optim", "grad_clip", SLM_CFG_FLOAT, OFF(grad_clip), "1.0", NULL, 0, 1e9, false, "global gradient-norm clip (0 = off)"},
    {"optim", "accum", SLM_CFG_INT, OFF(accum), "1", NULL, 1, 1 << 16, false, "micro-batches per optimizer step"},
    {"train", "steps", SLM_CFG_INT, OFF(steps), "1000", NULL, 1, BIG, false, "optimizer steps in total (a resumed run continues to this count)"},
    {"train", "seed", SLM_CFG_INT, OFF(seed), "1234", NULL, 0, BIG, true, "seed of initialisation, LoRA dropout and batch order"},
    {"train", "eval_every", SLM_CFG_INT, OFF(eval_every), "100", NULL, 0, BIG, false, "validation loss every N steps and at the end (0 = only at the end)"},
    {"train", "eval_batches", SLM_CFG_INT, OFF(eval_batches), "8", NULL, 0, BIG, false, "validation micro-batches per evaluation (0 = no validation)"},
    {"train", "ckpt_every", SLM_CFG_INT, OFF(ckpt_every), "200", NULL, 0, BIG, false, "checkpoint every N steps and at the end (0 = only at the end)"},
    {"train", "keep", SLM_CFG_INT, OFF(keep), "3", NULL, 1, 1000, false, "checkpoints kept (older ones are deleted)"},
    {"train", "threads", SLM_CFG_INT, OFF(threads), "0", NULL, 0, 1024, false, "OpenMP threads (0 = OMP_NUM_THREADS or all cores); same seed + threads = same bits"},
    {"train", "log_every", SLM_CFG_INT, OFF(log_every), "1", NULL, 1, BIG, false, "metrics line every N steps"},
    {"output", "dir", SLM_CFG_STR, OFF(dir), "run", NULL, 0, 0, false, "run directory: checkpoints, metrics.jsonl, config.ini"},
};
const int slm_train_config_n_keys = (int)(sizeof slm_train_config_keys / sizeof slm_train_config_keys[0]);

const char *slm_train_mode_name(slm_train_mode m) {
    static const char *n[SLM_MODE_COUNT] = {"pretrain", "full", "lora"};
    return (unsigned)m < SLM_MODE_COUNT ? n[m] : "?";
}

static const slm_cfg_key *find_key(const char *section, const char *name) {
    for (int i = 0; i < slm_train_config_n_keys; i++)
        if (!strcmp(slm_train_config_keys[i].section, section) &&
            !strcmp(slm_train_config_keys[i].name, name))
            return &slm_train_config_keys[i];
    return NULL;
}

/* Index of val in "a|b|c", or -1. */
static int choice_index(const char *choices, const char *val) {
    int idx = 0;
    size_t n = strlen(val);
    for (const char *p = choices;; idx++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, val, n)) return idx;
        if (!bar) return -1;
        p = bar + 1;
    }
}

static void choice_name(const char *choices, int64_t idx, char *out, size_t cap) {
    const char *p = choices;
    for (int64_t i = 0; i < idx && p; i++) {
        p = strchr(p, '|');
        if (p) p++;
    }
    if (!p) p = "?";
    size_t len = strcspn(p, "|");
    if (len >= cap) len = cap - 1;
    memcpy(out, p, len);
    out[len] = 0;
}

/* inih reads a line in pieces of INI_MAX_LINE - 1 bytes (newline included)
 * and parses the rest of a longer line as a line of its own, so slm refuses
 * longer lines, and string values whose resolved line (key = value, as
 * config.ini and checkpoints print it) would be longer (found by fuzz_config:
 * "vocab=<190 bytes>" loaded, its printed form did not load back). */
#define INI_LINE_MAX (INI_MAX_LINE - 3)

static slm_status check_lines(const char *text, const char *where) {
    int line = 1;
    size_t len = 0;
    for (const char *p = text;; p++) {
        if (*p && *p != '\n') {
            len++;
            continue;
        }
        if (len > INI_LINE_MAX) {
            slm_log_error("%s:%d: line of %zu characters; the INI reader takes at most %d "
                          "(shorten the path, e.g. through a symbolic link)",
                          where, line, len, INI_LINE_MAX);
            return SLM_ERR_USAGE;
        }
        if (!*p) return SLM_OK;
        line++;
        len = 0;
    }
}

/* Parses val into the field of k; on error writes the reason to why. */
static bool set_field(slm_train_config *c, const slm_cfg_key *k, const char *val, char *why,
                      size_t cap) {
    char *f = (char *)c + k->offset;
    char *end = NULL;
    errno = 0;
    switch (k->kind) {
    case SLM_CFG_STR: {
        /* the resolved config is printed as INI (config.ini, checkpoints) and
         * read back on resume: refuse what inih would read back differently
         * (found by fuzz_config: "train=;x" printed as "train = ;x" reloads as "") */
        size_t n = strlen(val);
        bool bad = n && (val[0] == ';' || val[0] == '#' || isspace((unsigned char)val[0]) ||
                         isspace((unsigned char)val[n - 1]));
        for (size_t i = 0; i + 1 < n && !bad; i++)
            bad = isspace((unsigned char)val[i]) && val[i + 1] == ';';
        for (size_t i = 0; i < n && !bad; i++) bad = val[i] == '\n' || val[i] == '\r';
        if (strlen(k->name) + 3 + n > INI_LINE_MAX) {
            snprintf(why, cap, "value of %zu characters; '%s = value' must fit in %d (shorten "
                     "the path, e.g. through a symbolic link)", n, k->name, INI_LINE_MAX);
            return false;
        }
        if (bad) {
            snprintf(why, cap, "'%s' cannot be written back to an INI file (it starts with ';' or "
                     "'#', has a ' ;' or a line break, or spaces at either end)", val);
            return false;
        }
        char *d = slm_strdup(val);
        if (!d) {
            snprintf(why, cap, "out of memory");
            return false;
        }
        free(*(char **)f);
        *(char **)f = d;
        return true;
    }
    case SLM_CFG_INT: {
        long long v = strtoll(val, &end, 10);
        if (errno || end == val || *end) {
            snprintf(why, cap, "'%s' is not an integer", val);
            return false;
        }
        if ((double)v < k->min || (double)v > k->max) {
            snprintf(why, cap, "%lld is outside [%.17g, %.17g]", v, k->min, k->max);
            return false;
        }
        *(int64_t *)f = v;
        return true;
    }
    case SLM_CFG_FLOAT: {
        double v = strtod(val, &end);
        if (errno || end == val || *end || !isfinite(v)) {
            snprintf(why, cap, "'%s' is not a finite number", val);
            return false;
        }
        if (v < k->min || v > k->max) {
            snprintf(why, cap, "%g is outside [%g, %g]", v, k->min, k->max);
            return false;
        }
        *(double *)f = v;
        return true;
    }
    case SLM_CFG_BOOL:
        if (!strcmp(val, "true") || !strcmp(val, "1") || !strcmp(val, "yes")) *(bool *)f = true;
        else if (!strcmp(val, "false") || !strcmp(val, "0") || !strcmp(val, "no")) *(bool *)f = false;
        else {
            snprintf(why, cap, "'%s' is not true/false", val);
            return false;
        }
        return true;
    case SLM_CFG_ENUM: {
        int idx = choice_index(k->choices, val);
        if (idx < 0) {
            snprintf(why, cap, "'%s' is not one of %s", val, k->choices);
            return false;
        }
        *(int64_t *)f = idx;
        return true;
    }
    }
    return false;
}

void slm_train_config_defaults(slm_train_config *c) {
    memset(c, 0, sizeof *c);
    char why[256];
    for (int i = 0; i < slm_train_config_n_keys; i++) {
        bool ok = set_field(c, &slm_train_config_keys[i], slm_train_config_keys[i].defval, why,
                            sizeof why);
        SLM_ASSERT(ok); /* the table's own defaults must parse */
    }
}

void slm_train_config_free(slm_train_config *c) {
    for (int i = 0; i < slm_train_config_n_keys; i++)
        if (slm_train_config_keys[i].kind == SLM_CFG_STR) {
            char **f = (char **)((char *)c + slm_train_config_keys[i].offset);
            free(*f);
            *f = NULL;
        }
}

typedef struct {
    slm_train_config *c;
    char err[512]; /* first error */
} ini_ctx;

static int on_ini_key(void *user, const char *section, const char *name, const char *value) {
    ini_ctx *x = user;
    const slm_cfg_key *k = find_key(section, name);
    if (!k) {
        if (!x->err[0]) {
            bool sec_known = false;
            for (int i = 0; i < slm_train_config_n_keys; i++)
                if (!strcmp(slm_train_config_keys[i].section, section)) sec_known = true;
            if (sec_known)
                snprintf(x->err, sizeof x->err,
                         "unknown key '%s' in section [%s] (see docs/config.md)", name, section);
            else
                snprintf(x->err, sizeof x->err,
                         "unknown key '%s' in unknown section [%s] (sections: model, lora, data, optim, train, output)",
                         name, section);
        }
        return 0;
    }
    char why[256];
    if (!set_field(x->c, k, value, why, sizeof why)) {
        if (!x->err[0])
            snprintf(x->err, sizeof x->err, "bad value for %s.%s: %s", section, name, why);
        return 0;
    }
    return 1;
}

static slm_status report(int rc, ini_ctx *x, const char *where) {
    if (rc == 0) return SLM_OK;
    if (rc == -1) {
        slm_log_error("cannot open config '%s': %s", where, strerror(errno));
        return SLM_ERR_IO;
    }
    if (rc == -2) return SLM_ERR_NOMEM;
    slm_log_error("%s:%d: %s", where, rc, x->err[0] ? x->err : "syntax error (expected [section] or key = value)");
    return SLM_ERR_USAGE;
}

/* Read whole, then parsed: inih's own file loop stops at a read error as at
 * the end of the file, so a failed read(2) gave a config cut short and a
 * job with other settings (found by tests/e2e/test_harden_reads.sh). */
slm_status slm_train_config_load_file(slm_train_config *c, const char *path) {
    char *text = NULL;
    size_t len = 0;
    slm_status st = slm_read_file(path, &text, &len);
    if (st == SLM_ERR_USAGE) return SLM_ERR_IO; /* missing file: exit 1 as before */
    if (st != SLM_OK) return st;
    st = slm_train_config_load_string(c, text, path);
    free(text);
    return st;
}

slm_status slm_train_config_load_string(slm_train_config *c, const char *text,
                                        const char *where) {
    slm_status st = check_lines(text, where);
    if (st != SLM_OK) return st;
    ini_ctx x = {.c = c};
    return report(ini_parse_string(text, on_ini_key, &x), &x, where);
}

slm_status slm_train_config_set(slm_train_config *c, const char *assignment,
                                const char *where) {
    const char *dot = strchr(assignment, '.'), *eq = strchr(assignment, '=');
    if (!dot || !eq || dot > eq) {
        slm_log_error("%s '%s': expected section.key=value (e.g. optim.lr=1e-3)", where,
                      assignment);
        return SLM_ERR_USAGE;
    }
    char section[64], name[64];
    size_t ls = (size_t)(dot - assignment), ln = (size_t)(eq - dot - 1);
    if (ls >= sizeof section || ln >= sizeof name) {
        slm_log_error("%s '%s': key too long", where, assignment);
        return SLM_ERR_USAGE;
    }
    memcpy(section, assignment, ls);
    section[ls] = 0;
    memcpy(name, dot + 1, ln);
    name[ln] = 0;
    const slm_cfg_key *k = find_key(section, name);
    if (!k) {
        slm_log_error("%s '%s': unknown key %s.%s (see docs/config.md)", where, assignment,
                      section, name);
        return SLM_ERR_USAGE;
    }
    char why[256];
    if (!set_field(c, k, eq + 1, why, sizeof why)) {
        slm_log_error("%s '%s': bad value for %s.%s: %s", where, assignment, section, name, why);
        return SLM_ERR_USAGE;
    }
    return SLM_OK;
}

static void value_text(const slm_train_config *c, const slm_cfg_key *k, char *out, size_t cap) {
    const char *f = (const char *)c + k->offset;
    switch (k->kind) {
    case SLM_CFG_STR: snprintf(out, cap, "%s", *(char *const *)f ? *(char *const *)f : ""); break;
    case SLM_CFG_INT: snprintf(out, cap, "%lld", (long long)*(const int64_t *)f); break;
    case SLM_CFG_FLOAT: snprintf(out, cap, "%.9g", *(const double *)f); break;
    case SLM_CFG_BOOL: snprintf(out, cap, "%s", *(const bool *)f ? "true" : "false"); break;
    case SLM_CFG_ENUM: choice_name(k->choices, *(const int64_t *)f, out, cap); break;
    }
}

char *slm_train_config_to_ini(const slm_train_config *c) {
    size_t cap = 256;
    for (int i = 0; i < slm_train_config_n_keys; i++) {
        const slm_cfg_key *k = &slm_train_config_keys[i];
        cap += 96 + (k->kind == SLM_CFG_STR && *(char *const *)((const char *)c + k->offset)
                         ? strlen(*(char *const *)((const char *)c + k->offset))
                         : 0);
    }
    char *s = slm_alloc(cap);
    if (!s) return NULL;
    size_t n = 0;
    const char *sec = "";
    for (int i = 0; i < slm_train_config_n_keys; i++) {
        const slm_cfg_key *k = &slm_train_config_keys[i];
        char v[4096];
        value_text(c, k, v, sizeof v);
        if (strcmp(sec, k->section))
            n += (size_t)snprintf(s + n, cap - n, "%s[%s]\n", n ? "\n" : "", k->section);
        sec = k->section;
        n += (size_t)snprintf(s + n, cap - n, "%s = %s\n", k->name, v);
    }
    return s;
}

slm_status slm_train_config_check_compat(const slm_train_config *ckpt,
                                         const slm_train_config *now) {
    slm_status st = SLM_OK;
    for (int i = 0; i < slm_train_config_n_keys; i++) {
        const slm_cfg_key *k = &slm_train_config_keys[i];
        if (!k->compat) continue;
        /* LoRA keys matter only in lora mode, model shape keys only in pretrain */
        if (!strcmp(k->section, "lora") && now->mode != SLM_MODE_LORA) continue;
        if (!strcmp(k->section, "model") && strcmp(k->name, "mode") &&
            now->mode != SLM_MODE_PRETRAIN)
            continue;
        char a[4096], b[4096];
        value_text(ckpt, k, a, sizeof a);
        value_text(now, k, b, sizeof b);
        if (strcmp(a, b)) {
            slm_log_error("checkpoint was made with %s.%s = %s but the config now says %s; "
                          "resume with the original value or use a new output.dir",
                          k->section, k->name, a, b);
            st = SLM_ERR_USAGE;
        }
    }
    return st;
}

slm_status slm_train_config_validate(const slm_train_config *c) {
#define BAD(...) do { slm_log_error(__VA_ARGS__); return SLM_ERR_USAGE; } while (0)
    if (c->mode == SLM_MODE_PRETRAIN) {
        if (!c->vocab[0]) BAD("config: model.mode = pretrain needs model.vocab (a vocabulary GGUF)");
        int64_t kv = c->kv_heads ? c->kv_heads : c->heads;
        if (c->dim % c->heads)
            BAD("config: model.dim = %lld is not a multiple of model.heads = %lld",
                (long long)c->dim, (long long)c->heads);
        if ((c->dim / c->heads) % 2)
            BAD("config: head size model.dim / model.heads = %lld must be even (RoPE rotates pairs)",
                (long long)(c->dim / c->heads));
        if (c->heads % kv)
            BAD("config: model.kv_heads = %lld does not divide model.heads = %lld",
                (long long)kv, (long long)c->heads);
    } else if (!c->base[0]) {
        BAD("config: model.mode = %s needs model.base (a GGUF model)",
            slm_train_mode_name((slm_train_mode)c->mode));
    }
    if (!c->train[0]) BAD("config: data.train is empty (a .h5 dataset or a text file)");
    if (!c->dir[0]) BAD("config: output.dir is empty");
    if (c->min_lr > c->lr)
        BAD("config: optim.min_lr = %g is above optim.lr = %g", c->min_lr, c->lr);
    if (c->warmup >= c->steps && c->warmup > 0)
        BAD("config: optim.warmup = %lld is not below train.steps = %lld", (long long)c->warmup,
            (long long)c->steps);
    /* lora.targets is parsed by slm_lora_parse_targets when the model is built */
    return SLM_OK;
#undef BAD
}

void slm_train_config_write_doc(FILE *f) {
    fprintf(f, "# slm train configuration reference\n\n"
               "Generated from the key table in train/config.c (`slm train --config-doc`);\n"
               "do not edit by hand.  A job is an INI file (`[section]`, `key = value`, `#` or\n"
               "`;` comments) plus `--set section.key=value` overrides: defaults < file < --set.\n"
               "Unknown sections or keys and values of the wrong type or out of range are\n"
               "errors (exit 2) naming the file, the line and the key.  Paths are relative to\n"
               "the current directory.  Keys marked *resume* must be equal when a run is\n"
               "resumed from a checkpoint (model shape keys only in pretrain mode, lora keys\n"
               "only in lora mode).  Lines are limited to %d characters, and so is the\n"
               "`key = value` line of a string value (the INI reader's buffer; use a shorter\n"
               "path, e.g. a symbolic link).\n", INI_LINE_MAX);
    const char *sec = "";
    for (int i = 0; i < slm_train_config_n_keys; i++) {
        const slm_cfg_key *k = &slm_train_config_keys[i];
        if (strcmp(sec, k->section))
            fprintf(f, "\n## [%s]\n\n| key | type | default | meaning |\n|---|---|---|---|\n",
                    k->section);
        sec = k->section;
        char type[96];
        switch (k->kind) {
        case SLM_CFG_STR: snprintf(type, sizeof type, "string"); break;
        case SLM_CFG_INT: snprintf(type, sizeof type, "int [%.0f, %s]", k->min, k->max >= BIG ? "..." : ""); break;
        case SLM_CFG_FLOAT: snprintf(type, sizeof type, "float [%g, %g]", k->min, k->max); break;
        case SLM_CFG_BOOL: snprintf(type, sizeof type, "bool"); break;
        case SLM_CFG_ENUM: snprintf(type, sizeof type, "%s", k->choices); break;
        }
        if (k->kind == SLM_CFG_INT && k->max < BIG) {
            snprintf(type, sizeof type, "int [%.0f, %.0f]", k->min, k->max);
        }
        char type_md[128];
        size_t o = 0;
        for (const char *p = type; *p && o + 2 < sizeof type_md; p++) {
            if (*p == '|') type_md[o++] = '\\';
            type_md[o++] = *p;
        }
        type_md[o] = 0;
        char def[96];
        snprintf(def, sizeof def, k->defval[0] ? "`%s`" : "(empty)", k->defval);
        fprintf(f, "| `%s` | %s | %s | %s%s |\n", k->name, type_md, def, k->help,
                k->compat ? " *(resume)*" : "");
    }
}
