/* core/h5err.c — HDF5 error-stack summaries (see h5err.h).  Instead of
 * printing, HDF5's automatic error handler records the first failure after
 * slm_h5_quiet() (the root cause; HDF5 clears its stack when the next API
 * call starts, so it has to be taken when the failure happens). */
#include "core/h5err.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base.h"

static _Thread_local char first_reason[192];
static _Thread_local int first_errno;

typedef struct {
    int sys_errno;   /* from "errno = N" */
    char inner[128]; /* description of the innermost frame */
} walk_state;

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data) {
    walk_state *w = data;
    const char *d = e->desc ? e->desc : "";
    if (n == 0) snprintf(w->inner, sizeof w->inner, "%s", d);
    const char *p = strstr(d, "errno = ");
    if (p && !w->sys_errno) w->sys_errno = atoi(p + 8);
    return 0;
}

static herr_t record(hid_t stack, void *data) {
    (void)data;
    if (first_reason[0]) return 0;
    walk_state w = {0};
    H5Ewalk2(stack, H5E_WALK_UPWARD, walk_cb, &w);
    if (w.sys_errno) {
        first_errno = w.sys_errno;
        snprintf(first_reason, sizeof first_reason, "%s", strerror(w.sys_errno));
    } else {
        snprintf(first_reason, sizeof first_reason, "%s (HDF5)",
                 w.inner[0] ? w.inner : "unknown error");
    }
    return 0;
}

void slm_h5_quiet(void) {
    H5Eset_auto2(H5E_DEFAULT, record, NULL);
    first_reason[0] = '\0';
    first_errno = 0;
}

void slm_h5_no_atexit(void) { H5dont_atexit(); }

long long slm_h5_write_fapl(void) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0) H5Pset_sieve_buf_size(fapl, 0);
    return (long long)fapl;
}

int slm_h5_errno(void) { return first_errno; }

int slm_h5_read_status(const char *path) {
    if (!first_errno) return SLM_ERR_FORMAT;
    slm_log_error("%s: read failed: %s", path, strerror(first_errno));
    first_reason[0] = '\0';
    first_errno = 0;
    return SLM_ERR_IO;
}

const char *slm_h5_reason(char *buf, size_t cap) {
    if (first_reason[0]) snprintf(buf, cap, "%s", first_reason);
    else snprintf(buf, cap, "%s", errno ? strerror(errno) : "unknown error");
    first_reason[0] = '\0';
    first_errno = 0;
    return buf;
}
