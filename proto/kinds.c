/* The kinds table. One row per kind; DaemonSet, Job, ReplicaSet... are added here with a
 * field table of their own. */
#include "proto/kinds.h"

#include <strings.h>
#include <string.h>

#include "proto/schema_common.h"

#define SHORT(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_SHORT   ((const char *const[]){NULL})

const minik_kind_t minik_kinds[] = {
    {"Namespace", "", "v1", "v1", "namespaces", "namespace", SHORT("ns"), false,
     MINIK_NAME_DNS1123_LABEL, minik_schema_namespace, NULL, NULL},
    {"Node", "", "v1", "v1", "nodes", "node", SHORT("no"), false, MINIK_NAME_DNS1123_SUBDOMAIN,
     minik_schema_node, NULL, NULL},
    {"Pod", "", "v1", "v1", "pods", "pod", SHORT("po"), true, MINIK_NAME_DNS1123_SUBDOMAIN,
     minik_schema_pod, NULL, minik_default_pod},
    {"Service", "", "v1", "v1", "services", "service", SHORT("svc"), true, MINIK_NAME_DNS1035_LABEL,
     minik_schema_service, NULL, NULL},
    {"Endpoints", "", "v1", "v1", "endpoints", "endpoints", SHORT("ep"), true,
     MINIK_NAME_DNS1123_SUBDOMAIN, minik_schema_endpoints, NULL, NULL},
    {"ConfigMap", "", "v1", "v1", "configmaps", "configmap", SHORT("cm"), true,
     MINIK_NAME_DNS1123_SUBDOMAIN, minik_schema_configmap, minik_check_configmap, NULL},
    {"Secret", "", "v1", "v1", "secrets", "secret", SHORT("secret"), true,
     MINIK_NAME_DNS1123_SUBDOMAIN, minik_schema_secret, minik_check_secret, NULL},
    {"Event", "", "v1", "v1", "events", "event", SHORT("ev"), true, MINIK_NAME_DNS1123_SUBDOMAIN,
     minik_schema_event, NULL, NULL},
    {"Deployment", "apps", "v1", "apps/v1", "deployments", "deployment", SHORT("deploy"), true,
     MINIK_NAME_DNS1123_SUBDOMAIN, minik_schema_deployment, NULL, NULL},
    {"ReplicaSet", "apps", "v1", "apps/v1", "replicasets", "replicaset", SHORT("rs"), true,
     MINIK_NAME_DNS1123_SUBDOMAIN, minik_schema_replicaset, NULL, NULL},
    {"DaemonSet", "apps", "v1", "apps/v1", "daemonsets", "daemonset", SHORT("ds"), true,
     MINIK_NAME_DNS1123_SUBDOMAIN, minik_schema_daemonset, NULL, NULL},
    {"Job", "batch", "v1", "batch/v1", "jobs", "job", NO_SHORT, true, MINIK_NAME_DNS1123_SUBDOMAIN,
     minik_schema_job, NULL, NULL},
    {NULL},
};

const minik_kind_t *minik_kind_lookup(const char *api_version, const char *kind)
{
    if (api_version == NULL || kind == NULL)
        return NULL;
    for (const minik_kind_t *k = minik_kinds; k->kind; k++)
        if (strcmp(k->kind, kind) == 0 && strcmp(k->api_version, api_version) == 0)
            return k;
    return NULL;
}

const minik_kind_t *minik_kind_by_kind(const char *kind)
{
    for (const minik_kind_t *k = kind ? minik_kinds : NULL; k && k->kind; k++)
        if (strcmp(k->kind, kind) == 0)
            return k;
    return NULL;
}

const minik_kind_t *minik_kind_by_name(const char *name)
{
    if (name == NULL)
        return NULL;
    for (const minik_kind_t *k = minik_kinds; k->kind; k++) {
        if (strcasecmp(k->plural, name) == 0 || strcasecmp(k->singular, name) == 0 ||
            strcasecmp(k->kind, name) == 0)
            return k;
        for (const char *const *s = k->short_names; *s; s++)
            if (strcasecmp(*s, name) == 0)
                return k;
    }
    return NULL;
}

const minik_kind_t *minik_kind_by_resource(const char *group, const char *version,
                                           const char *plural)
{
    if (group == NULL || version == NULL || plural == NULL)
        return NULL;
    for (const minik_kind_t *k = minik_kinds; k->kind; k++)
        if (strcmp(k->group, group) == 0 && strcmp(k->version, version) == 0 &&
            strcmp(k->plural, plural) == 0)
            return k;
    return NULL;
}
