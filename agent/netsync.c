/* The node's share of the cluster network, kept in step with the API: host-gw routes to
 * the other nodes' pod CIDRs, the nftables Service table, and the cluster DNS responder
 * on the bridge address.
 *
 * Three informers (proto/informer.h) list and then watch Nodes, Services and Endpoints
 * (the Endpoints controller of `minik server` keeps those current). A change starts a
 * short debounce timer; when it fires, the rules, routes and DNS table are computed from
 * the informers' caches and, only when the result differs from what is in place, rules
 * and routes are applied in the thread pool (nft and ip are processes). The DNS table is
 * updated on the loop, where the responder reads it. Nothing here polls the API. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "agent/internal.h"
#include "agent/network/dns.h"
#include "agent/network/routes.h"
#include "agent/network/services.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/informer.h"

#define BRIDGE "minik0"

/* Coalesce a burst of changes (a rollout, a node coming back) into one apply; small
 * against the probe period, so readiness changes still reach the rules within it. */
#define MINIK_NET_DEBOUNCE_MS 50
#define MINIK_NET_RETRY_MS    1000

static void schedule_in(struct minik_agent *a, uint64_t ms);

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
    /* NodePorts on 127.0.0.1: the bridge (local pods) and the interface toward the other
     * nodes (remote pods) must let a loopback source out and its de-NATed reply in. Best
     * effort: without it only localhost NodePorts fail, and the node address (the usual
     * way in) still works, so a failure here is not worth a retry. */
    minik_error_t *lerr = NULL;
    char uplink[IF_NAMESIZE];
    if (if_nametoindex(BRIDGE) > 0 && minik_services_route_localnet(BRIDGE, &lerr) < 0)
        minik_error_clear(&lerr);
    if (j->a->node_ip && minik_services_ifname_of(j->a->node_ip, uplink, &lerr) == 0 &&
        strcmp(uplink, "lo") != 0 && minik_services_route_localnet(uplink, &lerr) < 0)
        minik_error_clear(&lerr);
    minik_error_clear(&lerr);
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
    bool j_failed = j->error != NULL;
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
    /* Changes that came while the job ran; or a retry after an error, later. */
    if (!a->stopping && j_failed)
        schedule_in(a, MINIK_NET_RETRY_MS);
    else if (!a->stopping && a->net_dirty)
        schedule_in(a, MINIK_NET_DEBOUNCE_MS);
    a->net_dirty = false;
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
    /* Fails until the first pod created the bridge and its address; the sync tick asks
     * for another apply (and so another try) while the bridge exists without DNS. */
    if (minik_dns_server_start(a->loop, &o, a->dns_table, &a->dns, &err) < 0) {
        minik_log_debug("cluster DNS not started yet", "error", err->msg, NULL);
        minik_error_free(err);
        return;
    }
    minik_log_info("cluster DNS serving", "address", o.listen, NULL);
}

static void sync_apply(struct minik_agent *a)
{
    const cJSON *nodes = minik_informer_items(a->net_inf[NET_NODES]);
    const cJSON *services = minik_informer_items(a->net_inf[NET_SERVICES]);
    const cJSON *endpoints = minik_informer_items(a->net_inf[NET_ENDPOINTS]);
    minik_dns_table_load(a->dns_table, services, endpoints);
    dns_ensure(a);
    if (a->net_busy) {
        a->net_dirty = true; /* applied again when the job in flight is done */
        return;
    }

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

/* ---- watching (loop) ------------------------------------------------------------------- */

static const char *const watch_paths[NET_N] = {"/api/v1/nodes", "/api/v1/services",
                                               "/api/v1/endpoints"};

static void debounce_cb(uv_timer_t *t)
{
    struct minik_agent *a = t->data;
    for (int i = 0; i < NET_N; i++)
        if (!minik_informer_synced(a->net_inf[i]))
            return; /* half a picture would drop rules: wait for every first list */
    sync_apply(a);
}

/* Something changed: apply once the burst is over. The timer is not pushed back by later
 * changes, so a steady stream of changes is applied every debounce period, not never. */
static void schedule_in(struct minik_agent *a, uint64_t ms)
{
    if (a->stopping || !a->net_started || uv_is_active((uv_handle_t *)&a->net_timer))
        return;
    uv_timer_start(&a->net_timer, debounce_cb, ms, 0);
}

static void on_change(minik_informer_t *inf, void *ud)
{
    (void)inf;
    schedule_in(ud, MINIK_NET_DEBOUNCE_MS);
}

static void net_handle_closed(uv_handle_t *h)
{
    struct minik_agent *a = h->data;
    a->handles_open--;
    minik_agent_maybe_done(a);
}

static void informer_closed(void *ud)
{
    struct minik_agent *a = ud;
    a->handles_open--;
    minik_agent_maybe_done(a);
}

void minik_agent_net_start(struct minik_agent *a)
{
    if (a->net_started || a->stopping || a->pod_network_none || a->hollow)
        return;
    uv_timer_init(a->loop, &a->net_timer);
    a->net_timer.data = a;
    a->handles_open++;
    for (int i = 0; i < NET_N; i++) {
        minik_error_t *err = NULL;
        if (minik_informer_new(a->loop, a->cuv, a->client, watch_paths[i], NULL, on_change, a,
                               &a->net_inf[i], &err) < 0) {
            /* Only a malformed path fails, and these are constants. */
            minik_log_error("cannot watch", "path", watch_paths[i], "error", err->msg, NULL);
            minik_error_free(err);
            continue;
        }
        a->handles_open++;
    }
    a->net_started = true;
    for (int i = 0; i < NET_N; i++)
        if (a->net_inf[i])
            minik_informer_start(a->net_inf[i]);
}

void minik_agent_net_tick(struct minik_agent *a)
{
    if (!a->net_started || a->stopping)
        return;
    /* Local state the API does not announce: the bridge appears with the first pod, and
     * with it the DNS address and the service-CIDR route. */
    bool bridge = if_nametoindex(BRIDGE) > 0;
    if (bridge != a->net_bridge || (bridge && !a->dns)) {
        a->net_bridge = bridge;
        schedule_in(a, 0);
    }
}

void minik_agent_net_stop(struct minik_agent *a)
{
    if (a->dns) {
        minik_dns_server_stop(a->dns);
        a->dns = NULL;
    }
    if (!a->net_started)
        return;
    for (int i = 0; i < NET_N; i++) {
        minik_informer_close(a->net_inf[i], informer_closed, a);
        a->net_inf[i] = NULL;
    }
    uv_close((uv_handle_t *)&a->net_timer, net_handle_closed);
    a->net_started = false;
}

void minik_agent_net_free(struct minik_agent *a)
{
    free(a->net_rules);
    free(a->net_routes_key);
    minik_dns_table_free(a->dns_table);
}

bool minik_agent_dns_enabled(const struct minik_agent *a)
{
    return !a->pod_network_none && a->pod_cidr;
}
