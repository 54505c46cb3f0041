/* cli/opts.h — table-driven option parsing that also generates --help.
 *
 *   const char *model = NULL; int64_t ctx = 0; bool json = false;
 *   slm_opt opts[] = {
 *       {"model", 'm', SLM_OPT_STR, &model, NULL, "FILE", "model GGUF (required)"},
 *       {"ctx", 0, SLM_OPT_INT, &ctx, "0", "N", "window length (0: model's)"},
 *       {"json", 0, SLM_OPT_FLAG, &json, NULL, NULL, "end with one JSON line"},
 *       {0},
 *   };
 *   int rc = slm_opts_parse("eval", "slm eval --model M.gguf --text FILE [options]",
 *                           "Perplexity of a model on a text.", opts, argc, argv, &pos);
 *   if (rc >= 0) return rc;   // 0 after --help, 2 on a usage error (message printed)
 *
 * Options are "--name value", "--name=value" or "-s value"; FLAG takes no
 * value ("--no-name" sets it false).  Defaults (defval strings) are applied
 * before parsing.  Unknown options are errors.  Positional arguments are
 * collected in pos (argv order) unless the table has none and there are some.
 */
#ifndef SLM_CLI_OPTS_H
#define SLM_CLI_OPTS_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    SLM_OPT_STR,   /* const char ** */
    SLM_OPT_INT,   /* int64_t * */
    SLM_OPT_FLOAT, /* double * */
    SLM_OPT_FLAG,  /* bool * */
    SLM_OPT_LIST,  /* slm_strlist *: repeatable, each value appended */
    SLM_OPT_COUNT
} slm_opt_kind;

typedef struct {
    const char **v;
    int n;
} slm_strlist;

typedef struct {
    const char *name;
    char short_name;
    slm_opt_kind kind;
    void *dst;
    const char *defval;
    const char *metavar;
    const char *help;
} slm_opt;

typedef struct {
    int n;
    char **v; /* borrowed from argv */
    int max;  /* capacity of v; more positionals are a usage error */
} slm_positional;

/* Returns -1 when the caller should proceed, 0 after printing --help, 2 after
 * a usage error.  pos may be NULL (then positional arguments are errors). */
int slm_opts_parse(const char *cmd, const char *usage, const char *summary,
                   const slm_opt *opts, int argc, char **argv, slm_positional *pos);
void slm_opts_print_help(const char *cmd, const char *usage, const char *summary,
                         const slm_opt *opts);
void slm_strlist_free(slm_strlist *l);

#endif
