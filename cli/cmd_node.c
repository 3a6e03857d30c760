/* minik node cordon|uncordon|drain NAME: mark a node unschedulable (or not again), and
 * drain = cordon + evict its pods except DaemonSet ones (their controllers put them back
 * elsewhere). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client_config.h"
#include "cli/commands.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"

static bool force;

static const minik_cli_flag_t flags[] = {
    {"force", 0, MINIK_FLAG_BOOL, &force, NULL,
     "drain: also delete pods no controller manages (they are not recreated)"},
    MINIK_CLIENT_FLAG_ROWS,
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik node (cordon|uncordon|drain) NAME [--force]",
    .summary = "Cordon, uncordon or drain a node",
    .description = "cordon    mark the node unschedulable: no new pods land on it\n"
                   "uncordon  make it schedulable again\n"
                   "drain     cordon, then evict every pod on it except DaemonSet pods; pods\n"
                   "          without a controller are refused unless --force is given\n"
                   "Example:\n  minik node drain node-2",
    .flags = flags,
    .min_args = 2,
    .max_args = 2,
};

static const char *str_at(const cJSON *obj, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(obj, a);
    return cJSON_GetStringValue(b ? cJSON_GetObjectItemCaseSensitive(x, b) : x);
}

static int set_unschedulable(minik_client_t *c, const char *name, bool on, minik_error_t **err)
{
    cleanup_free char *path = minik_client_path("v1", "nodes", false, NULL, name, NULL, NULL);
    cleanup_cjson cJSON *node = NULL;
    if (minik_client_json(c, "GET", path, NULL, NULL, &node, err) < 0)
        return -1;
    cJSON *spec_o = cJSON_GetObjectItemCaseSensitive(node, "spec");
    if (!cJSON_IsObject(spec_o))
        spec_o = cJSON_AddObjectToObject(node, "spec");
    bool cur = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec_o, "unschedulable"));
    if (cur == on) {
        printf("node/%s already %s\n", name, on ? "cordoned" : "uncordoned");
        return 0;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(spec_o, "unschedulable");
    if (on)
        cJSON_AddBoolToObject(spec_o, "unschedulable", 1);
    /* PUT with the read resourceVersion: a concurrent change is a 409, not lost. */
    if (minik_client_json(c, "PUT", path, NULL, node, NULL, err) < 0)
        return -1;
    printf("node/%s %s\n", name, on ? "cordoned" : "uncordoned");
    return 0;
}

static const char *controller_kind(const cJSON *pod)
{
    const cJSON *ref;
    cJSON_ArrayForEach(
        ref, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(pod, "metadata"),
                                              "ownerReferences"))
    {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ref, "controller")))
            return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ref, "kind"));
    }
    return NULL;
}

static int drain(minik_client_t *c, const char *name, minik_error_t **err)
{
    if (set_unschedulable(c, name, true, err) < 0)
        return -1;
    cleanup_free char *sel = xasprintf("spec.nodeName=%s", name);
    cleanup_free char *sel_q = minik_client_escape(sel);
    cleanup_free char *query = xasprintf("fieldSelector=%s", sel_q);
    cleanup_free char *path = minik_client_path("v1", "pods", true, NULL, NULL, NULL, query);
    cleanup_cjson cJSON *list = NULL;
    if (minik_client_json(c, "GET", path, NULL, NULL, &list, err) < 0)
        return -1;
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items");
    /* Refuse before deleting anything, as kubectl does. */
    int bare = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, items)
    {
        if (!controller_kind(p) && !force) {
            fprintf(stderr, "error: cannot delete pod not managed by a controller: %s/%s\n",
                    str_at(p, "metadata", "namespace"), str_at(p, "metadata", "name"));
            bare++;
        }
    }
    if (bare)
        return minik_error_set(err, 0, "node/%s: %d pod(s) have no controller (use --force)", name,
                               bare);
    cJSON_ArrayForEach(p, items)
    {
        const char *kind = controller_kind(p);
        const char *pns = str_at(p, "metadata", "namespace");
        const char *pname = str_at(p, "metadata", "name");
        if (kind && strcmp(kind, "DaemonSet") == 0) {
            printf("ignoring DaemonSet-managed pod %s/%s\n", pns, pname);
            continue;
        }
        printf("evicting pod %s/%s\n", pns, pname);
        cleanup_free char *ppath = minik_client_path("v1", "pods", true, pns, pname, NULL, NULL);
        minik_error_t *e = NULL;
        if (minik_client_json(c, "DELETE", ppath, NULL, NULL, NULL, &e) < 0 && e->code != 404) {
            *err = e;
            return -1;
        }
        minik_error_free(e);
        printf("pod/%s evicted\n", pname);
    }
    printf("node/%s drained\n", name);
    return 0;
}

int minik_cmd_node(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    const char *sub = argv[first], *name = argv[first + 1];
    if (strcmp(sub, "cordon") != 0 && strcmp(sub, "uncordon") != 0 && strcmp(sub, "drain") != 0)
        return minik_cli_usage_error(&spec,
                                     "unknown node command \"%s\" (want cordon, uncordon "
                                     "or drain)",
                                     sub);
    cleanup_error minik_error_t *err = NULL;
    cleanup_client minik_client_t *c = NULL;
    cleanup_free char *ns = NULL;
    if (minik_cli_client_open(&c, &ns, &err) < 0)
        return minik_cli_fail(err);
    int rc;
    if (strcmp(sub, "drain") == 0)
        rc = drain(c, name, &err);
    else
        rc = set_unschedulable(c, name, strcmp(sub, "cordon") == 0, &err);
    return rc < 0 ? minik_cli_fail(err) : MINIK_EXIT_OK;
}
