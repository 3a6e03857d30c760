/* apps/v1 ReplicaSet and DaemonSet, batch/v1 Job and CronJob: the workload kinds the controllers
 * run (controllers/). Fields the controllers do not honour are left out, so a manifest using them
 * gets an "unknown field" error instead of being silently ignored. Defaults follow
 * k8s.io/kubernetes/pkg/apis/{apps,batch}/v1/defaults.go. */
#include <string.h>

#include "lib/cleanup.h"
#include "proto/cron.h"
#include "proto/schema_common.h"
#include "proto/selector.h"

void minik_check_selector_and_restart(minik_vctx_t *c, const cJSON *spec, const char *what,
                                      const char *const *allowed, bool selector_required)
{
    const cJSON *sel = cJSON_GetObjectItemCaseSensitive(spec, "selector");
    const cJSON *tmpl = cJSON_GetObjectItemCaseSensitive(spec, "template");
    const cJSON *tmeta = tmpl ? cJSON_GetObjectItemCaseSensitive(tmpl, "metadata") : NULL;
    const cJSON *labels = tmeta ? cJSON_GetObjectItemCaseSensitive(tmeta, "labels") : NULL;
    if (cJSON_IsObject(sel)) {
        minik_selector_t *s = NULL;
        cleanup_error minik_error_t *err = NULL;
        if (minik_selector_from_json(sel, &s, &err) == 0) {
            if (selector_required && minik_selector_is_empty(s))
                minik_vctx_error(c, sel, ".selector", "empty selector is invalid for %s", what);
            else if (!minik_selector_matches(s, labels))
                minik_vctx_error(c, labels ? labels : tmpl, ".template.metadata.labels",
                                 "`selector` does not match template `labels`");
        }
        minik_selector_free(s);
    }
    const cJSON *tspec = tmpl ? cJSON_GetObjectItemCaseSensitive(tmpl, "spec") : NULL;
    const cJSON *rp = tspec ? cJSON_GetObjectItemCaseSensitive(tspec, "restartPolicy") : NULL;
    const char *v = cJSON_IsString(rp) ? rp->valuestring : NULL;
    bool ok = false;
    for (size_t i = 0; v && allowed[i]; i++)
        ok = ok || strcmp(allowed[i], v) == 0;
    if (!ok) {
        if (allowed[1] && v)
            minik_vctx_error(c, rp, ".template.spec.restartPolicy",
                             "unsupported value \"%s\": supported values: \"%s\", \"%s\"", v,
                             allowed[0], allowed[1]);
        else if (allowed[1])
            minik_vctx_error(c, tspec, ".template.spec.restartPolicy",
                             "required value: supported values: \"%s\", \"%s\"", allowed[0],
                             allowed[1]);
        else if (v)
            minik_vctx_error(c, rp, ".template.spec.restartPolicy",
                             "unsupported value \"%s\": supported values: \"%s\"", v, allowed[0]);
    }
}

static const char *const always[] = {"Always", NULL};
static const char *const never_or_on_failure[] = {"OnFailure", "Never", NULL};

/* ---- ReplicaSet -------------------------------------------------------------------------- */

static void check_replicaset_spec(minik_vctx_t *c, const cJSON *spec)
{
    minik_check_selector_and_restart(c, spec, "replicaset", always, true);
}

static const minik_field_t replicaset_spec_fields[] = {
    {"replicas", MINIK_T_INT, NONNEG, .dflt = "1", .doc = "default 1"},
    {"minReadySeconds", MINIK_T_INT, NONNEG},
    MINIK_WORKLOAD_SELECTOR_ROW,
    {"template", MINIK_T_OBJECT, .flags = MINIK_F_REQUIRED, .fields = minik_schema_pod_template},
    ROW_END,
};

const minik_field_t minik_schema_replicaset[] = {
    MINIK_SPEC_KIND_ROWS(replicaset_spec_fields, .check = check_replicaset_spec)};

/* ---- DaemonSet --------------------------------------------------------------------------- */

static void check_daemonset_spec(minik_vctx_t *c, const cJSON *spec)
{
    minik_check_selector_and_restart(c, spec, "daemonset", always, true);
}

static void default_ds_strategy(cJSON *st)
{
    cJSON *ru = minik_json_rolling_update(st);
    if (ru)
        minik_json_set_default(ru, "maxUnavailable", cJSON_CreateNumber(1));
}

static void check_ds_strategy(minik_vctx_t *c, const cJSON *st)
{
    const char *type = minik_json_str(st, "type");
    const cJSON *ru = cJSON_GetObjectItemCaseSensitive(st, "rollingUpdate");
    if (type && strcmp(type, "OnDelete") == 0 && ru)
        minik_vctx_error(c, ru, ".rollingUpdate",
                         "may not be specified when strategy `type` is 'OnDelete'");
}

static const char *const ds_strategy_types[] = {"RollingUpdate", "OnDelete", NULL};

static const minik_field_t ds_rolling_fields[] = {
    {"maxUnavailable", MINIK_T_INT_OR_STRING, NONNEG, .check = minik_check_int_or_percent,
     .doc = "count or \"N%\" of the eligible nodes; default 1"},
    ROW_END,
};

static const minik_field_t ds_strategy_fields[] = {
    {"type", MINIK_T_STRING, .enums = ds_strategy_types, .dflt = "\"RollingUpdate\""},
    {"rollingUpdate", MINIK_T_OBJECT, .fields = ds_rolling_fields},
    ROW_END,
};

static const minik_field_t daemonset_spec_fields[] = {
    MINIK_WORKLOAD_SELECTOR_ROW,
    {"template", MINIK_T_OBJECT, .flags = MINIK_F_REQUIRED, .fields = minik_schema_pod_template},
    {"updateStrategy", MINIK_T_OBJECT, .fields = ds_strategy_fields, .check = check_ds_strategy,
     .dflt = "{}", .defaulter = default_ds_strategy,
     .doc = "RollingUpdate (maxUnavailable) or OnDelete"},
    {"minReadySeconds", MINIK_T_INT, NONNEG},
    {"revisionHistoryLimit", MINIK_T_INT, NONNEG, .dflt = "10",
     .doc = "accepted; no DaemonSet history is kept"},
    ROW_END,
};

const minik_field_t minik_schema_daemonset[] = {
    MINIK_SPEC_KIND_ROWS(daemonset_spec_fields, .check = check_daemonset_spec)};

/* ---- Job --------------------------------------------------------------------------------- */

static void check_job_spec(minik_vctx_t *c, const cJSON *spec)
{
    minik_check_selector_and_restart(c, spec, "job", never_or_on_failure, false);
}

static const char *const completion_modes[] = {"NonIndexed", NULL};

static const minik_field_t job_spec_fields[] = {
    {"completions", MINIK_T_INT, NONNEG, .doc = "successes needed; unset: the first success"},
    {"parallelism", MINIK_T_INT, NONNEG, .dflt = "1", .doc = "pods at a time; default 1"},
    {"backoffLimit", MINIK_T_INT, NONNEG, .dflt = "6",
     .doc = "pod failures before the Job fails; default 6"},
    {"activeDeadlineSeconds", MINIK_T_INT, .flags = MINIK_F_RANGE, .min = 1, .max = INT64_MAX},
    {"ttlSecondsAfterFinished", MINIK_T_INT, NONNEG,
     .doc = "delete the finished Job (and its pods) this long after"},
    {"completionMode", MINIK_T_STRING, .enums = completion_modes, .dflt = "\"NonIndexed\""},
    {"selector", MINIK_T_OBJECT, .fields = minik_schema_label_selector,
     .check = minik_check_label_selector, .doc = "optional; pods are owned by reference"},
    {"manualSelector", MINIK_T_BOOL},
    {"template", MINIK_T_OBJECT, .flags = MINIK_F_REQUIRED, .fields = minik_schema_pod_template,
     .doc = "restartPolicy must be Never or OnFailure"},
    ROW_END,
};

const minik_field_t minik_schema_job[] = {
    MINIK_SPEC_KIND_ROWS(job_spec_fields, .check = check_job_spec)};

/* ---- CronJob ----------------------------------------------------------------------------- */

static void check_schedule(minik_vctx_t *c, const cJSON *n)
{
    if (!cJSON_IsString(n))
        return;
    minik_cron_t sched;
    cleanup_error minik_error_t *err = NULL;
    if (minik_cron_parse(n->valuestring, &sched, &err) < 0)
        minik_vctx_error(c, NULL, NULL, "invalid schedule \"%.100s\": %s", n->valuestring,
                         err->msg);
}

static const minik_field_t job_template_fields[] = {
    {"metadata", MINIK_T_OBJECT, .fields = minik_schema_template_meta},
    {"spec", MINIK_T_OBJECT, .flags = MINIK_F_REQUIRED, .fields = job_spec_fields,
     .check = check_job_spec},
    ROW_END,
};

static const char *const concurrency_policies[] = {"Allow", "Forbid", "Replace", NULL};

static const minik_field_t cronjob_spec_fields[] = {
    {"schedule", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .check = check_schedule,
     .doc = "cron format, UTC: \"*/15 * * * *\", \"0 9 * * mon-fri\", @daily..."},
    {"startingDeadlineSeconds", MINIK_T_INT, NONNEG,
     .doc = "skip a run started later than this after its time"},
    {"concurrencyPolicy", MINIK_T_STRING, .enums = concurrency_policies, .dflt = "\"Allow\""},
    {"suspend", MINIK_T_BOOL, .dflt = "false"},
    {"jobTemplate", MINIK_T_OBJECT, .flags = MINIK_F_REQUIRED, .fields = job_template_fields},
    {"successfulJobsHistoryLimit", MINIK_T_INT, NONNEG, .dflt = "3"},
    {"failedJobsHistoryLimit", MINIK_T_INT, NONNEG, .dflt = "1"},
    ROW_END,
};

const minik_field_t minik_schema_cronjob[] = {
    MINIK_SPEC_KIND_ROWS(cronjob_spec_fields, .check = NULL)};
