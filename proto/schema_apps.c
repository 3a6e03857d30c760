/* apps/v1 Deployment. Defaults follow k8s.io/kubernetes/pkg/apis/apps/v1/defaults.go. */
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "proto/schema_common.h"

static int int_or_percent_is_zero(const cJSON *n)
{
    if (cJSON_IsNumber(n))
        return n->valuedouble == 0;
    if (cJSON_IsString(n))
        return atoi(n->valuestring) == 0;
    return 0;
}

static void check_strategy(minik_vctx_t *c, const cJSON *st)
{
    const char *type = minik_json_str(st, "type");
    const cJSON *ru = cJSON_GetObjectItemCaseSensitive(st, "rollingUpdate");
    if (type && strcmp(type, "Recreate") == 0 && ru && !cJSON_IsNull(ru)) {
        minik_vctx_error(c, ru, ".rollingUpdate",
                         "may not be specified when strategy `type` is 'Recreate'");
        return;
    }
    if (!cJSON_IsObject(ru))
        return;
    const cJSON *surge = cJSON_GetObjectItemCaseSensitive(ru, "maxSurge");
    const cJSON *unavail = cJSON_GetObjectItemCaseSensitive(ru, "maxUnavailable");
    if (surge && unavail && int_or_percent_is_zero(surge) && int_or_percent_is_zero(unavail))
        minik_vctx_error(c, unavail, ".rollingUpdate.maxUnavailable",
                         "may not be 0 when `maxSurge` is 0");
    if (cJSON_IsString(unavail) && atoi(unavail->valuestring) > 100)
        minik_vctx_error(c, unavail, ".rollingUpdate.maxUnavailable",
                         "must not be greater than 100%%");
}

/* Strategy defaults: RollingUpdate with 25%/25% (only when the type is RollingUpdate). */
static void default_strategy(cJSON *st)
{
    cJSON *ru = minik_json_rolling_update(st);
    if (!ru)
        return;
    minik_json_set_default(ru, "maxUnavailable", cJSON_CreateString("25%"));
    minik_json_set_default(ru, "maxSurge", cJSON_CreateString("25%"));
}

static const char *const strategy_types[] = {"RollingUpdate", "Recreate", NULL};

static const minik_field_t rolling_update_fields[] = {
    {"maxUnavailable", MINIK_T_INT_OR_STRING, NONNEG, .check = minik_check_int_or_percent,
     .doc = "count or \"N%\" (<= 100%); default 25% for RollingUpdate"},
    {"maxSurge", MINIK_T_INT_OR_STRING, NONNEG, .check = minik_check_int_or_percent,
     .doc = "count or \"N%\"; default 25% for RollingUpdate; not 0 with maxUnavailable 0"},
    ROW_END,
};

static const minik_field_t strategy_fields[] = {
    {"type", MINIK_T_STRING, .enums = strategy_types, .dflt = "\"RollingUpdate\""},
    {"rollingUpdate", MINIK_T_OBJECT, .fields = rolling_update_fields},
    ROW_END,
};

/* The selector must be non-empty and select the template's labels; a Deployment's pods
 * must restart Always; the progress deadline must exceed minReadySeconds. */
static void check_deployment_spec(minik_vctx_t *c, const cJSON *spec)
{
    static const char *const always[] = {"Always", NULL};
    minik_check_selector_and_restart(c, spec, "deployment", always, true);
    const cJSON *pds = cJSON_GetObjectItemCaseSensitive(spec, "progressDeadlineSeconds");
    const cJSON *mrs = cJSON_GetObjectItemCaseSensitive(spec, "minReadySeconds");
    if (cJSON_IsNumber(pds) && cJSON_IsNumber(mrs) && pds->valuedouble <= mrs->valuedouble)
        minik_vctx_error(c, pds, ".progressDeadlineSeconds",
                         "must be greater than minReadySeconds");
}

static const minik_field_t deployment_spec_fields[] = {
    {"replicas", MINIK_T_INT, NONNEG, .dflt = "1", .doc = "default 1"},
    MINIK_WORKLOAD_SELECTOR_ROW,
    {"template", MINIK_T_OBJECT, .flags = MINIK_F_REQUIRED, .fields = minik_schema_pod_template},
    {"strategy", MINIK_T_OBJECT, .fields = strategy_fields, .check = check_strategy, .dflt = "{}",
     .defaulter = default_strategy, .doc = "rollingUpdate only with type RollingUpdate"},
    {"minReadySeconds", MINIK_T_INT, NONNEG},
    {"revisionHistoryLimit", MINIK_T_INT, NONNEG, .dflt = "10"},
    {"progressDeadlineSeconds", MINIK_T_INT, NONNEG, .dflt = "600",
     .doc = "must exceed minReadySeconds"},
    {"paused", MINIK_T_BOOL},
    ROW_END,
};

const minik_field_t minik_schema_deployment[] = {
    MINIK_SPEC_KIND_ROWS(deployment_spec_fields, .check = check_deployment_spec)};
