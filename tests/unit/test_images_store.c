/* Unit tests for the image store's public API (agent/images/images.h) as the node agent
 * uses it: import, resolve, config, list, per-container root filesystems, remove and GC,
 * on a real store in a temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <archive_entry.h>

#include "agent/images/images.h"
#include "agent/images/internal.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/xalloc.h"
#include "tests/unit/images_tar.h"

typedef struct fixture {
    char *dir;
    minik_images_t *store;
} fixture_t;

static void write_tar(const char *path, const ent_t *es, const char *filter)
{
    cleanup_buf minik_buf_t b = MINIK_BUF_INIT;
    make_tar(es, filter, &b);
    assert_int_equal(minik_file_write_atomic(path, b.data, b.len, 0644, NULL), 0);
}

static int setup(void **state)
{
    fixture_t *f = xcalloc(1, sizeof(*f));
    f->dir = xstrdup("/tmp/minik-unit-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    cleanup_error minik_error_t *err = NULL;
    if (minik_images_open(f->dir, &f->store, &err) < 0)
        fail_msg("%s", err->msg);
    const ent_t a[] = {
        {.name = "bin/", .type = AE_IFDIR},
        {.name = "bin/app", .type = AE_IFREG, .data = "#!app\n", .perm = 0755},
        {.name = "etc/motd", .type = AE_IFREG, .data = "a\n"},
        {0},
    };
    const ent_t b[] = {{.name = "etc/motd", .type = AE_IFREG, .data = "b\n"}, {0}};
    cleanup_free char *pa = xasprintf("%s/a.tar.gz", f->dir);
    cleanup_free char *pb = xasprintf("%s/b.tar", f->dir);
    write_tar(pa, a, "gzip");
    write_tar(pb, b, NULL);
    cleanup_free char *ra = NULL, *rb = NULL;
    if (minik_images_import(f->store, pa, "a:1", NULL, &ra, &err) < 0 ||
        minik_images_import(f->store, pb, "registry.lan:5000/b:2", NULL, &rb, &err) < 0)
        fail_msg("%s", err->msg);
    assert_string_equal(ra, "docker.io/library/a:1");
    assert_string_equal(rb, "registry.lan:5000/b:2");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    minik_images_rootfs_remove(f->store, "c1", NULL);
    minik_images_rootfs_remove(f->store, "c2", NULL);
    minik_images_close(f->store);
    minik_rm_rf(f->dir, NULL);
    free(f->dir);
    free(f);
    return 0;
}

static void resolve_config_and_list(void **state)
{
    fixture_t *f = *state;
    minik_image_t *img = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_int_equal(minik_images_resolve(f->store, "a:1", &img, &err), 0);
    assert_string_equal(img->ref, "docker.io/library/a:1");
    assert_string_equal(img->name, "docker.io/library/a");
    assert_string_equal(img->tag, "1");
    assert_null(img->index_digest);
    assert_true(img->size > 0);
    /* By digest and by an ID prefix, as docker does. */
    cleanup_free char *digest = xstrdup(img->manifest_digest);
    cleanup_free char *prefix = xstrndup(img->manifest_digest + 7, 12);
    minik_image_free(img);
    assert_int_equal(minik_images_resolve(f->store, digest, &img, NULL), 0);
    assert_string_equal(img->ref, "docker.io/library/a:1");
    minik_image_free(img);
    assert_int_equal(minik_images_resolve(f->store, prefix, &img, NULL), 0);
    minik_image_free(img);

    assert_int_equal(minik_images_resolve(f->store, "nope", &img, &err), -ENOENT);
    assert_int_equal(err->errnum, ENOENT);
    assert_string_equal(err->msg, "image docker.io/library/nope:latest not found in the store");
    minik_error_clear(&err);

    cJSON *cfg = NULL;
    assert_int_equal(minik_images_config(f->store, "a:1", &cfg, NULL), 0);
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(cfg, "Env");
    assert_true(cJSON_IsArray(env));
    assert_non_null(strstr(cJSON_GetArrayItem(env, 0)->valuestring, "PATH="));
    cJSON_Delete(cfg);

    minik_image_t **list = NULL;
    assert_int_equal(minik_images_list(f->store, &list, NULL), 0);
    assert_non_null(list[0]);
    assert_non_null(list[1]);
    assert_null(list[2]);
    assert_string_equal(list[0]->name, "docker.io/library/a"); /* sorted by name */
    assert_string_equal(list[1]->name, "registry.lan:5000/b");
    minik_image_list_free(list);
}

static void rootfs_overlay_and_copy(void **state)
{
    fixture_t *f = *state;
    cleanup_error minik_error_t *err = NULL;
    cleanup_free char *p1 = NULL, *p1b = NULL, *p2 = NULL, *px = NULL;
    if (minik_images_rootfs_prepare(f->store, "a:1", "c1", &p1, &err) < 0)
        fail_msg("%s", err->msg);
    cleanup_free char *want = xasprintf("%s/images/rootfs/c1/merged", f->dir);
    assert_string_equal(p1, want);
    struct statfs sf;
    assert_int_equal(statfs(p1, &sf), 0);
    assert_int_equal(sf.f_type, 0x794c7630); /* OVERLAYFS_SUPER_MAGIC */
    cleanup_free char *app = xasprintf("%s/bin/app", p1);
    assert_int_equal(access(app, X_OK), 0);
    /* Idempotent for the same image; another image for the same id is refused. */
    assert_int_equal(minik_images_rootfs_prepare(f->store, "a:1", "c1", &p1b, NULL), 0);
    assert_string_equal(p1b, p1);
    assert_int_equal(
        minik_images_rootfs_prepare(f->store, "registry.lan:5000/b:2", "c1", &px, &err), -EEXIST);
    assert_non_null(strstr(err->msg, "already has a root filesystem"));
    minik_error_clear(&err);
    /* Ids follow the runtime's rule (minik oci): one path component, alphanumeric first. */
    assert_true(minik_images_rootfs_prepare(f->store, "a:1", "../x", &px, &err) < 0);
    assert_non_null(strstr(err->msg, "invalid container id \"../x\""));
    minik_error_clear(&err);
    assert_true(minik_images_rootfs_remove(f->store, ".hidden", &err) < 0);
    assert_non_null(strstr(err->msg, "invalid container id \".hidden\""));
    minik_error_clear(&err);

    /* What a crash during a prepare leaves (no record, junk in merged/) is cleared. */
    cleanup_free char *junk = xasprintf("%s/images/rootfs/c2/merged/junk", f->dir);
    assert_int_equal(minik_mkdir_p(junk, 0755, NULL), 0);

    minik_images_set_copy_rootfs(f->store, true);
    assert_int_equal(
        minik_images_rootfs_prepare(f->store, "registry.lan:5000/b:2", "c2", &p2, NULL), 0);
    assert_int_equal(statfs(p2, &sf), 0);
    assert_true(sf.f_type != 0x794c7630);
    cleanup_free char *motd = xasprintf("%s/etc/motd", p2);
    cleanup_free char *data = NULL;
    assert_int_equal(minik_file_read(motd, 100, &data, NULL, NULL), 0);
    assert_string_equal(data, "b\n");
    assert_int_equal(access(junk, F_OK), -1);

    /* In use: refused; after the rootfs goes, removal and GC free everything. */
    assert_int_equal(minik_images_remove(f->store, "a:1", &err), -EBUSY);
    minik_error_clear(&err);
    assert_int_equal(minik_images_rootfs_remove(f->store, "c1", NULL), 0);
    assert_int_equal(minik_images_rootfs_remove(f->store, "c2", NULL), 0);
    assert_int_equal(minik_images_rootfs_remove(f->store, "c2", NULL), 0); /* gone: fine */
    assert_int_equal(access(p1, F_OK), -1);
    assert_int_equal(minik_images_remove(f->store, "a:1", NULL), 0);
    assert_int_equal(minik_images_remove(f->store, "registry.lan:5000/b:2", NULL), 0);
    uint64_t blobs = 1, layers = 1;
    assert_int_equal(minik_images_disk_usage(f->store, &blobs, &layers, NULL), 0);
    /* Only the empty sha256/ directories remain. */
    assert_true(blobs <= 3 * 4096);
    assert_true(layers <= 4096);
}

/* Store an image made of the given layers (built in memory) under `ref`, straight
 * through the blob store, as a pull would leave it before unpacking. */
static void put_image_ids(fixture_t *f, const char *ref, const ent_t *const *layers, size_t n,
                          const char *bad_diff_id)
{
    cleanup_buf minik_buf_t man = MINIK_BUF_INIT, cfg = MINIK_BUF_INIT, ls = MINIK_BUF_INIT;
    minik_buf_append_str(&cfg, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},"
                               "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[");
    for (size_t i = 0; i < n; i++) {
        cleanup_buf minik_buf_t t = MINIK_BUF_INIT;
        make_tar(layers[i], NULL, &t);
        cleanup_free char *d = NULL;
        assert_int_equal(minik_image_blob_put(f->store->blobs, t.data, t.len, NULL, &d, NULL), 0);
        minik_buf_appendf(&ls, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}",
                          i ? "," : "", MINIK_MT_OCI_LAYER_TAR, d, t.len);
        /* Uncompressed layers: the diff_id is the blob digest. */
        minik_buf_appendf(&cfg, "%s\"%s\"", i ? "," : "", bad_diff_id ? bad_diff_id : d);
    }
    minik_buf_append_str(&cfg, "]}}");
    cleanup_free char *cfg_digest = NULL;
    assert_int_equal(
        minik_image_blob_put(f->store->blobs, cfg.data, cfg.len, NULL, &cfg_digest, NULL), 0);
    minik_buf_appendf(&man,
                      "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":"
                      "\"%s\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[%s]}",
                      MINIK_MT_OCI_MANIFEST, MINIK_MT_OCI_CONFIG, cfg_digest, cfg.len, ls.data);
    cleanup_free char *digest = NULL;
    assert_int_equal(minik_image_blob_put(f->store->blobs, man.data, man.len, NULL, &digest, NULL),
                     0);
    assert_int_equal(minik_images_tag(f->store, ref, digest, NULL, NULL), 0);
}

/* Store an image made of the given layers (built in memory) under `ref`, straight
 * through the blob store, as a pull would leave it before unpacking. */
static void put_image(fixture_t *f, const char *ref, const ent_t *const *layers, size_t n)
{
    put_image_ids(f, ref, layers, n, NULL);
}

/* 80 layers: more than fit in one page of overlay options with absolute paths. */
static void rootfs_with_many_layers(void **state)
{
    fixture_t *f = *state;
    enum { N = 80 };
    static char names[N][16], tops[N][16];
    static ent_t ents[N][3];
    const ent_t *layers[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "f%d", i);
        snprintf(tops[i], sizeof(tops[i]), "%d", i);
        ents[i][0] = (ent_t){.name = names[i], .type = AE_IFREG, .data = "x"};
        ents[i][1] = (ent_t){.name = "top", .type = AE_IFREG, .data = tops[i]};
        ents[i][2] = (ent_t){0};
        layers[i] = ents[i];
    }
    put_image(f, "docker.io/library/many:1", layers, N);

    cleanup_error minik_error_t *err = NULL;
    cleanup_free char *p = NULL;
    if (minik_images_rootfs_prepare(f->store, "many:1", "c1", &p, &err) < 0)
        fail_msg("%s", err->msg);
    struct statfs sf;
    assert_int_equal(statfs(p, &sf), 0);
    assert_int_equal(sf.f_type, 0x794c7630); /* still overlayfs, not the copy fallback */
    cleanup_free char *f0 = xasprintf("%s/f0", p), *f79 = xasprintf("%s/f79", p);
    cleanup_free char *top = xasprintf("%s/top", p), *data = NULL;
    assert_int_equal(access(f0, F_OK), 0);
    assert_int_equal(access(f79, F_OK), 0);
    assert_int_equal(minik_file_read(top, 100, &data, NULL, NULL), 0);
    assert_string_equal(data, "79"); /* the last layer is on top */
}

/* Layers unpack in parallel; one bad layer fails the image and installs none of them. */
static void one_bad_layer_installs_nothing(void **state)
{
    fixture_t *f = *state;
    const ent_t good1[] = {{.name = "a", .type = AE_IFREG, .data = "a"}, {0}};
    const ent_t bad[] = {{.name = "../../escape", .type = AE_IFREG, .data = "x"}, {0}};
    const ent_t good2[] = {{.name = "b", .type = AE_IFREG, .data = "b"}, {0}};
    const ent_t *layers[] = {good1, bad, good2};
    put_image(f, "docker.io/library/mixed:1", layers, 3);
    cleanup_error minik_error_t *err = NULL;
    cleanup_free char *p = NULL;
    assert_true(minik_images_rootfs_prepare(f->store, "mixed:1", "c1", &p, &err) < 0);
    assert_non_null(strstr(err->msg, "path contains \"..\""));
    /* a:1 and b:2 from setup have one layer each; nothing of mixed:1 was added. */
    cleanup_free char *cmd = xasprintf("ls %s/images/layers/sha256 | wc -l; ls -A %s/images/tmp "
                                       "| wc -l; ls -A %s/images/rootfs | wc -l",
                                       f->dir, f->dir, f->dir);
    FILE *pf = popen(cmd, "r");
    char out[64] = "";
    size_t n = fread(out, 1, sizeof(out) - 1, pf);
    pclose(pf);
    out[n] = '\0';
    assert_string_equal(out, "2\n0\n0\n");
}

/* A layer whose uncompressed content does not match the config's diff_id is refused. */
static void diff_id_mismatch_is_refused(void **state)
{
    fixture_t *f = *state;
    const ent_t l[] = {{.name = "a", .type = AE_IFREG, .data = "a"}, {0}};
    const ent_t *layers[] = {l};
    put_image_ids(f, "docker.io/library/lying:1", layers, 1,
                  "sha256:0000000000000000000000000000000000000000000000000000000000000000");
    cleanup_error minik_error_t *err = NULL;
    cleanup_free char *p = NULL;
    assert_true(minik_images_rootfs_prepare(f->store, "lying:1", "c1", &p, &err) < 0);
    assert_non_null(strstr(err->msg, "diff_id mismatch: the image config says sha256:0000"));
    cleanup_free char *d =
        xasprintf("%s/images/layers/sha256/"
                  "0000000000000000000000000000000000000000000000000000000000000000",
                  f->dir);
    assert_int_equal(access(d, F_OK), -1);
}

static void import_honours_layer_limits(void **state)
{
    fixture_t *f = *state;
    const ent_t bomb[] = {{.name = "zeros", .type = AE_IFREG, .zeros = 4 << 20}, {0}};
    cleanup_free char *p = xasprintf("%s/bomb.tar.gz", f->dir);
    write_tar(p, bomb, "gzip");
    minik_images_set_limits(f->store, 1 << 20, 1000);
    cleanup_error minik_error_t *err = NULL;
    cleanup_free char *ref = NULL;
    assert_true(minik_images_import(f->store, p, "bomb:1", NULL, &ref, &err) < 0);
    assert_non_null(strstr(err->msg, "decompression bomb"));
    minik_image_t *img = NULL;
    assert_int_equal(minik_images_resolve(f->store, "bomb:1", &img, NULL), -ENOENT);
}

static void registries_json_is_checked(void **state)
{
    fixture_t *f = *state;
    cleanup_free char *p = xasprintf("%s/images/registries.json", f->dir);
    const char *bad[] = {"{bad", "{\"plainHTTP\": \"host\"}", "{\"plainHTTP\": [7]}", NULL};
    for (int i = 0; bad[i]; i++) {
        assert_int_equal(minik_file_write_atomic(p, bad[i], strlen(bad[i]), 0644, NULL), 0);
        minik_images_t *s = NULL;
        cleanup_error minik_error_t *err = NULL;
        if (minik_images_open(f->dir, &s, &err) == 0) {
            minik_images_close(s);
            fail_msg("accepted registries.json %s", bad[i]);
        }
        assert_non_null(strstr(err->msg, "registries.json"));
    }
    const char *good = "{\"plainHTTP\": [\"registry.lan:5000\", \"pi4.home\"]}";
    assert_int_equal(minik_file_write_atomic(p, good, strlen(good), 0644, NULL), 0);
    minik_images_t *s = NULL;
    assert_int_equal(minik_images_open(f->dir, &s, NULL), 0);
    assert_string_equal(s->plain_http[0], "registry.lan:5000");
    assert_string_equal(s->plain_http[1], "pi4.home");
    assert_null(s->plain_http[2]);
    minik_images_close(s);
}

int main(void)
{
    if (geteuid() != 0) {
        fprintf(stderr, "test_images_store: needs root (overlay mounts, ownership)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(resolve_config_and_list, setup, teardown),
        cmocka_unit_test_setup_teardown(rootfs_overlay_and_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(rootfs_with_many_layers, setup, teardown),
        cmocka_unit_test_setup_teardown(one_bad_layer_installs_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(diff_id_mismatch_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(import_honours_layer_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(registries_json_is_checked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
