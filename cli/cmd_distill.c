/* cli/cmd_distill.c — `slm distill --config C.ini [--set section.key=value ...] [--out DIR]`. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "train/dist.h"
#include "distill/distill_job.h"

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

int slm_cmd_distill(int argc, char **argv) {
    const char *config = NULL, *out = NULL;
    slm_strlist sets = {0};
    bool dry = false, quiet = false;
    slm_opt opts[] = {
        {"config", 'c', SLM_OPT_STR, &config, NULL, "FILE",
         "job configuration (INI: the sections of slm train plus [distill]; configs/distill.ini)"},
        {"set", 's', SLM_OPT_LIST, &sets, NULL, "SEC.KEY=V", "override a config key (repeatable)"},
        {"out", 'o', SLM_OPT_STR, &out, NULL, "DIR", "run directory (same as --set output.dir=DIR)"},
        {"print-config", 0, SLM_OPT_FLAG, &dry, NULL, NULL, "print the resolved config and exit"},
        {"quiet", 'q', SLM_OPT_FLAG, &quiet, NULL, NULL, "no progress output and no resolved config on stderr (it is in DIR/config.ini)"},
        {0},
    };
    int rc = slm_opts_parse("distill", "slm distill --config C.ini [--set section.key=value ...] [--out DIR]",
                            "Train a student on a teacher's logit dump (docs/distillation.md):\n"
                            "loss = alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE.\n"
                            "Checkpoints, resume and metrics as slm train; writes DIR/student.gguf.",
                            opts, argc, argv, NULL);
    if (rc >= 0) {
        slm_strlist_free(&sets);
        return rc;
    }
    slm_distill_config c;
    slm_distill_config_defaults(&c);
    slm_status st = SLM_OK;
    if (config) st = slm_distill_config_load_file(&c, config);
    for (int i = 0; !st && i < sets.n; i++) st = slm_distill_config_set(&c, sets.v[i], "--set");
    if (!st && out) {
        free(c.train.dir);
        if (!(c.train.dir = strdup(out))) st = SLM_ERR_NOMEM;
    }
    if (!st && !config && sets.n == 0) {
        fprintf(stderr, "slm distill: --config is required (see 'slm distill --help', configs/distill.ini)\n");
        st = SLM_ERR_USAGE;
    }
    if (!st) st = slm_distill_config_validate(&c);
    if (!st && dry) {
        char *text = slm_distill_config_to_ini(&c);
        if (text) fputs(text, stdout);
        free(text);
    } else if (!st) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESETHAND;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        slm_trainer_result res;
        /* mpirun -np N: N data-parallel ranks (docs/mpi.md) */
        st = slm_dist_init();
        if (!st) st = slm_distill_job_run(&c, &stop_requested, !quiet, &res);
        if (st && st != SLM_ERR_INTERRUPTED && slm_dist_size() > 1)
            slm_dist_abort(slm_status_exit_code(st));
        const bool writer = slm_dist_rank() == 0;
        slm_dist_finalize();
        if (!st && writer) {
            /* loss: the training objective (alpha KD + (1-alpha) CE); val CE: plain
             * cross-entropy on the val split, "-" when there is none */
            char val[32] = "-";
            if (isfinite(res.val_loss)) snprintf(val, sizeof val, "%.4f", res.val_loss);
            printf("distill: %lld steps, loss (KD+CE) %.4f, val CE %s, student %s/student.gguf\n",
                   (long long)res.step, res.loss, val, c.train.dir);
        }
    }
    slm_distill_config_free(&c);
    slm_strlist_free(&sets);
    return slm_status_exit_code(st);
}
