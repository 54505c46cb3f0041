/* distill/distill_job.h — a whole `slm distill` job from a validated
 * configuration (distill_config.h): student built from scratch, from a GGUF
 * or from the teacher keeping every n-th block; the trainer (train/) with the
 * KD loss as callback; checkpoints, exact resume and metrics as `slm train`;
 * <output.dir>/student.gguf at the end. */
#ifndef SLM_DISTILL_DISTILL_JOB_H
#define SLM_DISTILL_DISTILL_JOB_H

#include <signal.h>

#include "distill/distill_config.h"
#include "train/trainer.h"

slm_status slm_distill_job_run(const slm_distill_config *c, volatile sig_atomic_t *stop,
                               bool progress, slm_trainer_result *res);

#endif
