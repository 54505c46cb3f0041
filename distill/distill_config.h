/* distill/distill_config.h — the INI configuration of `slm distill`: every
 * section of `slm train` (train/config.h: [model] the student, [lora],
 * [data], [optim], [train], [output]) plus a [distill] section:
 *
 *   [distill]
 *   dump = teacher.h5        logit dump of the teacher over data.train (required)
 *   alpha = 0.5              loss = alpha * T^2 * KD + (1 - alpha) * CE
 *   temperature = 1          T
 *   reverse = false          KL(student || teacher) instead of KL(teacher || student)
 *   renormalize = false      top-k renormalised, no tail bucket
 *   keep_every = 1           student from model.base keeping blocks 0, n, 2n, ...
 *   check_data = true        dump tokens must equal data.train's windows
 *   mask = true              loss only where the dataset's loss mask is set
 *
 * Student: model.mode = pretrain builds it from scratch ([model] shape,
 * model.vocab); full / lora start from model.base (an existing GGUF, e.g.
 * the teacher itself), optionally keeping every n-th block.
 */
#ifndef SLM_DISTILL_DISTILL_CONFIG_H
#define SLM_DISTILL_DISTILL_CONFIG_H

#include "train/config.h"

typedef struct {
    slm_train_config train;
    char *dump;
    double alpha, temperature;
    bool reverse, renormalize, check_data, mask;
    int64_t keep_every;
} slm_distill_config;

void slm_distill_config_defaults(slm_distill_config *c);
void slm_distill_config_free(slm_distill_config *c);
/* Reads the whole file: [distill] here, the other sections through train/config. */
slm_status slm_distill_config_load_file(slm_distill_config *c, const char *path);
slm_status slm_distill_config_load_string(slm_distill_config *c, const char *text,
                                          const char *where);
/* "distill.key=value" or any train key. */
slm_status slm_distill_config_set(slm_distill_config *c, const char *assignment,
                                  const char *where);
slm_status slm_distill_config_validate(const slm_distill_config *c);
/* Resolved INI text: train keys then [distill]; caller frees. */
char *slm_distill_config_to_ini(const slm_distill_config *c);

#endif
