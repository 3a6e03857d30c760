/* The node's OCI image store: pulls from registries, imports archives, keeps content-
 * addressed blobs and unpacked layers under <data-dir>/images, and prepares one root
 * filesystem per container (overlayfs, or a copy where overlayfs is unavailable).
 *
 * Layout (docs/images.md has the full picture):
 *   <data-dir>/images/blobs/sha256/<hex>     verified blobs (manifests, configs, layers)
 *   <data-dir>/images/layers/sha256/<hex>/   one directory per unpacked layer blob, with
 *                                            whiteouts in overlayfs form
 *   <data-dir>/images/refs.json              name:tag / name@digest -> manifest digest
 *   <data-dir>/images/rootfs/<container-id>/ merged/ upper/ work/ + image digest
 *
 * Every call is blocking and safe to make from several processes at once on the same data
 * dir (locks are flock(2) files in the store). Pulls run a curl multi loop internally: the
 * agent calls them from a worker thread or child process, never from its libuv loop. */
#ifndef MINIK_IMAGES_H
#define MINIK_IMAGES_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "lib/error.h"

typedef struct minik_images minik_images_t;

/* Progress of one blob during a pull: called from the pulling thread. `total` is -1 when
 * unknown. `done_blob` is true once the blob is verified and stored. */
typedef void (*minik_pull_progress_fn)(void *data, const char *digest, int64_t now, int64_t total,
                                       bool done_blob);

typedef struct minik_pull_opts {
    /* Credentials in ~/.docker/config.json form ({"auths": {"host": {"auth": ...}}}), the
     * content of a kubernetes.io/dockerconfigjson secret, or a JSON array of those (a
     * pod's imagePullSecrets in order; the first with an entry for the registry wins).
     * NULL: anonymous. */
    const char *creds_json;
    /* "os/arch[/variant]"; NULL selects the host's platform. */
    const char *platform;
    /* Extra registries ("host[:port]") spoken to over plain HTTP, on top of the store's
     * configured list; loopback registries always are. NULL-terminated, may be NULL. */
    char *const *plain_http;
    minik_pull_progress_fn progress;
    void *progress_data;
} minik_pull_opts_t;

/* A locally stored image, as returned by minik_images_resolve and minik_images_list. */
typedef struct minik_image {
    char *ref;             /* normalised reference it was found under ("docker.io/library/x:1") */
    char *name;            /* "docker.io/library/x" */
    char *tag;             /* "1", or NULL when stored by digest only */
    char *manifest_digest; /* the platform manifest ("sha256:...") */
    char *index_digest;    /* the index it was selected from, or NULL */
    char *config_digest;
    int64_t size; /* bytes of config + compressed layers */
} minik_image_t;

void minik_image_free(minik_image_t *img);
void minik_image_list_free(minik_image_t **list); /* NULL-terminated array */

/* Open (creating if needed) the store under <data_dir>/images. Reads the optional
 * <data_dir>/images/registries.json ({"plainHTTP": ["host:port", ...]}). */
int minik_images_open(const char *data_dir, minik_images_t **out, minik_error_t **err);
void minik_images_close(minik_images_t *store); /* NULL is a no-op */

/* Limits on every layer unpacked from now on (defaults: 64 GiB, 2,000,000 entries). */
void minik_images_set_limits(minik_images_t *store, uint64_t max_layer_bytes,
                             uint64_t max_layer_entries);
/* Never use overlayfs for root filesystems (also forced by MINIK_ROOTFS_COPY=1). */
void minik_images_set_copy_rootfs(minik_images_t *store, bool copy);

/* Pull `ref` (any form Docker accepts: "nginx", "host:5000/a/b:t", "x@sha256:...") into the
 * store: manifest (selecting the platform from an index), config, then layers fetched
 * concurrently, each verified against its digest before it is stored and unpacked. Nothing
 * is referenced until every part is in place. *digest_out (if not NULL) receives the
 * platform manifest digest, owned by the caller. */
int minik_images_pull(minik_images_t *store, const char *ref, const minik_pull_opts_t *opts,
                      char **digest_out, minik_error_t **err);

/* Import an OCI image layout directory, an OCI or docker-archive tarball, or a plain
 * rootfs tarball (which needs `name`). `name` (may be NULL) tags the imported image.
 * *ref_out receives the reference the image is stored under. */
int minik_images_import(minik_images_t *store, const char *path, const char *name,
                        const char *platform, char **ref_out, minik_error_t **err);

/* Local lookup of a reference or a manifest digest ("sha256:..." or a unique prefix of
 * its hex). Fails with ENOENT when the image is not in the store. */
int minik_images_resolve(minik_images_t *store, const char *ref, minik_image_t **out,
                         minik_error_t **err);

/* The image's config object (the "config" member of the OCI image config: Entrypoint,
 * Cmd, Env, WorkingDir, User, ExposedPorts, ...); an empty object when the image has
 * none. The caller owns *config. */
int minik_images_config(minik_images_t *store, const char *ref_or_digest, cJSON **config,
                        minik_error_t **err);

/* Every stored reference, sorted by name then tag. */
int minik_images_list(minik_images_t *store, minik_image_t ***out, minik_error_t **err);

/* Remove a reference. Refused (EBUSY) when it is the last reference to an image that a
 * prepared root filesystem uses. Data no longer referenced is garbage-collected. */
int minik_images_remove(minik_images_t *store, const char *ref, minik_error_t **err);

/* Remove blobs, layers and leftovers of interrupted work that no reference and no
 * prepared root filesystem uses. Reports what was freed. */
int minik_images_gc(minik_images_t *store, uint64_t *freed_bytes, unsigned *freed_items,
                    minik_error_t **err);

/* Bytes used by blobs and by unpacked layers. */
int minik_images_disk_usage(minik_images_t *store, uint64_t *blob_bytes, uint64_t *layer_bytes,
                            minik_error_t **err);

/* Prepare the root filesystem of container `container_id` from image `ref`: an overlayfs
 * mount (lower = the image's layers, upper/work private to the container) at
 * <data-dir>/images/rootfs/<id>/merged, or a copy of the layers there when overlayfs is
 * unavailable. Idempotent for the same image. *rootfs_path is owned by the caller. While
 * it exists the image cannot be removed or collected. */
int minik_images_rootfs_prepare(minik_images_t *store, const char *ref, const char *container_id,
                                char **rootfs_path, minik_error_t **err);

/* Unmount and delete a container's root filesystem; a missing one is not an error. */
int minik_images_rootfs_remove(minik_images_t *store, const char *container_id,
                               minik_error_t **err);

#endif
