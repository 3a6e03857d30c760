/* minik diff: show what `minik apply -f` would change, as a unified diff of the live
 * objects against the objects apply would produce. Exit 0: no differences, 1: differences,
 * 2 (> 1): an error, as kubectl diff. */
#include <string.h>

#include "cli/apply.h"
#include "cli/cli.h"
#include "cli/client_config.h"
#include "cli/commands.h"
#include "cli/diff_text.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/client_apply.h"
#include "proto/encode.h"

static char **files;

static const minik_cli_flag_t flags[] = {
    {"filename", 'f', MINIK_FLAG_LIST, &files, "FILE", "manifest file, directory or - (stdin)"},
    MINIK_CLIENT_FLAG_ROWS,
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik diff -f FILE [flags]",
    .summary = "Diff the live objects against what apply would make of a manifest",
    .description = "Exit status: 0 no differences, 1 differences found, 2 an error.",
    .flags = flags,
    .min_args = 0,
    .max_args = 0,
};

#define EXIT_DIFF_ERROR 2

/* "apps.v1.Deployment.default.web", the file name kubectl diff shows. */
static char *label(const minik_target_t *r)
{
    const minik_kind_t *k = r->kind;
    if (k->namespaced)
        return xasprintf("%s%s%s.%s.%s.%s", k->group, *k->group ? "." : "", k->version, k->kind,
                         r->ns, r->name);
    return xasprintf("%s%s%s.%s.%s", k->group, *k->group ? "." : "", k->version, k->kind, r->name);
}

/* Server-maintained bookkeeping that only adds noise to a diff. */
static char *render(const cJSON *obj)
{
    if (!obj)
        return xstrdup("");
    cleanup_cjson cJSON *copy = cJSON_Duplicate(obj, true);
    cJSON *md = cJSON_GetObjectItemCaseSensitive(copy, "metadata");
    cJSON_DeleteItemFromObjectCaseSensitive(md, "managedFields");
    minik_buf_t b = MINIK_BUF_INIT;
    minik_encode_yaml(copy, &b);
    return minik_buf_steal(&b);
}

int minik_cmd_diff(int argc, char **argv)
{
    int r = minik_cli_parse(&spec, argc, argv, NULL);
    if (r != 0)
        return r == MINIK_CLI_HELP ? MINIK_EXIT_OK : EXIT_DIFF_ERROR;
    cleanup_strv char **paths = steal_pointer(&files);
    cleanup_error minik_error_t *err = NULL;
    if (!paths) {
        minik_cli_usage_error(&spec, "-f FILE is required");
        return EXIT_DIFF_ERROR;
    }
    minik_target_list_t objs = {0};
    if (minik_targets_from_files(paths, true, 0, &objs, &err) < 0) {
        minik_cli_fail_api(err);
        return EXIT_DIFF_ERROR;
    }
    cleanup_client minik_client_t *c = NULL;
    minik_apply_cache_t *cache = NULL;
    if (minik_apply_prepare(&objs, &c, &cache, &err) < 0) {
        minik_target_list_clear(&objs);
        minik_cli_fail_api(err);
        return EXIT_DIFF_ERROR;
    }
    int rc = MINIK_EXIT_OK;
    minik_buf_t out = MINIK_BUF_INIT;
    for (size_t i = 0; i < objs.n && rc != EXIT_DIFF_ERROR; i++) {
        minik_apply_plan_t plan;
        if (minik_apply_plan(c, cache, &objs.v[i], &plan, &err) < 0) {
            minik_cli_fail_api(err);
            rc = EXIT_DIFF_ERROR;
            break;
        }
        cleanup_cjson cJSON *merged = NULL;
        if (!plan.live)
            merged = cJSON_Duplicate(plan.modified, true);
        else
            merged = minik_merge_patch_apply(plan.live, plan.patch);
        cleanup_free char *a = render(plan.live);
        cleanup_free char *b = render(merged);
        cleanup_free char *l = label(&objs.v[i]);
        cleanup_free char *la = xasprintf("LIVE/%s", l);
        cleanup_free char *lb = xasprintf("MERGED/%s", l);
        minik_buf_t d = MINIK_BUF_INIT;
        int dr = minik_diff_unified(la, a, lb, b, 3, &d, &err);
        if (dr < 0) {
            minik_cli_fail_api(err);
            rc = EXIT_DIFF_ERROR;
        } else if (dr > 0) {
            minik_buf_appendf(&out, "diff -u -N %s %s\n", la, lb);
            minik_buf_append(&out, d.data, d.len);
            rc = 1;
        }
        minik_buf_free(&d);
        minik_apply_plan_clear(&plan);
    }
    fwrite(out.data ? out.data : "", 1, out.len, stdout);
    minik_buf_free(&out);
    minik_apply_cache_free(cache);
    minik_target_list_clear(&objs);
    return rc;
}
