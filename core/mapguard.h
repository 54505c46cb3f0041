/* core/mapguard.h — a clear error instead of a crash when a memory-mapped
 * input cannot be read.  GGUF files are mmap'd (core/gguf_read.c checks
 * every offset against the file size first), so a page that the kernel
 * cannot supply — the file was truncated by another process while mapped,
 * or the disk returned EIO for it — arrives as SIGBUS on the first touch,
 * not as an error code.  The handler installed here names the file and the
 * byte, removes the temporaries of outputs this process was writing (so
 * nothing partial is left; the final names are untouched) and exits 1.
 * A SIGBUS outside every registered mapping keeps its default action.
 *
 *   slm_mapguard_install();                  // once, by cli/main.c
 *   slm_mapguard_add(map, size, path);       // after mmap (gguf_read.c)
 *   slm_mapguard_remove(map);                // before munmap
 */
#ifndef SLM_CORE_MAPGUARD_H
#define SLM_CORE_MAPGUARD_H

#include <stddef.h>

void slm_mapguard_install(void);
/* Registers [addr, addr + len) as a mapping of path (copied); silently not
 * registered when the table (64 mappings) is full. */
void slm_mapguard_add(const void *addr, size_t len, const char *path);
void slm_mapguard_remove(const void *addr);
/* Output temporaries to unlink if the handler fires (core/fileio.c registers
 * every "<path>.tmp.<pid>" it hands out and forgets it when committed). */
void slm_mapguard_add_tmp(const char *tmp);
void slm_mapguard_remove_tmp(const char *tmp);

#endif
