/* distill/distill_config.c — [distill] keys of `slm distill` on top of the
 * train configuration (see distill_config.h). */
#include "distill/distill_config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/fileio.h"

void slm_distill_config_defaults(slm_distill_config *c) {
    memset(c, 0, sizeof *c);
    slm_train_config_defaults(&c->train);
    c->dump = slm_strdup("");
    c->alpha = 0.5;
    c->temperature = 1.0;
    c->check_data = true;
    c->mask = true;
    c->keep_every = 1;
}

void slm_distill_config_free(slm_distill_config *c) {
    slm_train_config_free(&c->train);
    free(c->dump);
    c->dump = NULL;
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

static bool parse_bool(const char *v, bool *out) {
    if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
        return *out = true, true;
    if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no") || !strcasecmp(v, "off"))
        return *out = false, true;
    return false;
}

/* One [distill] key; where/line for messages (line 0: no line). */
static slm_status set_key(slm_distill_config *c, const char *key, const char *val,
                          const char *where, int line) {
    char loc[512];
    if (line > 0) snprintf(loc, sizeof loc, "%s:%d", where, line);
    else snprintf(loc, sizeof loc, "%s", where);
    char *end = NULL;
    if (!strcmp(key, "dump")) {
        char *d = slm_strdup(val);
        if (!d) return SLM_ERR_NOMEM;
        free(c->dump);
        c->dump = d;
        return SLM_OK;
    }
    if (!strcmp(key, "alpha") || !strcmp(key, "temperature")) {
        double x = strtod(val, &end);
        bool ok = end != val && !*end && isfinite(x) &&
                  (key[0] == 'a' ? x >= 0 && x <= 1 : x > 0 && x <= 100);
        if (!ok) {
            slm_log_error("%s: distill.%s = '%s': expected a number in %s", loc, key, val,
                          key[0] == 'a' ? "[0, 1]" : "(0, 100]");
            return SLM_ERR_USAGE;
        }
        *(key[0] == 'a' ? &c->alpha : &c->temperature) = x;
        return SLM_OK;
    }
    if (!strcmp(key, "keep_every")) {
        long long x = strtoll(val, &end, 10);
        if (end == val || *end || x < 1 || x > 1024) {
            slm_log_error("%s: distill.keep_every = '%s': expected an integer >= 1", loc, val);
            return SLM_ERR_USAGE;
        }
        c->keep_every = x;
        return SLM_OK;
    }
    bool *b = !strcmp(key, "reverse")       ? &c->reverse
              : !strcmp(key, "renormalize") ? &c->renormalize
              : !strcmp(key, "check_data")  ? &c->check_data
              : !strcmp(key, "mask")        ? &c->mask
                                            : NULL;
    if (!b) {
        slm_log_error("%s: unknown key '%s' in section [distill] (keys: dump, alpha, temperature, "
                      "reverse, renormalize, keep_every, check_data, mask)", loc, key);
        return SLM_ERR_USAGE;
    }
    if (!parse_bool(val, b)) {
        slm_log_error("%s: distill.%s = '%s': expected true or false", loc, key, val);
        return SLM_ERR_USAGE;
    }
    return SLM_OK;
}

slm_status slm_distill_config_load_string(slm_distill_config *c, const char *text,
                                          const char *where) {
    /* [distill] lines are parsed here and blanked (line numbers stay) before
     * the rest goes to the train configuration parser. */
    char *rest = slm_strdup(text);
    if (!rest) return SLM_ERR_NOMEM;
    slm_status st = SLM_OK;
    bool in_distill = false;
    int line = 0;
    for (char *p = rest; *p && !st;) {
        char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        line++;
        char buf[4096];
        snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf - 1 ? len : sizeof buf - 1), p);
        char *s = trim(buf);
        if (s[0] == '[') {
            char *e = strchr(s, ']');
            if (e) *e = 0;
            in_distill = !strcasecmp(trim(s + 1), "distill");
        }
        if (in_distill) {
            if (s[0] && s[0] != '[' && s[0] != '#' && s[0] != ';') {
                char *eq = strchr(s, '=');
                if (!eq) {
                    slm_log_error("%s:%d: expected 'key = value' in [distill], found '%s'", where,
                                  line, s);
                    st = SLM_ERR_USAGE;
                    break;
                }
                *eq = 0;
                char *val = trim(eq + 1), *hash = strpbrk(val, "#;");
                if (hash && (hash == val || isspace((unsigned char)hash[-1]))) *hash = 0;
                st = set_key(c, trim(s), trim(val), where, line);
            }
            memset(p, ' ', len); /* blank the line for the train parser */
            if (len) p[0] = ';';
        }
        p += len + (nl ? 1 : 0);
    }
    if (!st) st = slm_train_config_load_string(&c->train, rest, where);
    free(rest);
    return st;
}

slm_status slm_distill_config_load_file(slm_distill_config *c, const char *path) {
    char *text = NULL;
    size_t len = 0;
    slm_status st = slm_read_file(path, &text, &len);
    if (st) return st;
    st = slm_distill_config_load_string(c, text, path);
    free(text);
    return st;
}

slm_status slm_distill_config_set(slm_distill_config *c, const char *a, const char *where) {
    if (strncmp(a, "distill.", 8) != 0) return slm_train_config_set(&c->train, a, where);
    const char *eq = strchr(a, '=');
    if (!eq) {
        slm_log_error("%s '%s': expected distill.key=value", where, a);
        return SLM_ERR_USAGE;
    }
    char key[64];
    snprintf(key, sizeof key, "%.*s", (int)(eq - a - 8), a + 8);
    return set_key(c, trim(key), eq + 1, where, 0);
}

slm_status slm_distill_config_validate(const slm_distill_config *c) {
    slm_status st = slm_train_config_validate(&c->train);
    if (st) return st;
    if (!c->dump[0]) {
        slm_log_error("config: distill.dump is empty (a logit dump from `slm dump-logits`)");
        return SLM_ERR_USAGE;
    }
    if (c->keep_every > 1 && c->train.mode == SLM_MODE_PRETRAIN) {
        slm_log_error("config: distill.keep_every = %lld needs model.base (blocks are kept from "
                      "it); model.mode = pretrain builds the student from scratch",
                      (long long)c->keep_every);
        return SLM_ERR_USAGE;
    }
    if (c->keep_every > 1 && c->train.mode == SLM_MODE_LORA) {
        slm_log_error("config: distill.keep_every > 1 with model.mode = lora is refused: the "
                      "adapter would not fit the original base; use model.mode = full");
        return SLM_ERR_USAGE;
    }
    return SLM_OK;
}

char *slm_distill_config_to_ini(const slm_distill_config *c) {
    char *t = slm_train_config_to_ini(&c->train);
    if (!t) return NULL;
    size_t n = strlen(t) + strlen(c->dump) + 512;
    char *out = slm_alloc(n);
    if (out)
        snprintf(out, n,
                 "%s\n[distill]\ndump = %s\nalpha = %.17g\ntemperature = %.17g\nreverse = %s\n"
                 "renormalize = %s\nkeep_every = %lld\ncheck_data = %s\nmask = %s\n",
                 t, c->dump, c->alpha, c->temperature, c->reverse ? "true" : "false",
                 c->renormalize ? "true" : "false", (long long)c->keep_every,
                 c->check_data ? "true" : "false", c->mask ? "true" : "false");
    free(t);
    return out;
}
