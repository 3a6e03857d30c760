#include "apiserver/table.h"

#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/timestamp.h"

bool minik_api_table_wanted(const char *accept)
{
    return accept && strstr(accept, "as=Table") != NULL;
}

void minik_api_table_age(int64_t s, char *buf, size_t len)
{
    if (s < 0)
        s = 0;
    int64_t m = s / 60, h = s / 3600, d = s / 86400;
    if (s < 120)
        snprintf(buf, len, "%llds", (long long)s);
    else if (m < 10)
        snprintf(buf, len, "%lldm%llds", (long long)m, (long long)(s % 60));
    else if (h < 3)
        snprintf(buf, len, "%lldm", (long long)m);
    else if (h < 8)
        snprintf(buf, len, "%lldh%lldm", (long long)h, (long long)(m % 60));
    else if (h < 48)
        snprintf(buf, len, "%lldh", (long long)h);
    else if (d < 8)
        snprintf(buf, len, "%lldd%lldh", (long long)d, (long long)(h % 24));
    else if (d < 365 * 2)
        snprintf(buf, len, "%lldd", (long long)d);
    else
        snprintf(buf, len, "%lldy%lldd", (long long)(d / 365), (long long)(d % 365));
}

static const cJSON *get(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    return b ? cJSON_GetObjectItemCaseSensitive(x, b) : x;
}

static const char *str_or(const cJSON *v, const char *dflt)
{
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : dflt;
}

static int num_or(const cJSON *v, int dflt)
{
    return cJSON_IsNumber(v) ? v->valueint : dflt;
}

typedef struct column {
    const char *name, *type, *format, *description;
    int priority; /* 1 = only with -o wide */
} column_t;

#define COL(n, t, p)                                                                               \
    {                                                                                              \
        n, t, "", "", p                                                                            \
    }

static const column_t pod_cols[] = {COL("Name", "string", 0),   COL("Ready", "string", 0),
                                    COL("Status", "string", 0), COL("Restarts", "string", 0),
                                    COL("Age", "string", 0),    COL("IP", "string", 1),
                                    COL("Node", "string", 1),   {0}};
static const column_t deploy_cols[] = {
    COL("Name", "string", 0),       COL("Ready", "string", 0), COL("Up-to-date", "integer", 0),
    COL("Available", "integer", 0), COL("Age", "string", 0),   {0}};
static const column_t rs_cols[] = {COL("Name", "string", 0),     COL("Desired", "integer", 0),
                                   COL("Current", "integer", 0), COL("Ready", "integer", 0),
                                   COL("Age", "string", 0),      {0}};
static const column_t node_cols[] = {COL("Name", "string", 0),    COL("Status", "string", 0),
                                     COL("Roles", "string", 0),   COL("Age", "string", 0),
                                     COL("Version", "string", 0), {0}};
static const column_t ns_cols[] = {
    COL("Name", "string", 0), COL("Status", "string", 0), COL("Age", "string", 0), {0}};
static const column_t svc_cols[] = {COL("Name", "string", 0),
                                    COL("Type", "string", 0),
                                    COL("Cluster-IP", "string", 0),
                                    COL("External-IP", "string", 0),
                                    COL("Port(s)", "string", 0),
                                    COL("Age", "string", 0),
                                    {0}};
static const column_t cm_cols[] = {
    COL("Name", "string", 0), COL("Data", "integer", 0), COL("Age", "string", 0), {0}};
static const column_t secret_cols[] = {COL("Name", "string", 0),
                                       COL("Type", "string", 0),
                                       COL("Data", "integer", 0),
                                       COL("Age", "string", 0),
                                       {0}};
static const column_t ep_cols[] = {
    COL("Name", "string", 0), COL("Endpoints", "string", 0), COL("Age", "string", 0), {0}};
static const column_t default_cols[] = {COL("Name", "string", 0), COL("Age", "string", 0), {0}};

static const column_t *columns_for(const char *kind)
{
    if (strcmp(kind, "Pod") == 0)
        return pod_cols;
    if (strcmp(kind, "Deployment") == 0)
        return deploy_cols;
    if (strcmp(kind, "ReplicaSet") == 0)
        return rs_cols;
    if (strcmp(kind, "Node") == 0)
        return node_cols;
    if (strcmp(kind, "Namespace") == 0)
        return ns_cols;
    if (strcmp(kind, "Service") == 0)
        return svc_cols;
    if (strcmp(kind, "ConfigMap") == 0)
        return cm_cols;
    if (strcmp(kind, "Secret") == 0)
        return secret_cols;
    if (strcmp(kind, "Endpoints") == 0)
        return ep_cols;
    return default_cols;
}

static void add_int(cJSON *cells, int v)
{
    cJSON_AddItemToArray(cells, cJSON_CreateNumber(v));
}

static void add_str(cJSON *cells, const char *s)
{
    cJSON_AddItemToArray(cells, cJSON_CreateString(s));
}

static void add_fmt(cJSON *cells, const char *fmt, int a, int b)
{
    char buf[64];
    snprintf(buf, sizeof(buf), fmt, a, b);
    add_str(cells, buf);
}

static void pod_cells(const cJSON *o, cJSON *cells)
{
    int total = cJSON_GetArraySize(get(o, "spec", "containers"));
    int ready = 0, restarts = 0;
    const cJSON *cs;
    cJSON_ArrayForEach(cs, get(o, "status", "containerStatuses"))
    {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cs, "ready")))
            ready++;
        restarts += num_or(cJSON_GetObjectItemCaseSensitive(cs, "restartCount"), 0);
    }
    add_fmt(cells, "%d/%d", ready, total);
    const char *status = str_or(get(o, "status", "reason"), NULL);
    if (!status)
        status = str_or(get(o, "status", "phase"), "Pending");
    if (cJSON_IsString(get(o, "metadata", "deletionTimestamp")))
        status = "Terminating";
    add_str(cells, status);
    add_fmt(cells, "%d", restarts, 0);
}

static void node_status(const cJSON *o, cJSON *cells)
{
    const char *st = "Unknown";
    const cJSON *c;
    cJSON_ArrayForEach(c, get(o, "status", "conditions"))
    {
        const char *type = str_or(cJSON_GetObjectItemCaseSensitive(c, "type"), "");
        if (strcmp(type, "Ready") == 0) {
            const char *v = str_or(cJSON_GetObjectItemCaseSensitive(c, "status"), "");
            st = strcmp(v, "True") == 0    ? "Ready"
                 : strcmp(v, "False") == 0 ? "NotReady"
                                           : "Unknown";
        }
    }
    char buf[64];
    snprintf(buf, sizeof(buf), "%s%s", st,
             cJSON_IsTrue(get(o, "spec", "unschedulable")) ? ",SchedulingDisabled" : "");
    add_str(cells, buf);
    add_str(cells, "<none>");
}

/* kubectl's formatEndpoints over every port: ready ip:port, the first three, then
 * " + N more..."; "<none>" when empty. */
static void ep_cells(const cJSON *o, cJSON *cells)
{
    char buf[256] = "";
    size_t used = 0;
    int count = 0;
    const cJSON *ss, *p, *a;
    cJSON_ArrayForEach(ss, get(o, "subsets", NULL))
    {
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(ss, "ports"))
        {
            cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(ss, "addresses"))
            {
                if (count++ >= 3)
                    continue;
                int n = snprintf(buf + used, sizeof(buf) - used, "%s%s:%d", used ? "," : "",
                                 str_or(cJSON_GetObjectItemCaseSensitive(a, "ip"), ""),
                                 num_or(cJSON_GetObjectItemCaseSensitive(p, "port"), 0));
                if (n > 0 && (size_t)n < sizeof(buf) - used)
                    used += (size_t)n;
            }
        }
    }
    if (count > 3 && used < sizeof(buf))
        snprintf(buf + used, sizeof(buf) - used, " + %d more...", count - 3);
    add_str(cells, count ? buf : "<none>");
}

static void svc_cells(const cJSON *o, cJSON *cells)
{
    add_str(cells, str_or(get(o, "spec", "type"), "ClusterIP"));
    add_str(cells, str_or(get(o, "spec", "clusterIP"), "<none>"));
    const cJSON *ext = get(o, "spec", "externalIPs");
    add_str(cells,
            cJSON_GetArraySize(ext) > 0 ? str_or(cJSON_GetArrayItem(ext, 0), "<none>") : "<none>");
    cleanup_buf minik_buf_t ports = MINIK_BUF_INIT;
    const cJSON *p;
    cJSON_ArrayForEach(p, get(o, "spec", "ports"))
    {
        int port = num_or(cJSON_GetObjectItemCaseSensitive(p, "port"), 0);
        int np = num_or(cJSON_GetObjectItemCaseSensitive(p, "nodePort"), 0);
        const char *proto = str_or(cJSON_GetObjectItemCaseSensitive(p, "protocol"), "TCP");
        if (ports.len)
            minik_buf_append_char(&ports, ',');
        if (np)
            minik_buf_appendf(&ports, "%d:%d/%s", port, np, proto);
        else
            minik_buf_appendf(&ports, "%d/%s", port, proto);
    }
    add_str(cells, ports.len ? ports.data : "<none>");
}

static cJSON *row_for(const char *kind, const cJSON *o, time_t now)
{
    cJSON *row = cJSON_CreateObject();
    cJSON *cells = cJSON_AddArrayToObject(row, "cells");
    add_str(cells, str_or(get(o, "metadata", "name"), ""));
    char age[32];
    int64_t created = minik_timestamp_parse(str_or(get(o, "metadata", "creationTimestamp"), NULL));
    if (created > 0)
        minik_api_table_age((int64_t)now - created, age, sizeof(age));
    else
        snprintf(age, sizeof(age), "<unknown>");
    if (strcmp(kind, "Pod") == 0) {
        pod_cells(o, cells);
        add_str(cells, age);
        add_str(cells, str_or(get(o, "status", "podIP"), "<none>"));
        add_str(cells, str_or(get(o, "spec", "nodeName"), "<none>"));
    } else if (strcmp(kind, "Deployment") == 0) {
        add_fmt(cells, "%d/%d", num_or(get(o, "status", "readyReplicas"), 0),
                num_or(get(o, "spec", "replicas"), 1));
        add_int(cells, num_or(get(o, "status", "updatedReplicas"), 0));
        add_int(cells, num_or(get(o, "status", "availableReplicas"), 0));
        add_str(cells, age);
    } else if (strcmp(kind, "ReplicaSet") == 0) {
        add_int(cells, num_or(get(o, "spec", "replicas"), 1));
        add_int(cells, num_or(get(o, "status", "replicas"), 0));
        add_int(cells, num_or(get(o, "status", "readyReplicas"), 0));
        add_str(cells, age);
    } else if (strcmp(kind, "Node") == 0) {
        node_status(o, cells);
        add_str(cells, age);
        const cJSON *info = get(o, "status", "nodeInfo");
        add_str(cells, str_or(cJSON_GetObjectItemCaseSensitive(info, "kubeletVersion"), ""));
    } else if (strcmp(kind, "Namespace") == 0) {
        add_str(cells, str_or(get(o, "status", "phase"), "Active"));
        add_str(cells, age);
    } else if (strcmp(kind, "Service") == 0) {
        svc_cells(o, cells);
        add_str(cells, age);
    } else if (strcmp(kind, "Endpoints") == 0) {
        ep_cells(o, cells);
        add_str(cells, age);
    } else if (strcmp(kind, "ConfigMap") == 0) {
        add_int(cells, cJSON_GetArraySize(get(o, "data", NULL)) +
                           cJSON_GetArraySize(get(o, "binaryData", NULL)));
        add_str(cells, age);
    } else if (strcmp(kind, "Secret") == 0) {
        add_str(cells, str_or(get(o, "type", NULL), "Opaque"));
        add_int(cells, cJSON_GetArraySize(get(o, "data", NULL)) +
                           cJSON_GetArraySize(get(o, "stringData", NULL)));
        add_str(cells, age);
    } else {
        add_str(cells, age);
    }
    /* kubectl reads names, namespaces and labels (-L, --show-labels) from here. */
    cJSON *pom = cJSON_AddObjectToObject(row, "object");
    cJSON_AddStringToObject(pom, "kind", "PartialObjectMetadata");
    cJSON_AddStringToObject(pom, "apiVersion", "meta.k8s.io/v1");
    const cJSON *md = get(o, "metadata", NULL);
    cJSON_AddItemToObject(pom, "metadata", md ? cJSON_Duplicate(md, 1) : cJSON_CreateObject());
    return row;
}

cJSON *minik_api_table_new(const char *kind, const cJSON *items, const char *rv, time_t now,
                           bool with_columns)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "kind", "Table");
    cJSON_AddStringToObject(t, "apiVersion", "meta.k8s.io/v1");
    cJSON *md = cJSON_AddObjectToObject(t, "metadata");
    if (rv)
        cJSON_AddStringToObject(md, "resourceVersion", rv);
    if (with_columns) {
        cJSON *cols = cJSON_AddArrayToObject(t, "columnDefinitions");
        for (const column_t *c = columns_for(kind); c->name; c++) {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "name", c->name);
            cJSON_AddStringToObject(d, "type", c->type);
            cJSON_AddStringToObject(d, "format", c == columns_for(kind) ? "name" : c->format);
            cJSON_AddStringToObject(d, "description", c->description);
            cJSON_AddNumberToObject(d, "priority", c->priority);
            cJSON_AddItemToArray(cols, d);
        }
    }
    cJSON *rows = cJSON_AddArrayToObject(t, "rows");
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        cJSON_AddItemToArray(rows, row_for(kind, it, now));
    }
    return t;
}
