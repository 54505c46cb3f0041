/* train/report.h — a run directory's self-contained report.html: the
 * resolved configuration, loss / validation-loss / KL curves, learning rate,
 * throughput (inline SVG, no network), and evaluation results.
 *
 * Reads from RUN_DIR: metrics.jsonl (one JSON object per line with "step" and
 * any of "loss", "val_loss", "lr", "grad_norm", "tokens_per_s", "elapsed",
 * "kl", "val_kl"), config.ini (resolved config, optional) and eval.json
 * (optional: an object, or an array of objects, of evaluation results).
 * Writes RUN_DIR/report.html via a temporary file and rename. */
#ifndef SLM_TRAIN_REPORT_H
#define SLM_TRAIN_REPORT_H

#include "core/base.h"

slm_status slm_report_write(const char *run_dir);

#endif
