#include "cli/describe.h"

#include <string.h>
#include <time.h>

#include "cli/printers.h"
#include "lib/cleanup.h"
#include "lib/timestamp.h"
#include "lib/xalloc.h"

/* ---- an aligned "label: value" writer --------------------------------------------------- */

typedef struct entry {
    char *left;  /* indent + "Label:" */
    char *right; /* value, or NULL for a section heading */
} entry_t;

typedef struct dw {
    entry_t *v;
    size_t n, cap;
} dw_t;

static void dw_add(dw_t *w, int level, const char *label, char *value_owned)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 32;
        w->v = xrealloc(w->v, w->cap * sizeof *w->v);
    }
    w->v[w->n].left = xasprintf("%*s%s%s", level * 2, "", label, *label ? ":" : "");
    w->v[w->n].right = value_owned;
    w->n++;
}

/* Add "Label: value" (value copied; NULL/"" shows <none>). */
static void kv(dw_t *w, int level, const char *label, const char *value)
{
    dw_add(w, level, label, xstrdup(value && *value ? value : "<none>"));
}

static void kvf(dw_t *w, int level, const char *label, char *value_owned)
{
    dw_add(w, level, label, value_owned);
}

static void heading(dw_t *w, int level, const char *label)
{
    dw_add(w, level, label, NULL);
}

/* A line printed as is (indented): command arguments, table rows. */
static void raw_line(dw_t *w, int level, const char *text)
{
    dw_add(w, level, "", NULL);
    free(w->v[w->n - 1].left);
    w->v[w->n - 1].left = xasprintf("%*s%s", level * 2, "", text);
}

/* Consecutive "label: value" lines are one block, aligned to its widest label plus two
 * spaces (kubectl's tabwriter padding); a heading ends the block. */
static void dw_render(dw_t *w, minik_buf_t *out)
{
    size_t i = 0;
    while (i < w->n) {
        if (!w->v[i].right) {
            minik_buf_appendf(out, "%s\n", w->v[i].left);
            i++;
            continue;
        }
        size_t j = i, width = 0;
        while (j < w->n && w->v[j].right) {
            size_t n = strlen(w->v[j].left);
            if (n > width)
                width = n;
            j++;
        }
        for (; i < j; i++)
            minik_buf_appendf(out, "%-*s%s\n", (int)(width + 2), w->v[i].left, w->v[i].right);
    }
    for (size_t k = 0; k < w->n; k++) {
        free(w->v[k].left);
        free(w->v[k].right);
    }
    free(w->v);
    memset(w, 0, sizeof *w);
}

/* ---- value helpers ---------------------------------------------------------------------- */

static const char *s_at(const cJSON *o, const char *path)
{
    const cJSON *v = minik_json_at(o, path);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Scalars as text: strings bare, numbers without a trailing .0, booleans. */
static char *scalar(const cJSON *v)
{
    if (cJSON_IsString(v))
        return xstrdup(v->valuestring);
    if (cJSON_IsNumber(v)) {
        if (v->valuedouble > -9.2e18 && v->valuedouble < 9.2e18 &&
            v->valuedouble == (double)(long long)v->valuedouble)
            return xasprintf("%lld", (long long)v->valuedouble);
        return xasprintf("%g", v->valuedouble);
    }
    if (cJSON_IsBool(v))
        return xstrdup(cJSON_IsTrue(v) ? "true" : "false");
    if (!v || cJSON_IsNull(v))
        return xstrdup("<none>");
    return cJSON_PrintUnformatted(v);
}

static char *i_at(const cJSON *o, const char *path, long long dflt)
{
    const cJSON *v = minik_json_at(o, path);
    return xasprintf("%lld", cJSON_IsNumber(v) ? (long long)v->valueint : dflt);
}

/* A map as "k=v" (sep "=") or "k: v" lines: first on the label's line, the rest below. */
static void map_lines(dw_t *w, int level, const char *label, const cJSON *map, const char *sep)
{
    const cJSON *it;
    bool first = true;
    minik_json_map_for_each(it, map)
    {
        cleanup_free char *v = scalar(it);
        dw_add(w, first ? level : 0, first ? label : "", xasprintf("%s%s%s", it->string, sep, v));
        first = false;
    }
    if (first)
        kv(w, level, label, NULL);
}

static char *selector_string(const cJSON *map)
{
    minik_buf_t b = MINIK_BUF_INIT;
    const cJSON *it;
    minik_json_map_for_each(it, map)
    {
        cleanup_free char *v = scalar(it);
        minik_buf_appendf(&b, "%s%s=%s", b.len ? "," : "", it->string, v);
    }
    if (!b.len) {
        minik_buf_free(&b); /* appends of empty strings may have allocated */
        return xstrdup("<none>");
    }
    return minik_buf_steal(&b);
}

static char *timestamp(const char *rfc3339)
{
    int64_t t = minik_timestamp_parse(rfc3339);
    if (t < 0)
        return xstrdup(rfc3339 ? rfc3339 : "<unknown>");
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    char buf[64];
    strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return xstrdup(buf);
}

/* Annotations as kubectl describe shows them: without the last-applied configuration,
 * which repeats the whole object. */
static void annotations(dw_t *w, int level, const cJSON *obj)
{
    cleanup_cjson cJSON *copy = cJSON_Duplicate(minik_json_at(obj, "metadata.annotations"), true);
    cJSON_DeleteItemFromObjectCaseSensitive(copy,
                                            "kubectl.kubernetes.io/last-applied-configuration");
    map_lines(w, level, "Annotations", copy, ": ");
}

static void common_header(dw_t *w, const minik_kind_t *k, const cJSON *obj, bool with_created)
{
    kv(w, 0, "Name", s_at(obj, "metadata.name"));
    if (k && k->namespaced)
        kv(w, 0, "Namespace", s_at(obj, "metadata.namespace"));
    if (with_created)
        kvf(w, 0, "CreationTimestamp", timestamp(s_at(obj, "metadata.creationTimestamp")));
    map_lines(w, 0, "Labels", minik_json_at(obj, "metadata.labels"), "=");
    annotations(w, 0, obj);
}

/* Generic rendering of a JSON subtree as nested "Key: value" lines. */
static void tree(dw_t *w, int level, const char *label, const cJSON *v)
{
    if (cJSON_IsObject(v)) {
        if (!v->child) {
            kv(w, level, label, "{}");
            return;
        }
        heading(w, level, label);
        const cJSON *it;
        cJSON_ArrayForEach(it, v)
        {
            tree(w, level + 1, it->string, it);
        }
    } else if (cJSON_IsArray(v)) {
        if (!v->child) {
            kv(w, level, label, "[]");
            return;
        }
        heading(w, level, label);
        const cJSON *it;
        int i = 0;
        cJSON_ArrayForEach(it, v)
        {
            char idx[32];
            snprintf(idx, sizeof idx, "[%d]", i++);
            tree(w, level + 1, idx, it);
        }
    } else {
        kvf(w, level, label, scalar(v));
    }
}

static char *port_string(const cJSON *p)
{
    cleanup_free char *port = scalar(minik_json_at(p, "containerPort"));
    const char *proto = s_at(p, "protocol");
    return xasprintf("%s/%s", port, proto ? proto : "TCP");
}

static char *container_state(const cJSON *status, const char **reason)
{
    *reason = NULL;
    const cJSON *state = minik_json_at(status, "state");
    if (minik_json_at(state, "running"))
        return xstrdup("Running");
    if (minik_json_at(state, "waiting")) {
        *reason = s_at(state, "waiting.reason");
        return xstrdup("Waiting");
    }
    if (minik_json_at(state, "terminated")) {
        *reason = s_at(state, "terminated.reason");
        return xstrdup("Terminated");
    }
    return xstrdup("Waiting");
}

static void containers(dw_t *w, int level, const char *title, const cJSON *list,
                       const cJSON *statuses)
{
    enum { FIELD_LEVEL = 2 }; /* container fields sit at four spaces either way */
    if (!cJSON_GetArraySize(list))
        return;
    heading(w, level, title);
    const cJSON *c;
    cJSON_ArrayForEach(c, list)
    {
        const char *name = s_at(c, "name");
        /* kubectl: "  app:" under a pod's Containers, "   app:" under a Pod Template's. */
        cleanup_free char *hdr = xasprintf("%*s%s", level == 0 ? 2 : 1, "", name ? name : "");
        heading(w, level, hdr);
        const cJSON *st = NULL, *s;
        cJSON_ArrayForEach(s, statuses)
        {
            const char *sn = s_at(s, "name");
            if (name && sn && strcmp(sn, name) == 0)
                st = s;
        }
        kv(w, FIELD_LEVEL, "Image", s_at(c, "image"));
        const cJSON *ports = minik_json_at(c, "ports");
        if (cJSON_GetArraySize(ports) == 1) {
            kvf(w, FIELD_LEVEL, "Port", port_string(cJSON_GetArrayItem(ports, 0)));
        } else if (cJSON_GetArraySize(ports) > 1) {
            minik_buf_t b = MINIK_BUF_INIT;
            const cJSON *p;
            cJSON_ArrayForEach(p, ports)
            {
                cleanup_free char *ps = port_string(p);
                minik_buf_appendf(&b, "%s%s", b.len ? ", " : "", ps);
            }
            kvf(w, FIELD_LEVEL, "Ports", minik_buf_steal(&b));
        } else {
            kv(w, FIELD_LEVEL, "Port", NULL);
        }
        const cJSON *cmd = minik_json_at(c, "command");
        if (cJSON_GetArraySize(cmd)) {
            heading(w, FIELD_LEVEL, "Command");
            const cJSON *a;
            cJSON_ArrayForEach(a, cmd)
            {
                cleanup_free char *line = scalar(a);
                raw_line(w, FIELD_LEVEL + 1, line);
            }
        }
        if (st) {
            const char *reason;
            kvf(w, FIELD_LEVEL, "State", container_state(st, &reason));
            if (reason)
                kv(w, FIELD_LEVEL + 1, "Reason", reason);
            kvf(w, FIELD_LEVEL, "Ready",
                xstrdup(cJSON_IsTrue(minik_json_at(st, "ready")) ? "True" : "False"));
            kvf(w, FIELD_LEVEL, "Restart Count", i_at(st, "restartCount", 0));
        }
        const cJSON *env = minik_json_at(c, "env");
        if (cJSON_GetArraySize(env)) {
            heading(w, FIELD_LEVEL, "Environment");
            const cJSON *e;
            cJSON_ArrayForEach(e, env)
            {
                const char *v = s_at(e, "value");
                kv(w, FIELD_LEVEL + 1, s_at(e, "name") ? s_at(e, "name") : "",
                   v ? v : "<set from ref>");
            }
        } else {
            kv(w, FIELD_LEVEL, "Environment", NULL);
        }
    }
}

/* Add a rendered table's lines as pre-formatted headings at `level`. */
static void table_lines(dw_t *w, int level, minik_table_t *t)
{
    minik_buf_t tb = MINIK_BUF_INIT;
    minik_table_render(t, false, &tb);
    const char *p = tb.data ? tb.data : "";
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        cleanup_free char *line = xstrndup(p, n);
        raw_line(w, level, line);
        p += n + (nl ? 1 : 0);
    }
    minik_buf_free(&tb);
}

static void conditions(dw_t *w, const cJSON *conds, bool with_reason)
{
    if (!cJSON_GetArraySize(conds))
        return;
    heading(w, 0, "Conditions");
    static const char *const headers[] = {"Type", "Status", "Reason"};
    static const char *const dashes[] = {"----", "------", "------"};
    size_t nc = with_reason ? 3 : 2;
    minik_table_t *t = minik_table_new(headers, nc);
    char **row = xcalloc(3, sizeof(char *));
    for (size_t i = 0; i < nc; i++)
        row[i] = xstrdup(dashes[i]);
    minik_table_add_row_owned(t, row);
    const cJSON *c;
    cJSON_ArrayForEach(c, conds)
    {
        row[0] = xstrdup(s_at(c, "type") ? s_at(c, "type") : "");
        row[1] = xstrdup(s_at(c, "status") ? s_at(c, "status") : "");
        if (with_reason)
            row[2] = xstrdup(s_at(c, "reason") ? s_at(c, "reason") : "");
        minik_table_add_row_owned(t, row);
    }
    free(row);
    table_lines(w, 1, t);
    minik_table_free(t);
}

/* ---- per kind --------------------------------------------------------------------------- */

static void describe_pod(dw_t *w, const minik_kind_t *k, const cJSON *o)
{
    common_header(w, k, o, false);
    kv(w, 0, "Node", s_at(o, "spec.nodeName"));
    if (s_at(o, "status.startTime"))
        kvf(w, 0, "Start Time", timestamp(s_at(o, "status.startTime")));
    cleanup_free char **row = minik_printer_row(k, o, false, 0, NULL);
    /* Reuse the table's STATUS logic (column 2) so get and describe agree. */
    kv(w, 0, "Status", row[2]);
    for (int i = 0; i < 5; i++)
        free(row[i]);
    kv(w, 0, "IP", s_at(o, "status.podIP"));
    const cJSON *owner = cJSON_GetArrayItem(minik_json_at(o, "metadata.ownerReferences"), 0);
    if (owner)
        kvf(w, 0, "Controlled By",
            xasprintf("%s/%s", s_at(owner, "kind") ? s_at(owner, "kind") : "",
                      s_at(owner, "name") ? s_at(owner, "name") : ""));
    containers(w, 0, "Init Containers", minik_json_at(o, "spec.initContainers"),
               minik_json_at(o, "status.initContainerStatuses"));
    containers(w, 0, "Containers", minik_json_at(o, "spec.containers"),
               minik_json_at(o, "status.containerStatuses"));
    conditions(w, minik_json_at(o, "status.conditions"), false);
    const cJSON *vols = minik_json_at(o, "spec.volumes");
    if (cJSON_GetArraySize(vols)) {
        heading(w, 0, "Volumes");
        const cJSON *v;
        cJSON_ArrayForEach(v, vols)
        {
            cleanup_free char *name = xasprintf("%s", s_at(v, "name") ? s_at(v, "name") : "");
            const cJSON *src;
            minik_json_map_for_each(src, v)
            {
                if (strcmp(src->string, "name") != 0)
                    tree(w, 1, name, src);
            }
        }
    }
    map_lines(w, 0, "Node-Selectors", minik_json_at(o, "spec.nodeSelector"), "=");
}

static void describe_deployment(dw_t *w, const minik_kind_t *k, const cJSON *o)
{
    common_header(w, k, o, true);
    kvf(w, 0, "Selector", selector_string(minik_json_at(o, "spec.selector.matchLabels")));
    cleanup_free char *want = i_at(o, "spec.replicas", 1);
    cleanup_free char *upd = i_at(o, "status.updatedReplicas", 0);
    cleanup_free char *tot = i_at(o, "status.replicas", 0);
    cleanup_free char *avail = i_at(o, "status.availableReplicas", 0);
    cleanup_free char *unavail = i_at(o, "status.unavailableReplicas", 0);
    kvf(w, 0, "Replicas",
        xasprintf("%s desired | %s updated | %s total | %s available | %s unavailable", want, upd,
                  tot, avail, unavail));
    const char *strategy = s_at(o, "spec.strategy.type");
    kv(w, 0, "StrategyType", strategy ? strategy : "RollingUpdate");
    kvf(w, 0, "MinReadySeconds", i_at(o, "spec.minReadySeconds", 0));
    if (!strategy || strcmp(strategy, "RollingUpdate") == 0) {
        cleanup_free char *mu =
            scalar(minik_json_at(o, "spec.strategy.rollingUpdate.maxUnavailable"));
        cleanup_free char *ms = scalar(minik_json_at(o, "spec.strategy.rollingUpdate.maxSurge"));
        kvf(w, 0, "RollingUpdateStrategy",
            xasprintf("%s max unavailable, %s max surge", strcmp(mu, "<none>") ? mu : "25%",
                      strcmp(ms, "<none>") ? ms : "25%"));
    }
    heading(w, 0, "Pod Template");
    map_lines(w, 1, "Labels", minik_json_at(o, "spec.template.metadata.labels"), "=");
    containers(w, 1, "Containers", minik_json_at(o, "spec.template.spec.containers"), NULL);
    conditions(w, minik_json_at(o, "status.conditions"), true);
}

/* kubectl's formatEndpoints: the ready addresses serving port `name` as ip:port, the
 * first three, then " + N more..."; "<none>" when there is none. */
static char *endpoints_for_port(const cJSON *ep, const char *name)
{
    minik_buf_t b = MINIK_BUF_INIT;
    int count = 0;
    const cJSON *ss, *p, *a;
    cJSON_ArrayForEach(ss, minik_json_at(ep, "subsets"))
    {
        cJSON_ArrayForEach(p, minik_json_at(ss, "ports"))
        {
            const char *pn = s_at(p, "name") ? s_at(p, "name") : "";
            if (strcmp(pn, name ? name : "") != 0)
                continue;
            cJSON_ArrayForEach(a, minik_json_at(ss, "addresses"))
            {
                if (count++ < 3) {
                    cleanup_free char *port = scalar(minik_json_at(p, "port"));
                    minik_buf_appendf(&b, "%s%s:%s", b.len ? "," : "",
                                      s_at(a, "ip") ? s_at(a, "ip") : "", port);
                }
            }
        }
    }
    if (count > 3)
        minik_buf_appendf(&b, " + %d more...", count - 3);
    if (!b.len) {
        minik_buf_free(&b);
        return xstrdup("<none>");
    }
    return minik_buf_steal(&b);
}

static void describe_service(dw_t *w, const minik_kind_t *k, const cJSON *o, const cJSON *ep)
{
    common_header(w, k, o, false);
    kvf(w, 0, "Selector", selector_string(minik_json_at(o, "spec.selector")));
    kv(w, 0, "Type", s_at(o, "spec.type") ? s_at(o, "spec.type") : "ClusterIP");
    kv(w, 0, "IP", s_at(o, "spec.clusterIP"));
    const cJSON *p;
    cJSON_ArrayForEach(p, minik_json_at(o, "spec.ports"))
    {
        cleanup_free char *port = scalar(minik_json_at(p, "port"));
        const char *proto = s_at(p, "protocol") ? s_at(p, "protocol") : "TCP";
        const char *name = s_at(p, "name") ? s_at(p, "name") : "<unset>";
        kvf(w, 0, "Port", xasprintf("%s  %s/%s", name, port, proto));
        const cJSON *tp = minik_json_at(p, "targetPort");
        cleanup_free char *tps = tp ? scalar(tp) : xstrdup(port);
        kvf(w, 0, "TargetPort", xasprintf("%s/%s", tps, proto));
        if (minik_json_at(p, "nodePort")) {
            cleanup_free char *np = scalar(minik_json_at(p, "nodePort"));
            kvf(w, 0, "NodePort", xasprintf("%s  %s/%s", name, np, proto));
        }
        if (ep)
            kvf(w, 0, "Endpoints", endpoints_for_port(ep, s_at(p, "name")));
    }
    kv(w, 0, "Session Affinity",
       s_at(o, "spec.sessionAffinity") ? s_at(o, "spec.sessionAffinity") : "None");
}

static void describe_node(dw_t *w, const minik_kind_t *k, const cJSON *o)
{
    cleanup_free char **row = minik_printer_row(k, o, false, 0, NULL);
    kv(w, 0, "Name", s_at(o, "metadata.name"));
    kv(w, 0, "Roles", row[2]);
    for (int i = 0; i < 5; i++)
        free(row[i]);
    map_lines(w, 0, "Labels", minik_json_at(o, "metadata.labels"), "=");
    annotations(w, 0, o);
    kvf(w, 0, "CreationTimestamp", timestamp(s_at(o, "metadata.creationTimestamp")));
    kv(w, 0, "Unschedulable",
       cJSON_IsTrue(minik_json_at(o, "spec.unschedulable")) ? "true" : "false");
    conditions(w, minik_json_at(o, "status.conditions"), true);
    const cJSON *a;
    if (cJSON_GetArraySize(minik_json_at(o, "status.addresses"))) {
        heading(w, 0, "Addresses");
        cJSON_ArrayForEach(a, minik_json_at(o, "status.addresses"))
        {
            kv(w, 1, s_at(a, "type") ? s_at(a, "type") : "", s_at(a, "address"));
        }
    }
    if (minik_json_at(o, "status.capacity"))
        tree(w, 0, "Capacity", minik_json_at(o, "status.capacity"));
    if (minik_json_at(o, "status.allocatable"))
        tree(w, 0, "Allocatable", minik_json_at(o, "status.allocatable"));
    if (minik_json_at(o, "status.nodeInfo")) {
        heading(w, 0, "System Info");
        const cJSON *it;
        minik_json_map_for_each(it, minik_json_at(o, "status.nodeInfo"))
        {
            cleanup_free char *v = scalar(it);
            kv(w, 1, it->string, v);
        }
    }
}

static void describe_data(dw_t *w, const cJSON *data, bool sizes_only, minik_buf_t *tail)
{
    (void)w;
    minik_buf_append_str(tail, "\nData\n====\n");
    const cJSON *it;
    minik_json_map_for_each(it, data)
    {
        if (sizes_only) {
            size_t n = cJSON_IsString(it) ? strlen(it->valuestring) : 0;
            /* Secret values are base64 on the wire: show the decoded size, never content. */
            size_t pad = n >= 1 && it->valuestring[n - 1] == '=' ? 1 : 0;
            pad += n >= 2 && it->valuestring[n - 2] == '=' ? 1 : 0;
            minik_buf_appendf(tail, "%s:  %zu bytes\n", it->string, n / 4 * 3 - pad);
        } else {
            cleanup_free char *v = scalar(it);
            minik_buf_appendf(tail, "%s:\n----\n%s\n", it->string, v);
        }
    }
}

static void describe_generic(dw_t *w, const minik_kind_t *k, const cJSON *o)
{
    common_header(w, k, o, false);
    const cJSON *it;
    minik_json_map_for_each(it, o)
    {
        if (strcmp(it->string, "apiVersion") == 0 || strcmp(it->string, "kind") == 0 ||
            strcmp(it->string, "metadata") == 0)
            continue;
        tree(w, 0, it->string, it);
    }
}

static void describe_events(const cJSON *events, int64_t now, minik_buf_t *out)
{
    if (cJSON_GetArraySize(events) == 0) {
        minik_buf_append_str(out, "Events:  <none>\n");
        return;
    }
    minik_buf_append_str(out, "Events:\n");
    static const char *const headers[] = {"Type", "Reason", "Age", "From", "Message"};
    minik_table_t *t = minik_table_new(headers, 5);
    /* kubectl's underline row ("----" under "Age" too). */
    static const char *const underline[] = {"----", "------", "----", "----", "-------"};
    char **dashes = xcalloc(5, sizeof(char *));
    for (int i = 0; i < 5; i++)
        dashes[i] = xstrdup(underline[i]);
    minik_table_add_row_owned(t, dashes);
    free(dashes);
    const cJSON *e;
    cJSON_ArrayForEach(e, events)
    {
        char **cells = xcalloc(5, sizeof(char *));
        cells[0] = xstrdup(s_at(e, "type") ? s_at(e, "type") : "");
        cells[1] = xstrdup(s_at(e, "reason") ? s_at(e, "reason") : "");
        const char *last = s_at(e, "lastTimestamp") ? s_at(e, "lastTimestamp")
                                                    : s_at(e, "metadata.creationTimestamp");
        int64_t lt = minik_timestamp_parse(last);
        cleanup_free char *age = lt < 0 ? xstrdup("<unknown>") : minik_format_age(now - lt);
        const cJSON *count = minik_json_at(e, "count");
        int64_t ft = minik_timestamp_parse(s_at(e, "firstTimestamp"));
        if (cJSON_IsNumber(count) && count->valuedouble > 1 && ft >= 0) {
            cleanup_free char *over = minik_format_age(now - ft);
            cells[2] = xasprintf("%s (x%lld over %s)", age, (long long)count->valueint, over);
        } else {
            cells[2] = steal_pointer(&age);
        }
        const char *from = s_at(e, "source.component");
        if (!from)
            from = s_at(e, "reportingComponent");
        cells[3] = xstrdup(from ? from : "");
        cells[4] = xstrdup(s_at(e, "message") ? s_at(e, "message") : "");
        minik_table_add_row_owned(t, cells);
        free(cells);
    }
    minik_buf_t tb = MINIK_BUF_INIT;
    /* kubectl's events table: two-space indent, columns padded by two. */
    minik_table_render(t, false, &tb);
    minik_table_free(t);
    const char *p = tb.data ? tb.data : "";
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        minik_buf_append_str(out, "  ");
        minik_buf_append(out, p, n);
        minik_buf_append_char(out, '\n');
        p += n + (nl ? 1 : 0);
    }
    minik_buf_free(&tb);
}

void minik_describe(const minik_kind_t *k, const cJSON *obj, const cJSON *events, int64_t now,
                    minik_buf_t *out)
{
    minik_describe_with(k, obj, NULL, events, now, out);
}

void minik_describe_with(const minik_kind_t *k, const cJSON *obj, const cJSON *related,
                         const cJSON *events, int64_t now, minik_buf_t *out)
{
    dw_t w = {0};
    minik_buf_t tail = MINIK_BUF_INIT;
    const char *kind = k ? k->kind : "";
    if (strcmp(kind, "Pod") == 0) {
        describe_pod(&w, k, obj);
    } else if (strcmp(kind, "Deployment") == 0) {
        describe_deployment(&w, k, obj);
    } else if (strcmp(kind, "Service") == 0) {
        describe_service(&w, k, obj, related);
    } else if (strcmp(kind, "Node") == 0) {
        describe_node(&w, k, obj);
    } else if (strcmp(kind, "ConfigMap") == 0) {
        common_header(&w, k, obj, false);
        describe_data(&w, minik_json_at(obj, "data"), false, &tail);
    } else if (strcmp(kind, "Secret") == 0) {
        common_header(&w, k, obj, false);
        kv(&w, 0, "Type", s_at(obj, "type") ? s_at(obj, "type") : "Opaque");
        describe_data(&w, minik_json_at(obj, "data"), true, &tail);
    } else if (strcmp(kind, "Namespace") == 0) {
        kv(&w, 0, "Name", s_at(obj, "metadata.name"));
        map_lines(&w, 0, "Labels", minik_json_at(obj, "metadata.labels"), "=");
        annotations(&w, 0, obj);
        kv(&w, 0, "Status", s_at(obj, "status.phase") ? s_at(obj, "status.phase") : "Active");
    } else {
        describe_generic(&w, k, obj);
    }
    dw_render(&w, out);
    if (tail.len)
        minik_buf_append(out, tail.data, tail.len);
    minik_buf_free(&tail);
    minik_buf_append_char(out, '\n');
    describe_events(events, now, out);
}
