/* train/config.h — the INI configuration of a training job.
 *
 * One table (slm_train_config_keys) lists every key with its section, name,
 * type, default, allowed range and help text.  From it come the defaults, the
 * parsing of INI files (inih) and of `--set section.key=value` overrides
 * (precedence: defaults < file < --set), validation, the resolved-config
 * text that is printed and stored in checkpoints, and docs/config.md.
 *
 *   slm_train_config c;
 *   slm_train_config_defaults(&c);
 *   st = slm_train_config_load_file(&c, "job.ini");        // SLM_ERR_USAGE: file:line: key
 *   st = slm_train_config_set(&c, "optim.lr=1e-3", "--set");
 *   st = slm_train_config_validate(&c);
 *   char *text = slm_train_config_to_ini(&c);               // caller frees
 *   slm_train_config_free(&c);                              // frees string values
 */
#ifndef SLM_TRAIN_CONFIG_H
#define SLM_TRAIN_CONFIG_H

#include <stdio.h>

#include "core/base.h"

typedef enum { SLM_MODE_PRETRAIN = 0, SLM_MODE_FULL, SLM_MODE_LORA, SLM_MODE_COUNT } slm_train_mode;

typedef struct {
    /* [model] */
    int64_t mode;       /* slm_train_mode */
    char *base;         /* base GGUF (full, lora) */
    char *vocab;        /* vocabulary GGUF (pretrain) */
    int64_t dim, layers, heads, kv_heads, ffn, ctx;
    double rope_base, rms_eps, init_std;
    bool tied;
    /* [lora] */
    int64_t lora_rank;
    double lora_alpha, lora_dropout;
    bool lora_rslora;
    char *lora_targets;
    /* [data] */
    char *train, *val;
    double val_fraction;
    int64_t seq_len, batch;
    /* [optim] */
    double lr, min_lr, beta1, beta2, eps, weight_decay, grad_clip;
    int64_t schedule; /* slm_sched_kind */
    int64_t warmup, accum;
    bool decay_all;
    /* [train] */
    int64_t steps, seed, eval_every, eval_batches, ckpt_every, keep, threads, log_every;
    /* [output] */
    char *dir;
} slm_train_config;

typedef enum { SLM_CFG_STR, SLM_CFG_INT, SLM_CFG_FLOAT, SLM_CFG_BOOL, SLM_CFG_ENUM } slm_cfg_kind;

typedef struct {
    const char *section;
    const char *name;
    slm_cfg_kind kind;
    size_t offset;       /* into slm_train_config */
    const char *defval;  /* text form; "" = empty string */
    const char *choices; /* ENUM: "a|b|c" (value = index) */
    double min, max;     /* INT/FLOAT inclusive range */
    bool compat;         /* must agree between a checkpoint and a resumed run */
    const char *help;
} slm_cfg_key;

extern const slm_cfg_key slm_train_config_keys[];
extern const int slm_train_config_n_keys;

void slm_train_config_defaults(slm_train_config *c);
void slm_train_config_free(slm_train_config *c);
/* where names the source in messages (file name, "--set", "checkpoint"). */
slm_status slm_train_config_load_file(slm_train_config *c, const char *path);
slm_status slm_train_config_load_string(slm_train_config *c, const char *text,
                                        const char *where);
/* "section.key=value" */
slm_status slm_train_config_set(slm_train_config *c, const char *assignment,
                                const char *where);
/* Cross-key checks (divisibility, required paths per mode). */
slm_status slm_train_config_validate(const slm_train_config *c);
/* Full resolved configuration as INI text (every key); caller frees. */
char *slm_train_config_to_ini(const slm_train_config *c);
/* Keys marked compat that differ between a and b: SLM_ERR_USAGE naming them. */
slm_status slm_train_config_check_compat(const slm_train_config *ckpt,
                                         const slm_train_config *now);
/* Markdown reference of every key (docs/config.md). */
void slm_train_config_write_doc(FILE *f);

const char *slm_train_mode_name(slm_train_mode m);

#endif
