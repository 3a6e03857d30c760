/* The node's share of the cluster network, kept in step with the API: host-gw routes to
 * the other nodes' pod CIDRs, the nftables Service table, and the cluster DNS responder
 * on the bridge address.
 *
 * Every sync period the agent reads Nodes, Services and Pods (three GETs on the loop),
 * computes the Endpoints of every Service from the pods with the Endpoints controller's
 * own function (so the rules never wait for another component), and, only when the
 * result differs from what is in place, applies rules and routes in the thread pool
 * (nft and ip are processes). The DNS table is updated on the loop, where the responder
 * reads it. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "agent/internal.h"
#include "agent/network/dns.h"
#include "agent/network/routes.h"
#include "agent/network/services.h"
#include "controllers/endpoints.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define BRIDGE "minik0"

typedef struct net_job {
    uv_work_t work;
    struct minik_agent *a;
    char *rules; /* nft text to apply, NULL: unchanged */
    minik_route_t *routes;
    size_t n_routes;
    bool routes_changed;
    char *error;
} net_job_t;

/* ---- applying (thread pool) ------------------------------------------------------------ */

static void job_run(uv_work_t *w)
{
    net_job_t *j = (net_job_t *)w;
    minik_error_t *err = NULL;
    if (j->rules && minik_services_apply(j->rules, &err) < 0) {
        j->error = xstrdup(err->msg);
        minik_error_clear(&err);
    }
    if (j->routes_changed && minik_routes_sync(j->routes, j->n_routes, &err) < 0) {
        if (!j->error)
            j->error = xstrdup(err->msg);
        minik_error_clear(&err);
    }
    /* Bridged replies must pass conntrack, or a pod calling a Service on its own node gets
     * the answer from the wrong address (what kube-proxy needs too). Absent: no module. */
    FILE *f = fopen("/proc/sys/net/bridge/bridge-nf-call-iptables", "w");
    if (f) {
        fputs("1", f);
        fclose(f);
    }
}

static void job_done(uv_work_t *w, int status)
{
    net_job_t *j = (net_job_t *)w;
    struct minik_agent *a = j->a;
    a->jobs--;
    a->net_busy = false;
    if (j->error) {
        minik_log_warn("node network not updated; retrying", "error", j->error, NULL);
        /* Forget what we believed applied so the next sync tries again. */
        free(a->net_rules);
        a->net_rules = NULL;
        free(a->net_routes_key);
        a->net_routes_key = NULL;
    }
    free(j->rules);
    minik_routes_free(j->routes, j->n_routes);
    free(j->error);
    free(j);
    minik_agent_maybe_done(a);
}

/* ---- computing (loop) ------------------------------------------------------------------ */

static char *routes_key(const minik_route_t *r, size_t n)
{
    minik_buf_t b = MINIK_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        minik_buf_appendf(&b, "%s>%s>%s;", r[i].dst, r[i].via ? r[i].via : "",
                          r[i].dev ? r[i].dev : "");
    return minik_buf_steal(&b);
}

/* The bridge address (the pod CIDR's first host): where pods find their DNS. */
static char *gateway_of(const char *cidr)
{
    unsigned o[4];
    int len;
    if (!cidr || sscanf(cidr, "%u.%u.%u.%u/%d", &o[0], &o[1], &o[2], &o[3], &len) != 5)
        return NULL;
    return xasprintf("%u.%u.%u.%u", o[0], o[1], o[2], o[3] + 1);
}

static void dns_ensure(struct minik_agent *a)
{
    if (a->dns || !a->pod_cidr)
        return;
    cleanup_free char *gw = gateway_of(a->pod_cidr);
    if (!gw)
        return;
    minik_dns_server_opts_t o = {
        .listen = a->dns_listen ? a->dns_listen : gw,
        .port = a->dns_port,
        .upstream = a->dns_upstream,
    };
    minik_error_t *err = NULL;
    /* Fails until the first pod created the bridge and its address: tried every sync. */
    if (minik_dns_server_start(a->loop, &o, a->dns_table, &a->dns, &err) < 0) {
        minik_log_debug("cluster DNS not started yet", "error", err->msg, NULL);
        minik_error_free(err);
        return;
    }
    minik_log_info("cluster DNS serving", "address", o.listen, NULL);
}

static void sync_apply(struct minik_agent *a)
{
    cJSON *services = cJSON_GetObjectItemCaseSensitive(a->net_lists[1], "items");
    cJSON *pods = cJSON_GetObjectItemCaseSensitive(a->net_lists[2], "items");
    cJSON *nodes = cJSON_GetObjectItemCaseSensitive(a->net_lists[0], "items");
    cleanup_cjson cJSON *endpoints = cJSON_CreateArray();
    const cJSON *svc;
    cJSON_ArrayForEach(svc, services)
    {
        cJSON *ep = NULL;
        minik_error_t *err = NULL;
        if (minik_endpoints_compute(svc, pods, &ep, &err) < 0) {
            minik_error_free(err); /* a Service with a bad selector has no endpoints */
            continue;
        }
        if (ep)
            cJSON_AddItemToArray(endpoints, ep);
    }
    minik_dns_table_load(a->dns_table, services, endpoints);
    dns_ensure(a);
    if (a->net_busy)
        return; /* the next sync picks up what changed meanwhile */

    minik_services_opts_t so = {.cluster_cidr = a->cluster_cidr,
                                .bridge = BRIDGE,
                                .masquerade_outbound = a->masquerade_outbound};
    char *rules = minik_services_render(services, endpoints, &so);
    minik_route_t *routes = NULL;
    size_t n = minik_routes_desired(nodes, a->node_name, &routes);
    if (a->service_cidr && if_nametoindex(BRIDGE) > 0) {
        /* The node's own traffic to ClusterIPs needs a route before nft rewrites it. */
        routes = xrealloc(routes, (n + 1) * sizeof(*routes));
        routes[n].dst = xstrdup(a->service_cidr);
        routes[n].via = NULL;
        routes[n].dev = xstrdup(BRIDGE);
        n++;
    }
    char *key = routes_key(routes, n);
    bool rules_changed = !minik_str_eq(rules, a->net_rules);
    bool routes_changed = !minik_str_eq(key, a->net_routes_key);
    if (!rules_changed && !routes_changed) {
        free(rules);
        free(key);
        minik_routes_free(routes, n);
        return;
    }
    free(a->net_rules);
    a->net_rules = xstrdup(rules);
    free(a->net_routes_key);
    a->net_routes_key = key;
    net_job_t *j = xcalloc(1, sizeof(*j));
    j->a = a;
    j->rules = rules_changed ? rules : NULL;
    if (!rules_changed)
        free(rules);
    j->routes = routes;
    j->n_routes = n;
    j->routes_changed = routes_changed;
    a->net_busy = true;
    a->jobs++;
    uv_queue_work(a->loop, &j->work, job_run, job_done);
}

static const char *const list_paths[3] = {"/api/v1/nodes", "/api/v1/services", "/api/v1/pods"};

static void on_list(const cJSON *reply, const minik_error_t *err, void *ud);

typedef struct {
    struct minik_agent *a;
    int which;
} list_req_t;

static void on_list(const cJSON *reply, const minik_error_t *err, void *ud)
{
    list_req_t *r = ud;
    struct minik_agent *a = r->a;
    int which = r->which;
    free(r);
    a->net_pending--;
    if (!a->stopping && !err && reply) {
        cJSON_Delete(a->net_lists[which]);
        a->net_lists[which] = cJSON_Duplicate(reply, 1);
    } else if (err) {
        a->net_list_failed = true;
        /* Once per failure streak: a node token may not list everything (see
         * docs/networking.md, "Limits"). */
        if (!a->net_warned)
            minik_log_warn("cannot read the cluster's network objects; Services and routes "
                           "stay as they are",
                           "path", list_paths[which], "error", err->msg, NULL);
        a->net_warned = true;
    }
    if (a->net_pending > 0 || a->stopping)
        return;
    if (!a->net_list_failed) {
        a->net_warned = false;
        sync_apply(a);
    }
}

void minik_agent_net_sync(struct minik_agent *a)
{
    if (a->stopping || a->pod_network_none || a->hollow || !a->registered || a->net_pending > 0)
        return;
    a->net_list_failed = false;
    for (int i = 0; i < 3; i++) {
        list_req_t *r = xcalloc(1, sizeof(*r));
        r->a = a;
        r->which = i;
        minik_error_t *err = NULL;
        if (minik_client_uv_request(a->cuv, a->client, "GET", list_paths[i], NULL, NULL, on_list, r,
                                    &err) < 0) {
            free(r);
            a->net_list_failed = true;
            minik_error_free(err);
            continue;
        }
        a->net_pending++;
    }
}

void minik_agent_net_stop(struct minik_agent *a)
{
    if (a->dns) {
        minik_dns_server_stop(a->dns);
        a->dns = NULL;
    }
}

void minik_agent_net_free(struct minik_agent *a)
{
    for (int i = 0; i < 3; i++)
        cJSON_Delete(a->net_lists[i]);
    free(a->net_rules);
    free(a->net_routes_key);
    minik_dns_table_free(a->dns_table);
}

bool minik_agent_dns_enabled(const struct minik_agent *a)
{
    return !a->pod_network_none && a->pod_cidr;
}
