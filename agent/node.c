/* The Node object: registration (create, or update an existing one) with capacity,
 * allocatable, addresses, labels, taints and the agent's endpoint; then heartbeats every
 * heartbeat_ms to the server's in-memory table (never the store). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agent/internal.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/version.h"
#include "lib/xalloc.h"

int minik_agent_parse_taint(const char *s, cJSON **out, minik_error_t **err)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return minik_error_set(err, EINVAL, "taint \"%s\": expected KEY[=VALUE]:EFFECT", s);
    const char *effect = colon + 1;
    if (strcmp(effect, "NoSchedule") != 0 && strcmp(effect, "PreferNoSchedule") != 0 &&
        strcmp(effect, "NoExecute") != 0)
        return minik_error_set(err, EINVAL,
                               "taint \"%s\": effect must be NoSchedule, PreferNoSchedule or "
                               "NoExecute",
                               s);
    cleanup_free char *kv = xstrndup(s, (size_t)(colon - s));
    char *eq = strchr(kv, '=');
    if (eq)
        *eq++ = '\0';
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "key", kv);
    if (eq)
        cJSON_AddStringToObject(t, "value", eq);
    cJSON_AddStringToObject(t, "effect", effect);
    *out = t;
    return 0;
}

static long long mem_total_ki(void)
{
    cleanup_fclose FILE *f = fopen("/proc/meminfo", "re");
    char line[256];
    long long kb = 0;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "MemTotal: %lld kB", &kb) == 1)
            break;
    return kb;
}

cJSON *minik_agent_node_object(struct minik_agent *a)
{
    cJSON *n = cJSON_CreateObject();
    cJSON_AddStringToObject(n, "apiVersion", "v1");
    cJSON_AddStringToObject(n, "kind", "Node");
    cJSON *md = cJSON_AddObjectToObject(n, "metadata");
    cJSON_AddStringToObject(md, "name", a->node_name);
    cJSON *labels = cJSON_AddObjectToObject(md, "labels");
    struct utsname u;
    uname(&u);
    const char *arch = strcmp(u.machine, "x86_64") == 0    ? "amd64"
                       : strcmp(u.machine, "aarch64") == 0 ? "arm64"
                       : strncmp(u.machine, "arm", 3) == 0 ? "arm"
                                                           : u.machine;
    cJSON_AddStringToObject(labels, "kubernetes.io/hostname", a->node_name);
    cJSON_AddStringToObject(labels, "kubernetes.io/os", "linux");
    cJSON_AddStringToObject(labels, "kubernetes.io/arch", arch);
    for (char **l = a->labels; l && *l; l++) {
        char *eq = strchr(*l, '=');
        cleanup_free char *k = xstrndup(*l, (size_t)(eq - *l));
        cJSON_DeleteItemFromObjectCaseSensitive(labels, k);
        cJSON_AddStringToObject(labels, k, eq + 1);
    }
    cJSON *ann = cJSON_AddObjectToObject(md, "annotations");
    /* Where the agent listens, for people; its secret is never here (see heartbeat_tick). */
    cleanup_free char *ep = minik_agent_endpoint_url(a);
    cJSON_AddStringToObject(ann, "minik.io/agent-endpoint", ep);
    cJSON *spec = cJSON_AddObjectToObject(n, "spec");
    cJSON *taints = cJSON_AddArrayToObject(spec, "taints");
    for (char **t = a->taints; t && *t; t++) {
        cJSON *tj = NULL;
        minik_error_t *e = NULL;
        if (minik_agent_parse_taint(*t, &tj, &e) == 0)
            cJSON_AddItemToArray(taints, tj);
        minik_error_free(e); /* validated at start */
    }
    cJSON *st = cJSON_AddObjectToObject(n, "status");
    char cpu[32], mem[32];
    snprintf(cpu, sizeof(cpu), "%ld", sysconf(_SC_NPROCESSORS_ONLN));
    snprintf(mem, sizeof(mem), "%lldKi", mem_total_ki());
    const char *which[2] = {"capacity", "allocatable"};
    for (int i = 0; i < 2; i++) {
        cJSON *c = cJSON_AddObjectToObject(st, which[i]);
        cJSON_AddStringToObject(c, "cpu", cpu);
        cJSON_AddStringToObject(c, "memory", mem);
        cJSON_AddStringToObject(c, "pods", "110");
    }
    cJSON *addrs = cJSON_AddArrayToObject(st, "addresses");
    cJSON *ip = cJSON_CreateObject();
    cJSON_AddStringToObject(ip, "type", "InternalIP");
    cJSON_AddStringToObject(ip, "address", a->node_ip);
    cJSON_AddItemToArray(addrs, ip);
    cJSON *hn = cJSON_CreateObject();
    cJSON_AddStringToObject(hn, "type", "Hostname");
    cJSON_AddStringToObject(hn, "address", a->node_name);
    cJSON_AddItemToArray(addrs, hn);
    cJSON *conds = cJSON_AddArrayToObject(st, "conditions");
    cJSON *ready = cJSON_CreateObject();
    cleanup_free char *now = minik_agent_now_rfc3339();
    cJSON_AddStringToObject(ready, "type", "Ready");
    cJSON_AddStringToObject(ready, "status", "True");
    cJSON_AddStringToObject(ready, "reason", "KubeletReady");
    cJSON_AddStringToObject(ready, "message", "minik agent is posting ready status");
    cJSON_AddStringToObject(ready, "lastTransitionTime", now);
    cJSON_AddItemToArray(conds, ready);
    cJSON *de = cJSON_AddObjectToObject(st, "daemonEndpoints");
    cJSON *ke = cJSON_AddObjectToObject(de, "kubeletEndpoint");
    cJSON_AddNumberToObject(ke, "Port", a->port);
    cJSON *info = cJSON_AddObjectToObject(st, "nodeInfo");
    cJSON_AddStringToObject(info, "architecture", arch);
    cJSON_AddStringToObject(info, "operatingSystem", "linux");
    cJSON_AddStringToObject(info, "kernelVersion", u.release);
    cJSON_AddStringToObject(info, "kubeletVersion", minik_version());
    cleanup_free char *rt = xasprintf("minik://%s", minik_version());
    cJSON_AddStringToObject(info, "containerRuntimeVersion", rt);
    return n;
}

char *minik_agent_endpoint_url(const struct minik_agent *a)
{
    bool v6 = strchr(a->node_ip, ':') != NULL;
    return xasprintf("%s://%s%s%s:%d", a->endpoint_pin ? "https" : "http", v6 ? "[" : "",
                     a->node_ip, v6 ? "]" : "", a->port);
}

static void retry_register(uv_timer_t *t)
{
    minik_agent_node_register(t->data);
}

/* The server allocated this node's pod CIDR on registration; it never changes after. */
static void note_pod_cidr(struct minik_agent *a, const cJSON *node)
{
    const char *cidr = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(node, "spec"), "podCIDR"));
    if (!cidr || !*cidr || a->pod_cidr || a->registered)
        return;
    a->pod_cidr = xstrdup(cidr);
    minik_log_info("pod CIDR", "node", a->node_name, "cidr", cidr, NULL);
}

static void registered(struct minik_agent *a)
{
    if (a->registered)
        return;
    a->registered = true;
    minik_log_info("node registered", "node", a->node_name, NULL);
    minik_agent_heartbeat_start(a);
    minik_agent_pods_list(a);
    minik_agent_net_start(a);
}

static void on_status(const cJSON *reply, const minik_error_t *err, void *ud)
{
    (void)reply;
    struct minik_agent *a = ud;
    if (a->stopping)
        return;
    if (err) {
        minik_log_warn("node status not written; retrying", "error", err->msg, NULL);
        uv_timer_start(&a->retry_timer, retry_register, 1000, 0);
        return;
    }
    registered(a);
}

static void write_status(struct minik_agent *a)
{
    cleanup_cjson cJSON *node = minik_agent_node_object(a);
    cleanup_cjson cJSON *patch = cJSON_CreateObject();
    cJSON_AddItemToObject(patch, "status", cJSON_DetachItemFromObjectCaseSensitive(node, "status"));
    cleanup_free char *path = xasprintf("/api/v1/nodes/%s/status", a->node_name);
    minik_error_t *err = NULL;
    if (minik_client_uv_request(a->cuv, a->client, "PATCH", path, "application/merge-patch+json",
                                patch, on_status, a, &err) < 0) {
        minik_log_warn("node status not sent", "error", err->msg, NULL);
        minik_error_free(err);
        uv_timer_start(&a->retry_timer, retry_register, 1000, 0);
    }
}

static void on_update(const cJSON *reply, const minik_error_t *err, void *ud)
{
    struct minik_agent *a = ud;
    if (a->stopping)
        return;
    if (err) {
        minik_log_warn("node not updated; retrying", "error", err->msg, NULL);
        uv_timer_start(&a->retry_timer, retry_register, 1000, 0);
        return;
    }
    note_pod_cidr(a, reply);
    write_status(a);
}

static void on_create(const cJSON *reply, const minik_error_t *err, void *ud)
{
    struct minik_agent *a = ud;
    if (a->stopping)
        return;
    if (err && err->code == 409) {
        /* Registered before: bring labels, taints and annotations up to date. */
        cleanup_cjson cJSON *node = minik_agent_node_object(a);
        cJSON_DeleteItemFromObjectCaseSensitive(node, "status");
        cleanup_free char *path = xasprintf("/api/v1/nodes/%s", a->node_name);
        minik_error_t *e = NULL;
        if (minik_client_uv_request(a->cuv, a->client, "PATCH", path,
                                    "application/merge-patch+json", node, on_update, a, &e) < 0) {
            minik_error_free(e);
            uv_timer_start(&a->retry_timer, retry_register, 1000, 0);
        }
        return;
    }
    if (err) {
        minik_log_warn("node registration failed; retrying", "error", err->msg, NULL);
        uv_timer_start(&a->retry_timer, retry_register, 1000, 0);
        return;
    }
    note_pod_cidr(a, reply);
    write_status(a);
}

void minik_agent_node_register(struct minik_agent *a)
{
    cleanup_cjson cJSON *node = minik_agent_node_object(a);
    minik_error_t *err = NULL;
    if (minik_client_uv_request(a->cuv, a->client, "POST", "/api/v1/nodes", NULL, node, on_create,
                                a, &err) < 0) {
        minik_log_warn("node registration not sent", "error", err->msg, NULL);
        minik_error_free(err);
        uv_timer_start(&a->retry_timer, retry_register, 1000, 0);
    }
}

static void on_heartbeat(const cJSON *reply, const minik_error_t *err, void *ud)
{
    (void)reply;
    struct minik_agent *a = ud;
    if (err) {
        a->heartbeats_failed++;
        minik_log_debug("heartbeat failed", "error", err->msg, NULL);
    } else {
        a->heartbeats_ok++;
    }
}

static void heartbeat_tick(uv_timer_t *t)
{
    struct minik_agent *a = t->data;
    if (minik_agent_hollow_silenced(a))
        return;
    cleanup_free char *path = xasprintf("/apis/minik.io/v1/nodes/%s/heartbeat", a->node_name);
    minik_error_t *err = NULL;
    /* The endpoint's secret goes to the server with every heartbeat (so a restarted server
     * knows it within a beat) and nowhere else: the API server keeps it in memory to reach
     * this agent for logs, exec and stats; no API client can read it. */
    cleanup_cjson cJSON *body = NULL;
    if (a->http && a->endpoint_token) {
        body = cJSON_CreateObject();
        cleanup_free char *ep = minik_agent_endpoint_url(a);
        cJSON_AddStringToObject(body, "endpoint", ep);
        cJSON_AddStringToObject(body, "token", a->endpoint_token);
        if (a->endpoint_pin)
            cJSON_AddStringToObject(body, "pin", a->endpoint_pin);
    }
    if (minik_client_uv_request_urgent(a->cuv, a->client, "POST", path, NULL, body, on_heartbeat, a,
                                       &err) < 0) {
        a->heartbeats_failed++;
        minik_error_free(err);
    }
}

void minik_agent_heartbeat_start(struct minik_agent *a)
{
    heartbeat_tick(&a->heartbeat_timer);
    uv_timer_start(&a->heartbeat_timer, heartbeat_tick, a->heartbeat_ms, a->heartbeat_ms);
}
