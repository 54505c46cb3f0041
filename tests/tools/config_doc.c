/* tests/tools/config_doc.c — prints docs/config.md from the key table in
 * train/config.c (same text as `slm train --config-doc`). */
#include <stdio.h>

#include "train/config.h"

int main(void) {
    slm_train_config_write_doc(stdout);
    return 0;
}
