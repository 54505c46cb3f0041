/* cli/opts.c — table-driven option parsing and generated usage text. */
#include "cli/opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int set_value(const char *cmd, const slm_opt *o, const char *val) {
    char *end = NULL;
    errno = 0;
    switch (o->kind) {
    case SLM_OPT_STR:
        *(const char **)o->dst = val;
        return 0;
    case SLM_OPT_INT: {
        long long v = strtoll(val, &end, 10);
        if (errno || end == val || *end) break;
        *(int64_t *)o->dst = v;
        return 0;
    }
    case SLM_OPT_FLOAT: {
        double v = strtod(val, &end);
        if (errno || end == val || *end) break;
        *(double *)o->dst = v;
        return 0;
    }
    case SLM_OPT_FLAG:
        if (!strcmp(val, "1") || !strcmp(val, "true")) *(bool *)o->dst = true;
        else if (!strcmp(val, "0") || !strcmp(val, "false")) *(bool *)o->dst = false;
        else break;
        return 0;
    case SLM_OPT_LIST: {
        slm_strlist *l = o->dst;
        const char **nv = realloc(l->v, sizeof *nv * (size_t)(l->n + 1));
        if (!nv) return 2;
        nv[l->n++] = val;
        l->v = nv;
        return 0;
    }
    default:
        break;
    }
    fprintf(stderr, "slm %s: bad value '%s' for --%s (expected %s)\n", cmd, val, o->name,
            o->kind == SLM_OPT_INT ? "an integer" : o->kind == SLM_OPT_FLOAT ? "a number"
                                                                              : "true/false");
    return 2;
}

static const slm_opt *find_long(const slm_opt *opts, const char *name, size_t n) {
    for (const slm_opt *o = opts; o->name; o++)
        if (strlen(o->name) == n && !strncmp(o->name, name, n)) return o;
    return NULL;
}

static const slm_opt *find_short(const slm_opt *opts, char c) {
    for (const slm_opt *o = opts; o->name; o++)
        if (o->short_name && o->short_name == c) return o;
    return NULL;
}

void slm_opts_print_help(const char *cmd, const char *usage, const char *summary,
                         const slm_opt *opts) {
    printf("usage: %s\n\n%s\n\noptions:\n", usage, summary);
    for (const slm_opt *o = opts; o->name; o++) {
        char left[64];
        int n = snprintf(left, sizeof left, "  %c%c%s--%s%s%s", o->short_name ? '-' : ' ',
                         o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ",
                         o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
        printf("%s%*s %s", left, n < 30 ? 30 - n : 1, "", o->help ? o->help : "");
        if (o->defval && o->kind != SLM_OPT_FLAG) printf(" (default: %s)", o->defval);
        printf("\n");
    }
    printf("  -h, --help                     show this help\n");
    (void)cmd;
}

int slm_opts_parse(const char *cmd, const char *usage, const char *summary,
                   const slm_opt *opts, int argc, char **argv, slm_positional *pos) {
    for (const slm_opt *o = opts; o->name; o++)
        if (o->defval && set_value(cmd, o, o->defval)) return 2;
    if (pos) pos->n = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            slm_opts_print_help(cmd, usage, summary, opts);
            return 0;
        }
        const slm_opt *o = NULL;
        const char *val = NULL;
        bool negated = false;
        if (!strcmp(a, "--")) {
            for (i++; i < argc; i++) {
                if (!pos || pos->n >= pos->max) goto extra;
                pos->v[pos->n++] = argv[i];
            }
            break;
        } else if (a[0] == '-' && a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t n = eq ? (size_t)(eq - name) : strlen(name);
            o = find_long(opts, name, n);
            if (!o && n > 3 && !strncmp(name, "no-", 3)) {
                o = find_long(opts, name + 3, n - 3);
                if (o && o->kind != SLM_OPT_FLAG) o = NULL;
                negated = o != NULL;
            }
            if (eq) val = eq + 1;
        } else if (a[0] == '-' && a[1] && !a[2]) {
            o = find_short(opts, a[1]);
        } else {
            if (!pos || pos->n >= pos->max) goto extra;
            pos->v[pos->n++] = argv[i];
            continue;
        }
        if (!o) {
            fprintf(stderr, "slm %s: unknown option '%s' (see 'slm %s --help')\n", cmd, a, cmd);
            return 2;
        }
        if (o->kind == SLM_OPT_FLAG && !val) {
            *(bool *)o->dst = !negated;
            continue;
        }
        if (!val) {
            if (i + 1 >= argc) {
                fprintf(stderr, "slm %s: option --%s needs a value\n", cmd, o->name);
                return 2;
            }
            val = argv[++i];
        }
        if (set_value(cmd, o, val)) return 2;
    }
    return -1;
extra:
    fprintf(stderr, "slm %s: unexpected argument (see 'slm %s --help')\n", cmd, cmd);
    return 2;
}

void slm_strlist_free(slm_strlist *l) {
    free(l->v);
    l->v = NULL;
    l->n = 0;
}
