#include "apiserver/resources.h"

#include <string.h>

const minik_resource_t minik_resources[] = {
    {"pods", "pod", "Pod", "", "v1", true, "po", "status,binding,log,exec"},
    {"services", "service", "Service", "", "v1", true, "svc", "status"},
    {"endpoints", "endpoints", "Endpoints", "", "v1", true, "ep", ""},
    {"configmaps", "configmap", "ConfigMap", "", "v1", true, "cm", ""},
    {"secrets", "secret", "Secret", "", "v1", true, "", ""},
    {"events", "event", "Event", "", "v1", true, "ev", ""},
    {"namespaces", "namespace", "Namespace", "", "v1", false, "ns", "status"},
    {"nodes", "node", "Node", "", "v1", false, "no", "status,proxy"},
    {"deployments", "deployment", "Deployment", "apps", "v1", true, "deploy", "status,scale"},
    {"replicasets", "replicaset", "ReplicaSet", "apps", "v1", true, "rs", "status,scale"},
    {"daemonsets", "daemonset", "DaemonSet", "apps", "v1", true, "ds", "status"},
    {"jobs", "job", "Job", "batch", "v1", true, "", "status"},
    {"cronjobs", "cronjob", "CronJob", "batch", "v1", true, "cj", "status"},
    {0},
};

const minik_resource_t *minik_resource_find(const char *group, const char *version,
                                            const char *name)
{
    for (const minik_resource_t *r = minik_resources; r->name; r++)
        if (strcmp(r->group, group) == 0 && strcmp(r->version, version) == 0 &&
            strcmp(r->name, name) == 0)
            return r;
    return NULL;
}

const minik_resource_t *minik_resource_by_kind(const char *kind)
{
    for (const minik_resource_t *r = minik_resources; r->name; r++)
        if (strcmp(r->kind, kind) == 0)
            return r;
    return NULL;
}

const char *minik_resource_api_version(const minik_resource_t *r)
{
    if (!r->group[0])
        return r->version;
    if (strcmp(r->group, "apps") == 0)
        return "apps/v1";
    if (strcmp(r->group, "batch") == 0)
        return "batch/v1";
    return r->version;
}

bool minik_resource_has_subresource(const minik_resource_t *r, const char *sub)
{
    size_t n = strlen(sub);
    for (const char *p = r->subresources; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, sub, n) == 0)
            return true;
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}
