/* minik delete: delete objects by kind and name or by manifest, with cascading. */
#include <string.h>

#include "cli/cli.h"
#include "cli/client_config.h"
#include "cli/commands.h"
#include "cli/printers.h"
#include "cli/targets.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"

static char **files;
static const char *cascade;
static bool wait_gone;
static bool ignore_not_found;
static const char *timeout;
static const char *selector;
static bool all;

static const minik_cli_flag_t flags[] = {
    {"filename", 'f', MINIK_FLAG_LIST, &files, "FILE", "manifest file, directory or - (stdin)"},
    {"cascade", 0, MINIK_FLAG_STRING, &cascade, "MODE",
     "background (default): dependents are deleted too; orphan: they are kept; foreground"},
    {"wait", 0, MINIK_FLAG_BOOL, &wait_gone, NULL, "wait until the objects are gone"},
    {"timeout", 0, MINIK_FLAG_STRING, &timeout, "DURATION", "how long --wait waits (60s)"},
    {"ignore-not-found", 0, MINIK_FLAG_BOOL, &ignore_not_found, NULL,
     "treat a missing object as deleted"},
    {"selector", 'l', MINIK_FLAG_STRING, &selector, "SEL",
     "with a bare KIND: delete the objects matching this label selector"},
    {"all", 0, MINIK_FLAG_BOOL, &all, NULL, "with a bare KIND: delete every object of that kind"},
    MINIK_CLIENT_FLAG_ROWS,
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik delete (-f FILE | KIND NAME... | KIND/NAME... | KIND -l SEL | KIND --all) "
             "[flags]",
    .summary = "Delete objects by name or by manifest",
    .description = "Examples:\n  minik delete deploy web\n  minik delete -f app.yaml\n  minik "
                   "delete deployment/web --cascade=orphan --wait",
    .flags = flags,
    .min_args = 0,
    .max_args = -1,
};

static const char *propagation(minik_error_t **err)
{
    if (!cascade || !*cascade || strcmp(cascade, "background") == 0 || strcmp(cascade, "true") == 0)
        return "Background";
    if (strcmp(cascade, "orphan") == 0 || strcmp(cascade, "false") == 0)
        return "Orphan";
    if (strcmp(cascade, "foreground") == 0)
        return "Foreground";
    minik_error_set(err, 0, "--cascade=%s: use background, orphan or foreground", cascade);
    return NULL;
}

/* A manifest usually lists its Namespace first; deleting it first would take the objects
 * inside with it and make their own deletes fail with NotFound. Delete the contents first
 * (keeping file order otherwise), then the namespaces. */
static void namespaces_last(minik_target_list_t *l)
{
    minik_target_t *sorted = xcalloc(l->n ? l->n : 1, sizeof *sorted);
    size_t k = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < l->n; i++)
            if ((strcmp(l->v[i].kind->kind, "Namespace") == 0) == (pass == 1))
                sorted[k++] = l->v[i];
    memcpy(l->v, sorted, l->n * sizeof *sorted);
    free(sorted);
}

int minik_cmd_delete(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    cleanup_strv char **paths = steal_pointer(&files);
    cleanup_error minik_error_t *err = NULL;
    const char *policy = propagation(&err);
    if (!policy)
        return minik_cli_fail_api(err);
    int64_t timeout_ms = 60000;
    if (timeout && minik_str_to_duration_ms(timeout, &timeout_ms, "--timeout", &err) < 0)
        return minik_cli_fail_api(err);
    if (!paths && argc - first == 0)
        return minik_cli_usage_error(&spec, "give -f FILE or KIND NAME...");
    if (paths && argc - first > 0)
        return minik_cli_usage_error(&spec, "give either -f FILE or KIND NAME..., not both");

    cleanup_client minik_client_t *c = NULL;
    cleanup_free char *ns = NULL;
    minik_target_list_t targets = {0};
    bool bare_kind = !paths && argc - first == 1 && !strchr(argv[first], '/');
    if ((selector || all) && !bare_kind)
        return minik_cli_usage_error(&spec, "-l and --all go with a bare KIND");
    if (bare_kind && !selector && !all)
        return minik_cli_usage_error(&spec, "resource(s) were provided, but no name was specified "
                                            "(give NAME..., -l SELECTOR or --all)");
    if (minik_cli_client_open(&c, &ns, &err) < 0)
        return minik_cli_fail_api(err);
    minik_cli_set_discovery(c); /* kinds beyond proto's table come from the server */
    const minik_kind_t *bare = NULL;
    int ret = 0;
    if (bare_kind)
        ret = (bare = minik_cli_kind(argv[first], &err)) ? 0 : -1;
    else if (paths)
        ret = minik_targets_from_files(paths, false, 0, &targets, &err);
    else
        ret = minik_targets_from_args(argv + first, argc - first, true, &targets, &err);
    if (ret < 0)
        return minik_cli_fail_api(err);
    if (bare && minik_targets_from_list(c, bare, ns, selector, &targets, &err) < 0) {
        minik_target_list_clear(&targets);
        return minik_cli_fail_api(err);
    }
    if (bare && targets.n == 0) {
        fprintf(stderr, "No resources found\n");
        return MINIK_EXIT_OK;
    }
    if (minik_targets_resolve_namespaces(&targets, ns, minik_client_flags.namespace != NULL, &err) <
        0) {
        minik_target_list_clear(&targets);
        return minik_cli_fail_api(err);
    }

    if (paths)
        namespaces_last(&targets);

    int rc = MINIK_EXIT_OK;
    cleanup_cjson cJSON *opts = cJSON_CreateObject();
    cJSON_AddStringToObject(opts, "kind", "DeleteOptions");
    cJSON_AddStringToObject(opts, "apiVersion", "v1");
    cJSON_AddStringToObject(opts, "propagationPolicy", policy);
    cleanup_free char *query = xasprintf("propagationPolicy=%s", policy);
    for (size_t i = 0; i < targets.n; i++) {
        const minik_target_t *t = &targets.v[i];
        cleanup_free char *path =
            minik_client_path(t->kind->api_version, t->kind->plural, t->kind->namespaced, t->ns,
                              t->name, NULL, query);
        cleanup_free char *res = minik_cli_resource_name(t->kind);
        minik_error_t *e = NULL;
        if (minik_client_json(c, "DELETE", path, NULL, opts, NULL, &e) < 0) {
            if (e->code == 404) {
                if (!ignore_not_found) {
                    fprintf(stderr, "Error from server (NotFound): %s \"%s\" not found\n", res,
                            t->name);
                    rc = MINIK_EXIT_ERROR;
                }
                minik_error_free(e);
                continue;
            }
            minik_cli_fail_api(e);
            minik_error_free(e);
            rc = MINIK_EXIT_ERROR;
            continue;
        }
        printf("%s \"%s\" deleted\n", res, t->name);
        fflush(stdout);
    }
    if (wait_gone) {
        for (size_t i = 0; i < targets.n; i++) {
            minik_error_t *e = NULL;
            if (minik_target_wait_deleted(c, &targets.v[i], timeout_ms, &e) < 0) {
                minik_cli_fail_api(e);
                minik_error_free(e);
                rc = MINIK_EXIT_ERROR;
            }
        }
    }
    minik_target_list_clear(&targets);
    return rc;
}
