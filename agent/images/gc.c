/* Garbage collection: a mark (everything reachable from refs.json and from prepared root
 * filesystems) and a sweep of blobs/, layers/, tmp/ and locks/, under the exclusive "gc"
 * lock so no pull, import or rootfs preparation is half-way through. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/images/internal.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

static __thread uint64_t du_total;

static int du_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    du_total += (uint64_t)st->st_blocks * 512;
    return 0;
}

static uint64_t tree_size(const char *path)
{
    du_total = 0;
    nftw(path, du_one, 16, FTW_PHYS | FTW_MOUNT);
    return du_total;
}

int minik_images_disk_usage(minik_images_t *s, uint64_t *blob_bytes, uint64_t *layer_bytes,
                            minik_error_t **err)
{
    *blob_bytes = tree_size(s->blobs);
    *layer_bytes = tree_size(s->layers);
    return 0;
}

static void keep(cJSON *set, const char *digest)
{
    if (digest && minik_image_digest_valid(digest) &&
        !cJSON_GetObjectItemCaseSensitive(set, digest + 7))
        cJSON_AddTrueToObject(set, digest + 7);
}

static void mark_manifest(minik_images_t *s, const char *digest, cJSON *blobs, cJSON *layers)
{
    keep(blobs, digest);
    minik_image_manifest_t *m = NULL;
    cleanup_error minik_error_t *e = NULL;
    if (minik_images_load_manifest(s, digest, &m, &e) < 0) {
        /* A missing or damaged manifest cannot protect anything more; its image is broken
         * either way, and `image rm` is how it goes. */
        minik_log_warn("gc: cannot read manifest", "digest", digest, "error", e->msg, NULL);
        return;
    }
    keep(blobs, m->config.digest);
    for (size_t i = 0; i < m->n_layers; i++)
        keep(blobs, m->layers[i].digest);
    cleanup_strv char **ids = NULL;
    if (minik_images_diff_ids(s, m, &ids, &e) < 0)
        minik_log_warn("gc: cannot read image config", "digest", digest, "error", e->msg, NULL);
    for (size_t i = 0; ids && ids[i]; i++)
        keep(layers, ids[i]);
    minik_image_manifest_free(m);
}

/* Remove entries of `dir` not in `set` (NULL: remove everything), or, with `prefix`, only
 * those starting with it. */
static int sweep(const char *dir, const cJSON *set, const char *prefix, uint64_t *bytes,
                 unsigned *items, minik_error_t **err)
{
    cleanup_closedir DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : minik_error_set(err, errno, "open \"%s\"", dir);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (set && cJSON_GetObjectItemCaseSensitive(set, de->d_name))
            continue;
        if (prefix && !minik_str_has_prefix(de->d_name, prefix))
            continue;
        cleanup_free char *p = xasprintf("%s/%s", dir, de->d_name);
        uint64_t sz = tree_size(p);
        int r = minik_rm_rf(p, err);
        if (r < 0)
            return r;
        if (bytes)
            *bytes += sz;
        if (items && de->d_name[0] != '.')
            (*items)++;
    }
    return 0;
}

int minik_images_gc(minik_images_t *s, uint64_t *freed_bytes, unsigned *freed_items,
                    minik_error_t **err)
{
    cleanup_close int gc_lock = -1;
    int r = minik_images_gc_lock(s, LOCK_EX, &gc_lock, err);
    if (r < 0)
        return r;
    cleanup_cjson cJSON *refs = NULL;
    r = minik_images_refs_load(s, &refs, err);
    if (r < 0)
        return r;
    cleanup_cjson cJSON *blobs = cJSON_CreateObject();
    cleanup_cjson cJSON *layers = cJSON_CreateObject();
    const cJSON *e;
    cJSON_ArrayForEach(e, refs)
    {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "manifest");
        const cJSON *ix = cJSON_GetObjectItemCaseSensitive(e, "index");
        if (cJSON_IsString(m))
            mark_manifest(s, m->valuestring, blobs, layers);
        if (cJSON_IsString(ix))
            keep(blobs, ix->valuestring);
    }
    cleanup_strv char **used = minik_images_rootfs_in_use(s);
    for (size_t i = 0; used && used[i]; i++)
        mark_manifest(s, used[i], blobs, layers);

    uint64_t bytes = 0;
    unsigned items = 0;
    cleanup_free char *blob_dir = xasprintf("%s/sha256", s->blobs);
    cleanup_free char *locks = xasprintf("%s/locks", s->root);
    cleanup_free char *blob_locks = xasprintf("%s/locks", s->blobs);
    r = sweep(blob_dir, blobs, NULL, &bytes, &items, err);
    if (r == 0)
        r = sweep(s->layers, layers, NULL, &bytes, &items, err);
    /* Leftovers of interrupted pulls and imports, and their lock files: nobody else is
     * using them while we hold the gc lock exclusively. */
    if (r == 0)
        r = sweep(s->tmp, NULL, NULL, &bytes, NULL, err);
    if (r == 0)
        r = sweep(blob_locks, NULL, NULL, NULL, NULL, err);
    if (r == 0)
        r = sweep(locks, NULL, "layer-", NULL, NULL, err);
    if (r < 0)
        return minik_error_wrap(err, "garbage collection");
    if (items) {
        char n[16];
        snprintf(n, sizeof(n), "%u", items);
        minik_log_debug("image gc", "removed", n, NULL);
    }
    if (freed_bytes)
        *freed_bytes = bytes;
    if (freed_items)
        *freed_items = items;
    return 0;
}
