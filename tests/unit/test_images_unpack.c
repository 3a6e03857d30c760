/* Unit tests for the layer unpacker (agent/images/unpack.c): file types, metadata, OCI
 * whiteouts in overlayfs form, refusal of entries that would escape the layer, and the
 * limits against decompression bombs. Layers are built in memory with libarchive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "agent/images/internal.h"
#include "tests/unit/images_tar.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/xalloc.h"

static const minik_unpack_limits_t big = {1ULL << 30, 100000};

typedef struct fixture {
    char *top;     /* sandbox */
    char *layer;   /* top/layer: where the layer goes */
    char *outside; /* top/outside: must stay empty */
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = xcalloc(1, sizeof(*f));
    f->top = xstrdup("/tmp/minik-unit-unpack-XXXXXX");
    assert_non_null(mkdtemp(f->top));
    f->layer = xasprintf("%s/layer", f->top);
    f->outside = xasprintf("%s/outside", f->top);
    assert_int_equal(mkdir(f->layer, 0755), 0);
    assert_int_equal(mkdir(f->outside, 0755), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    minik_rm_rf(f->top, NULL);
    free(f->top);
    free(f->layer);
    free(f->outside);
    free(f);
    return 0;
}

static int unpack(fixture_t *f, const ent_t *es, const char *filter,
                  const minik_unpack_limits_t *lim, minik_error_t **err)
{
    cleanup_buf minik_buf_t tar = MINIK_BUF_INIT;
    make_tar(es, filter, &tar);
    return minik_unpack_layer_mem(tar.data, tar.len, f->layer, lim, err);
}

static char *at(fixture_t *f, const char *rel)
{
    return xasprintf("%s/%s", f->layer, rel);
}

static bool outside_is_empty(fixture_t *f)
{
    cleanup_closedir DIR *d = opendir(f->outside);
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            return false;
    return true;
}

static const ent_t full_layer[] = {
    {.name = "./", .type = AE_IFDIR},
    {.name = "etc/", .type = AE_IFDIR, .perm = 0750, .uid = 5, .gid = 6},
    {.name = "etc/hosts",
     .type = AE_IFREG,
     .data = "127.0.0.1 localhost\n",
     .uid = 1000,
     .gid = 1001},
    {.name = "bin/su", .type = AE_IFREG, .data = "#!/bin/sh\n", .perm = 04755},
    {.name = "bin/sh", .type = AE_IFLNK, .link = "busybox"},
    {.name = "etc/hosts.bak", .hardlink = "etc/hosts"},
    {.name = "dev/null", .type = AE_IFCHR, .major = 1, .minor = 3, .perm = 0666},
    {.name = "run/fifo", .type = AE_IFIFO, .perm = 0600},
    {.name = "x/attr", .type = AE_IFREG, .data = "x", .xattr = "user.minik", .xval = "yes"},
    {.name = "x/forged",
     .type = AE_IFREG,
     .data = "x",
     .xattr = "trusted.overlay.redirect",
     .xval = "/etc"},
    {.name = "./x/./y//z", .type = AE_IFREG, .data = "z"},
    {0},
};

static void check_full_layer(fixture_t *f)
{
    struct stat st, st2;
    cleanup_free char *hosts = at(f, "etc/hosts"), *bak = at(f, "etc/hosts.bak");
    cleanup_free char *etc = at(f, "etc"), *su = at(f, "bin/su"), *sh = at(f, "bin/sh");
    cleanup_free char *null = at(f, "dev/null"), *fifo = at(f, "run/fifo");
    cleanup_free char *attr = at(f, "x/attr"), *forged = at(f, "x/forged"), *z = at(f, "x/y/z");

    cleanup_free char *data = NULL;
    assert_int_equal(minik_file_read(hosts, 1000, &data, NULL, NULL), 0);
    assert_string_equal(data, "127.0.0.1 localhost\n");
    assert_int_equal(stat(hosts, &st), 0);
    assert_int_equal(st.st_uid, 1000);
    assert_int_equal(st.st_gid, 1001);
    assert_int_equal(st.st_mode & 07777, 0644);
    assert_int_equal(st.st_mtime, 1700000000);
    assert_int_equal(stat(bak, &st2), 0);
    assert_int_equal(st.st_ino, st2.st_ino); /* a real hardlink */
    assert_int_equal(st.st_nlink, 2);

    assert_int_equal(stat(etc, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0750);
    assert_int_equal(st.st_uid, 5);

    assert_int_equal(stat(su, &st), 0);
    assert_int_equal(st.st_mode & 07777, 04755); /* setuid survives the chown */

    char target[64] = "";
    assert_int_equal(readlink(sh, target, sizeof(target)), 7);
    assert_memory_equal(target, "busybox", 7);

    assert_int_equal(lstat(null, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(major(st.st_rdev), 1);
    assert_int_equal(minor(st.st_rdev), 3);
    assert_int_equal(st.st_mode & 07777, 0666);
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));

    char val[16] = "";
    assert_int_equal(getxattr(attr, "user.minik", val, sizeof(val)), 3);
    assert_memory_equal(val, "yes", 3);
    assert_int_equal(getxattr(forged, "trusted.overlay.redirect", val, sizeof(val)), -1);
    assert_int_equal(stat(z, &st), 0);
}

static void unpack_all_file_types_and_metadata(void **state)
{
    fixture_t *f = *state;
    cleanup_error minik_error_t *err = NULL;
    if (unpack(f, full_layer, NULL, &big, &err) < 0)
        fail_msg("%s", err->msg);
    check_full_layer(f);
}

static void unpack_autodetects_gzip_and_zstd(void **state)
{
    const char *filters[] = {"gzip", "zstd"};
    for (int i = 0; i < 2; i++) {
        fixture_t *f = *state;
        assert_int_equal(minik_rm_rf(f->layer, NULL), 0);
        assert_int_equal(mkdir(f->layer, 0755), 0);
        cleanup_error minik_error_t *err = NULL;
        if (unpack(f, full_layer, filters[i], &big, &err) < 0)
            fail_msg("%s: %s", filters[i], err->msg);
        check_full_layer(f);
    }
}

static void unpack_converts_whiteouts_for_overlayfs(void **state)
{
    fixture_t *f = *state;
    const ent_t es[] = {
        {.name = "etc/.wh.passwd", .type = AE_IFREG},
        {.name = "var/cache/.wh..wh..opq", .type = AE_IFREG},
        {.name = "var/cache/kept", .type = AE_IFREG, .data = "k"},
        {.name = ".wh.toplevel", .type = AE_IFREG},
        {0},
    };
    cleanup_error minik_error_t *err = NULL;
    if (unpack(f, es, NULL, &big, &err) < 0)
        fail_msg("%s", err->msg);
    struct stat st;
    cleanup_free char *wh = at(f, "etc/passwd"), *marker = at(f, "etc/.wh.passwd");
    cleanup_free char *top = at(f, "toplevel"), *cache = at(f, "var/cache");
    cleanup_free char *opq = at(f, "var/cache/.wh..wh..opq"), *kept = at(f, "var/cache/kept");
    assert_int_equal(lstat(wh, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(st.st_rdev, makedev(0, 0));
    assert_int_equal(lstat(marker, &st), -1);
    assert_int_equal(lstat(top, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    char v[4] = "";
    assert_int_equal(getxattr(cache, "trusted.overlay.opaque", v, sizeof(v)), 1);
    assert_int_equal(v[0], 'y');
    assert_int_equal(lstat(opq, &st), -1);
    assert_int_equal(lstat(kept, &st), 0); /* opaque hides lower layers, not its own */
}

static void expect_refused(fixture_t *f, const ent_t *es, const char *msg_part)
{
    cleanup_error minik_error_t *err = NULL;
    assert_int_equal(minik_rm_rf(f->layer, NULL), 0);
    assert_int_equal(mkdir(f->layer, 0755), 0);
    if (unpack(f, es, NULL, &big, &err) == 0)
        fail_msg("layer with %s was accepted", es[0].name);
    if (!strstr(err->msg, msg_part))
        fail_msg("error \"%s\" does not mention \"%s\"", err->msg, msg_part);
    assert_true(outside_is_empty(f));
}

static void unpack_refuses_escapes(void **state)
{
    fixture_t *f = *state;
    const ent_t traversal[] = {{.name = "../outside/evil", .type = AE_IFREG, .data = "x"}, {0}};
    expect_refused(f, traversal, "contains \"..\"");
    const ent_t deep[] = {{.name = "a/b/../../../outside/evil", .type = AE_IFREG}, {0}};
    expect_refused(f, deep, "contains \"..\"");
    const ent_t absolute[] = {{.name = "/tmp/evil", .type = AE_IFREG, .data = "x"}, {0}};
    expect_refused(f, absolute, "absolute path");

    cleanup_free char *abs_outside = xstrdup(f->outside);
    const ent_t sym_abs[] = {
        {.name = "link", .type = AE_IFLNK, .link = abs_outside},
        {.name = "link/evil", .type = AE_IFREG, .data = "x"},
        {0},
    };
    expect_refused(f, sym_abs, "symlink that leaves the layer");
    const ent_t sym_rel[] = {
        {.name = "d/up", .type = AE_IFLNK, .link = "../../outside"},
        {.name = "d/up/evil", .type = AE_IFREG, .data = "x"},
        {0},
    };
    expect_refused(f, sym_rel, "symlink that leaves the layer");
    const ent_t sym_dir[] = {
        {.name = "up", .type = AE_IFLNK, .link = ".."},
        {.name = "up/outside/newdir/", .type = AE_IFDIR},
        {0},
    };
    expect_refused(f, sym_dir, "symlink that leaves the layer");

    const ent_t hard_dotdot[] = {{.name = "h", .hardlink = "../outside/x"}, {0}};
    expect_refused(f, hard_dotdot, "contains \"..\"");
    const ent_t hard_abs[] = {{.name = "h", .hardlink = "/etc/passwd"}, {0}};
    expect_refused(f, hard_abs, "absolute path");
    const ent_t hard_sym[] = {
        {.name = "l", .type = AE_IFLNK, .link = "/etc"},
        {.name = "h", .hardlink = "l/passwd"},
        {0},
    };
    expect_refused(f, hard_sym, "symlink that leaves the layer");
    const ent_t wh_bad[] = {{.name = "a/.wh..", .type = AE_IFREG}, {0}};
    expect_refused(f, wh_bad, "bad whiteout");

    /* A symlink that stays inside the layer may be a parent. */
    const ent_t inside[] = {
        {.name = "usr/lib/", .type = AE_IFDIR},
        {.name = "lib", .type = AE_IFLNK, .link = "usr/lib"},
        {.name = "lib/libc.so", .type = AE_IFREG, .data = "elf"},
        {0},
    };
    assert_int_equal(minik_rm_rf(f->layer, NULL), 0);
    assert_int_equal(mkdir(f->layer, 0755), 0);
    cleanup_error minik_error_t *err = NULL;
    if (unpack(f, inside, NULL, &big, &err) < 0)
        fail_msg("%s", err->msg);
    cleanup_free char *so = at(f, "usr/lib/libc.so");
    assert_int_equal(access(so, F_OK), 0);
}

static void unpack_enforces_limits(void **state)
{
    fixture_t *f = *state;
    const ent_t many[] = {{.name = "a", .type = AE_IFREG},
                          {.name = "b", .type = AE_IFREG},
                          {.name = "c", .type = AE_IFREG},
                          {.name = "d", .type = AE_IFREG},
                          {0}};
    minik_unpack_limits_t lim = {1 << 20, 3};
    cleanup_error minik_error_t *err = NULL;
    assert_true(unpack(f, many, NULL, &lim, &err) < 0);
    assert_non_null(strstr(err->msg, "more than the limit of 3 entries"));
    minik_error_clear(&err);

    /* 8 MiB of zeros gzip to a few kB: the size limit must stop it. */
    const ent_t bomb[] = {{.name = "zeros", .type = AE_IFREG, .zeros = 8 << 20}, {0}};
    cleanup_buf minik_buf_t tar = MINIK_BUF_INIT;
    make_tar(bomb, "gzip", &tar);
    assert_true(tar.len < 100000);
    minik_unpack_limits_t small = {1 << 20, 100};
    assert_true(minik_unpack_layer_mem(tar.data, tar.len, f->layer, &small, &err) < 0);
    assert_non_null(strstr(err->msg, "larger than the limit of 1048576 bytes"));
    assert_non_null(strstr(err->msg, "decompression bomb"));
    minik_error_clear(&err);

    const char junk[] = "this is not a tar archive at all, just some text............";
    assert_true(minik_unpack_layer_mem(junk, sizeof(junk), f->layer, &big, &err) < 0);
    assert_non_null(strstr(err->msg, "not a valid tar archive"));
}

static void diff_id_hashes_the_uncompressed_stream(void **state)
{
    fixture_t *f = *state;
    cleanup_buf minik_buf_t plain = MINIK_BUF_INIT, gz = MINIK_BUF_INIT;
    make_tar(full_layer, NULL, &plain);
    make_tar(full_layer, "gzip", &gz);
    cleanup_free char *p1 = xasprintf("%s/plain.tar", f->top);
    cleanup_free char *p2 = xasprintf("%s/layer.tar.gz", f->top);
    assert_int_equal(minik_file_write_atomic(p1, plain.data, plain.len, 0644, NULL), 0);
    assert_int_equal(minik_file_write_atomic(p2, gz.data, gz.len, 0644, NULL), 0);
    cleanup_free char *d1 = NULL, *d2 = NULL, *expect = minik_digest_of(plain.data, plain.len);
    assert_int_equal(minik_unpack_diff_id(p1, &d1, NULL), 0);
    assert_int_equal(minik_unpack_diff_id(p2, &d2, NULL), 0);
    assert_string_equal(d1, expect);
    assert_string_equal(d2, expect);
}

int main(void)
{
    if (geteuid() != 0) {
        fprintf(stderr, "test_images_unpack: needs root (ownership, device nodes, trusted.* "
                        "xattrs)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(unpack_all_file_types_and_metadata, setup, teardown),
        cmocka_unit_test_setup_teardown(unpack_autodetects_gzip_and_zstd, setup, teardown),
        cmocka_unit_test_setup_teardown(unpack_converts_whiteouts_for_overlayfs, setup, teardown),
        cmocka_unit_test_setup_teardown(unpack_refuses_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(unpack_enforces_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(diff_id_hashes_the_uncompressed_stream, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
