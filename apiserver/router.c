#include "apiserver/router.h"

#include <string.h>

#include "apiserver/http_conn.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"

void minik_route_clear(minik_route_t *r)
{
    free(r->group);
    free(r->version);
    free(r->ns);
    free(r->name);
    free(r->sub);
    free(r->rest);
    memset(r, 0, sizeof(*r));
}

bool minik_route_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p == '/' || *p == '%' || *p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

#define MAX_SEGS 10

static int not_found(minik_error_t **err, const char *path)
{
    cleanup_free char *q = minik_str_quote(path);
    return minik_error_set_code(err, 404, 0, "the server could not find the requested resource %s",
                                q);
}

static int bad_name(minik_error_t **err, const char *what, const char *v)
{
    cleanup_free char *q = minik_str_quote(v);
    return minik_error_set_code(err, 400, 0, "invalid %s %s in request path", what, q);
}

int minik_route_parse(const char *path, minik_route_t *out, minik_error_t **err)
{
    memset(out, 0, sizeof(*out));
    if (path[0] != '/')
        return minik_error_set_code(err, 400, 0, "request path must start with \"/\"");
    char *segs[MAX_SEGS + 1] = {0};
    size_t n = 0;
    int ret = 0;
    const char *p = path + 1;
    if (*p) {
        for (;;) {
            const char *end = strchr(p, '/');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            if (n == MAX_SEGS) {
                ret = not_found(err, path);
                goto out;
            }
            segs[n] = minik_http_unescape(p, len, false);
            if (!segs[n]) {
                ret = minik_error_set_code(err, 400, 0,
                                           "malformed percent-encoding or NUL in request path");
                goto out;
            }
            n++;
            if (!end)
                break;
            p = end + 1;
        }
    }
    /* A trailing slash is tolerated ("/api/v1/"); other empty segments address nothing. */
    if (n > 0 && segs[n - 1][0] == '\0' && n > 1) {
        free(segs[--n]);
        segs[n] = NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (segs[i][0] == '\0') {
            ret = not_found(err, path);
            goto out;
        }

    if (n == 1) {
        static const struct {
            const char *p;
            minik_route_type_t t;
        } fixed[] = {{"healthz", MINIK_ROUTE_HEALTHZ}, {"livez", MINIK_ROUTE_HEALTHZ},
                     {"readyz", MINIK_ROUTE_READYZ},   {"version", MINIK_ROUTE_VERSION},
                     {"metrics", MINIK_ROUTE_METRICS}, {"api", MINIK_ROUTE_API_VERSIONS},
                     {"apis", MINIK_ROUTE_API_GROUPS}, {"cacerts", MINIK_ROUTE_CACERTS}};
        for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
            if (strcmp(segs[0], fixed[i].p) == 0) {
                out->type = fixed[i].t;
                goto out;
            }
        ret = not_found(err, path);
        goto out;
    }
    if (n >= 2 && strcmp(segs[0], "openapi") == 0 && strcmp(segs[1], "v3") == 0) {
        if (n == 2) {
            out->type = MINIK_ROUTE_OPENAPI_ROOT;
            goto out;
        }
        if (n == 4 && strcmp(segs[2], "api") == 0) {
            out->type = MINIK_ROUTE_OPENAPI_GV;
            out->group = xstrdup("");
            out->version = xstrdup(segs[3]);
            goto out;
        }
        if (n == 5 && strcmp(segs[2], "apis") == 0) {
            out->type = MINIK_ROUTE_OPENAPI_GV;
            out->group = xstrdup(segs[3]);
            out->version = xstrdup(segs[4]);
            goto out;
        }
        ret = not_found(err, path);
        goto out;
    }
    size_t i;
    if (n >= 2 && strcmp(segs[0], "api") == 0) {
        out->group = xstrdup("");
        out->version = xstrdup(segs[1]);
        i = 2;
    } else if (n >= 2 && strcmp(segs[0], "apis") == 0) {
        out->group = xstrdup(segs[1]);
        if (n == 2) {
            out->type = MINIK_ROUTE_API_GROUP;
            goto out;
        }
        out->version = xstrdup(segs[2]);
        i = 3;
    } else {
        ret = not_found(err, path);
        goto out;
    }
    if (i == n) {
        out->type = MINIK_ROUTE_RESOURCE_LIST;
        goto out;
    }
    if (n == 4 && strcmp(out->group, "minik.io") == 0 && strcmp(out->version, "v1") == 0 &&
        strcmp(segs[3], "tokens") == 0) {
        out->type = MINIK_ROUTE_TOKENS;
        goto out;
    }
    if (n == 5 && strcmp(out->group, "minik.io") == 0 && strcmp(out->version, "v1") == 0 &&
        strcmp(segs[3], "tokens") == 0) {
        out->type = MINIK_ROUTE_TOKENS;
        out->name = xstrdup(segs[4]); /* a token id; checked by the handler */
        goto out;
    }
    if (n == 6 && strcmp(out->group, "minik.io") == 0 && strcmp(out->version, "v1") == 0 &&
        strcmp(segs[3], "nodes") == 0 &&
        (strcmp(segs[5], "heartbeat") == 0 || strcmp(segs[5], "credential") == 0)) {
        if (!minik_route_name_ok(segs[4])) {
            ret = bad_name(err, "node", segs[4]);
            goto out;
        }
        out->type =
            strcmp(segs[5], "heartbeat") == 0 ? MINIK_ROUTE_HEARTBEAT : MINIK_ROUTE_CREDENTIAL;
        out->name = xstrdup(segs[4]);
        goto out;
    }
    out->type = MINIK_ROUTE_RESOURCE;
    /* namespaces/{ns}/{resource}... unless it is the Namespace object itself. */
    if (strcmp(segs[i], "namespaces") == 0 && n - i >= 3 && out->group[0] == '\0' &&
        strcmp(out->version, "v1") == 0 && strcmp(segs[i + 2], "status") != 0 &&
        strcmp(segs[i + 2], "finalize") != 0) {
        if (!minik_route_name_ok(segs[i + 1])) {
            ret = bad_name(err, "namespace", segs[i + 1]);
            goto out;
        }
        out->ns = xstrdup(segs[i + 1]);
        i += 2;
    } else if (strcmp(segs[i], "namespaces") == 0 && n - i >= 3 && out->group[0] != '\0') {
        if (!minik_route_name_ok(segs[i + 1])) {
            ret = bad_name(err, "namespace", segs[i + 1]);
            goto out;
        }
        out->ns = xstrdup(segs[i + 1]);
        i += 2;
    }
    out->res = minik_resource_find(out->group, out->version, segs[i]);
    if (!out->res) {
        ret = not_found(err, path);
        goto out;
    }
    if (out->ns && !out->res->namespaced) {
        ret = not_found(err, path);
        goto out;
    }
    i++;
    if (i < n) {
        if (!minik_route_name_ok(segs[i])) {
            ret = bad_name(err, "name", segs[i]);
            goto out;
        }
        /* A namespaced object is addressed only inside its namespace. */
        if (out->res->namespaced && !out->ns) {
            ret = not_found(err, path);
            goto out;
        }
        out->name = xstrdup(segs[i]);
        i++;
    }
    if (i < n) {
        bool proxy = strcmp(segs[i], "proxy") == 0;
        if (!minik_resource_has_subresource(out->res, segs[i]) || (i + 1 != n && !proxy)) {
            ret = not_found(err, path);
            goto out;
        }
        out->sub = xstrdup(segs[i]);
        /* nodes/{name}/proxy/{path...}: the rest goes to the node's agent, segment-checked
         * so that it cannot climb out of the agent's paths. */
        minik_buf_t rest = MINIK_BUF_INIT;
        for (size_t k = i + 1; proxy && k < n; k++) {
            if (!minik_route_name_ok(segs[k])) {
                minik_buf_free(&rest);
                ret = bad_name(err, "proxy path segment", segs[k]);
                goto out;
            }
            minik_buf_appendf(&rest, "%s%s", rest.len ? "/" : "", segs[k]);
        }
        if (proxy)
            out->rest = rest.data ? minik_buf_steal(&rest) : xstrdup("");
    }
out:
    for (size_t k = 0; k < n; k++)
        free(segs[k]);
    if (ret < 0)
        minik_route_clear(out);
    return ret;
}
