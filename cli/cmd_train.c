/* cli/cmd_train.c — `slm train --config C.ini [--set section.key=value ...] [--out DIR]`. */
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "train/config.h"
#include "train/dist.h"
#include "train/job.h"

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

int slm_cmd_train(int argc, char **argv) {
    const char *config = NULL, *out = NULL;
    slm_strlist sets = {0};
    bool doc = false, dry = false, quiet = false;
    slm_opt opts[] = {
        {"config", 'c', SLM_OPT_STR, &config, NULL, "FILE", "job configuration (INI; see docs/config.md)"},
        {"set", 's', SLM_OPT_LIST, &sets, NULL, "SEC.KEY=V", "override a config key (repeatable)"},
        {"out", 'o', SLM_OPT_STR, &out, NULL, "DIR", "run directory (same as --set output.dir=DIR)"},
        {"print-config", 0, SLM_OPT_FLAG, &dry, NULL, NULL, "print the resolved config and exit"},
        {"config-doc", 0, SLM_OPT_FLAG, &doc, NULL, NULL, "print the reference of every key (docs/config.md)"},
        {"quiet", 'q', SLM_OPT_FLAG, &quiet, NULL, NULL, "no progress output and no resolved config on stderr (it is in DIR/config.ini)"},
        {0},
    };
    int rc = slm_opts_parse("train", "slm train --config C.ini [--set section.key=value ...] [--out DIR]",
                            "Pretrain, fully fine-tune or LoRA fine-tune a Llama model.  An output\n"
                            "directory that holds checkpoints is resumed from the newest readable one.\n"
                            "SIGINT/SIGTERM finish the current step, save a checkpoint and exit 0.",
                            opts, argc, argv, NULL);
    if (rc >= 0) {
        slm_strlist_free(&sets);
        return rc;
    }
    if (doc) {
        slm_train_config_write_doc(stdout);
        slm_strlist_free(&sets);
        return 0;
    }
    slm_train_config c;
    slm_train_config_defaults(&c);
    slm_status st = SLM_OK;
    if (config) st = slm_train_config_load_file(&c, config);
    for (int i = 0; st == SLM_OK && i < sets.n; i++) st = slm_train_config_set(&c, sets.v[i], "--set");
    if (st == SLM_OK && out) {
        free(c.dir);
        if (!(c.dir = strdup(out))) st = SLM_ERR_NOMEM;
    }
    if (st == SLM_OK && !config && sets.n == 0) {
        fprintf(stderr, "slm train: --config is required (see 'slm train --help', configs/*.ini)\n");
        st = SLM_ERR_USAGE;
    }
    if (st == SLM_OK) st = slm_train_config_validate(&c);
    if (st == SLM_OK && dry) {
        char *text = slm_train_config_to_ini(&c);
        if (text) fputs(text, stdout);
        free(text);
    } else if (st == SLM_OK) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESETHAND; /* a second signal stops at once */
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        slm_trainer_result res;
        /* mpirun -np N: N data-parallel ranks (docs/mpi.md) */
        st = slm_dist_init();
        if (st == SLM_OK) st = slm_train_job_run(&c, &stop_requested, !quiet, &res);
        /* a rank that fails alone would leave the others waiting: end them all */
        if (st != SLM_OK && st != SLM_ERR_INTERRUPTED && slm_dist_size() > 1)
            slm_dist_abort(slm_status_exit_code(st));
        slm_dist_finalize();
    }
    slm_train_config_free(&c);
    slm_strlist_free(&sets);
    return slm_status_exit_code(st);
}
