/* Rollout helpers: see rollout.h. */
#include "controllers/rollout.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/internal.h"
#include "lib/xalloc.h"

static int cmp_rev(const void *a, const void *b)
{
    int64_t x =
        minik_ctl_int(*(const cJSON *const *)a, "metadata.annotations." MINIK_ANN_REVISION, 0);
    int64_t y =
        minik_ctl_int(*(const cJSON *const *)b, "metadata.annotations." MINIK_ANN_REVISION, 0);
    return x < y ? -1 : x > y;
}

cJSON *minik_rollout_owned_sorted(const cJSON *deploy, const cJSON *rs_list)
{
    const char *uid = minik_ctl_str(deploy, "metadata.uid");
    size_t n = 0, cap = (size_t)cJSON_GetArraySize(rs_list) + 1;
    const cJSON **v = xcalloc(cap, sizeof(*v));
    const cJSON *rs;
    cJSON_ArrayForEach(rs, rs_list)
    {
        if (minik_ctl_owned_by(rs, uid))
            v[n++] = rs;
    }
    qsort(v, n, sizeof(*v), cmp_rev);
    cJSON *out = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(out, cJSON_Duplicate(v[i], 1));
    free(v);
    return out;
}

int minik_rollout_undo(const cJSON *deploy, const cJSON *rs_list, int64_t to_revision, cJSON **out,
                       bool *skipped, minik_error_t **err)
{
    *out = NULL;
    *skipped = false;
    cJSON *owned = minik_rollout_owned_sorted(deploy, rs_list);
    int n = cJSON_GetArraySize(owned);
    const cJSON *target = NULL;
    if (to_revision > 0) {
        for (int i = 0; i < n; i++)
            if (minik_ctl_int(cJSON_GetArrayItem(owned, i),
                              "metadata.annotations." MINIK_ANN_REVISION, 0) == to_revision)
                target = cJSON_GetArrayItem(owned, i);
        if (!target) {
            cJSON_Delete(owned);
            return minik_error_set_code(err, 404, 0,
                                        "unable to find specified revision %" PRId64 " in history",
                                        to_revision);
        }
    } else {
        /* The newest revision whose template is not the current one. */
        const cJSON *cur = minik_ctl_get(deploy, "spec.template");
        for (int i = n - 1; i >= 0 && !target; i--) {
            const cJSON *rs = cJSON_GetArrayItem(owned, i);
            if (!minik_ctl_template_equal(minik_ctl_get(rs, "spec.template"), cur))
                target = rs;
        }
        if (!target) {
            cJSON_Delete(owned);
            return minik_error_set_code(err, 404, 0, "no rollout history found");
        }
    }
    if (minik_ctl_template_equal(minik_ctl_get(target, "spec.template"),
                                 minik_ctl_get(deploy, "spec.template"))) {
        *skipped = true;
        cJSON_Delete(owned);
        return 0;
    }
    cJSON *d = cJSON_Duplicate(deploy, 1);
    cJSON *tmpl = cJSON_Duplicate(minik_ctl_get(target, "spec.template"), 1);
    cJSON *labels = (cJSON *)minik_ctl_get(tmpl, "metadata.labels");
    if (labels)
        cJSON_DeleteItemFromObjectCaseSensitive(labels, MINIK_LABEL_TEMPLATE_HASH);
    cJSON *spec = minik_ctl_obj(d, "spec");
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "template");
    cJSON_AddItemToObject(spec, "template", tmpl);
    cJSON_Delete(owned);
    *out = d;
    return 0;
}

cJSON *minik_rollout_restart(const cJSON *deploy, time_t now)
{
    cJSON *d = cJSON_Duplicate(deploy, 1);
    cJSON *tmpl = minik_ctl_obj(minik_ctl_obj(d, "spec"), "template");
    cJSON *ann = minik_ctl_obj(minik_ctl_obj(tmpl, "metadata"), "annotations");
    char *ts = minik_ctl_format_time(now);
    minik_ctl_set_str(ann, MINIK_ANN_RESTARTED_AT, ts);
    free(ts);
    return d;
}

int minik_rollout_status(const cJSON *d, char **msg)
{
    const char *name = minik_ctl_str(d, "metadata.name");
    int64_t gen = minik_ctl_int(d, "metadata.generation", 0);
    int64_t observed = minik_ctl_int(d, "status.observedGeneration", 0);
    if (observed < gen) {
        *msg = xasprintf("Waiting for deployment spec update to be observed...");
        return 0;
    }
    const cJSON *prog = minik_ctl_condition(d, "Progressing");
    const char *reason = minik_ctl_str(prog, "reason");
    if (reason && strcmp(reason, "ProgressDeadlineExceeded") == 0) {
        *msg = xasprintf("deployment \"%s\" exceeded its progress deadline", name);
        return -1;
    }
    int64_t want = minik_ctl_int(d, "spec.replicas", 1);
    int64_t updated = minik_ctl_int(d, "status.updatedReplicas", 0);
    int64_t replicas = minik_ctl_int(d, "status.replicas", 0);
    int64_t available = minik_ctl_int(d, "status.availableReplicas", 0);
    if (updated < want) {
        *msg = xasprintf("Waiting for deployment \"%s\" rollout to finish: %" PRId64
                         " out of %" PRId64 " new replicas have been updated...",
                         name, updated, want);
        return 0;
    }
    if (replicas > updated) {
        *msg = xasprintf("Waiting for deployment \"%s\" rollout to finish: %" PRId64
                         " old replicas are pending termination...",
                         name, replicas - updated);
        return 0;
    }
    if (available < updated) {
        *msg = xasprintf("Waiting for deployment \"%s\" rollout to finish: %" PRId64 " of %" PRId64
                         " updated replicas are available...",
                         name, available, updated);
        return 0;
    }
    *msg = xasprintf("deployment \"%s\" successfully rolled out", name);
    return 1;
}
