/* Pieces of the image store shared between its files; not for other components (they use
 * images.h). Each group is implemented in the file named in its comment. */
#ifndef MINIK_IMAGES_INTERNAL_H
#define MINIK_IMAGES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "agent/images/images.h"
#include "lib/error.h"

/* ---- reference.c: Docker-compatible image references ------------------------------- */

typedef struct minik_image_ref {
    char *domain; /* "docker.io", "localhost:5000" */
    char *path;   /* "library/nginx" */
    char *tag;    /* NULL when only a digest was given */
    char *digest; /* "sha256:<hex>" or NULL */
} minik_image_ref_t;

/* Parse and normalise like Docker: "nginx" -> docker.io/library/nginx:latest. */
int minik_image_ref_parse(const char *s, minik_image_ref_t **out, minik_error_t **err);
void minik_image_ref_free(minik_image_ref_t *ref);
/* "domain/path" */
char *minik_image_ref_name(const minik_image_ref_t *ref);
/* "domain/path[:tag][@digest]" */
char *minik_image_ref_string(const minik_image_ref_t *ref);
/* The host:port to connect to ("registry-1.docker.io" for docker.io). */
const char *minik_image_ref_endpoint(const minik_image_ref_t *ref);
/* "sha256:" followed by 64 lowercase hex digits. */
bool minik_image_digest_valid(const char *digest);

/* ---- manifest.c: manifests, indexes, platforms -------------------------------------- */

#define MINIK_MT_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define MINIK_MT_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define MINIK_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MINIK_MT_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define MINIK_MT_OCI_CONFIG      "application/vnd.oci.image.config.v1+json"
#define MINIK_MT_DOCKER_CONFIG   "application/vnd.docker.container.image.v1+json"
#define MINIK_MT_OCI_LAYER_TAR   "application/vnd.oci.image.layer.v1.tar"
#define MINIK_MT_OCI_LAYER_GZIP  "application/vnd.oci.image.layer.v1.tar+gzip"
#define MINIK_MT_DOCKER_LAYER    "application/vnd.docker.image.rootfs.diff.tar.gzip"

typedef struct minik_image_platform {
    char *os, *arch, *variant; /* variant may be NULL */
} minik_image_platform_t;

typedef struct minik_image_descriptor {
    char *media_type;
    char *digest;
    int64_t size;
    minik_image_platform_t platform; /* index entries only; fields NULL when absent */
    char *ref_name;                  /* org.opencontainers.image.ref.name annotation, or NULL */
} minik_image_descriptor_t;

typedef struct minik_image_manifest {
    char *media_type; /* one of the four manifest/index types */
    bool is_index;
    minik_image_descriptor_t config;  /* manifests only */
    minik_image_descriptor_t *layers; /* manifests only */
    size_t n_layers;
    minik_image_descriptor_t *manifests; /* indexes only */
    size_t n_manifests;
} minik_image_manifest_t;

/* Parse an image manifest or index. `content_type` (may be NULL) is the HTTP header; the
 * document's own mediaType wins, and without either the shape decides. Every descriptor
 * is checked (digest syntax, size >= 0, known layer media types). */
int minik_image_manifest_parse(const char *data, size_t len, const char *content_type,
                               minik_image_manifest_t **out, minik_error_t **err);
void minik_image_manifest_free(minik_image_manifest_t *m);

/* "linux/arm64", "linux/arm/v7"; NULL or "" means the host's platform. */
int minik_image_platform_parse(const char *s, minik_image_platform_t *out, minik_error_t **err);
void minik_image_platform_host(minik_image_platform_t *out);
void minik_image_platform_clear(minik_image_platform_t *p);
char *minik_image_platform_string(const minik_image_platform_t *p);
/* Pick the best manifest of an index for `want` (exact variant first, then compatible
 * ones: arm64 "" ~ "v8", arm v7 runs v6 and v5). ENOENT names the platforms on offer. */
int minik_image_manifest_select_platform(const minik_image_manifest_t *index,
                                         const minik_image_platform_t *want,
                                         const minik_image_descriptor_t **out, minik_error_t **err);

/* ---- auth.c: WWW-Authenticate challenges and docker config.json credentials ---------- */

typedef struct minik_registry_auth_challenge {
    char *scheme; /* "bearer" or "basic", lowercased */
    char *realm, *service, *scope, *error;
} minik_registry_auth_challenge_t;

int minik_registry_auth_parse_challenge(const char *header, minik_registry_auth_challenge_t **out,
                                        minik_error_t **err);
void minik_registry_auth_challenge_free(minik_registry_auth_challenge_t *c);

typedef struct minik_registry_cred {
    char *username, *password;
    char *registry_token; /* a bearer token to send as is */
} minik_registry_cred_t;

/* Find credentials for registry `domain` (as in a reference: "docker.io", "host:5000") in
 * a docker config.json document (or a legacy .dockercfg map), or in a JSON array of such
 * documents (a pod's several imagePullSecrets; the first match wins). *out is NULL when
 * there are none; a malformed document is an error. */
int minik_registry_auth_lookup(const char *config_json, const char *domain,
                               minik_registry_cred_t **out, minik_error_t **err);
void minik_registry_cred_free(minik_registry_cred_t *c);

/* ---- blobstore.c: content-addressed blobs ------------------------------------------- */

char *minik_image_blob_path(const char *blobs_dir, const char *digest);
bool minik_image_blob_exists(const char *blobs_dir, const char *digest);
/* True when the blob exists and still matches its digest (at most max bytes are read). A
 * damaged one is removed, so that it is fetched or written again. */
bool minik_image_blob_intact(const char *blobs_dir, const char *digest, size_t max);
/* Read a whole blob (at most max bytes) and check it still matches its digest. */
int minik_image_blob_read(const char *blobs_dir, const char *digest, size_t max, char **data,
                          size_t *len, minik_error_t **err);

typedef struct minik_image_blob_writer minik_image_blob_writer_t;
/* Start writing a blob to a temp file in blobs_dir. expected_digest (may be NULL) and
 * expected_size (-1: unknown) are checked on commit. */
int minik_image_blob_writer_new(const char *blobs_dir, const char *expected_digest,
                                int64_t expected_size, minik_image_blob_writer_t **out,
                                minik_error_t **err);
int minik_image_blob_writer_write(minik_image_blob_writer_t *w, const void *data, size_t len,
                                  minik_error_t **err);
/* Discard what was written so far (a retried download starts over). */
int minik_image_blob_writer_reset(minik_image_blob_writer_t *w, minik_error_t **err);
int64_t minik_image_blob_writer_size(const minik_image_blob_writer_t *w);
/* Verify, fsync and rename into place. *digest_out (may be NULL) gets the digest. */
int minik_image_blob_writer_commit(minik_image_blob_writer_t *w, char **digest_out,
                                   minik_error_t **err);
/* Remove the temp file (if not committed) and free. NULL is a no-op. */
void minik_image_blob_writer_free(minik_image_blob_writer_t *w);
/* Store a buffer as a blob. */
int minik_image_blob_put(const char *blobs_dir, const void *data, size_t len,
                         const char *expected_digest, char **digest_out, minik_error_t **err);
/* sha256 of a buffer as "sha256:<hex>"; caller frees. */
char *minik_image_digest_of(const void *data, size_t len);

/* flock(op) on <dir>/<name>.lock, op being LOCK_EX or LOCK_SH, with LOCK_NB to return 0 and
 * *fd = -1 when someone else holds it. Closing *fd releases it. */
int minik_images_lock_take(const char *dir, const char *name, int op, int *fd, minik_error_t **err);

/* ---- unpack.c: layer tarballs into a directory -------------------------------------- */

typedef struct minik_image_unpack_limits {
    uint64_t max_bytes;   /* total size of file contents */
    uint64_t max_entries; /* number of archive entries */
} minik_image_unpack_limits_t;

/* Unpack a layer (tar; gzip, zstd, xz or none, autodetected) read from archive_fd into the
 * existing empty directory dest_dir. Whiteouts become overlayfs whiteouts (0/0 char
 * devices, trusted.overlay.opaque=y). Entries that would land outside dest_dir are
 * refused. *diff_id (may be NULL) receives the sha256 of the decompressed stream. On
 * failure dest_dir is left for the caller to remove. */
int minik_image_unpack_layer_fd(int archive_fd, const char *dest_dir,
                                const minik_image_unpack_limits_t *lim, char **diff_id,
                                minik_error_t **err);
int minik_image_unpack_layer_mem(const void *data, size_t len, const char *dest_dir,
                                 const minik_image_unpack_limits_t *lim, minik_error_t **err);
/* sha256 of the decompressed stream of a (possibly compressed) tar file: its diff_id. */
int minik_image_unpack_diff_id(const char *path, char **diff_id, minik_error_t **err);

/* ---- registry.c: the distribution-spec client --------------------------------------- */

typedef struct minik_registry minik_registry_t;

int minik_registry_new(const minik_image_ref_t *ref, const char *creds_json,
                       char *const *plain_http, minik_registry_t **out, minik_error_t **err);
void minik_registry_free(minik_registry_t *r);
/* GET /v2/<name>/manifests/<reference>; *body is verified against `reference` when it is a
 * digest. *digest gets the sha256 of the body. */
int minik_registry_get_manifest(minik_registry_t *r, const char *reference, char **body,
                                size_t *len, char **content_type, char **digest,
                                minik_error_t **err);
/* Fetch blobs into the blob store concurrently, each verified. Blobs already present are
 * skipped; blobs another process is fetching are waited for instead of fetched twice. */
int minik_registry_fetch_blobs(minik_registry_t *r, const char *blobs_dir,
                               const minik_image_descriptor_t *const *descs, size_t n,
                               minik_pull_progress_fn progress, void *progress_data,
                               minik_error_t **err);

/* ---- store.c: state shared by the files of the store --------------------------------- */

struct minik_images {
    char *data_dir;
    char *root;   /* <data_dir>/images */
    char *blobs;  /* <root>/blobs */
    char *layers; /* <root>/layers/sha256 */
    char *rootfs; /* <root>/rootfs */
    char *tmp;    /* <root>/tmp */
    char **plain_http;
    minik_image_unpack_limits_t limits;
    bool copy_rootfs;
};

/* refs.json under the store lock. */
int minik_images_lock(minik_images_t *s, int *fd, minik_error_t **err);
/* The gc lock: LOCK_SH while a pull, an import or a rootfs adds or uses blobs and layers,
 * LOCK_EX for gc, so gc never frees what is being added. Closing *fd releases it. */
int minik_images_gc_lock(minik_images_t *s, int op, int *fd, minik_error_t **err);
int minik_images_refs_load(minik_images_t *s, cJSON **refs, minik_error_t **err);
int minik_images_refs_save(minik_images_t *s, const cJSON *refs, minik_error_t **err);
/* Record `ref_string` -> manifest (and index) digest, after every blob is stored and every
 * layer unpacked. */
int minik_images_tag(minik_images_t *s, const char *ref_string, const char *manifest_digest,
                     const char *index_digest, minik_error_t **err);
/* Make sure every layer of a stored manifest is unpacked (each once, shared). */
int minik_images_unpack_manifest(minik_images_t *s, const char *manifest_digest,
                                 minik_error_t **err);
/* Parsed manifest of a stored image. */
int minik_images_load_manifest(minik_images_t *s, const char *digest, minik_image_manifest_t **out,
                               minik_error_t **err);
/* The diff_ids of a stored image (from its config; one per layer, checked), as a
 * NULL-terminated array the caller frees with minik_strv_free. */
int minik_images_diff_ids(minik_images_t *s, const minik_image_manifest_t *m, char ***out,
                          minik_error_t **err);
/* Directory of an unpacked layer, by diff_id. */
char *minik_images_layer_dir(minik_images_t *s, const char *diff_id);
/* Manifest digests used by prepared root filesystems (NULL-terminated). */
char **minik_images_rootfs_in_use(minik_images_t *s);

#endif
