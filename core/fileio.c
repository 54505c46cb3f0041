/* core/fileio.c — atomic output files (see fileio.h). */
#include "core/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <libgen.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/mapguard.h"

/* pid of "<base>.tmp.<pid>" or 0 when name is not a temporary of base */
static long tmp_owner(const char *name, const char *base) {
    size_t bl = strlen(base);
    if (strncmp(name, base, bl) != 0 || strncmp(name + bl, ".tmp.", 5) != 0) return 0;
    const char *p = name + bl + 5;
    if (!*p) return 0;
    for (const char *c = p; *c; c++)
        if (*c < '0' || *c > '9') return 0;
    return atol(p);
}

int64_t slm_remove_stale_tmps(const char *path) {
    char *dcopy = slm_strdup(path), *bcopy = slm_strdup(path);
    int64_t removed = 0;
    DIR *d = NULL;
    if (!dcopy || !bcopy) goto done;
    const char *dir = dirname(dcopy), *base = basename(bcopy);
    if (!(d = opendir(dir))) goto done;
    for (struct dirent *e; (e = readdir(d));) {
        long pid = tmp_owner(e->d_name, base);
        if (pid <= 0 || pid == (long)getpid()) continue;
        /* alive (or not ours to signal): another writer is busy with it */
        if (kill((pid_t)pid, 0) == 0 || errno == EPERM) continue;
        size_t n = strlen(dir) + strlen(e->d_name) + 2;
        char *p = slm_alloc(n);
        if (!p) break;
        snprintf(p, n, "%s/%s", dir, e->d_name);
        if (unlink(p) == 0) {
            slm_log_warn("removed '%s', left by a writer (pid %ld) that did not finish", p, pid);
            removed++;
        }
        free(p);
    }
done:
    if (d) closedir(d);
    free(dcopy);
    free(bcopy);
    return removed;
}

char *slm_tmp_path_for(const char *path) {
    slm_remove_stale_tmps(path);
    size_t n = strlen(path) + 32;
    char *tmp = slm_alloc(n);
    if (tmp) {
        snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
        slm_mapguard_add_tmp(tmp); /* removed if a mapped input fails (core/mapguard.h) */
    }
    return tmp;
}

static slm_status fsync_dir_of(const char *path) {
    char *copy = slm_strdup(path);
    if (!copy) return SLM_ERR_NOMEM;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd); /* best effort: some filesystems refuse fsync on directories */
        close(fd);
    }
    free(copy);
    return SLM_OK;
}

slm_status slm_commit_tmp(const char *tmp, const char *path) {
    slm_mapguard_remove_tmp(tmp);
    int fd = open(tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        slm_log_error("cannot fsync '%s': %s", tmp, strerror(errno));
        if (fd >= 0) close(fd);
        unlink(tmp);
        return SLM_ERR_IO;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        slm_log_error("cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
        unlink(tmp);
        return SLM_ERR_IO;
    }
    return fsync_dir_of(path);
}

slm_status slm_outfile_open(slm_outfile *of, const char *path) {
    memset(of, 0, sizeof *of);
    of->path = slm_strdup(path);
    of->tmp_path = slm_tmp_path_for(path);
    if (!of->path || !of->tmp_path) {
        slm_outfile_abort(of);
        return SLM_ERR_NOMEM;
    }
    of->fp = fopen(of->tmp_path, "wb");
    if (!of->fp) {
        slm_log_error("cannot create '%s': %s", of->tmp_path, strerror(errno));
        free(of->path);
        free(of->tmp_path);
        memset(of, 0, sizeof *of);
        return SLM_ERR_IO;
    }
    return SLM_OK;
}

slm_status slm_outfile_write(slm_outfile *of, const void *buf, size_t n) {
    if (n && fwrite(buf, 1, n, of->fp) != n) {
        slm_log_error("cannot write '%s': %s", of->path, strerror(errno));
        return SLM_ERR_IO;
    }
    return SLM_OK;
}

slm_status slm_outfile_pad(slm_outfile *of, size_t n) {
    static const char zeros[64];
    while (n > 0) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        slm_status st = slm_outfile_write(of, zeros, k);
        if (st != SLM_OK) return st;
        n -= k;
    }
    return SLM_OK;
}

slm_status slm_outfile_commit(slm_outfile *of) {
    slm_status st = SLM_OK;
    if (fflush(of->fp) != 0 || fsync(fileno(of->fp)) != 0) {
        slm_log_error("cannot write '%s': %s", of->path, strerror(errno));
        st = SLM_ERR_IO;
    }
    if (fclose(of->fp) != 0 && st == SLM_OK) {
        slm_log_error("cannot close '%s': %s", of->path, strerror(errno));
        st = SLM_ERR_IO;
    }
    of->fp = NULL;
    if (st == SLM_OK) st = slm_commit_tmp(of->tmp_path, of->path);
    else {
        slm_mapguard_remove_tmp(of->tmp_path);
        unlink(of->tmp_path);
    }
    free(of->path);
    free(of->tmp_path);
    memset(of, 0, sizeof *of);
    return st;
}

void slm_outfile_abort(slm_outfile *of) {
    if (of->tmp_path) slm_mapguard_remove_tmp(of->tmp_path);
    if (of->fp) fclose(of->fp);
    if (of->tmp_path) unlink(of->tmp_path);
    free(of->path);
    free(of->tmp_path);
    memset(of, 0, sizeof *of);
}

slm_status slm_lock_path(const char *path, const char *who, int *fd_out) {
    char lp[4096];
    snprintf(lp, sizeof lp, "%s.lock", path);
    for (int attempt = 0; attempt < 8; attempt++) {
        int fd = open(lp, O_RDWR | O_CREAT, 0666);
        if (fd < 0) {
            slm_log_error("cannot create '%s': %s", lp, strerror(errno));
            return SLM_ERR_IO;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            slm_log_error("'%s' is being written by another %s (lock '%s' held); wait for it or "
                          "choose another output", path, who, lp);
            close(fd);
            return SLM_ERR_LOCKED;
        }
        /* the holder may have removed the file between our open and flock */
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(lp, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
            *fd_out = fd;
            return SLM_OK;
        }
        close(fd);
    }
    slm_log_error("cannot lock '%s': it keeps being replaced", lp);
    return SLM_ERR_LOCKED;
}

void slm_unlock_path(const char *path, int fd) {
    if (fd < 0) return;
    char lp[4096];
    snprintf(lp, sizeof lp, "%s.lock", path);
    unlink(lp);
    close(fd);
}

slm_status slm_read_file(const char *path, char **data, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        slm_log_error("cannot open '%s': %s", path, strerror(errno));
        return errno == ENOENT ? SLM_ERR_USAGE : SLM_ERR_IO;
    }
    size_t cap = 1 << 16, n = 0;
    int read_errno = 0;
    char *buf = slm_alloc(cap + 1);
    while (buf) {
        errno = 0;
        size_t got = fread(buf + n, 1, cap - n, fp);
        if (got < cap - n) read_errno = errno;
        n += got;
        if (n < cap) break;
        char *nb = realloc(buf, cap * 2 + 1);
        if (!nb) { free(buf); buf = NULL; break; }
        buf = nb;
        cap *= 2;
    }
    int err = ferror(fp);
    fclose(fp);
    if (!buf) return SLM_ERR_NOMEM;
    if (err) {
        slm_log_error("cannot read '%s': %s", path, read_errno ? strerror(read_errno) : "read error");
        free(buf);
        return SLM_ERR_IO;
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return SLM_OK;
}

slm_status slm_mkdirs(const char *path) {
    char *p = slm_strdup(path);
    if (!p) return SLM_ERR_NOMEM;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s) continue;
        char c = *s;
        *s = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            slm_log_error("cannot create directory '%s': %s", p, strerror(errno));
            free(p);
            return SLM_ERR_IO;
        }
        *s = c;
        if (!c) break;
    }
    free(p);
    return SLM_OK;
}

slm_status slm_lock_dir(const char *dir, const char *who, int *fd_out) {
    char path[4096];
    snprintf(path, sizeof path, "%s/.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0666);
    if (fd < 0) {
        slm_log_error("cannot open '%s': %s", path, strerror(errno));
        return SLM_ERR_IO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        slm_log_error("'%s' is used by another %s job (lock %s held)", dir, who, path);
        close(fd);
        return SLM_ERR_LOCKED;
    }
    *fd_out = fd;
    return SLM_OK;
}

bool slm_same_file(const char *a, const char *b) {
    struct stat sa, sb;
    if (!strcmp(a, b)) return true;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
