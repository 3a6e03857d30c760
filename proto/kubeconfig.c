#include "proto/kubeconfig.h"

#include <errno.h>
#include <libgen.h>
#include <string.h>

#include "lib/lazy_openssl.h"

#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/manifest.h"

int minik_base64_decode(const char *in, char **out, size_t *out_len, minik_error_t **err)
{
    size_t n = strlen(in);
    cleanup_free char *clean = xmalloc(n + 4);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = in[i];
        if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
            continue;
        clean[m++] = ch;
    }
    size_t pad = 0;
    while (m > 0 && clean[m - 1] == '=') {
        m--;
        pad++;
    }
    if (pad > 2 || m % 4 == 1)
        return minik_error_set(err, 0, "invalid base64 (bad length or padding)");
    /* EVP_DecodeBlock wants whole 4-character groups; restore padding. */
    while (m % 4)
        clean[m++] = '=';
    clean[m] = '\0';
    cleanup_free char *buf = xmalloc(m / 4 * 3 + 1);
    int got = m ? EVP_DecodeBlock((unsigned char *)buf, (unsigned char *)clean, (int)m) : 0;
    if (got < 0)
        return minik_error_set(err, 0, "invalid base64");
    size_t real = (size_t)got;
    for (size_t i = m; i > 0 && clean[i - 1] == '='; i--)
        real--;
    buf[real] = '\0';
    *out = steal_pointer(&buf);
    *out_len = real;
    return 0;
}

/* The entry named `name` in a kubeconfig list such as clusters: [{name, cluster}]. */
static const cJSON *named_entry(const cJSON *root, const char *list, const char *name,
                                const char *member)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(root, list);
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0) {
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(it, member);
            return m ? m : it;
        }
    }
    return NULL;
}

static const char *str_member(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Resolve a path from the kubeconfig relative to the kubeconfig's directory, as kubectl
 * does. The caller owns the result. */
static char *resolve_path(const char *kubeconfig_path, const char *p)
{
    if (p[0] == '/' || !kubeconfig_path)
        return xstrdup(p);
    cleanup_free char *copy = xstrdup(kubeconfig_path);
    return xasprintf("%s/%s", dirname(copy), p);
}

int minik_kubeconfig_parse(const char *text, size_t len, const char *path, const char *context,
                           minik_client_config_t *out, minik_error_t **err)
{
    const char *where = path ? path : "kubeconfig";
    cleanup_cjson cJSON *root = NULL;
    if (minik_yaml_parse_one(where, text, len, &root, err) < 0)
        return -1;
    if (!cJSON_IsObject(root))
        return minik_error_set(err, 0, "%s: not a kubeconfig (expected a mapping)", where);

    const char *ctx_name = context;
    if (!ctx_name || !*ctx_name) {
        ctx_name = str_member(root, "current-context");
        if (!ctx_name || !*ctx_name)
            return minik_error_set(err, 0, "%s: no current-context set", where);
    }
    const cJSON *ctx = named_entry(root, "contexts", ctx_name, "context");
    if (!ctx)
        return minik_error_set(err, 0, "%s: context \"%s\" not found", where, ctx_name);
    const char *cluster_name = str_member(ctx, "cluster");
    const char *user_name = str_member(ctx, "user");
    if (!cluster_name)
        return minik_error_set(err, 0, "%s: context \"%s\" names no cluster", where, ctx_name);
    const cJSON *cluster = named_entry(root, "clusters", cluster_name, "cluster");
    if (!cluster)
        return minik_error_set(err, 0, "%s: cluster \"%s\" (of context \"%s\") not found", where,
                               cluster_name, ctx_name);
    const char *server = str_member(cluster, "server");
    if (!server || !*server)
        return minik_error_set(err, 0, "%s: cluster \"%s\" has no server URL", where, cluster_name);

    minik_client_config_t cfg = {0};
    cfg.server = xstrdup(server);
    cfg.source = xstrdup(where);
    const char *ns = str_member(ctx, "namespace");
    if (ns && *ns)
        cfg.namespace = xstrdup(ns);
    const cJSON *insecure = cJSON_GetObjectItemCaseSensitive(cluster, "insecure-skip-tls-verify");
    cfg.insecure_skip_tls_verify = cJSON_IsTrue(insecure);

    const char *ca_data = str_member(cluster, "certificate-authority-data");
    const char *ca_file = str_member(cluster, "certificate-authority");
    int ret = 0;
    if (ca_data && *ca_data) {
        ret = minik_base64_decode(ca_data, &cfg.ca_pem, &cfg.ca_pem_len, err);
        if (ret < 0) {
            minik_error_wrap(err, "%s: cluster \"%s\": certificate-authority-data", where,
                             cluster_name);
            goto fail;
        }
    } else if (ca_file && *ca_file) {
        cleanup_free char *p = resolve_path(path, ca_file);
        ret = minik_file_read(p, MINIK_KUBECONFIG_MAX_BYTES, &cfg.ca_pem, &cfg.ca_pem_len, err);
        if (ret < 0) {
            minik_error_wrap(err, "%s: cluster \"%s\": certificate-authority", where, cluster_name);
            goto fail;
        }
    }

    if (user_name) {
        const cJSON *user = named_entry(root, "users", user_name, "user");
        if (!user) {
            ret = minik_error_set(err, 0, "%s: user \"%s\" (of context \"%s\") not found", where,
                                  user_name, ctx_name);
            goto fail;
        }
        static const char *const unsupported[] = {"client-certificate",
                                                  "client-certificate-data",
                                                  "exec",
                                                  "auth-provider",
                                                  "username",
                                                  NULL};
        for (size_t i = 0; unsupported[i]; i++) {
            if (cJSON_GetObjectItemCaseSensitive(user, unsupported[i])) {
                ret = minik_error_set(err, 0,
                                      "%s: user \"%s\": %s is not supported by minik (use a "
                                      "bearer token)",
                                      where, user_name, unsupported[i]);
                goto fail;
            }
        }
        const char *token = str_member(user, "token");
        const char *token_file = str_member(user, "tokenFile");
        if (token && *token) {
            cfg.token = xstrdup(token);
        } else if (token_file && *token_file) {
            cleanup_free char *p = resolve_path(path, token_file);
            cleanup_free char *raw = NULL;
            size_t n = 0;
            ret = minik_file_read(p, 64 * 1024, &raw, &n, err);
            if (ret < 0) {
                minik_error_wrap(err, "%s: user \"%s\": tokenFile", where, user_name);
                goto fail;
            }
            cfg.token = minik_str_trim(raw);
        }
    }
    *out = cfg;
    return 0;
fail:
    minik_client_config_clear(&cfg);
    return ret;
}

int minik_kubeconfig_load(const char *path, const char *context, minik_client_config_t *out,
                          minik_error_t **err)
{
    cleanup_free char *text = NULL;
    size_t len = 0;
    int ret = minik_file_read(path, MINIK_KUBECONFIG_MAX_BYTES, &text, &len, err);
    if (ret < 0)
        return minik_error_wrap(err, "read kubeconfig");
    return minik_kubeconfig_parse(text, len, path, context, out, err);
}
