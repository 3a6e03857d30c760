/* minik_images_pull: resolve a reference on its registry, pick the platform's manifest,
 * fetch config and layers into the blob store, unpack the layers, and only then record the
 * reference, so an interrupted pull leaves nothing that looks like an image. */
#include <errno.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "agent/images/internal.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

static char **merge_lists(char *const *a, char *const *b)
{
    size_t na = minik_strv_len(a), nb = minik_strv_len(b);
    char **out = xcalloc(na + nb + 1, sizeof(char *));
    for (size_t i = 0; i < na; i++)
        out[i] = xstrdup(a[i]);
    for (size_t i = 0; i < nb; i++)
        out[na + i] = xstrdup(b[i]);
    return out;
}

int minik_images_pull(minik_images_t *s, const char *ref_str, const minik_pull_opts_t *opts,
                      char **digest_out, minik_error_t **err)
{
    static const minik_pull_opts_t no_opts = {0};
    if (!opts)
        opts = &no_opts;
    minik_image_ref_t *ref = NULL;
    int r = minik_image_ref_parse(ref_str, &ref, err);
    if (r < 0)
        return r;
    minik_image_platform_t want = {0};
    minik_registry_t *reg = NULL;
    minik_image_manifest_t *top = NULL, *man = NULL;
    cleanup_free char *body = NULL, *ct = NULL, *digest = NULL, *index_digest = NULL;
    cleanup_free char *name = minik_image_ref_name(ref);
    cleanup_strv char **plain = merge_lists(s->plain_http, opts->plain_http);
    cleanup_close int gc_lock = -1;
    size_t len = 0;

    r = minik_image_platform_parse(opts->platform, &want, err);
    if (r == 0)
        r = minik_images_gc_lock(s, LOCK_SH, &gc_lock, err);
    if (r == 0)
        r = minik_registry_new(ref, opts->creds_json, plain, &reg, err);
    if (r == 0)
        r = minik_registry_get_manifest(reg, ref->digest ? ref->digest : ref->tag, &body, &len, &ct,
                                        &digest, err);
    if (r == 0)
        r = minik_image_manifest_parse(body, len, ct, &top, err);
    if (r == 0 && top->is_index) {
        const minik_image_descriptor_t *d = NULL;
        r = minik_image_blob_put(s->blobs, body, len, digest, NULL, err);
        if (r == 0)
            r = minik_image_manifest_select_platform(top, &want, &d, err);
        if (r == 0) {
            index_digest = steal_pointer(&digest);
            free(body);
            free(ct);
            body = ct = NULL;
            r = minik_registry_get_manifest(reg, d->digest, &body, &len, &ct, &digest, err);
        }
        if (r == 0)
            r = minik_image_manifest_parse(body, len, ct, &man, err);
        if (r == 0 && man->is_index)
            r = minik_error_set(err, 0, "manifest %s: an index inside an index", digest);
    } else if (r == 0) {
        man = steal_pointer(&top);
    }
    if (r == 0)
        r = minik_image_blob_put(s->blobs, body, len, digest, NULL, err);
    if (r == 0) {
        const minik_image_descriptor_t **descs = xcalloc(man->n_layers + 1, sizeof(*descs));
        descs[0] = &man->config;
        for (size_t i = 0; i < man->n_layers; i++)
            descs[i + 1] = &man->layers[i];
        r = minik_registry_fetch_blobs(reg, s->blobs, descs, man->n_layers + 1, opts->progress,
                                       opts->progress_data, err);
        free(descs);
    }
    if (r == 0)
        r = minik_images_unpack_manifest(s, digest, err);
    if (r == 0 && ref->tag) {
        cleanup_free char *key = xasprintf("%s:%s", name, ref->tag);
        r = minik_images_tag(s, key, digest, index_digest, err);
    }
    if (r == 0 && ref->digest) {
        cleanup_free char *key = xasprintf("%s@%s", name, ref->digest);
        r = minik_images_tag(s, key, digest, index_digest, err);
    }
    if (r == 0) {
        minik_log_debug("image pulled", "ref", ref_str, "digest", digest, NULL);
        if (digest_out)
            *digest_out = steal_pointer(&digest);
    } else {
        cleanup_free char *full = minik_image_ref_string(ref);
        minik_error_wrap(err, "pull %s", full);
    }
    minik_image_manifest_free(top);
    minik_image_manifest_free(man);
    minik_registry_free(reg);
    minik_image_platform_clear(&want);
    minik_image_ref_free(ref);
    return r;
}
