/* The per-kind table columns of `minik get`, matching kubectl's default printers. */
#include <stdarg.h>
#include <string.h>

#include "cli/printers.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/timestamp.h"
#include "lib/xalloc.h"

static const char *str_at(const cJSON *o, const char *path, const char *dflt)
{
    const cJSON *v = minik_json_at(o, path);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : dflt;
}

static long long int_at(const cJSON *o, const char *path)
{
    const cJSON *v = minik_json_at(o, path);
    /* valueint: cJSON saturates it, so a hostile 1e300 cannot overflow a conversion. */
    return cJSON_IsNumber(v) ? v->valueint : 0;
}

static char *num(long long v)
{
    return xasprintf("%lld", v);
}

static char *name_cell(const cJSON *obj, const char *prefix)
{
    return xasprintf("%s%s", prefix ? prefix : "", str_at(obj, "metadata.name", ""));
}

/* kubectl's pod STATUS: a deletion in progress, else the most telling container reason,
 * else the phase. */
static char *pod_status(const cJSON *obj)
{
    if (minik_json_at(obj, "metadata.deletionTimestamp"))
        return xstrdup("Terminating");
    const char *reason = str_at(obj, "status.reason", NULL);
    const cJSON *cs;
    const char *cr = NULL;
    cJSON_ArrayForEach(cs, minik_json_at(obj, "status.initContainerStatuses"))
    {
        const char *w = str_at(cs, "state.waiting.reason", NULL);
        const char *t = str_at(cs, "state.terminated.reason", NULL);
        if (w && strcmp(w, "PodInitializing") != 0)
            return xasprintf("Init:%s", w);
        if (t && strcmp(t, "Completed") != 0)
            return xasprintf("Init:%s", t);
    }
    cJSON_ArrayForEach(cs, minik_json_at(obj, "status.containerStatuses"))
    {
        const char *w = str_at(cs, "state.waiting.reason", NULL);
        const char *t = str_at(cs, "state.terminated.reason", NULL);
        if (w)
            cr = w;
        else if (t && !cr)
            cr = t;
    }
    if (cr)
        return xstrdup(cr);
    if (reason)
        return xstrdup(reason);
    return xstrdup(str_at(obj, "status.phase", "Pending"));
}

static char *pod_ready(const cJSON *obj)
{
    int total = cJSON_GetArraySize(minik_json_at(obj, "spec.containers"));
    int ready = 0;
    const cJSON *cs;
    cJSON_ArrayForEach(cs, minik_json_at(obj, "status.containerStatuses"))
    {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cs, "ready")))
            ready++;
    }
    return xasprintf("%d/%d", ready, total);
}

static char *pod_restarts(const cJSON *obj)
{
    long long n = 0;
    const cJSON *cs;
    cJSON_ArrayForEach(cs, minik_json_at(obj, "status.containerStatuses"))
    {
        n += int_at(cs, "restartCount");
    }
    return num(n);
}

static char *service_ports(const cJSON *obj)
{
    minik_buf_t b = MINIK_BUF_INIT;
    const cJSON *p;
    cJSON_ArrayForEach(p, minik_json_at(obj, "spec.ports"))
    {
        if (b.len)
            minik_buf_append_char(&b, ',');
        long long port = int_at(p, "port");
        long long node_port = int_at(p, "nodePort");
        const char *proto = str_at(p, "protocol", "TCP");
        if (node_port)
            minik_buf_appendf(&b, "%lld:%lld/%s", port, node_port, proto);
        else
            minik_buf_appendf(&b, "%lld/%s", port, proto);
    }
    if (!b.len) {
        minik_buf_free(&b); /* appends of empty strings may have allocated */
        return xstrdup("<none>");
    }
    return minik_buf_steal(&b);
}

/* "app=web,tier=fe" from a map of strings; "<none>" when empty. */
static char *labels_string(const cJSON *map)
{
    minik_buf_t b = MINIK_BUF_INIT;
    const cJSON *kv;
    minik_json_map_for_each(kv, map)
    {
        if (!cJSON_IsString(kv))
            continue;
        minik_buf_appendf(&b, "%s%s=%s", b.len ? "," : "", kv->string, kv->valuestring);
    }
    if (!b.len) {
        minik_buf_free(&b); /* appends of empty strings may have allocated */
        return xstrdup("<none>");
    }
    return minik_buf_steal(&b);
}

static char *node_status(const cJSON *obj)
{
    const char *st = "Unknown";
    const cJSON *c;
    cJSON_ArrayForEach(c, minik_json_at(obj, "status.conditions"))
    {
        if (strcmp(str_at(c, "type", ""), "Ready") == 0) {
            const char *s = str_at(c, "status", "Unknown");
            st = strcmp(s, "True") == 0    ? "Ready"
                 : strcmp(s, "False") == 0 ? "NotReady"
                                           : "Unknown";
        }
    }
    if (cJSON_IsTrue(minik_json_at(obj, "spec.unschedulable")))
        return xasprintf("%s,SchedulingDisabled", st);
    return xstrdup(st);
}

static char *node_roles(const cJSON *obj)
{
    static const char prefix[] = "node-role.kubernetes.io/";
    minik_buf_t b = MINIK_BUF_INIT;
    const cJSON *kv;
    minik_json_map_for_each(kv, minik_json_at(obj, "metadata.labels"))
    {
        if (strncmp(kv->string, prefix, sizeof prefix - 1) == 0 && kv->string[sizeof prefix - 1])
            minik_buf_appendf(&b, "%s%s", b.len ? "," : "", kv->string + sizeof prefix - 1);
    }
    if (!b.len) {
        minik_buf_free(&b); /* appends of empty strings may have allocated */
        return xstrdup("<none>");
    }
    return minik_buf_steal(&b);
}

static char *node_address(const cJSON *obj, const char *type)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, minik_json_at(obj, "status.addresses"))
    {
        if (strcmp(str_at(a, "type", ""), type) == 0)
            return xstrdup(str_at(a, "address", "<none>"));
    }
    return xstrdup("<none>");
}

static char *count_members(const cJSON *a, const cJSON *b)
{
    return num(cJSON_GetArraySize(a) + cJSON_GetArraySize(b));
}

/* Event timestamps: lastTimestamp, else eventTime, else creation. */
static char *event_last_seen(const cJSON *obj, int64_t now)
{
    const char *ts = str_at(obj, "lastTimestamp", NULL);
    if (!ts)
        ts = str_at(obj, "eventTime", NULL);
    if (!ts)
        ts = str_at(obj, "metadata.creationTimestamp", NULL);
    int64_t t = minik_timestamp_parse(ts);
    if (t < 0)
        return xstrdup("<unknown>");
    return minik_format_age(now - t);
}

static char *event_object(const cJSON *obj)
{
    cleanup_free char *kind = xstrdup(str_at(obj, "involvedObject.kind", ""));
    for (char *p = kind; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    return xasprintf("%s/%s", kind, str_at(obj, "involvedObject.name", ""));
}

static char *container_field(const cJSON *obj, const char *containers, const char *field)
{
    minik_buf_t b = MINIK_BUF_INIT;
    const cJSON *c;
    cJSON_ArrayForEach(c, minik_json_at(obj, containers))
    {
        minik_buf_appendf(&b, "%s%s", b.len ? "," : "", str_at(c, field, ""));
    }
    if (!b.len) {
        minik_buf_free(&b); /* appends of empty strings may have allocated */
        return xstrdup("<none>");
    }
    return minik_buf_steal(&b);
}

/* kubectl's formatEndpoints over every port: the ready addresses as ip:port (subsets,
 * then ports, then addresses), the first three, then " + N more..."; "<none>" when
 * empty. A subset without ports lists bare IPs. */
static char *endpoints_list(const cJSON *obj)
{
    minik_buf_t b = MINIK_BUF_INIT;
    int count = 0;
    const cJSON *s, *a, *p;
    cJSON_ArrayForEach(s, minik_json_at(obj, "subsets"))
    {
        const cJSON *ports = cJSON_GetObjectItemCaseSensitive(s, "ports");
        const cJSON *addrs = cJSON_GetObjectItemCaseSensitive(s, "addresses");
        if (cJSON_GetArraySize(ports) == 0) {
            cJSON_ArrayForEach(a, addrs)
            {
                if (count++ < 3)
                    minik_buf_appendf(&b, "%s%s", b.len ? "," : "", str_at(a, "ip", ""));
            }
            continue;
        }
        cJSON_ArrayForEach(p, ports)
        {
            cJSON_ArrayForEach(a, addrs)
            {
                if (count++ < 3)
                    minik_buf_appendf(&b, "%s%s:%lld", b.len ? "," : "", str_at(a, "ip", ""),
                                      int_at(p, "port"));
            }
        }
    }
    if (count > 3)
        minik_buf_appendf(&b, " + %d more...", count - 3);
    if (!b.len) {
        minik_buf_free(&b); /* appends of empty strings may have allocated */
        return xstrdup("<none>");
    }
    return minik_buf_steal(&b);
}

/* ---- column tables ------------------------------------------------------------------- */

typedef enum col {
    C_NAME,
    C_AGE,
    C_POD_READY,
    C_POD_STATUS,
    C_POD_RESTARTS,
    C_POD_IP,
    C_POD_NODE,
    C_DEP_READY,
    C_DEP_UPTODATE,
    C_DEP_AVAILABLE,
    C_DEP_CONTAINERS,
    C_DEP_IMAGES,
    C_DEP_SELECTOR,
    C_SVC_TYPE,
    C_SVC_CLUSTER_IP,
    C_SVC_EXTERNAL_IP,
    C_SVC_PORTS,
    C_SVC_SELECTOR,
    C_NODE_STATUS,
    C_NODE_ROLES,
    C_NODE_VERSION,
    C_NODE_INTERNAL_IP,
    C_NODE_EXTERNAL_IP,
    C_NODE_OS,
    C_NODE_KERNEL,
    C_NODE_RUNTIME,
    C_CM_DATA,
    C_SECRET_TYPE,
    C_SECRET_DATA,
    C_NS_STATUS,
    C_EV_LAST_SEEN,
    C_EV_TYPE,
    C_EV_REASON,
    C_EV_OBJECT,
    C_EV_MESSAGE,
    C_EP_ENDPOINTS,
    C_RS_DESIRED,
    C_RS_CURRENT,
    C_RS_READY,
    C_DS_DESIRED,
    C_DS_CURRENT,
    C_DS_READY,
    C_DS_UPTODATE,
    C_DS_AVAILABLE,
    C_DS_NODE_SELECTOR,
    C_JOB_COMPLETIONS,
    C_JOB_DURATION,
    C_END = -1,
} col_t;

typedef struct layout {
    const char *kind;
    const char *const headers[12];
    const col_t cols[12];
    size_t n_normal; /* leading columns shown without -o wide */
    size_t n_wide;
} layout_t;

static const layout_t layouts[] = {
    {"Pod",
     {"NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"},
     {C_NAME, C_POD_READY, C_POD_STATUS, C_POD_RESTARTS, C_AGE, C_POD_IP, C_POD_NODE},
     5,
     7},
    {"Deployment",
     {"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"},
     {C_NAME, C_DEP_READY, C_DEP_UPTODATE, C_DEP_AVAILABLE, C_AGE, C_DEP_CONTAINERS, C_DEP_IMAGES,
      C_DEP_SELECTOR},
     5,
     8},
    {"Service",
     {"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"},
     {C_NAME, C_SVC_TYPE, C_SVC_CLUSTER_IP, C_SVC_EXTERNAL_IP, C_SVC_PORTS, C_AGE, C_SVC_SELECTOR},
     6,
     7},
    {"Node",
     {"NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE",
      "KERNEL-VERSION", "CONTAINER-RUNTIME"},
     {C_NAME, C_NODE_STATUS, C_NODE_ROLES, C_AGE, C_NODE_VERSION, C_NODE_INTERNAL_IP,
      C_NODE_EXTERNAL_IP, C_NODE_OS, C_NODE_KERNEL, C_NODE_RUNTIME},
     5,
     10},
    {"ConfigMap", {"NAME", "DATA", "AGE"}, {C_NAME, C_CM_DATA, C_AGE}, 3, 3},
    {"Secret",
     {"NAME", "TYPE", "DATA", "AGE"},
     {C_NAME, C_SECRET_TYPE, C_SECRET_DATA, C_AGE},
     4,
     4},
    {"Namespace", {"NAME", "STATUS", "AGE"}, {C_NAME, C_NS_STATUS, C_AGE}, 3, 3},
    {"Event",
     {"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"},
     {C_EV_LAST_SEEN, C_EV_TYPE, C_EV_REASON, C_EV_OBJECT, C_EV_MESSAGE},
     5,
     5},
    {"Endpoints", {"NAME", "ENDPOINTS", "AGE"}, {C_NAME, C_EP_ENDPOINTS, C_AGE}, 3, 3},
    /* Kinds the server serves beyond proto's table, reached through discovery. */
    {"ReplicaSet",
     {"NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"},
     {C_NAME, C_RS_DESIRED, C_RS_CURRENT, C_RS_READY, C_AGE, C_DEP_CONTAINERS, C_DEP_IMAGES,
      C_DEP_SELECTOR},
     5,
     8},
    {"DaemonSet",
     {"NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE",
      "CONTAINERS", "IMAGES", "SELECTOR"},
     {C_NAME, C_DS_DESIRED, C_DS_CURRENT, C_DS_READY, C_DS_UPTODATE, C_DS_AVAILABLE,
      C_DS_NODE_SELECTOR, C_AGE, C_DEP_CONTAINERS, C_DEP_IMAGES, C_DEP_SELECTOR},
     8,
     11},
    {"Job",
     {"NAME", "COMPLETIONS", "DURATION", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"},
     {C_NAME, C_JOB_COMPLETIONS, C_JOB_DURATION, C_AGE, C_DEP_CONTAINERS, C_DEP_IMAGES,
      C_DEP_SELECTOR},
     4,
     7},
    {NULL, {"NAME", "AGE"}, {C_NAME, C_AGE}, 2, 2},
};

static const layout_t *layout_for(const minik_kind_t *k)
{
    size_t i = 0;
    for (; layouts[i].kind; i++)
        if (k && strcmp(layouts[i].kind, k->kind) == 0)
            return &layouts[i];
    return &layouts[i];
}

const char *const *minik_printer_headers(const minik_kind_t *k, bool wide, size_t *ncols)
{
    const layout_t *l = layout_for(k);
    *ncols = wide ? l->n_wide : l->n_normal;
    return l->headers;
}

static char *cell(col_t c, const cJSON *o, int64_t now, const char *prefix)
{
    switch (c) {
    case C_NAME:
        return name_cell(o, prefix);
    case C_AGE:
        return minik_object_age(o, now);
    case C_POD_READY:
        return pod_ready(o);
    case C_POD_STATUS:
        return pod_status(o);
    case C_POD_RESTARTS:
        return pod_restarts(o);
    case C_POD_IP:
        return xstrdup(str_at(o, "status.podIP", "<none>"));
    case C_POD_NODE:
        return xstrdup(str_at(o, "spec.nodeName", "<none>"));
    case C_DEP_READY:
        return xasprintf("%lld/%lld", int_at(o, "status.readyReplicas"),
                         minik_json_at(o, "spec.replicas") ? int_at(o, "spec.replicas") : 1);
    case C_DEP_UPTODATE:
        return num(int_at(o, "status.updatedReplicas"));
    case C_DEP_AVAILABLE:
        return num(int_at(o, "status.availableReplicas"));
    case C_DEP_CONTAINERS:
        return container_field(o, "spec.template.spec.containers", "name");
    case C_DEP_IMAGES:
        return container_field(o, "spec.template.spec.containers", "image");
    case C_DEP_SELECTOR:
        return labels_string(minik_json_at(o, "spec.selector.matchLabels"));
    case C_SVC_TYPE:
        return xstrdup(str_at(o, "spec.type", "ClusterIP"));
    case C_SVC_CLUSTER_IP:
        return xstrdup(str_at(o, "spec.clusterIP", "<none>"));
    case C_SVC_EXTERNAL_IP: {
        const cJSON *ips = minik_json_at(o, "spec.externalIPs");
        if (cJSON_GetArraySize(ips) > 0 && cJSON_IsString(cJSON_GetArrayItem(ips, 0)))
            return xstrdup(cJSON_GetArrayItem(ips, 0)->valuestring);
        return xstrdup("<none>");
    }
    case C_SVC_PORTS:
        return service_ports(o);
    case C_SVC_SELECTOR:
        return labels_string(minik_json_at(o, "spec.selector"));
    case C_NODE_STATUS:
        return node_status(o);
    case C_NODE_ROLES:
        return node_roles(o);
    case C_NODE_VERSION:
        return xstrdup(str_at(o, "status.nodeInfo.kubeletVersion", ""));
    case C_NODE_INTERNAL_IP:
        return node_address(o, "InternalIP");
    case C_NODE_EXTERNAL_IP:
        return node_address(o, "ExternalIP");
    case C_NODE_OS:
        return xstrdup(str_at(o, "status.nodeInfo.osImage", "<unknown>"));
    case C_NODE_KERNEL:
        return xstrdup(str_at(o, "status.nodeInfo.kernelVersion", "<unknown>"));
    case C_NODE_RUNTIME:
        return xstrdup(str_at(o, "status.nodeInfo.containerRuntimeVersion", "<unknown>"));
    case C_CM_DATA:
        return count_members(minik_json_at(o, "data"), minik_json_at(o, "binaryData"));
    case C_SECRET_TYPE:
        return xstrdup(str_at(o, "type", "Opaque"));
    case C_SECRET_DATA:
        return count_members(minik_json_at(o, "data"), NULL);
    case C_NS_STATUS:
        return xstrdup(str_at(o, "status.phase", "Active"));
    case C_EV_LAST_SEEN:
        return event_last_seen(o, now);
    case C_EV_TYPE:
        return xstrdup(str_at(o, "type", ""));
    case C_EV_REASON:
        return xstrdup(str_at(o, "reason", ""));
    case C_EV_OBJECT:
        return event_object(o);
    case C_EV_MESSAGE:
        return xstrdup(str_at(o, "message", ""));
    case C_EP_ENDPOINTS:
        return endpoints_list(o);
    case C_RS_DESIRED:
        return num(minik_json_at(o, "spec.replicas") ? int_at(o, "spec.replicas") : 1);
    case C_RS_CURRENT:
        return num(int_at(o, "status.replicas"));
    case C_RS_READY:
        return num(int_at(o, "status.readyReplicas"));
    case C_DS_DESIRED:
        return num(int_at(o, "status.desiredNumberScheduled"));
    case C_DS_CURRENT:
        return num(int_at(o, "status.currentNumberScheduled"));
    case C_DS_READY:
        return num(int_at(o, "status.numberReady"));
    case C_DS_UPTODATE:
        return num(int_at(o, "status.updatedNumberScheduled"));
    case C_DS_AVAILABLE:
        return num(int_at(o, "status.numberAvailable"));
    case C_DS_NODE_SELECTOR:
        return labels_string(minik_json_at(o, "spec.template.spec.nodeSelector"));
    case C_JOB_COMPLETIONS:
        return xasprintf("%lld/%lld", int_at(o, "status.succeeded"),
                         minik_json_at(o, "spec.completions") ? int_at(o, "spec.completions") : 1);
    case C_JOB_DURATION: {
        int64_t start = minik_timestamp_parse(str_at(o, "status.startTime", NULL));
        if (start < 0)
            return xstrdup("");
        int64_t end = minik_timestamp_parse(str_at(o, "status.completionTime", NULL));
        return minik_format_age((end >= 0 ? end : now) - start);
    }
    case C_END:
        break;
    }
    return xstrdup("");
}

char **minik_printer_row(const minik_kind_t *k, const cJSON *obj, bool wide, int64_t now,
                         const char *name_prefix)
{
    const layout_t *l = layout_for(k);
    size_t n = wide ? l->n_wide : l->n_normal;
    char **cells = xcalloc(n, sizeof *cells);
    for (size_t i = 0; i < n; i++)
        cells[i] = cell(l->cols[i], obj, now, name_prefix);
    return cells;
}
