/* `minik top nodes|pods`: CPU and memory from the agents' cgroup statistics (each node's
 * /stats/summary through the API server's nodes/NAME/proxy, sampled twice 500 ms apart for
 * the CPU rate, as metrics-server does with the kubelet). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client_config.h"
#include "cli/commands.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "proto/client.h"
#include "proto/quantity.h"

static bool all_namespaces, no_headers;

static const minik_cli_flag_t flags[] = {
    MINIK_CLIENT_FLAG_ROWS,
    {"all-namespaces", 'A', MINIK_FLAG_BOOL, &all_namespaces, NULL, "pods of every namespace"},
    {"no-headers", 0, MINIK_FLAG_BOOL, &no_headers, NULL, "no header line"},
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik top nodes|pods [-n NS | -A]",
    .summary = "Show CPU and memory use of nodes or pods",
    .flags = flags,
    .min_args = 1,
    .max_args = 1,
};

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* A node's /stats/summary through the API server (nodes/NAME/proxy), or NULL when its agent
 * cannot be reached (the node shows as <unknown>). */
static cJSON *summary(minik_client_t *cl, const char *node)
{
    cleanup_free char *path =
        minik_client_path("v1", "nodes", false, NULL, node, "proxy/stats/summary", NULL);
    cJSON *out = NULL;
    minik_error_t *err = NULL;
    if (minik_client_json(cl, "GET", path, NULL, NULL, &out, &err) < 0) {
        minik_error_free(err); /* shown as <unknown>, as kubectl top does */
        return NULL;
    }
    return out;
}

/* CPU and memory of a pod in a summary: cpu ns summed over its containers. */
static bool pod_usage(const cJSON *sum, const char *ns, const char *name, double *cpu, double *mem)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(sum, "pods"))
    {
        if (strcmp(jstr(p, "namespace") ? jstr(p, "namespace") : "", ns) != 0 ||
            strcmp(jstr(p, "name") ? jstr(p, "name") : "", name) != 0)
            continue;
        *cpu = *mem = 0;
        if (cJSON_GetObjectItemCaseSensitive(p, "cpuUsageNanoSeconds")) {
            /* The pod's own cgroup (agents since pod-level cgroups). */
            *cpu = jnum(p, "cpuUsageNanoSeconds");
            *mem = jnum(p, "memoryWorkingSetBytes");
            return true;
        }
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(p, "containers"))
        {
            *cpu += jnum(c, "cpuUsageNanoSeconds");
            *mem += jnum(c, "memoryWorkingSetBytes");
        }
        return true;
    }
    return false;
}

int minik_cmd_top(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    const char *what = argv[first];
    bool nodes = strcmp(what, "nodes") == 0 || strcmp(what, "node") == 0 || strcmp(what, "no") == 0;
    bool pods = strcmp(what, "pods") == 0 || strcmp(what, "pod") == 0 || strcmp(what, "po") == 0;
    if (!nodes && !pods)
        return minik_cli_usage_error(&spec, "top: unknown resource \"%s\" (nodes or pods)", what);
    cleanup_error minik_error_t *err = NULL;
    cleanup_client minik_client_t *cl = NULL;
    cleanup_free char *ns = NULL;
    if (minik_cli_client_open(&cl, &ns, &err) < 0)
        return minik_cli_fail(err);
    cleanup_cjson cJSON *nlist = NULL;
    if (minik_client_json(cl, "GET", "/api/v1/nodes", NULL, NULL, &nlist, &err) < 0)
        return minik_cli_fail(err);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(nlist, "items");
    int n = cJSON_GetArraySize(items);
    cJSON **s1 = xcalloc((size_t)n + 1, sizeof(cJSON *));
    cJSON **s2 = xcalloc((size_t)n + 1, sizeof(cJSON *));
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            usleep(500 * 1000);
        for (int i = 0; i < n; i++) {
            const cJSON *md =
                cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(items, i), "metadata");
            const char *name = jstr(md, "name");
            if (name)
                (pass ? s2 : s1)[i] = summary(cl, name);
        }
    }
    int ret = MINIK_EXIT_OK;
    if (nodes) {
        if (!no_headers)
            printf("%-24s %-12s %-6s %-15s %s\n", "NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)",
                   "MEMORY%");
        for (int i = 0; i < n; i++) {
            const cJSON *node = cJSON_GetArrayItem(items, i);
            const char *name = jstr(cJSON_GetObjectItemCaseSensitive(node, "metadata"), "name");
            if (!s1[i] || !s2[i]) {
                printf("%-24s %-12s %-6s %-15s %s\n", name ? name : "?", "<unknown>", "<unknown>",
                       "<unknown>", "<unknown>");
                continue;
            }
            const cJSON *a = cJSON_GetObjectItemCaseSensitive(s1[i], "node");
            const cJSON *b = cJSON_GetObjectItemCaseSensitive(s2[i], "node");
            double dt = jnum(s2[i], "timeNanoSeconds") - jnum(s1[i], "timeNanoSeconds");
            double milli =
                dt > 0
                    ? (jnum(b, "cpuUsageNanoSeconds") - jnum(a, "cpuUsageNanoSeconds")) / dt * 1000
                    : 0;
            double mem = jnum(b, "memoryWorkingSetBytes");
            const cJSON *cap = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(node, "status"), "allocatable");
            minik_quantity_t qc = {0}, qm = {0};
            minik_error_t *e = NULL;
            double cap_milli =
                jstr(cap, "cpu") && minik_quantity_parse(jstr(cap, "cpu"), &qc, &e) == 0
                    ? (double)qc.milli
                    : 0;
            minik_error_clear(&e);
            double cap_mem =
                jstr(cap, "memory") && minik_quantity_parse(jstr(cap, "memory"), &qm, &e) == 0
                    ? (double)qm.milli / 1000
                    : 0;
            minik_error_clear(&e);
            char c1[32], c2[32], c3[32], c4[32];
            snprintf(c1, sizeof(c1), "%.0fm", milli < 0 ? 0 : milli);
            snprintf(c2, sizeof(c2), "%.0f%%", cap_milli > 0 ? 100 * milli / cap_milli : 0);
            snprintf(c3, sizeof(c3), "%.0fMi", mem / 1048576);
            snprintf(c4, sizeof(c4), "%.0f%%", cap_mem > 0 ? 100 * mem / cap_mem : 0);
            printf("%-24s %-12s %-6s %-15s %s\n", name ? name : "?", c1, c2, c3, c4);
        }
    } else {
        cleanup_free char *path = all_namespaces
                                      ? xstrdup("/api/v1/pods")
                                      : minik_client_path("v1", "pods", true, ns, NULL, NULL, NULL);
        cleanup_cjson cJSON *plist = NULL;
        if (minik_client_json(cl, "GET", path, NULL, NULL, &plist, &err) < 0) {
            ret = minik_cli_fail(err);
            goto out;
        }
        if (!no_headers) {
            if (all_namespaces)
                printf("%-16s ", "NAMESPACE");
            printf("%-32s %-12s %s\n", "NAME", "CPU(cores)", "MEMORY(bytes)");
        }
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(plist, "items"))
        {
            const cJSON *md = cJSON_GetObjectItemCaseSensitive(p, "metadata");
            const char *pns = jstr(md, "namespace"), *pname = jstr(md, "name");
            if (!pns || !pname)
                continue;
            for (int i = 0; i < n; i++) {
                double c1 = 0, m1 = 0, c2 = 0, m2 = 0;
                if (!s1[i] || !s2[i] || !pod_usage(s1[i], pns, pname, &c1, &m1) ||
                    !pod_usage(s2[i], pns, pname, &c2, &m2))
                    continue;
                double dt = jnum(s2[i], "timeNanoSeconds") - jnum(s1[i], "timeNanoSeconds");
                double milli = dt > 0 ? (c2 - c1) / dt * 1000 : 0;
                char cb[32], mb[32];
                snprintf(cb, sizeof(cb), "%.0fm", milli < 0 ? 0 : milli);
                snprintf(mb, sizeof(mb), "%.0fMi", m2 / 1048576);
                if (all_namespaces)
                    printf("%-16s ", pns);
                printf("%-32s %-12s %s\n", pname, cb, mb);
            }
        }
    }
out:
    for (int i = 0; i < n; i++) {
        cJSON_Delete(s1[i]);
        cJSON_Delete(s2[i]);
    }
    free(s1);
    free(s2);
    return ret;
}
