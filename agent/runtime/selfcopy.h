/* The sealed in-memory copy of the minik binary that shims and container inits run from
 * (CVE-2019-5736: a container that reaches /proc/<pid>/exe can write neither to the
 * binary on the host nor to the copy).
 *
 * The copy holds only what the kernel and the dynamic loader read — the ELF headers and
 * the loadable segments — not the debug info and symbol tables after them, and one copy
 * serves every container a process starts (it is immutable once sealed), so a node with
 * many pods keeps one ~1 MB copy rather than one full binary per container. */
#ifndef MINIK_RUNTIME_SELFCOPY_H
#define MINIK_RUNTIME_SELFCOPY_H

#include <sys/types.h>

#include "lib/error.h"

/* A new O_CLOEXEC descriptor of this process's sealed copy of /proc/self/exe, made on the
 * first call (thread-safe). The caller owns (and closes) the returned fd. */
int minik_selfcopy_fd(minik_error_t **err);

/* How many leading bytes of the ELF file fd (of size file_size) an exec needs: through the
 * end of the program headers and of every segment's file contents. Fails with a message
 * naming what is wrong when fd is not a well-formed ELF file of this machine's class. */
int minik_selfcopy_exec_size(int fd, off_t file_size, off_t *out, minik_error_t **err);

#endif
