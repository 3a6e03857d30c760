/* See images_tar.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "lib/xalloc.h"
#include "tests/unit/images_tar.h"

static la_ssize_t buf_write(struct archive *a, void *ud, const void *b, size_t n)
{
    minik_buf_append(ud, b, n);
    return (la_ssize_t)n;
}

void make_tar(const ent_t *es, const char *filter, minik_buf_t *out)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_pax(a);
    if (filter && strcmp(filter, "gzip") == 0)
        archive_write_add_filter_gzip(a);
    else if (filter && strcmp(filter, "zstd") == 0)
        archive_write_add_filter_zstd(a);
    archive_write_set_bytes_in_last_block(a, 1);
    assert_int_equal(archive_write_open(a, out, NULL, buf_write, NULL), ARCHIVE_OK);
    for (const ent_t *e = es; e->name; e++) {
        struct archive_entry *ae = archive_entry_new();
        archive_entry_set_pathname(ae, e->name);
        archive_entry_set_filetype(ae, e->hardlink ? AE_IFREG : e->type);
        archive_entry_set_perm(ae, e->perm ? e->perm : (e->type == AE_IFDIR ? 0755 : 0644));
        archive_entry_set_uid(ae, e->uid);
        archive_entry_set_gid(ae, e->gid);
        archive_entry_set_mtime(ae, 1700000000, 0);
        if (e->link)
            archive_entry_set_symlink(ae, e->link);
        if (e->hardlink)
            archive_entry_set_hardlink(ae, e->hardlink);
        if (e->type == AE_IFCHR || e->type == AE_IFBLK) {
            archive_entry_set_rdevmajor(ae, e->major);
            archive_entry_set_rdevminor(ae, e->minor);
        }
        if (e->xattr)
            archive_entry_xattr_add_entry(ae, e->xattr, e->xval, strlen(e->xval));
        size_t size = e->zeros ? e->zeros : e->data ? strlen(e->data) : 0;
        if (e->type == AE_IFREG && !e->hardlink)
            archive_entry_set_size(ae, (la_int64_t)size);
        assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
        if (e->zeros) {
            char *z = xcalloc(1, 65536);
            for (size_t left = e->zeros; left > 0;) {
                size_t n = left < 65536 ? left : 65536;
                archive_write_data(a, z, n);
                left -= n;
            }
            free(z);
        } else if (e->data && e->type == AE_IFREG && !e->hardlink) {
            archive_write_data(a, e->data, size);
        }
        archive_entry_free(ae);
    }
    archive_write_close(a);
    archive_write_free(a);
}
