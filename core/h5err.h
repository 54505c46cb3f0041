/* core/h5err.h — HDF5 error reporting for slm's HDF5 readers and writers:
 * HDF5's own error stack printing is silenced (its multi-line traces are
 * noise to a user) and the stack is summarised in one phrase for slm's
 * message instead — the operating system's reason when there is one (the
 * sec2 driver records "errno = N, error message = '...'"), else the
 * innermost HDF5 description.
 *
 *   slm_h5_quiet();
 *   if (H5Dwrite(...) < 0) {
 *       char why[160];
 *       slm_log_error("cannot write '%s': %s", path, slm_h5_reason(why, sizeof why));
 *   }
 */
#ifndef SLM_CORE_H5ERR_H
#define SLM_CORE_H5ERR_H

#include <stddef.h>

/* Replaces HDF5's printing error handler by one that records (per thread)
 * the first failure from now on; call at the start of an HDF5 operation. */
void slm_h5_quiet(void);
/* The recorded failure summarised into buf (strerror of the system call's
 * errno when HDF5 recorded one, else HDF5's innermost description, else
 * strerror(errno)); returns buf and forgets the record. */
const char *slm_h5_reason(char *buf, size_t cap);
/* H5dont_atexit(): must precede every other HDF5 call (cli/main.c calls it
 * first).  HDF5 1.10 keeps a file whose H5Fclose failed (disk full, EFBIG)
 * in its tables and its exit-time teardown then crashes closing it again
 * (found by tests/e2e/test_harden_faults.sh: SIGSEGV in H5F__close_cb after
 * a checkpoint write hit the file size limit).  slm closes every file it
 * commits itself, so nothing depends on that teardown. */
void slm_h5_no_atexit(void);
/* File access property list for files slm writes (caller H5Pclose's it):
 * HDF5 1.10's data sieve buffer is off.  With it, a failed write of a small
 * contiguous dataset (offsets, source lists) is written at H5Dclose and its
 * error lost: one EIO gave a wrong file and success (found by
 * tests/e2e/test_harden_faults.sh).  Without it the write fails in H5Dwrite. */
long long slm_h5_write_fapl(void);
/* errno of the first recorded failed system call, or 0. */
int slm_h5_errno(void);
/* After a failed HDF5 call that reads `path`: when a system call failed
 * underneath (EIO, ...: the file may be fine, the disk is not), logs
 * "<path>: read failed: <errno text>", forgets the record and returns
 * SLM_ERR_IO (exit 1); otherwise returns SLM_ERR_FORMAT and logs nothing:
 * the caller says what is wrong with the content (exit 2). */
int slm_h5_read_status(const char *path);

#endif
