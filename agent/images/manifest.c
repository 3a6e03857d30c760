/* OCI and Docker schema-2 image manifests and indexes (manifest lists), and picking the
 * manifest for a platform out of an index. Input comes from registries and archives, so
 * everything is checked before anyone uses it. */
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>

#include "agent/images/internal.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define MANIFEST_MAX_BYTES   (4 * 1024 * 1024)
#define MANIFEST_MAX_ENTRIES 10000

static void descriptor_clear(minik_descriptor_t *d)
{
    free(d->media_type);
    free(d->digest);
    free(d->ref_name);
    minik_platform_clear(&d->platform);
    memset(d, 0, sizeof(*d));
}

void minik_image_manifest_free(minik_image_manifest_t *m)
{
    if (!m)
        return;
    free(m->media_type);
    descriptor_clear(&m->config);
    for (size_t i = 0; i < m->n_layers; i++)
        descriptor_clear(&m->layers[i]);
    free(m->layers);
    for (size_t i = 0; i < m->n_manifests; i++)
        descriptor_clear(&m->manifests[i]);
    free(m->manifests);
    free(m);
}

void minik_platform_clear(minik_platform_t *p)
{
    free(p->os);
    free(p->arch);
    free(p->variant);
    p->os = p->arch = p->variant = NULL;
}

static const char *opt_string(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool layer_type_known(const char *mt)
{
    static const char *known[] = {
        MINIK_MT_OCI_LAYER_TAR,
        MINIK_MT_OCI_LAYER_GZIP,
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        MINIK_MT_DOCKER_LAYER,
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        NULL,
    };
    for (int i = 0; known[i]; i++)
        if (strcmp(mt, known[i]) == 0)
            return true;
    return false;
}

/* `where` names the descriptor in errors ("layers[2]"). */
static int descriptor_parse(const cJSON *j, const char *where, bool with_platform,
                            minik_descriptor_t *d, minik_error_t **err)
{
    if (!cJSON_IsObject(j))
        return minik_error_set(err, 0, "%s: expected an object", where);
    const char *mt = opt_string(j, "mediaType");
    const char *digest = opt_string(j, "digest");
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(j, "size");
    if (!digest)
        return minik_error_set(err, 0, "%s: missing digest", where);
    if (!minik_digest_valid(digest))
        return minik_error_set(
            err, 0, "%s: unsupported digest \"%.80s\" (expected sha256:<64 hex>)", where, digest);
    if (!cJSON_IsNumber(size) || size->valuedouble < 0 || size->valuedouble > 1e15 ||
        size->valuedouble != (double)(int64_t)size->valuedouble)
        return minik_error_set(err, 0, "%s: size must be a non-negative integer", where);
    d->media_type = mt ? xstrdup(mt) : NULL;
    d->digest = xstrdup(digest);
    d->size = (int64_t)size->valuedouble;
    const cJSON *ann = cJSON_GetObjectItemCaseSensitive(j, "annotations");
    const char *rn =
        cJSON_IsObject(ann) ? opt_string(ann, "org.opencontainers.image.ref.name") : NULL;
    if (rn)
        d->ref_name = xstrdup(rn);
    if (with_platform) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "platform");
        if (p && !cJSON_IsObject(p))
            return minik_error_set(err, 0, "%s: platform must be an object", where);
        if (p) {
            const char *os = opt_string(p, "os"), *arch = opt_string(p, "architecture");
            const char *variant = opt_string(p, "variant");
            d->platform.os = os ? xstrdup(os) : NULL;
            d->platform.arch = arch ? xstrdup(arch) : NULL;
            d->platform.variant = variant && *variant ? xstrdup(variant) : NULL;
        }
    }
    return 0;
}

static int descriptor_array(const cJSON *arr, const char *name, bool with_platform,
                            minik_descriptor_t **out, size_t *n_out, minik_error_t **err)
{
    if (!cJSON_IsArray(arr))
        return minik_error_set(err, 0, "%s must be an array", name);
    int n = cJSON_GetArraySize(arr);
    if (n > MANIFEST_MAX_ENTRIES)
        return minik_error_set(err, 0, "%s: %d entries, more than the limit of %d", name, n,
                               MANIFEST_MAX_ENTRIES);
    minik_descriptor_t *ds = xcalloc((size_t)n + 1, sizeof(*ds));
    *out = ds;
    *n_out = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        char where[64];
        snprintf(where, sizeof(where), "%s[%zu]", name, *n_out);
        int r = descriptor_parse(e, where, with_platform, &ds[*n_out], err);
        (*n_out)++;
        if (r < 0)
            return r;
    }
    return 0;
}

static char *strip_params(const char *ct)
{
    if (!ct)
        return NULL;
    size_t n = strcspn(ct, ";");
    cleanup_free char *t = xstrndup(ct, n);
    return minik_str_trim(t);
}

int minik_image_manifest_parse(const char *data, size_t len, const char *content_type,
                               minik_image_manifest_t **out, minik_error_t **err)
{
    if (len > MANIFEST_MAX_BYTES)
        return minik_error_set(err, 0, "manifest: %zu bytes, more than the limit of %d", len,
                               MANIFEST_MAX_BYTES);
    cleanup_cjson cJSON *j = cJSON_ParseWithLength(data, len);
    if (!j)
        return minik_error_set(err, 0, "manifest: not valid JSON");
    if (!cJSON_IsObject(j))
        return minik_error_set(err, 0, "manifest: expected a JSON object");
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(j, "schemaVersion");
    if (cJSON_IsNumber(sv) && sv->valuedouble == 1)
        return minik_error_set(err, 0,
                               "manifest: Docker schema 1 manifests are not supported (push "
                               "the image again with a current client)");
    if (!cJSON_IsNumber(sv) || sv->valuedouble != 2)
        return minik_error_set(err, 0, "manifest: schemaVersion must be 2");

    cleanup_free char *ct = strip_params(content_type);
    const char *mt = opt_string(j, "mediaType");
    if (!mt && ct && *ct && strcmp(ct, "application/json") != 0 &&
        strcmp(ct, "application/octet-stream") != 0)
        mt = ct;
    const cJSON *manifests = cJSON_GetObjectItemCaseSensitive(j, "manifests");
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(j, "layers");
    if (!mt) {
        if (manifests && layers)
            return minik_error_set(err, 0,
                                   "manifest: has both \"manifests\" and \"layers\" and no "
                                   "mediaType");
        mt = manifests ? MINIK_MT_OCI_INDEX : MINIK_MT_OCI_MANIFEST;
    }

    minik_image_manifest_t *m = xcalloc(1, sizeof(*m));
    m->media_type = xstrdup(mt);
    int r;
    if (strcmp(mt, MINIK_MT_OCI_INDEX) == 0 || strcmp(mt, MINIK_MT_DOCKER_LIST) == 0) {
        m->is_index = true;
        r = descriptor_array(manifests, "manifests", true, &m->manifests, &m->n_manifests, err);
    } else if (strcmp(mt, MINIK_MT_OCI_MANIFEST) == 0 ||
               strcmp(mt, MINIK_MT_DOCKER_MANIFEST) == 0) {
        r = descriptor_parse(cJSON_GetObjectItemCaseSensitive(j, "config"), "config", false,
                             &m->config, err);
        if (r == 0 && m->config.media_type &&
            strcmp(m->config.media_type, MINIK_MT_OCI_CONFIG) != 0 &&
            strcmp(m->config.media_type, MINIK_MT_DOCKER_CONFIG) != 0)
            r = minik_error_set(err, 0,
                                "config type \"%.100s\" is not a container image "
                                "(an OCI artifact?)",
                                m->config.media_type);
        if (r == 0)
            r = descriptor_array(layers, "layers", false, &m->layers, &m->n_layers, err);
        for (size_t i = 0; r == 0 && i < m->n_layers; i++) {
            const char *lt = m->layers[i].media_type;
            if (!lt)
                r = minik_error_set(err, 0, "layers[%zu]: missing mediaType", i);
            else if (!layer_type_known(lt))
                r = minik_error_set(err, 0, "layers[%zu]: unsupported layer type \"%.100s\"", i,
                                    lt);
        }
    } else {
        r = minik_error_set(err, 0, "unsupported media type \"%.100s\"", mt);
    }
    if (r < 0) {
        minik_error_wrap(err, "manifest");
        minik_image_manifest_free(m);
        return r;
    }
    *out = m;
    return 0;
}

int minik_platform_parse(const char *s, minik_platform_t *out, minik_error_t **err)
{
    memset(out, 0, sizeof(*out));
    if (!s || !*s) {
        minik_platform_host(out);
        return 0;
    }
    cleanup_strv char **parts = minik_str_split(s, "/", false);
    size_t n = minik_strv_len(parts);
    if (n < 2 || n > 3 || !*parts[0] || !*parts[1] || (n == 3 && !*parts[2]))
        return minik_error_set(err, 0,
                               "platform \"%s\": expected os/arch or os/arch/variant (e.g. "
                               "linux/arm/v7)",
                               s);
    out->os = xstrdup(parts[0]);
    out->arch = xstrdup(parts[1]);
    out->variant = n == 3 ? xstrdup(parts[2]) : NULL;
    return 0;
}

void minik_platform_host(minik_platform_t *out)
{
    struct utsname u;
    const char *arch = "amd64", *variant = NULL;
    if (uname(&u) == 0) {
        const char *m = u.machine;
        if (strcmp(m, "x86_64") == 0)
            arch = "amd64";
        else if (strcmp(m, "aarch64") == 0 || strcmp(m, "arm64") == 0)
            arch = "arm64", variant = "v8";
        else if (strncmp(m, "armv7", 5) == 0)
            arch = "arm", variant = "v7";
        else if (strncmp(m, "armv6", 5) == 0)
            arch = "arm", variant = "v6";
        else if (strncmp(m, "armv5", 5) == 0)
            arch = "arm", variant = "v5";
        else if (m[0] == 'i' && strcmp(m + 2, "86") == 0)
            arch = "386";
        else
            arch = m;
    }
    out->os = xstrdup("linux");
    out->arch = xstrdup(arch);
    out->variant = variant ? xstrdup(variant) : NULL;
}

char *minik_platform_string(const minik_platform_t *p)
{
    return xasprintf("%s/%s%s%s", p->os ? p->os : "?", p->arch ? p->arch : "?",
                     p->variant ? "/" : "", p->variant ? p->variant : "");
}

/* Lower is better; -1 means the candidate cannot run on `want`. */
static int variant_rank(const char *arch, const char *want, const char *have)
{
    if (minik_str_eq(want, have))
        return 0;
    if (strcmp(arch, "arm64") == 0) {
        bool w8 = !want || strcmp(want, "v8") == 0, h8 = !have || strcmp(have, "v8") == 0;
        return (w8 && h8) ? 1 : -1;
    }
    if (strcmp(arch, "arm") == 0) {
        int wv = want && want[0] == 'v' ? atoi(want + 1) : 7;
        if (!have)
            return 20; /* unspecified arm: accept last */
        int hv = have[0] == 'v' ? atoi(have + 1) : 0;
        return (hv >= 5 && hv <= wv) ? 1 + (wv - hv) : -1;
    }
    if (strcmp(arch, "amd64") == 0 && !want && have && strcmp(have, "v1") == 0)
        return 1;
    return -1;
}

int minik_image_manifest_select_platform(const minik_image_manifest_t *index,
                                         const minik_platform_t *want,
                                         const minik_descriptor_t **out, minik_error_t **err)
{
    const minik_descriptor_t *best = NULL;
    int best_rank = 0;
    for (size_t i = 0; i < index->n_manifests; i++) {
        const minik_descriptor_t *d = &index->manifests[i];
        if (!d->platform.os || !d->platform.arch)
            continue;
        if (strcmp(d->platform.os, want->os) != 0 || strcmp(d->platform.arch, want->arch) != 0)
            continue;
        int rank = variant_rank(want->arch, want->variant, d->platform.variant);
        if (rank < 0)
            continue;
        if (!best || rank < best_rank)
            best = d, best_rank = rank;
    }
    if (best) {
        *out = best;
        return 0;
    }
    cleanup_buf minik_buf_t avail = MINIK_BUF_INIT;
    for (size_t i = 0; i < index->n_manifests; i++) {
        const minik_platform_t *p = &index->manifests[i].platform;
        if (!p->os || !p->arch || strcmp(p->os, "unknown") == 0)
            continue;
        cleanup_free char *s = minik_platform_string(p);
        minik_buf_appendf(&avail, "%s%s", avail.len ? ", " : "", s);
    }
    cleanup_free char *w = minik_platform_string(want);
    return minik_error_set(err, ENOENT, "no image for platform %s in the index (available: %s)", w,
                           avail.len ? avail.data : "none");
}
