/* minik describe: a readable account of one object and the events about it. */
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/client_config.h"
#include "cli/commands.h"
#include "cli/describe.h"
#include "cli/printers.h"
#include "cli/targets.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"

static const char *selector;

static const minik_cli_flag_t flags[] = {
    {"selector", 'l', MINIK_FLAG_STRING, &selector, "SEL",
     "with a bare KIND: describe the objects matching this label selector"},
    MINIK_CLIENT_FLAG_ROWS,
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik describe (KIND [NAME...] | KIND/NAME...) [-l SEL] [flags]",
    .summary = "Show details of objects, with their events",
    .description = "A KIND without names describes every object of that kind in the namespace "
                   "(or those matching -l).\nExamples:\n  minik describe deploy web\n  minik "
                   "describe pods -l app=web",
    .flags = flags,
    .min_args = 1,
    .max_args = -1,
};

/* Events about obj: in its namespace (all namespaces for cluster-scoped objects), matched
 * on involvedObject uid, else kind + name + namespace. Returns a new array. */
static int fetch_events(minik_client_t *c, const minik_target_t *r, const cJSON *obj, cJSON **out,
                        minik_error_t **err)
{
    const minik_kind_t *ev = minik_kind_by_kind("Event");
    *out = cJSON_CreateArray();
    if (!ev)
        return 0;
    cleanup_free char *path =
        minik_client_path(ev->api_version, ev->plural, ev->namespaced, r->ns, NULL, NULL, NULL);
    cleanup_cjson cJSON *list = NULL;
    minik_error_t *e = NULL;
    if (minik_client_json(c, "GET", path, NULL, NULL, &list, &e) < 0) {
        /* A server without events still describes the object. */
        if (e->code == 404 || e->code == 403) {
            minik_error_free(e);
            return 0;
        }
        *err = e;
        return -1;
    }
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *uid = cJSON_GetObjectItemCaseSensitive(md, "uid");
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(list, "items"))
    {
        const cJSON *io = cJSON_GetObjectItemCaseSensitive(it, "involvedObject");
        const cJSON *iuid = cJSON_GetObjectItemCaseSensitive(io, "uid");
        const cJSON *ikind = cJSON_GetObjectItemCaseSensitive(io, "kind");
        const cJSON *iname = cJSON_GetObjectItemCaseSensitive(io, "name");
        const cJSON *ins = cJSON_GetObjectItemCaseSensitive(io, "namespace");
        bool match;
        if (cJSON_IsString(iuid) && cJSON_IsString(uid) && iuid->valuestring[0])
            match = strcmp(iuid->valuestring, uid->valuestring) == 0;
        else
            match = cJSON_IsString(ikind) && strcmp(ikind->valuestring, r->kind->kind) == 0 &&
                    cJSON_IsString(iname) && strcmp(iname->valuestring, r->name) == 0 &&
                    (!r->ns || (cJSON_IsString(ins) && strcmp(ins->valuestring, r->ns) == 0));
        if (match)
            cJSON_AddItemToArray(*out, cJSON_Duplicate(it, true));
    }
    return 0;
}

int minik_cmd_describe(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    cleanup_error minik_error_t *err = NULL;
    minik_target_list_t targets = {0};
    bool bare_kind = argc - first == 1 && !strchr(argv[first], '/');
    if (!bare_kind && selector)
        return minik_cli_usage_error(&spec, "-l goes with a bare KIND, not with names");
    cleanup_client minik_client_t *c = NULL;
    cleanup_free char *ns = NULL;
    if (minik_cli_client_open(&c, &ns, &err) < 0)
        return minik_cli_fail_api(err);
    minik_cli_set_discovery(c); /* kinds beyond proto's table come from the server */
    const minik_kind_t *bare = NULL;
    if (bare_kind) {
        bare = minik_cli_kind(argv[first], &err);
        if (!bare)
            return minik_cli_fail_api(err);
    } else if (minik_targets_from_args(argv + first, argc - first, true, &targets, &err) < 0) {
        return minik_cli_fail_api(err);
    }
    if ((bare && minik_targets_from_list(c, bare, ns, selector, &targets, &err) < 0) ||
        minik_targets_resolve_namespaces(&targets, ns, false, &err) < 0) {
        minik_target_list_clear(&targets);
        return minik_cli_fail_api(err);
    }
    if (bare && targets.n == 0) {
        if (bare->namespaced)
            fprintf(stderr, "No resources found in %s namespace.\n", ns);
        else
            fprintf(stderr, "No resources found\n");
        return MINIK_EXIT_OK;
    }
    int rc = MINIK_EXIT_OK;
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < targets.n; i++) {
        const minik_target_t *t = &targets.v[i];
        cleanup_free char *path = minik_client_path(
            t->kind->api_version, t->kind->plural, t->kind->namespaced, t->ns, t->name, NULL, NULL);
        cleanup_cjson cJSON *obj = NULL;
        minik_error_t *e = NULL;
        if (minik_client_json(c, "GET", path, NULL, NULL, &obj, &e) < 0) {
            if (e->code == 404) {
                cleanup_free char *res = minik_cli_resource_name(t->kind);
                fprintf(stderr, "Error from server (NotFound): %s \"%s\" not found\n", res,
                        t->name);
                minik_error_free(e);
            } else {
                minik_cli_fail_api(e);
                minik_error_free(e);
            }
            rc = MINIK_EXIT_ERROR;
            continue;
        }
        cleanup_cjson cJSON *events = NULL;
        if (fetch_events(c, t, obj, &events, &e) < 0) {
            minik_cli_fail_api(e);
            minik_error_free(e);
            rc = MINIK_EXIT_ERROR;
            continue;
        }
        /* A Service is shown with its Endpoints, as kubectl does; none yet is "<none>". */
        cleanup_cjson cJSON *related = NULL;
        if (strcmp(t->kind->kind, "Service") == 0) {
            cleanup_free char *ep_path =
                minik_client_path("v1", "endpoints", true, t->ns, t->name, NULL, NULL);
            if (minik_client_json(c, "GET", ep_path, NULL, NULL, &related, &e) < 0) {
                minik_error_free(e); /* absent or not readable: shown as <none> */
                e = NULL;
                related = cJSON_CreateObject();
            }
        }
        minik_buf_t out = MINIK_BUF_INIT;
        if (i > 0)
            minik_buf_append_str(&out, "\n\n");
        minik_describe_with(t->kind, obj, related, events, now, &out);
        fwrite(out.data ? out.data : "", 1, out.len, stdout);
        minik_buf_free(&out);
    }
    minik_target_list_clear(&targets);
    return rc;
}
