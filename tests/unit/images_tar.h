/* Test helper: build layer tarballs in memory with libarchive (shared by the image unit
 * tests). */
#ifndef MINIK_TESTS_IMAGES_TAR_H
#define MINIK_TESTS_IMAGES_TAR_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/buf.h"

typedef struct ent {
    const char *name;
    mode_t type; /* AE_IFREG, AE_IFDIR, ... */
    const char *data;
    const char *link;     /* symlink target */
    const char *hardlink; /* hardlink target */
    mode_t perm;
    int uid, gid;
    int major, minor;
    const char *xattr, *xval;
    size_t zeros; /* a file of this many zero bytes instead of data */
} ent_t;

/* Append a pax tar of the entries (terminated by one with name == NULL) to out, compressed
 * with filter ("gzip", "zstd" or NULL). */
void make_tar(const ent_t *es, const char *filter, minik_buf_t *out);

#endif
