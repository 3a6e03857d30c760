/* libFuzzer target: the cluster objects a node's network is built from, as the agent's
 * informers and the Endpoints controller receive them (any API client can write them):
 * {"services":[...],"endpoints":[...],"pods":[...],"nodes":[...]} through the Endpoints
 * computation, the nftables renderer, the DNS table and the route planner. Never crash;
 * the same input renders the same text (the agent compares texts to skip needless
 * applies), and a render never holds a backslash or single quote (identifiers and
 * addresses are validated before they reach the text). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/network/dns.h"
#include "agent/network/routes.h"
#include "agent/network/services.h"
#include "controllers/endpoints.h"
#include "lib/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 32768)
        return 0;
    char *s = xstrndup((const char *)data, size);
    cJSON *in = cJSON_Parse(s);
    free(s);
    if (!in)
        return 0;
    const cJSON *services = cJSON_GetObjectItemCaseSensitive(in, "services");
    const cJSON *endpoints = cJSON_GetObjectItemCaseSensitive(in, "endpoints");
    const cJSON *pods = cJSON_GetObjectItemCaseSensitive(in, "pods");
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(in, "nodes");

    /* The controller's view: Endpoints computed from pods. */
    cJSON *computed = cJSON_CreateArray();
    const cJSON *svc;
    cJSON_ArrayForEach(svc, services)
    {
        cJSON *ep = NULL;
        minik_error_t *err = NULL;
        if (minik_endpoints_compute(svc, pods, &ep, &err) < 0)
            minik_error_free(err);
        else if (ep)
            cJSON_AddItemToArray(computed, ep);
    }

    /* The agent's view: the watched Endpoints (as given) and the computed ones. */
    minik_services_opts_t o = {.cluster_cidr = "10.42.0.0/16", .masquerade_outbound = true};
    const cJSON *eps_variants[2] = {endpoints, computed};
    for (int v = 0; v < 2; v++) {
        char *a = minik_services_render(services, eps_variants[v], &o);
        char *b = minik_services_render(services, eps_variants[v], &o);
        if (strcmp(a, b) != 0 || strpbrk(a, "'\\") != NULL)
            abort();
        free(a);
        free(b);
        minik_dns_table_t *t = minik_dns_table_new(NULL);
        minik_dns_table_load(t, services, eps_variants[v]);
        minik_dns_table_free(t);
    }
    minik_route_t *routes = NULL;
    size_t n = minik_routes_desired(nodes, "n1", &routes);
    minik_routes_free(routes, n);
    cJSON_Delete(computed);
    cJSON_Delete(in);
    return 0;
}
