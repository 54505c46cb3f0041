/* tests/fuzz/seeds_config.c — seeds for fuzz_config: the resolved INI that
 * slm's own config printer writes (defaults, and after --set overrides of
 * every section), plus the shipped configs/ files copied by run.sh's corpus
 * step.  usage: seeds_config DIR */
#include <stdio.h>
#include <stdlib.h>

#include "train/config.h"

static int put(const char *dir, const char *name, const slm_train_config *c) {
    char p[1024];
    snprintf(p, sizeof p, "%s/seed-%s.ini", dir, name);
    char *t = slm_train_config_to_ini(c);
    FILE *f = fopen(p, "wb");
    if (!t || !f) return 1;
    fputs(t, f);
    free(t);
    return fclose(f) != 0;
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    slm_train_config c;
    slm_train_config_defaults(&c);
    int bad = put(argv[1], "defaults", &c);
    const char *sets[] = {"model.mode=lora", "model.base=base.gguf", "lora.rank=4",
                          "lora.targets=attn_q,attn_v", "data.train=t.h5", "optim.schedule=linear",
                          "train.steps=3", "output.dir=run", "model.tied=false"};
    for (unsigned i = 0; i < sizeof sets / sizeof *sets; i++) bad |= slm_train_config_set(&c, sets[i], "--set") != 0;
    bad |= put(argv[1], "lora", &c);
    slm_train_config_free(&c);
    return bad;
}
