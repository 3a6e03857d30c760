#include "cli/apply.h"

#include <string.h>

#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "proto/client_apply.h"

void minik_apply_plan_clear(minik_apply_plan_t *p)
{
    cJSON_Delete(p->live);
    cJSON_Delete(p->modified);
    cJSON_Delete(p->patch);
    memset(p, 0, sizeof *p);
}

int minik_apply_plan(minik_client_t *c, const minik_target_t *r, minik_apply_plan_t *plan,
                     minik_error_t **err)
{
    const minik_kind_t *k = r->kind;
    memset(plan, 0, sizeof *plan);
    cleanup_free char *path =
        minik_client_path(k->api_version, k->plural, k->namespaced, r->ns, r->name, NULL, NULL);
    minik_error_t *e = NULL;
    if (minik_client_json(c, "GET", path, NULL, NULL, &plan->live, &e) < 0) {
        if (e->code != 404) {
            *err = e;
            return -1;
        }
        minik_error_free(e);
        plan->live = NULL;
    }
    plan->modified = minik_apply_annotate(r->obj);
    if (plan->live) {
        minik_apply_adopt_annotation(plan->modified, r->obj, plan->live);
        cleanup_cjson cJSON *original = minik_apply_last_applied(plan->live);
        plan->patch = minik_apply_three_way_patch(original, plan->modified, plan->live);
    }
    return 0;
}

int minik_apply_one(minik_client_t *c, const minik_target_t *r, minik_dry_run_t dry_run,
                    bool warn_unknown, const char **verb, cJSON **result, minik_error_t **err)
{
    const minik_kind_t *k = r->kind;
    minik_apply_plan_t plan;
    if (minik_apply_plan(c, r, &plan, err) < 0)
        return -1;
    const char *query = dry_run == MINIK_DRY_RUN_SERVER
                            ? (warn_unknown ? "dryRun=All&fieldValidation=Warn" : "dryRun=All")
                            : (warn_unknown ? "fieldValidation=Warn" : NULL);
    int ret = 0;
    cJSON *out = NULL;
    if (!plan.live) {
        *verb = "created";
        if (dry_run == MINIK_DRY_RUN_CLIENT) {
            out = cJSON_Duplicate(plan.modified, true);
        } else {
            cleanup_free char *path = minik_client_path(k->api_version, k->plural, k->namespaced,
                                                        r->ns, NULL, NULL, query);
            ret = minik_client_json(c, "POST", path, NULL, plan.modified, &out, err);
        }
    } else if (minik_merge_patch_is_empty(plan.patch)) {
        /* Nothing differs: send no write, so the resourceVersion stays where it is. */
        *verb = "unchanged";
        out = steal_pointer(&plan.live);
    } else {
        *verb = "configured";
        if (dry_run == MINIK_DRY_RUN_CLIENT) {
            out = minik_merge_patch_apply(plan.live, plan.patch);
        } else {
            cleanup_free char *path = minik_client_path(k->api_version, k->plural, k->namespaced,
                                                        r->ns, r->name, NULL, query);
            ret = minik_client_json(c, "PATCH", path, "application/merge-patch+json", plan.patch,
                                    &out, err);
        }
    }
    minik_apply_plan_clear(&plan);
    if (ret < 0) {
        cJSON_Delete(out);
        return ret;
    }
    if (result)
        *result = out;
    else
        cJSON_Delete(out);
    return 0;
}
