/* core/fileio.h — atomic output files: every file slm writes goes to a
 * temporary name beside the target, is fsync'd, then renamed over it, so a
 * reader never sees a half-written file and a failure leaves the previous
 * version intact.  Also: whole-file reads and directory fsync.
 *
 *   slm_outfile of;
 *   if ((st = slm_outfile_open(&of, "model.gguf")) != SLM_OK) return st;
 *   st = slm_outfile_write(&of, buf, n);          // checked, names file + errno
 *   ...
 *   st = st == SLM_OK ? slm_outfile_commit(&of) : (slm_outfile_abort(&of), st);
 */
#ifndef SLM_CORE_FILEIO_H
#define SLM_CORE_FILEIO_H

#include <stdio.h>

#include "core/base.h"

typedef struct {
    FILE *fp;
    char *path;     /* final name (owned) */
    char *tmp_path; /* "<path>.tmp.<pid>" (owned) */
} slm_outfile;

slm_status slm_outfile_open(slm_outfile *of, const char *path);
slm_status slm_outfile_write(slm_outfile *of, const void *buf, size_t n);
/* Writes n zero bytes (alignment padding). */
slm_status slm_outfile_pad(slm_outfile *of, size_t n);
/* fflush + fsync + close + rename + fsync(dir).  Frees the paths. */
slm_status slm_outfile_commit(slm_outfile *of);
/* Closes and unlinks the temporary; safe on a zeroed or committed struct. */
void slm_outfile_abort(slm_outfile *of);

/* Temporary name for writers that open files themselves (HDF5): caller frees.
 * Removes stale temporaries of path first (slm_remove_stale_tmps), so every
 * writer (slm_outfile_open included) cleans up after a killed predecessor. */
char *slm_tmp_path_for(const char *path);
/* Deletes "<path>.tmp.<pid>" files whose pid is not a live process (a writer
 * killed before commit; a warning names each).  Temporaries of live processes
 * (a concurrent writer of the same path) are left alone.  Returns how many.
 * Not safe for directories shared between machines (pids are per host). */
int64_t slm_remove_stale_tmps(const char *path);
/* fsync(tmp) + rename(tmp, path) + fsync(dirname(path)); unlinks tmp on failure. */
slm_status slm_commit_tmp(const char *tmp, const char *path);

/* mkdir -p: creates path and its missing parents. */
slm_status slm_mkdirs(const char *path);
/* An exclusive, non-blocking lock on <dir>/.lock held until fd is closed
 * (process exit included).  SLM_ERR_LOCKED, naming `who`, if another holds it. */
slm_status slm_lock_dir(const char *dir, const char *who, int *fd_out);

/* An exclusive, non-blocking lock on "<path>.lock" (created) for a writer
 * that works on files beside path across several steps (a resumable dump's
 * OUT.partial): SLM_ERR_LOCKED naming path and `who` when another process
 * holds it.  slm_unlock_path removes the lock file, then releases it (a
 * locker that opened the removed file sees that and retries). */
slm_status slm_lock_path(const char *path, const char *who, int *fd_out);
void slm_unlock_path(const char *path, int fd);

/* Reads a whole file into a NUL-terminated buffer (caller frees). */
slm_status slm_read_file(const char *path, char **data, size_t *len);
/* True if a and b are the same path or two names of one existing file. */
bool slm_same_file(const char *a, const char *b);

#endif
