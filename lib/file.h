/* File-system helpers with the durability rules minik relies on. */
#ifndef MINIK_FILE_H
#define MINIK_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Read a whole file into a NUL-terminated buffer the caller owns. Files larger than
 * max_size are refused (so untrusted paths cannot exhaust memory). */
int minik_file_read(const char *path, size_t max_size, char **out, size_t *out_len,
                    minik_error_t **err);

/* Replace `path` atomically and durably: write a temp file beside it, fsync it, rename it
 * over `path`, then fsync the directory. Readers see the old or the new content, never a
 * mix, and after return the new content survives power loss. */
int minik_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                            minik_error_t **err);

/* mkdir -p; existing directories are fine. */
int minik_mkdir_p(const char *path, mode_t mode, minik_error_t **err);

/* rm -rf that never crosses into another mount (so a forgotten bind mount inside a
 * container directory cannot make us delete the host's files). A missing path is fine. */
int minik_rm_rf(const char *path, minik_error_t **err);

#endif
