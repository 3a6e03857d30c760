/* The controllers' readers of stored objects (which reach the store from any API client):
 * rollout status/undo/restart, the template hash, int-or-percent scaling, times,
 * conditions, pod readiness. Never crash; the hash ignores member order and the
 * pod-template-hash label; undo yields a template equal to the chosen revision's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/internal.h"
#include "controllers/rollout.h"
#include "lib/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    char *s = xstrndup((const char *)data, size);
    cJSON *obj = cJSON_Parse(s);
    free(s);
    if (!obj)
        return 0;
    /* Treat the input as a Deployment and, when it has "items", as a ReplicaSet list. */
    char *msg = NULL;
    (void)minik_rollout_status(obj, &msg);
    free(msg);
    const cJSON *tmpl = minik_ctl_get(obj, "spec.template");
    char *h1 = minik_ctl_template_hash(tmpl);
    cJSON *t2 = tmpl ? cJSON_Duplicate(tmpl, 1) : NULL;
    char *h2 = minik_ctl_template_hash(t2);
    if (strcmp(h1, h2) != 0 || !minik_ctl_template_equal(tmpl, t2))
        abort();
    free(h1);
    free(h2);
    cJSON_Delete(t2);
    const cJSON *items = minik_ctl_get(obj, "items");
    if (cJSON_IsArray(items)) {
        for (int64_t rev = 0; rev < 3; rev++) {
            cJSON *nd = NULL;
            bool skipped = false;
            minik_error_t *err = NULL;
            if (minik_rollout_undo(obj, items, rev, &nd, &skipped, &err) < 0)
                minik_error_free(err);
            cJSON_Delete(nd);
        }
    }
    cJSON *r = minik_rollout_restart(obj, 0);
    cJSON_Delete(r);
    for (int64_t total = 0; total < 200; total += 37) {
        (void)minik_ctl_scaled(minik_ctl_get(obj, "maxSurge"), total, true, 25);
        (void)minik_ctl_scaled(minik_ctl_get(obj, "maxUnavailable"), total, false, 25);
    }
    (void)minik_ctl_parse_time(minik_ctl_str(obj, "metadata.creationTimestamp"));
    (void)minik_ctl_pod_available(obj, 5, 1700000000, NULL);
    (void)minik_ctl_controller_ref(obj);
    cJSON *st = cJSON_CreateObject();
    const cJSON *conds = minik_ctl_get(obj, "status.conditions");
    if (conds)
        cJSON_AddItemToObject(st, "conditions", cJSON_Duplicate(conds, 1));
    (void)minik_ctl_set_condition(st, "Ready", "True", "R", "m", 0, true);
    cJSON_Delete(st);
    cJSON_Delete(obj);
    return 0;
}
