#include "cli/apply.h"

#include <string.h>

#include "cli/client_config.h"
#include "cli/output.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/client_apply.h"

typedef struct cache_entry {
    const minik_kind_t *kind;
    char *ns;     /* NULL for cluster-scoped kinds */
    cJSON *items; /* the LIST reply's items (owned) */
} cache_entry_t;

struct minik_apply_cache {
    cache_entry_t *v;
    size_t n;
};

void minik_apply_cache_free(minik_apply_cache_t *cache)
{
    if (!cache)
        return;
    for (size_t i = 0; i < cache->n; i++) {
        free(cache->v[i].ns);
        cJSON_Delete(cache->v[i].items);
    }
    free(cache->v);
    free(cache);
}

static cache_entry_t *find_entry(const minik_apply_cache_t *cache, const minik_kind_t *k,
                                 const char *ns)
{
    for (size_t i = 0; cache && i < cache->n; i++)
        if (cache->v[i].kind == k && minik_str_eq(cache->v[i].ns, ns))
            return &cache->v[i];
    return NULL;
}

int minik_apply_cache_new(minik_client_t *c, const minik_target_list_t *objs,
                          minik_apply_cache_t **out, minik_error_t **err)
{
    minik_apply_cache_t *cache = xcalloc(1, sizeof *cache);
    cache->v = xcalloc(objs->n + 1, sizeof *cache->v);
    for (size_t i = 0; i < objs->n; i++) {
        const minik_target_t *t = &objs->v[i];
        if (find_entry(cache, t->kind, t->ns))
            continue;
        size_t same = 0;
        for (size_t j = i; j < objs->n; j++)
            same += objs->v[j].kind == t->kind && minik_str_eq(objs->v[j].ns, t->ns);
        if (same < MINIK_APPLY_LIST_THRESHOLD)
            continue;
        const minik_kind_t *k = t->kind;
        cleanup_free char *path =
            minik_client_path(k->api_version, k->plural, k->namespaced, t->ns, NULL, NULL, NULL);
        cleanup_cjson cJSON *list = NULL;
        minik_error_t *e = NULL;
        if (minik_client_json(c, "GET", path, NULL, NULL, &list, &e) < 0) {
            /* A namespace the same manifest creates does not exist yet: nothing is live. */
            if (e->code != 404) {
                *err = e;
                minik_apply_cache_free(cache);
                return -1;
            }
            minik_error_free(e);
        }
        cJSON *items = cJSON_DetachItemFromObjectCaseSensitive(list, "items");
        if (!cJSON_IsArray(items)) {
            cJSON_Delete(items);
            items = cJSON_CreateArray();
        }
        /* List items may leave their type out; the three-way merge compares it. */
        cJSON *it;
        cJSON_ArrayForEach(it, items)
        {
            minik_output_fill_type(it, k->api_version, k->kind);
        }
        cache_entry_t *entry = &cache->v[cache->n++];
        entry->kind = k;
        entry->ns = t->ns ? xstrdup(t->ns) : NULL;
        entry->items = items;
    }
    *out = cache;
    return 0;
}

/* 1 when the cache answers for r (with *live = a copy of the object, or NULL when absent),
 * 0 when r must be fetched by itself. */
static int from_cache(const minik_apply_cache_t *cache, const minik_target_t *r, cJSON **live)
{
    const cache_entry_t *e = find_entry(cache, r->kind, r->ns);
    if (!e)
        return 0;
    *live = NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, e->items)
    {
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(it, "metadata");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(md, "name");
        if (cJSON_IsString(name) && strcmp(name->valuestring, r->name) == 0) {
            *live = cJSON_Duplicate(it, true);
            break;
        }
    }
    return 1;
}

void minik_apply_plan_clear(minik_apply_plan_t *p)
{
    cJSON_Delete(p->live);
    cJSON_Delete(p->modified);
    cJSON_Delete(p->patch);
    memset(p, 0, sizeof *p);
}

int minik_apply_prepare(minik_target_list_t *objs, minik_client_t **client,
                        minik_apply_cache_t **cache, minik_error_t **err)
{
    cleanup_free char *ns = NULL;
    if (minik_cli_client_open(client, &ns, err) < 0 ||
        minik_targets_resolve_namespaces(objs, ns, minik_client_flags.namespace != NULL, err) < 0)
        return -1;
    return minik_apply_cache_new(*client, objs, cache, err);
}

int minik_apply_plan(minik_client_t *c, const minik_apply_cache_t *cache, const minik_target_t *r,
                     minik_apply_plan_t *plan, minik_error_t **err)
{
    const minik_kind_t *k = r->kind;
    memset(plan, 0, sizeof *plan);
    cleanup_free char *path =
        minik_client_path(k->api_version, k->plural, k->namespaced, r->ns, r->name, NULL, NULL);
    minik_error_t *e = NULL;
    if (from_cache(cache, r, &plan->live)) {
        /* answered by the bulk LIST */
    } else if (minik_client_json(c, "GET", path, NULL, NULL, &plan->live, &e) < 0) {
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

int minik_apply_one(minik_client_t *c, const minik_apply_cache_t *cache, const minik_target_t *r,
                    minik_dry_run_t dry_run, bool warn_unknown, const char **verb, cJSON **result,
                    minik_error_t **err)
{
    const minik_kind_t *k = r->kind;
    minik_apply_plan_t plan;
    if (minik_apply_plan(c, cache, r, &plan, err) < 0)
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
    if (ret < 0 && cache && err && *err && (*err)->code == 409 && strcmp(*verb, "created") == 0) {
        /* The bulk LIST said absent but it exists now (the manifest names it twice, or
         * another client created it meanwhile): look again, by itself, and patch. */
        minik_error_clear(err);
        cJSON_Delete(out);
        return minik_apply_one(c, NULL, r, dry_run, warn_unknown, verb, result, err);
    }
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
