/* The store itself: its directories, the reference table (refs.json), local lookups and
 * the layer directories shared between images.
 *
 * Locks (flock files under <root>/locks): "refs" serialises changes to refs.json; "gc" is
 * held shared by everything that adds data or uses layers (pull, import, rootfs) and
 * exclusively by garbage collection, so GC never removes what a running pull has just
 * stored but not yet referenced. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

#define DEFAULT_MAX_LAYER_BYTES   (64ULL << 30)
#define DEFAULT_MAX_LAYER_ENTRIES 2000000ULL
#define REFS_MAX                  (64 * 1024 * 1024)
#define CONFIG_MAX                (16 * 1024 * 1024)

void minik_image_free(minik_image_t *img)
{
    if (!img)
        return;
    free(img->ref);
    free(img->name);
    free(img->tag);
    free(img->manifest_digest);
    free(img->index_digest);
    free(img->config_digest);
    free(img);
}

void minik_image_list_free(minik_image_t **list)
{
    for (size_t i = 0; list && list[i]; i++)
        minik_image_free(list[i]);
    free(list);
}

void minik_images_close(minik_images_t *s)
{
    if (!s)
        return;
    free(s->data_dir);
    free(s->root);
    free(s->blobs);
    free(s->layers);
    free(s->rootfs);
    free(s->tmp);
    minik_strv_free(s->plain_http);
    free(s);
}

static int read_registries_conf(minik_images_t *s, minik_error_t **err)
{
    cleanup_free char *path = xasprintf("%s/registries.json", s->root);
    cleanup_free char *data = NULL;
    if (access(path, F_OK) < 0)
        return 0;
    int r = minik_file_read(path, 1 << 20, &data, NULL, err);
    if (r < 0)
        return r;
    cleanup_cjson cJSON *j = cJSON_Parse(data);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "plainHTTP");
    if (!cJSON_IsObject(j) || (list && !cJSON_IsArray(list)))
        return minik_error_set(err, 0, "%s: expected {\"plainHTTP\": [\"host:port\", ...]}", path);
    size_t n = 0;
    s->plain_http = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(char *));
    const cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
        if (!cJSON_IsString(e))
            return minik_error_set(err, 0, "%s: plainHTTP[%zu] must be a string", path, n);
        s->plain_http[n++] = xstrdup(e->valuestring);
    }
    return 0;
}

int minik_images_open(const char *data_dir, minik_images_t **out, minik_error_t **err)
{
    minik_images_t *s = xcalloc(1, sizeof(*s));
    s->data_dir = xstrdup(data_dir);
    s->root = xasprintf("%s/images", data_dir);
    s->blobs = xasprintf("%s/blobs", s->root);
    s->layers = xasprintf("%s/layers/sha256", s->root);
    s->rootfs = xasprintf("%s/rootfs", s->root);
    s->tmp = xasprintf("%s/tmp", s->root);
    s->limits.max_bytes = DEFAULT_MAX_LAYER_BYTES;
    s->limits.max_entries = DEFAULT_MAX_LAYER_ENTRIES;
    const char *copy = getenv("MINIK_ROOTFS_COPY");
    s->copy_rootfs = copy && strcmp(copy, "1") == 0;
    cleanup_free char *blobs_sha = xasprintf("%s/sha256", s->blobs);
    cleanup_free char *locks = xasprintf("%s/locks", s->root);
    const char *dirs[] = {s->root, blobs_sha, s->layers, s->rootfs, s->tmp, locks, NULL};
    int r = 0;
    for (int i = 0; dirs[i] && r == 0; i++)
        r = minik_mkdir_p(dirs[i], 0700, err);
    if (r == 0)
        r = read_registries_conf(s, err);
    if (r < 0) {
        minik_images_close(s);
        return minik_error_wrap(err, "open image store in \"%s\"", data_dir);
    }
    *out = s;
    return 0;
}

void minik_images_set_limits(minik_images_t *s, uint64_t max_bytes, uint64_t max_entries)
{
    s->limits.max_bytes = max_bytes;
    s->limits.max_entries = max_entries;
}

void minik_images_set_copy_rootfs(minik_images_t *s, bool copy)
{
    s->copy_rootfs = copy;
}

int minik_images_lock(minik_images_t *s, int *fd, minik_error_t **err)
{
    cleanup_free char *locks = xasprintf("%s/locks", s->root);
    return minik_images_lock_take(locks, "refs", LOCK_EX, fd, err);
}

int minik_images_gc_lock(minik_images_t *s, int op, int *fd, minik_error_t **err)
{
    cleanup_free char *locks = xasprintf("%s/locks", s->root);
    return minik_images_lock_take(locks, "gc", op, fd, err);
}

int minik_images_refs_load(minik_images_t *s, cJSON **refs, minik_error_t **err)
{
    cleanup_free char *path = xasprintf("%s/refs.json", s->root);
    cleanup_free char *data = NULL;
    if (access(path, F_OK) < 0) {
        *refs = cJSON_CreateObject();
        return 0;
    }
    int r = minik_file_read(path, REFS_MAX, &data, NULL, err);
    if (r < 0)
        return r;
    cJSON *j = cJSON_Parse(data);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return minik_error_set(err, 0, "%s: corrupt (not a JSON object)", path);
    }
    *refs = j;
    return 0;
}

int minik_images_refs_save(minik_images_t *s, const cJSON *refs, minik_error_t **err)
{
    cleanup_free char *path = xasprintf("%s/refs.json", s->root);
    cleanup_free char *text = cJSON_Print(refs);
    return minik_file_write_atomic(path, text, strlen(text), 0600, err);
}

int minik_images_tag(minik_images_t *s, const char *ref_string, const char *manifest_digest,
                     const char *index_digest, minik_error_t **err)
{
    cleanup_close int lock = -1;
    int r = minik_images_lock(s, &lock, err);
    if (r < 0)
        return r;
    cleanup_cjson cJSON *refs = NULL;
    r = minik_images_refs_load(s, &refs, err);
    if (r < 0)
        return r;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "manifest", manifest_digest);
    if (index_digest)
        cJSON_AddStringToObject(e, "index", index_digest);
    if (cJSON_GetObjectItemCaseSensitive(refs, ref_string))
        cJSON_ReplaceItemInObjectCaseSensitive(refs, ref_string, e);
    else
        cJSON_AddItemToObject(refs, ref_string, e);
    return minik_images_refs_save(s, refs, err);
}

char *minik_images_layer_dir(minik_images_t *s, const char *digest)
{
    return xasprintf("%s/%s", s->layers, digest + 7);
}

int minik_images_load_manifest(minik_images_t *s, const char *digest, minik_image_manifest_t **out,
                               minik_error_t **err)
{
    cleanup_free char *data = NULL;
    size_t len = 0;
    int r = minik_image_blob_read(s->blobs, digest, 4 * 1024 * 1024, &data, &len, err);
    if (r < 0)
        return r;
    return minik_image_manifest_parse(data, len, NULL, out, err);
}

int minik_images_diff_ids(minik_images_t *s, const minik_image_manifest_t *m, char ***out,
                          minik_error_t **err)
{
    cleanup_free char *data = NULL;
    size_t len = 0;
    int r = minik_image_blob_read(s->blobs, m->config.digest, CONFIG_MAX, &data, &len, err);
    if (r < 0)
        return r;
    cleanup_cjson cJSON *j = cJSON_ParseWithLength(data, len);
    const cJSON *ids =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "rootfs"), "diff_ids");
    if (!cJSON_IsArray(ids) || (size_t)cJSON_GetArraySize(ids) != m->n_layers)
        return minik_error_set(err, 0,
                               "image config %s: rootfs.diff_ids must list one digest per layer "
                               "(%zu)",
                               m->config.digest, m->n_layers);
    cleanup_strv char **v = xcalloc(m->n_layers + 1, sizeof(char *));
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, ids)
    {
        if (!cJSON_IsString(e) || !minik_image_digest_valid(e->valuestring))
            return minik_error_set(err, 0,
                                   "image config %s: rootfs.diff_ids[%zu] is not a sha256 "
                                   "digest",
                                   m->config.digest, i);
        v[i++] = xstrdup(e->valuestring);
    }
    *out = steal_pointer(&v);
    return 0;
}

/* A layer being unpacked: its lock, and the temp dir it goes to before the rename. */
typedef struct pending_layer {
    int lock;
    char *tmp;
    char *dir;
} pending_layer_t;

static void pending_clear(pending_layer_t *p)
{
    if (p->lock >= 0)
        close(p->lock);
    if (p->tmp) {
        cleanup_error minik_error_t *e = NULL;
        minik_rm_rf(p->tmp, &e); /* best effort: GC sweeps tmp/ as well */
    }
    free(p->tmp);
    free(p->dir);
    p->lock = -1;
    p->tmp = p->dir = NULL;
}

/* Unpack one layer into a temp dir, holding its lock; nothing to do when it is already
 * there (p->tmp stays NULL). The layer is stored under its diff_id, and its decompressed
 * stream must hash to it. */
static int unpack_one(minik_images_t *s, const minik_image_descriptor_t *d, const char *diff_id,
                      pending_layer_t *p, minik_error_t **err)
{
    p->dir = minik_images_layer_dir(s, diff_id);
    if (access(p->dir, F_OK) == 0)
        return 0;
    cleanup_free char *locks = xasprintf("%s/locks", s->root);
    cleanup_free char *lockname = xasprintf("layer-%s", diff_id + 7);
    int r = minik_images_lock_take(locks, lockname, LOCK_EX, &p->lock, err);
    if (r < 0)
        return r;
    if (access(p->dir, F_OK) == 0)
        return 0; /* unpacked by another process while we waited */
    cleanup_free char *blob = minik_image_blob_path(s->blobs, d->digest);
    cleanup_close int fd = open(blob, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return minik_error_set(err, errno, "open layer blob \"%s\"", blob);
    p->tmp = xasprintf("%s/layer-XXXXXX", s->tmp);
    if (!mkdtemp(p->tmp)) {
        r = minik_error_set(err, errno, "create temp dir in \"%s\"", s->tmp);
        free(p->tmp);
        p->tmp = NULL;
        return r;
    }
    if (chmod(p->tmp, 0755) < 0)
        return minik_error_set(err, errno, "chmod \"%s\"", p->tmp);
    cleanup_free char *got = NULL;
    r = minik_image_unpack_layer_fd(fd, p->tmp, &s->limits, &got, err);
    if (r == 0 && strcmp(got, diff_id) != 0)
        r = minik_error_set(err, 0,
                            "diff_id mismatch: the image config says %s, the uncompressed layer "
                            "hashes to %s",
                            diff_id, got);
    return r < 0 ? minik_error_wrap(err, "layer %s", d->digest) : 0;
}

/* Layers of one image are unpacked in parallel: decompression and file creation are
 * CPU- and syscall-bound, and each layer goes to its own directory. */
typedef struct unpack_job {
    minik_images_t *s;
    const minik_image_manifest_t *m;
    pending_layer_t *ps;
    char **ids;
    const bool *skip;
    size_t next;
    int ret;
    minik_error_t *err;
    pthread_mutex_t mu;
} unpack_job_t;

static void *unpack_worker(void *arg)
{
    unpack_job_t *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->mu);
        size_t i = j->next++;
        bool stop = j->ret < 0;
        pthread_mutex_unlock(&j->mu);
        if (stop || i >= j->m->n_layers)
            return NULL;
        if (j->skip[i])
            continue;
        minik_error_t *e = NULL;
        int r = unpack_one(j->s, &j->m->layers[i], j->ids[i], &j->ps[i], &e);
        if (r < 0) {
            pthread_mutex_lock(&j->mu);
            if (j->ret == 0) {
                j->ret = r;
                j->err = steal_pointer(&e);
            }
            pthread_mutex_unlock(&j->mu);
            minik_error_free(e);
        }
    }
}

int minik_images_unpack_manifest(minik_images_t *s, const char *manifest_digest,
                                 minik_error_t **err)
{
    minik_image_manifest_t *m = NULL;
    cleanup_strv char **ids = NULL;
    int r = minik_images_load_manifest(s, manifest_digest, &m, err);
    if (r == 0)
        r = minik_images_diff_ids(s, m, &ids, err);
    if (r < 0) {
        minik_image_manifest_free(m);
        return r;
    }
    size_t n = m->n_layers;
    pending_layer_t *ps = xcalloc(n + 1, sizeof(*ps));
    bool *skip = xcalloc(n + 1, sizeof(*skip));
    size_t todo = 0;
    for (size_t i = 0; i < n; i++) {
        ps[i].lock = -1;
        /* The same layer twice: one unpack (a second would wait on its own lock). */
        for (size_t k = 0; k < i; k++)
            skip[i] |= strcmp(ids[k], ids[i]) == 0;
        cleanup_free char *dir = minik_images_layer_dir(s, ids[i]);
        skip[i] |= access(dir, F_OK) == 0;
        todo += !skip[i];
    }
    unpack_job_t job = {.s = s, .m = m, .ps = ps, .ids = ids, .skip = skip};
    pthread_mutex_init(&job.mu, NULL);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nthreads = todo < (size_t)(cpus > 0 ? cpus : 1) ? todo : (size_t)(cpus > 0 ? cpus : 1);
    if (nthreads > 4)
        nthreads = 4;
    pthread_t tids[4];
    size_t started = 0;
    for (size_t t = 1; t < nthreads; t++)
        if (pthread_create(&tids[started], NULL, unpack_worker, &job) == 0)
            started++;
    if (todo > 0)
        unpack_worker(&job); /* this thread works too */
    for (size_t t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    pthread_mutex_destroy(&job.mu);
    r = job.ret;
    if (r < 0 && err && !*err)
        *err = steal_pointer(&job.err);
    minik_error_free(job.err);
    bool any = false;
    for (size_t i = 0; i < n; i++)
        any |= ps[i].tmp != NULL;
    /* One syncfs for all new layers: their files must be on disk before a name says a
     * layer is complete, and one flush is far cheaper than an fsync per file. */
    if (r == 0 && any) {
        cleanup_close int dfd = open(s->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || syncfs(dfd) < 0)
            r = minik_error_set(err, errno, "sync \"%s\"", s->tmp);
    }
    for (size_t i = 0; r == 0 && i < n; i++) {
        if (!ps[i].tmp)
            continue;
        if (rename(ps[i].tmp, ps[i].dir) < 0)
            r = minik_error_set(err, errno, "rename \"%s\" to \"%s\"", ps[i].tmp, ps[i].dir);
        else {
            free(ps[i].tmp);
            ps[i].tmp = NULL;
        }
    }
    for (size_t i = 0; i < n; i++)
        pending_clear(&ps[i]);
    free(ps);
    free(skip);
    minik_image_manifest_free(m);
    return r;
}

/* ENOENT for callers that test for it, without strerror's words in the message. */
static int not_found(minik_error_t **err, const char *what)
{
    minik_error_set(err, 0, "image %s not found in the store", what);
    if (err && *err)
        (*err)->errnum = ENOENT;
    return -ENOENT;
}

static bool looks_like_digest_prefix(const char *s)
{
    if (minik_str_has_prefix(s, "sha256:"))
        s += 7;
    size_t n = strlen(s);
    if (n < 12 || n > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

static int fill_image(minik_images_t *s, const char *key, const cJSON *e, minik_image_t **out,
                      minik_error_t **err)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "manifest");
    const cJSON *ix = cJSON_GetObjectItemCaseSensitive(e, "index");
    if (!cJSON_IsString(m) || !minik_image_digest_valid(m->valuestring))
        return minik_error_set(err, 0, "refs.json: entry \"%s\" has no valid manifest", key);
    minik_image_t *img = xcalloc(1, sizeof(*img));
    img->ref = xstrdup(key);
    img->manifest_digest = xstrdup(m->valuestring);
    img->index_digest = cJSON_IsString(ix) ? xstrdup(ix->valuestring) : NULL;
    const char *at = strchr(key, '@');
    const char *slash = strrchr(key, '/');
    const char *colon = strrchr(slash ? slash : key, ':');
    if (at) {
        img->name = xstrndup(key, (size_t)(at - key));
    } else if (colon) {
        img->name = xstrndup(key, (size_t)(colon - key));
        img->tag = xstrdup(colon + 1);
    } else {
        img->name = xstrdup(key);
    }
    minik_image_manifest_t *man = NULL;
    cleanup_error minik_error_t *merr = NULL;
    if (minik_images_load_manifest(s, img->manifest_digest, &man, &merr) < 0) {
        /* A damaged image is still listed and can still be removed; using it fails. */
        minik_log_warn("image is damaged", "ref", key, "error", merr->msg, NULL);
        img->size = -1;
        *out = img;
        return 0;
    }
    img->config_digest = xstrdup(man->config.digest);
    img->size = man->config.size;
    for (size_t i = 0; i < man->n_layers; i++)
        img->size += man->layers[i].size;
    minik_image_manifest_free(man);
    *out = img;
    return 0;
}

int minik_images_resolve(minik_images_t *s, const char *ref, minik_image_t **out,
                         minik_error_t **err)
{
    cleanup_cjson cJSON *refs = NULL;
    int r = minik_images_refs_load(s, &refs, err);
    if (r < 0)
        return r;
    if (looks_like_digest_prefix(ref)) {
        const char *hex = minik_str_has_prefix(ref, "sha256:") ? ref + 7 : ref;
        const cJSON *e, *found = NULL;
        cJSON_ArrayForEach(e, refs)
        {
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "manifest");
            if (cJSON_IsString(m) && strncmp(m->valuestring + 7, hex, strlen(hex)) == 0) {
                if (found &&
                    strcmp(cJSON_GetObjectItemCaseSensitive(found, "manifest")->valuestring,
                           m->valuestring) != 0)
                    return minik_error_set(err, 0, "image ID prefix %s is ambiguous", ref);
                found = found ? found : e;
            }
        }
        if (found)
            return fill_image(s, found->string, found, out, err);
        if (minik_str_has_prefix(ref, "sha256:"))
            return not_found(err, ref);
    }
    minik_image_ref_t *pr = NULL;
    r = minik_image_ref_parse(ref, &pr, err);
    if (r < 0)
        return r;
    cleanup_free char *key = minik_image_ref_string(pr);
    cleanup_free char *name = minik_image_ref_name(pr);
    cleanup_free char *digest = pr->digest ? xstrdup(pr->digest) : NULL;
    minik_image_ref_free(pr);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(refs, key);
    if (!e && digest) {
        /* name@digest also finds an image of that name pulled by tag, by its manifest or
         * its index digest. */
        cJSON_ArrayForEach(e, refs)
        {
            size_t n = strlen(name);
            if (strncmp(e->string, name, n) != 0 || (e->string[n] != ':' && e->string[n] != '@'))
                continue;
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "manifest");
            const cJSON *ix = cJSON_GetObjectItemCaseSensitive(e, "index");
            if ((cJSON_IsString(m) && strcmp(m->valuestring, digest) == 0) ||
                (cJSON_IsString(ix) && strcmp(ix->valuestring, digest) == 0))
                break;
        }
    }
    if (!e)
        return not_found(err, key);
    return fill_image(s, e->string, e, out, err);
}

int minik_images_config(minik_images_t *s, const char *ref_or_digest, cJSON **config,
                        minik_error_t **err)
{
    minik_image_t *img = NULL;
    int r = minik_images_resolve(s, ref_or_digest, &img, err);
    if (r < 0)
        return r;
    cleanup_free char *data = NULL;
    size_t len = 0;
    if (!img->config_digest) {
        minik_image_manifest_t *m = NULL;
        r = minik_images_load_manifest(s, img->manifest_digest, &m, err); /* says why */
        minik_image_manifest_free(m);
        if (r == 0)
            r = minik_error_set(err, 0, "image %s: manifest unreadable", img->ref);
    } else {
        r = minik_image_blob_read(s->blobs, img->config_digest, CONFIG_MAX, &data, &len, err);
    }
    if (r < 0)
        minik_error_wrap(err, "image %s", img->ref);
    minik_image_free(img);
    if (r < 0)
        return r;
    cleanup_cjson cJSON *j = cJSON_ParseWithLength(data, len);
    if (!cJSON_IsObject(j))
        return minik_error_set(err, 0, "image config of %s: not a JSON object", ref_or_digest);
    cJSON *c = cJSON_DetachItemFromObjectCaseSensitive(j, "config");
    if (c && !cJSON_IsObject(c)) {
        cJSON_Delete(c);
        return minik_error_set(err, 0, "image config of %s: \"config\" is not an object",
                               ref_or_digest);
    }
    *config = c ? c : cJSON_CreateObject();
    return 0;
}

static int cmp_images(const void *a, const void *b)
{
    const minik_image_t *x = *(minik_image_t *const *)a, *y = *(minik_image_t *const *)b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return strcmp(x->tag ? x->tag : "", y->tag ? y->tag : "");
}

int minik_images_list(minik_images_t *s, minik_image_t ***out, minik_error_t **err)
{
    cleanup_cjson cJSON *refs = NULL;
    int r = minik_images_refs_load(s, &refs, err);
    if (r < 0)
        return r;
    size_t n = 0;
    minik_image_t **list = xcalloc((size_t)cJSON_GetArraySize(refs) + 1, sizeof(*list));
    const cJSON *e;
    cJSON_ArrayForEach(e, refs)
    {
        r = fill_image(s, e->string, e, &list[n], err);
        if (r < 0) {
            minik_image_list_free(list);
            return r;
        }
        n++;
    }
    qsort(list, n, sizeof(*list), cmp_images);
    *out = list;
    return 0;
}

int minik_images_remove(minik_images_t *s, const char *ref, minik_error_t **err)
{
    minik_image_t *img = NULL;
    int r = minik_images_resolve(s, ref, &img, err);
    if (r < 0)
        return r;
    {
        cleanup_close int lock = -1;
        r = minik_images_lock(s, &lock, err);
        cleanup_cjson cJSON *refs = NULL;
        if (r == 0)
            r = minik_images_refs_load(s, &refs, err);
        if (r == 0) {
            /* Last reference to an image a container's rootfs uses? Then refuse. */
            unsigned others = 0;
            const cJSON *e;
            cJSON_ArrayForEach(e, refs)
            {
                const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "manifest");
                if (strcmp(e->string, img->ref) != 0 && cJSON_IsString(m) &&
                    strcmp(m->valuestring, img->manifest_digest) == 0)
                    others++;
            }
            cleanup_strv char **used = others ? NULL : minik_images_rootfs_in_use(s);
            for (size_t i = 0; used && used[i]; i++)
                if (strcmp(used[i], img->manifest_digest) == 0)
                    r = minik_error_set(err, EBUSY,
                                        "image %s is in use by a container's root filesystem "
                                        "(remove the container first)",
                                        img->ref);
        }
        if (r == 0) {
            cJSON_DeleteItemFromObjectCaseSensitive(refs, img->ref);
            r = minik_images_refs_save(s, refs, err);
        }
    }
    minik_image_free(img);
    if (r < 0)
        return r;
    return minik_images_gc(s, NULL, NULL, err);
}
