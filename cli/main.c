/* cli/main.c — `slm CMD [options]`: git-style dispatch to cli/cmd_*.c.
 * Commands not yet built are weak stubs that say so (exit 1). */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/base.h"
#include "core/h5err.h"
#include "core/mapguard.h"

#define SLM_WEAK_CMD(name, help)                                                            \
    __attribute__((weak)) int slm_cmd_##name(int argc, char **argv) {                       \
        (void)argc;                                                                         \
        (void)argv;                                                                         \
        fprintf(stderr, "slm: command '%s' is not implemented in this build\n", #name);     \
        return 1;                                                                           \
    }
SLM_COMMANDS(SLM_WEAK_CMD)

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} command;

#define SLM_CMD_ENTRY(name, help) {#name, slm_cmd_##name, help},
static const command commands[] = {SLM_COMMANDS(SLM_CMD_ENTRY){NULL, NULL, NULL}};

static void usage(FILE *f) {
    fprintf(f, "usage: slm COMMAND [options]   (slm help COMMAND, slm COMMAND --help)\n\n"
               "slm turns a company's own text into a small language model on CPUs.\n\n"
               "commands:\n");
    for (const command *c = commands; c->name; c++) {
        char name[32];
        snprintf(name, sizeof name, "%s", c->name);
        for (char *p = name; *p; p++)
            if (*p == '_') *p = '-';
        fprintf(f, "  %-14s %s\n", name, c->help);
    }
}

static const command *find(const char *name) {
    char key[32];
    snprintf(key, sizeof key, "%s", name);
    for (char *p = key; *p; p++)
        if (*p == '-') *p = '_';
    for (const command *c = commands; c->name; c++)
        if (!strcmp(c->name, key)) return c;
    return NULL;
}

int main(int argc, char **argv) {
    slm_h5_no_atexit(); /* see core/h5err.h: no HDF5 teardown at exit after a failed close */
    slm_mapguard_install(); /* SIGBUS on a mapped input: error naming the file, exit 1 */
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "-h") || !strcmp(name, "--help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(name, "help")) {
        if (argc < 3) {
            usage(stdout);
            return 0;
        }
        const command *c = find(argv[2]);
        if (!c) goto unknown;
        char *help_argv[] = {"--help", NULL};
        return c->fn(1, help_argv);
    }
    if (!strcmp(name, "--version")) {
        printf("slm %s\n", SLM_VERSION);
        return 0;
    }
    const command *c = find(name);
    if (c) return c->fn(argc - 2, argv + 2);
unknown:
    fprintf(stderr, "slm: unknown command '%s'\n\n", argc >= 3 && !strcmp(name, "help") ? argv[2] : name);
    usage(stderr);
    return 2;
}
