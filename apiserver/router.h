/* Turn a request path into what it addresses, per the Kubernetes REST conventions:
 *   /api, /apis, /api/v1, /apis/{group}, /apis/{group}/{version}     discovery
 *   /api/v1/{resource}[/{name}[/{sub}]]                               cluster-scoped, or a
 *                                                                     list across namespaces
 *   /api/v1/namespaces/{ns}/{resource}[/{name}[/{sub}]]               namespaced
 *   /apis/{group}/{version}/...                                       same for named groups
 *   /apis/minik.io/v1/tokens                                         node-join tokens
 *   /openapi/v3[/api/v1 | /apis/{group}/{version}]                  OpenAPI v3 (minimal)
 *   /healthz /readyz /livez /version /metrics /openapi/...            everything else
 * Each segment is percent-decoded on its own, so an encoded "/" stays inside a name and
 * is then refused by the name check, never taken as a separator. */
#ifndef MINIK_APISERVER_ROUTER_H
#define MINIK_APISERVER_ROUTER_H

#include "apiserver/resources.h"
#include "lib/error.h"

typedef enum minik_route_type {
    MINIK_ROUTE_HEALTHZ,
    MINIK_ROUTE_READYZ,
    MINIK_ROUTE_VERSION,
    MINIK_ROUTE_METRICS,
    MINIK_ROUTE_API_VERSIONS,  /* /api */
    MINIK_ROUTE_API_GROUPS,    /* /apis */
    MINIK_ROUTE_API_GROUP,     /* /apis/{group} */
    MINIK_ROUTE_RESOURCE_LIST, /* /api/v1, /apis/{g}/{v} */
    MINIK_ROUTE_RESOURCE,      /* a collection, object or subresource */
    MINIK_ROUTE_TOKENS,        /* /apis/minik.io/v1/tokens[/{id}]: node-join tokens */
    MINIK_ROUTE_CACERTS,       /* /cacerts: the cluster CA (PEM), unauthenticated */
    MINIK_ROUTE_HEARTBEAT,     /* /apis/minik.io/v1/nodes/{name}/heartbeat (in memory) */
    MINIK_ROUTE_CREDENTIAL,    /* /apis/minik.io/v1/nodes/{name}/credential: join exchange */
    MINIK_ROUTE_OPENAPI_ROOT,  /* /openapi/v3 */
    MINIK_ROUTE_OPENAPI_GV,    /* /openapi/v3/api/v1, /openapi/v3/apis/{g}/{v} */
} minik_route_type_t;

typedef struct minik_route {
    minik_route_type_t type;
    const minik_resource_t *res; /* RESOURCE */
    char *group, *version;       /* discovery and RESOURCE */
    char *ns;                    /* NULL: cluster-scoped or all namespaces */
    char *name;                  /* NULL: the collection */
    char *sub;                   /* subresource ("status", "scale", "binding") or NULL */
    char *rest;                  /* after nodes/{name}/proxy: the agent path ("stats/summary") */
} minik_route_t;

/* Parse `path` (percent-encoded, without the query). Errors carry an HTTP status in
 * err->code: 404 for paths that address nothing, 400 for invalid names. */
int minik_route_parse(const char *path, minik_route_t *out, minik_error_t **err);
void minik_route_clear(minik_route_t *r);

/* A path segment that may name an object: not empty, not "." or "..", no "/" or "%" or
 * control characters, at most 253 bytes. */
bool minik_route_name_ok(const char *s);

#endif
