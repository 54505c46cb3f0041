/* cli/cmd_report.c — `slm report RUN_DIR`: (re)generate RUN_DIR/report.html. */
#include <stdio.h>

#include "cli/commands.h"
#include "cli/opts.h"
#include "train/report.h"

int slm_cmd_report(int argc, char **argv) {
    static const slm_opt opts[] = {{0}};
    char *pos_v[1];
    slm_positional pos = {0, pos_v, 1};
    int rc = slm_opts_parse("report", "slm report RUN_DIR",
                            "Write RUN_DIR/report.html: configuration, loss / validation-loss / KL\n"
                            "curves, learning rate and throughput as inline SVG, evaluation results.\n"
                            "Self-contained: opens without network.",
                            opts, argc, argv, &pos);
    if (rc >= 0) return rc;
    if (pos.n != 1) {
        fprintf(stderr, "slm report: expected one RUN_DIR (see 'slm report --help')\n");
        return 2;
    }
    slm_status st = slm_report_write(pos.v[0]);
    if (st == SLM_OK) printf("wrote %s/report.html\n", pos.v[0]);
    return slm_status_exit_code(st);
}
