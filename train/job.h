/* train/job.h — a whole `slm train` job from a resolved config: lock the
 * run directory, build the model (pretrain / full / LoRA), the data (HDF5
 * dataset or text tokenized on the fly), resume from its checkpoints if any
 * (refusing another base model or an incompatible config), run the trainer. */
#ifndef SLM_TRAIN_JOB_H
#define SLM_TRAIN_JOB_H

#include <signal.h>

#include "train/config.h"
#include "train/trainer.h"

/* c must be validated.  stop may be NULL.  Returns the trainer's status
 * (SLM_ERR_INTERRUPTED after a stop request, state saved). */
slm_status slm_train_job_run(const slm_train_config *c, volatile sig_atomic_t *stop,
                             bool progress, slm_trainer_result *res);

#endif
