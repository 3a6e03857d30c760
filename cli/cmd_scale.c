/* minik scale: set a Deployment's replicas through its scale subresource. */
#include <stdint.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client_config.h"
#include "cli/commands.h"
#include "cli/printers.h"
#include "cli/targets.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"

static const char *replicas;
static const char *current_replicas;

static const minik_cli_flag_t flags[] = {
    {"replicas", 0, MINIK_FLAG_STRING, &replicas, "N", "the new number of replicas (required)"},
    {"current-replicas", 0, MINIK_FLAG_STRING, &current_replicas, "N",
     "only scale if the current replicas match N"},
    MINIK_CLIENT_FLAG_ROWS,
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik scale (deploy/NAME | deploy NAME) --replicas=N [flags]",
    .summary = "Set the number of replicas of a Deployment",
    .description = "Example:\n  minik scale deploy/web --replicas=3",
    .flags = flags,
    .min_args = 1,
    .max_args = -1,
};

int minik_cmd_scale(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    cleanup_error minik_error_t *err = NULL;
    if (!replicas)
        return minik_cli_usage_error(&spec, "--replicas=N is required");
    int64_t n = 0, cur = -1;
    if (minik_str_to_i64(replicas, 0, INT32_MAX, &n, "--replicas", &err) < 0)
        return minik_cli_fail_api(err);
    if (current_replicas &&
        minik_str_to_i64(current_replicas, 0, INT32_MAX, &cur, "--current-replicas", &err) < 0)
        return minik_cli_fail_api(err);

    cleanup_client minik_client_t *c = NULL;
    cleanup_free char *ns = NULL;
    if (minik_cli_client_open(&c, &ns, &err) < 0)
        return minik_cli_fail_api(err);
    minik_cli_set_discovery(c); /* kinds beyond proto's table come from the server */
    minik_target_list_t targets = {0};
    if (minik_targets_from_args(argv + first, argc - first, true, &targets, &err) < 0)
        return minik_cli_fail_api(err);
    if (minik_targets_resolve_namespaces(&targets, ns, false, &err) < 0) {
        minik_target_list_clear(&targets);
        return minik_cli_fail_api(err);
    }
    int rc = MINIK_EXIT_OK;
    for (size_t i = 0; i < targets.n; i++) {
        const minik_target_t *t = &targets.v[i];
        cleanup_free char *ref = minik_object_ref(t->kind, t->name);
        if (strcmp(t->kind->kind, "Deployment") != 0 && strcmp(t->kind->kind, "ReplicaSet") != 0) {
            fprintf(stderr,
                    "error: %s: cannot be scaled (only Deployments and ReplicaSets have a scale "
                    "subresource)\n",
                    ref);
            rc = MINIK_EXIT_ERROR;
            continue;
        }
        cleanup_free char *path =
            minik_client_path(t->kind->api_version, t->kind->plural, t->kind->namespaced, t->ns,
                              t->name, "scale", NULL);
        minik_error_t *e = NULL;
        if (cur >= 0) {
            /* Precondition: read the Scale and send its resourceVersion, so a concurrent
             * change between the check and the write gets a 409 instead of being lost. */
            cleanup_cjson cJSON *scale = NULL;
            if (minik_client_json(c, "GET", path, NULL, NULL, &scale, &e) < 0) {
                rc = minik_cli_fail_api(e);
                minik_error_free(e);
                continue;
            }
            const cJSON *sp = cJSON_GetObjectItemCaseSensitive(scale, "spec");
            const cJSON *rep = cJSON_GetObjectItemCaseSensitive(sp, "replicas");
            long long have = cJSON_IsNumber(rep) ? rep->valueint : 0;
            if (have != cur) {
                fprintf(stderr,
                        "error: %s: expected %lld current replicas, found %lld; not scaled\n", ref,
                        (long long)cur, have);
                rc = MINIK_EXIT_ERROR;
                continue;
            }
            cJSON *s = cJSON_GetObjectItemCaseSensitive(scale, "spec");
            if (!cJSON_IsObject(s))
                s = cJSON_AddObjectToObject(scale, "spec");
            cJSON_DeleteItemFromObjectCaseSensitive(s, "replicas");
            cJSON_AddNumberToObject(s, "replicas", (double)n);
            if (minik_client_json(c, "PUT", path, NULL, scale, NULL, &e) < 0) {
                rc = minik_cli_fail_api(e);
                minik_error_free(e);
                continue;
            }
        } else {
            cleanup_cjson cJSON *patch = cJSON_CreateObject();
            cJSON *s = cJSON_AddObjectToObject(patch, "spec");
            cJSON_AddNumberToObject(s, "replicas", (double)n);
            if (minik_client_json(c, "PATCH", path, "application/merge-patch+json", patch, NULL,
                                  &e) < 0) {
                rc = minik_cli_fail_api(e);
                minik_error_free(e);
                continue;
            }
        }
        printf("%s scaled\n", ref);
    }
    minik_target_list_clear(&targets);
    return rc;
}
