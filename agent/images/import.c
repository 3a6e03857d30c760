/* `minik image import`: images that arrive as files instead of from a registry.
 *
 *   an OCI image layout directory (oci-layout, index.json, blobs/sha256/...), or a tarball
 *     of one (oci-archive);
 *   a docker-archive tarball (`docker save`, `skopeo copy ... docker-archive:`): a
 *     manifest.json naming a config and uncompressed layer tars; an OCI manifest is made
 *     for it;
 *   anything else that is a tar (optionally compressed): a plain root filesystem, which
 *     becomes a one-layer image with an empty config.
 *
 * Archives are first unpacked into the store's tmp/ with the same hardened unpacker as
 * layers, and every blob is verified on its way into the blob store. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "agent/images/internal.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define JSON_MAX (16 * 1024 * 1024)

/* Open `rel` inside directory `root` with every symlink resolved inside it (an unpacked
 * archive is untrusted: docker-archive uses symlinks between layer dirs, which must never
 * lead out). root == NULL opens rel as a plain path. */
static int open_in(const char *root, const char *rel)
{
    if (!root)
        return open(rel, O_RDONLY | O_CLOEXEC);
    cleanup_close int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC,
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV};
    long fd = syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
    if (fd < 0 && errno == ENOSYS)
        fd = openat(dfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    return (int)fd;
}

/* Copy a file into the blob store; verified against expected (may be NULL). */
static int put_file(minik_images_t *s, const char *root, const char *path, const char *expected,
                    char **digest, int64_t *size, minik_error_t **err)
{
    if (expected && minik_image_blob_exists(s->blobs, expected)) {
        struct stat st;
        cleanup_free char *bp = minik_image_blob_path(s->blobs, expected);
        if (size)
            *size = stat(bp, &st) == 0 ? st.st_size : 0;
        if (digest)
            *digest = xstrdup(expected);
        return 0;
    }
    cleanup_close int fd = open_in(root, path);
    if (fd < 0)
        return minik_error_set(err, errno, "open \"%s\"", path);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return minik_error_set(err, 0, "import: \"%s\" is not a regular file", path);
    minik_image_blob_writer_t *w = NULL;
    int r = minik_image_blob_writer_new(s->blobs, expected, -1, &w, err);
    char buf[65536];
    while (r == 0) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            r = minik_error_set(err, errno, "read \"%s\"", path);
        if (n <= 0)
            break;
        r = minik_image_blob_writer_write(w, buf, (size_t)n, err);
    }
    if (size && w)
        *size = minik_image_blob_writer_size(w);
    if (r == 0)
        r = minik_image_blob_writer_commit(w, digest, err);
    minik_image_blob_writer_free(w);
    return r < 0 ? minik_error_wrap(err, "import \"%s\"", path) : 0;
}

static const char *layer_media_type(const char *root, const char *path)
{
    unsigned char m[4] = {0};
    cleanup_close int fd = open_in(root, path);
    if (fd >= 0 && read(fd, m, sizeof(m)) == (ssize_t)sizeof(m)) {
        if (m[0] == 0x1f && m[1] == 0x8b)
            return MINIK_MT_OCI_LAYER_GZIP;
        if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
            return "application/vnd.oci.image.layer.v1.tar+zstd";
    }
    return MINIK_MT_OCI_LAYER_TAR;
}

/* The store key for an imported image: "name:tag" from `name`, or from the archive. */
static int ref_key(const char *name, char **key, minik_error_t **err)
{
    minik_image_ref_t *ref = NULL;
    int r = minik_image_ref_parse(name, &ref, err);
    if (r < 0)
        return r;
    if (ref->digest) {
        minik_image_ref_free(ref);
        return minik_error_set(err, 0, "import name \"%s\": give name:tag, not a digest", name);
    }
    *key = minik_image_ref_string(ref);
    minik_image_ref_free(ref);
    return 0;
}

/* The last step of every import, once the manifest `digest` and its blobs are stored: unpack its
 * layers, tag it `key` and hand the reference out (a copy of key). */
static int unpack_and_tag(minik_images_t *s, const char *key, const char *digest,
                          const char *index_digest, char **ref_out, minik_error_t **err)
{
    int r = minik_images_unpack_manifest(s, digest, err);
    if (r == 0)
        r = minik_images_tag(s, key, digest, index_digest, err);
    if (r == 0)
        *ref_out = xstrdup(key);
    return r;
}

/* Store a manifest whose blobs are files under `blob_dir` (OCI layout) and finish. */
static int import_manifest_from_layout(minik_images_t *s, const char *layout, const char *digest,
                                       const char *key, const char *index_digest, char **ref_out,
                                       minik_error_t **err)
{
    minik_image_manifest_t *m = NULL;
    int r = minik_images_load_manifest(s, digest, &m, err);
    for (size_t i = 0; r == 0 && i <= m->n_layers; i++) {
        const minik_image_descriptor_t *d = i == 0 ? &m->config : &m->layers[i - 1];
        cleanup_free char *p = xasprintf("blobs/sha256/%s", d->digest + 7);
        r = put_file(s, layout, p, d->digest, NULL, NULL, err);
    }
    minik_image_manifest_free(m);
    if (r < 0)
        return r;
    return unpack_and_tag(s, key, digest, index_digest, ref_out, err);
}

static int import_oci_layout(minik_images_t *s, const char *dir, const char *name,
                             const char *platform, char **ref_out, minik_error_t **err)
{
    cleanup_free char *layout_file = xasprintf("%s/oci-layout", dir);
    if (access(layout_file, F_OK) < 0)
        return minik_error_set(err, 0, "\"%s\" is not an OCI image layout (no oci-layout file)",
                               dir);
    cleanup_free char *ipath = xasprintf("%s/index.json", dir);
    cleanup_free char *data = NULL;
    size_t len = 0;
    int r = minik_file_read(ipath, JSON_MAX, &data, &len, err);
    if (r < 0)
        return r;
    minik_image_manifest_t *index = NULL;
    r = minik_image_manifest_parse(data, len, MINIK_MT_OCI_INDEX, &index, err);
    if (r < 0)
        return minik_error_wrap(err, "%s", ipath);
    if (!index->is_index || index->n_manifests == 0) {
        minik_image_manifest_free(index);
        return minik_error_set(err, 0, "%s: lists no images", ipath);
    }
    /* Which entry: the one whose ref.name annotation matches the requested tag, else the
     * only one. */
    const minik_image_descriptor_t *pick = NULL;
    cleanup_free char *key = NULL;
    minik_image_ref_t *want = NULL;
    if (name && minik_image_ref_parse(name, &want, NULL) == 0) {
        for (size_t i = 0; i < index->n_manifests && !pick; i++) {
            const char *rn = index->manifests[i].ref_name;
            if (rn && want->tag && strcmp(rn, want->tag) == 0)
                pick = &index->manifests[i];
        }
    }
    minik_image_ref_free(want);
    if (!pick && index->n_manifests == 1)
        pick = &index->manifests[0];
    if (!pick) {
        r = minik_error_set(err, 0,
                            "%s lists %zu images: choose one with --name NAME:TAG matching its "
                            "org.opencontainers.image.ref.name",
                            ipath, index->n_manifests);
    } else if (name) {
        r = ref_key(name, &key, err);
    } else if (pick->ref_name && strchr(pick->ref_name, '/')) {
        r = ref_key(pick->ref_name, &key, err);
    } else {
        r = minik_error_set(err, 0,
                            "%s: the image has no full name (ref.name \"%s\"): give --name "
                            "NAME:TAG",
                            dir, pick->ref_name ? pick->ref_name : "");
    }
    cleanup_free char *digest = r == 0 ? xstrdup(pick->digest) : NULL;
    minik_image_manifest_free(index);
    if (r < 0)
        return r;

    cleanup_free char *mpath = xasprintf("blobs/sha256/%s", digest + 7);
    r = put_file(s, dir, mpath, digest, NULL, NULL, err);
    if (r < 0)
        return r;
    minik_image_manifest_t *m = NULL;
    r = minik_images_load_manifest(s, digest, &m, err);
    if (r < 0)
        return r;
    cleanup_free char *index_digest = NULL;
    if (m->is_index) {
        minik_image_platform_t want_p;
        const minik_image_descriptor_t *d = NULL;
        r = minik_image_platform_parse(platform, &want_p, err);
        if (r == 0) {
            r = minik_image_manifest_select_platform(m, &want_p, &d, err);
            minik_image_platform_clear(&want_p);
        }
        if (r == 0) {
            index_digest = steal_pointer(&digest);
            digest = xstrdup(d->digest);
            free(mpath);
            mpath = xasprintf("blobs/sha256/%s", digest + 7);
            r = put_file(s, dir, mpath, digest, NULL, NULL, err);
        }
    }
    minik_image_manifest_free(m);
    if (r < 0)
        return r;
    return import_manifest_from_layout(s, dir, digest, key, index_digest, ref_out, err);
}

/* Build and store an OCI manifest for a config blob and layer blobs. */
static int store_manifest(minik_images_t *s, const char *config_digest, int64_t config_size,
                          char **layer_digests, const int64_t *layer_sizes, char **layer_types,
                          char **digest_out, minik_error_t **err)
{
    cleanup_cjson cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "schemaVersion", 2);
    cJSON_AddStringToObject(m, "mediaType", MINIK_MT_OCI_MANIFEST);
    cJSON *c = cJSON_AddObjectToObject(m, "config");
    cJSON_AddStringToObject(c, "mediaType", MINIK_MT_OCI_CONFIG);
    cJSON_AddStringToObject(c, "digest", config_digest);
    cJSON_AddNumberToObject(c, "size", (double)config_size);
    cJSON *ls = cJSON_AddArrayToObject(m, "layers");
    for (size_t i = 0; layer_digests[i]; i++) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "mediaType", layer_types[i]);
        cJSON_AddStringToObject(l, "digest", layer_digests[i]);
        cJSON_AddNumberToObject(l, "size", (double)layer_sizes[i]);
        cJSON_AddItemToArray(ls, l);
    }
    cleanup_free char *text = cJSON_PrintUnformatted(m);
    return minik_image_blob_put(s->blobs, text, strlen(text), NULL, digest_out, err);
}

static int import_docker_archive(minik_images_t *s, const char *dir, const char *name,
                                 char **ref_out, minik_error_t **err)
{
    cleanup_free char *mpath = xasprintf("%s/manifest.json", dir);
    cleanup_free char *data = NULL;
    int r = minik_file_read(mpath, JSON_MAX, &data, NULL, err);
    if (r < 0)
        return r;
    cleanup_cjson cJSON *j = cJSON_Parse(data);
    const cJSON *e = cJSON_IsArray(j) ? cJSON_GetArrayItem(j, 0) : NULL;
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(e, "Config");
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(e, "Layers");
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(e, "RepoTags");
    if (!cJSON_IsString(cfg) || !cJSON_IsArray(layers))
        return minik_error_set(err, 0,
                               "docker archive: manifest.json needs [{\"Config\": ..., "
                               "\"Layers\": [...]}]");
    if (cJSON_GetArraySize(j) > 1)
        minik_log_warn("docker archive holds several images; importing the first", NULL);
    cleanup_free char *key = NULL;
    const cJSON *t0 = cJSON_IsArray(tags) ? cJSON_GetArrayItem(tags, 0) : NULL;
    if (name)
        r = ref_key(name, &key, err);
    else if (cJSON_IsString(t0))
        r = ref_key(t0->valuestring, &key, err);
    else
        r = minik_error_set(err, 0, "docker archive has no RepoTags: give --name NAME:TAG");
    if (r < 0)
        return r;

    cleanup_free char *config_digest = NULL;
    int64_t config_size = 0;
    r = put_file(s, dir, cfg->valuestring, NULL, &config_digest, &config_size, err);
    if (r < 0)
        return r;
    size_t n = (size_t)cJSON_GetArraySize(layers);
    cleanup_strv char **ld = xcalloc(n + 1, sizeof(char *));
    cleanup_strv char **lt = xcalloc(n + 1, sizeof(char *));
    cleanup_free int64_t *lsz = xcalloc(n + 1, sizeof(int64_t));
    size_t i = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, layers)
    {
        if (!cJSON_IsString(l))
            return minik_error_set(err, 0, "docker archive: Layers[%zu] is not a path", i);
        lt[i] = xstrdup(layer_media_type(dir, l->valuestring));
        r = put_file(s, dir, l->valuestring, NULL, &ld[i], &lsz[i], err);
        if (r < 0)
            return r;
        i++;
    }
    cleanup_free char *digest = NULL;
    r = store_manifest(s, config_digest, config_size, ld, lsz, lt, &digest, err);
    if (r < 0)
        return r;
    return unpack_and_tag(s, key, digest, NULL, ref_out, err);
}

static int import_rootfs(minik_images_t *s, const char *path, const char *name, char **ref_out,
                         minik_error_t **err)
{
    if (!name)
        return minik_error_set(
            err, EINVAL, "\"%s\" is a plain root filesystem tarball: give --name NAME:TAG", path);
    cleanup_free char *key = NULL;
    int r = ref_key(name, &key, err);
    if (r < 0)
        return r;
    cleanup_free char *layer = NULL, *diff_id = NULL, *config_digest = NULL, *digest = NULL;
    int64_t size = 0;
    r = put_file(s, NULL, path, NULL, &layer, &size, err);
    if (r == 0)
        r = minik_image_unpack_diff_id(path, &diff_id, err);
    if (r < 0)
        return r;
    minik_image_platform_t host;
    minik_image_platform_host(&host);
    cleanup_cjson cJSON *cfg = cJSON_CreateObject();
    cJSON_AddStringToObject(cfg, "architecture", host.arch);
    cJSON_AddStringToObject(cfg, "os", host.os);
    if (host.variant)
        cJSON_AddStringToObject(cfg, "variant", host.variant);
    minik_image_platform_clear(&host);
    cJSON *c = cJSON_AddObjectToObject(cfg, "config");
    cJSON *env = cJSON_AddArrayToObject(c, "Env");
    cJSON_AddItemToArray(
        env,
        cJSON_CreateString("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
    cJSON *rootfs = cJSON_AddObjectToObject(cfg, "rootfs");
    cJSON_AddStringToObject(rootfs, "type", "layers");
    cJSON *ids = cJSON_AddArrayToObject(rootfs, "diff_ids");
    cJSON_AddItemToArray(ids, cJSON_CreateString(diff_id));
    cleanup_free char *text = cJSON_PrintUnformatted(cfg);
    r = minik_image_blob_put(s->blobs, text, strlen(text), NULL, &config_digest, err);
    if (r < 0)
        return r;
    char *ld[2] = {layer, NULL};
    char *lt[2] = {(char *)layer_media_type(NULL, path), NULL};
    int64_t lsz[1] = {size};
    r = store_manifest(s, config_digest, (int64_t)strlen(text), ld, lsz, lt, &digest, err);
    if (r < 0)
        return r;
    return unpack_and_tag(s, key, digest, NULL, ref_out, err);
}

typedef enum { ARCHIVE_ROOTFS, ARCHIVE_DOCKER, ARCHIVE_OCI } archive_kind_t;

static int classify(const char *path, archive_kind_t *kind, minik_error_t **err)
{
    struct archive *a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    int r = 0;
    bool manifest = false, layout = false, index = false;
    if (archive_read_open_filename(a, path, 128 * 1024) != ARCHIVE_OK) {
        r = minik_error_set(err, 0, "\"%s\" is not a tar archive: %s", path,
                            archive_error_string(a));
    } else {
        struct archive_entry *e;
        int h;
        unsigned n = 0;
        while ((h = archive_read_next_header(a, &e)) == ARCHIVE_OK || h == ARCHIVE_WARN) {
            const char *nm = archive_entry_pathname(e);
            if (nm && minik_str_has_prefix(nm, "./"))
                nm += 2;
            if (nm && strcmp(nm, "manifest.json") == 0)
                manifest = true;
            else if (nm && strcmp(nm, "oci-layout") == 0)
                layout = true;
            else if (nm && strcmp(nm, "index.json") == 0)
                index = true;
            /* The markers sit at the top of docker and OCI archives; a big rootfs need not
             * be read to the end to know it is one. */
            if (++n > 100000)
                break;
        }
        if (h < ARCHIVE_WARN)
            r = minik_error_set(err, 0, "\"%s\" is not a tar archive: %s", path,
                                archive_error_string(a));
    }
    archive_read_free(a);
    *kind = (layout && index) ? ARCHIVE_OCI : manifest ? ARCHIVE_DOCKER : ARCHIVE_ROOTFS;
    return r;
}

int minik_images_import(minik_images_t *s, const char *path, const char *name, const char *platform,
                        char **ref_out, minik_error_t **err)
{
    cleanup_close int gc_lock = -1;
    int r = minik_images_gc_lock(s, LOCK_SH, &gc_lock, err);
    if (r < 0)
        return r;
    struct stat st;
    if (stat(path, &st) < 0)
        return minik_error_set(err, errno, "import \"%s\"", path);
    if (S_ISDIR(st.st_mode)) {
        r = import_oci_layout(s, path, name, platform, ref_out, err);
        return r < 0 ? minik_error_wrap(err, "import \"%s\"", path) : 0;
    }
    archive_kind_t kind;
    r = classify(path, &kind, err);
    if (r < 0)
        return r;
    if (kind == ARCHIVE_ROOTFS) {
        r = import_rootfs(s, path, name, ref_out, err);
        return r < 0 ? minik_error_wrap(err, "import \"%s\"", path) : 0;
    }
    cleanup_free char *tmp = xasprintf("%s/import-XXXXXX", s->tmp);
    if (!mkdtemp(tmp))
        return minik_error_set(err, errno, "create temp dir in \"%s\"", s->tmp);
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        r = minik_error_set(err, errno, "open \"%s\"", path);
    if (r == 0)
        r = minik_image_unpack_layer_fd(fd, tmp, &s->limits, NULL, err);
    if (r == 0 && kind == ARCHIVE_OCI)
        r = import_oci_layout(s, tmp, name, platform, ref_out, err);
    else if (r == 0)
        r = import_docker_archive(s, tmp, name, ref_out, err);
    cleanup_error minik_error_t *e2 = NULL;
    minik_rm_rf(tmp, &e2); /* best effort: GC sweeps tmp/ as well */
    return r < 0 ? minik_error_wrap(err, "import \"%s\"", path) : 0;
}
