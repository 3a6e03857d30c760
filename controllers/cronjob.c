/* The CronJob controller: creates a Job from spec.jobTemplate at each scheduled time (UTC),
 * honouring suspend, startingDeadlineSeconds and concurrencyPolicy (Allow, Forbid,
 * Replace), and keeps successfulJobsHistoryLimit / failedJobsHistoryLimit finished Jobs.
 * Missed runs (the server was down) collapse into the most recent one, as in Kubernetes.
 * One timer per CronJob key, armed at its next scheduled time. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/internal.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "proto/cron.h"

static int job_state(const cJSON *job) /* 0 active, 1 succeeded, 2 failed */
{
    const char *c = minik_ctl_str(minik_ctl_condition(job, "Complete"), "status");
    if (c && strcmp(c, "True") == 0)
        return 1;
    const char *f = minik_ctl_str(minik_ctl_condition(job, "Failed"), "status");
    return f && strcmp(f, "True") == 0 ? 2 : 0;
}

static int cmp_created(const void *a, const void *b)
{
    const char *x = minik_ctl_str(*(const cJSON *const *)a, "metadata.creationTimestamp");
    const char *y = minik_ctl_str(*(const cJSON *const *)b, "metadata.creationTimestamp");
    int c = strcmp(x ? x : "", y ? y : "");
    if (c)
        return c;
    return strcmp(minik_ctl_str(*(const cJSON *const *)a, "metadata.name"),
                  minik_ctl_str(*(const cJSON *const *)b, "metadata.name"));
}

/* Delete the oldest finished Jobs in `state` beyond `keep`. */
static void prune(minik_controllers_t *c, const char *key, const char *ns, const cJSON *jobs,
                  int state, int64_t keep)
{
    const cJSON **v = xcalloc((size_t)cJSON_GetArraySize(jobs) + 1, sizeof(*v));
    size_t n = 0;
    const cJSON *j;
    cJSON_ArrayForEach(j, jobs)
    {
        if (job_state(j) == state && !minik_ctl_terminating(j))
            v[n++] = j;
    }
    qsort(v, n, sizeof(*v), cmp_created);
    for (size_t i = 0; keep >= 0 && (int64_t)(n - i) > keep; i++)
        minik_ctl_delete(c, c->cj_q, key, "Job", ns, minik_ctl_str(v[i], "metadata.name"),
                         minik_ctl_str(v[i], "metadata.resourceVersion"));
    free(v);
}

static cJSON *job_for(const cJSON *cj, const char *ns, const char *name, time_t when)
{
    cJSON *job = cJSON_CreateObject();
    cJSON_AddStringToObject(job, "apiVersion", "batch/v1");
    cJSON_AddStringToObject(job, "kind", "Job");
    cJSON *md = cJSON_AddObjectToObject(job, "metadata");
    /* Named by the scheduled minute, so a run is created at most once. */
    char *jname = xasprintf("%s-%" PRId64, name, (int64_t)when / 60);
    cJSON_AddStringToObject(md, "name", jname);
    free(jname);
    cJSON_AddStringToObject(md, "namespace", ns);
    const cJSON *labels = minik_ctl_get(cj, "spec.jobTemplate.metadata.labels");
    if (labels)
        cJSON_AddItemToObject(md, "labels", cJSON_Duplicate(labels, 1));
    cJSON *ann = cJSON_Duplicate(minik_ctl_get(cj, "spec.jobTemplate.metadata.annotations"), 1);
    if (!ann)
        ann = cJSON_CreateObject();
    char *ts = minik_ctl_format_time(when);
    minik_ctl_set_str(ann, "batch.kubernetes.io/cronjob-scheduled-timestamp", ts);
    free(ts);
    cJSON_AddItemToObject(md, "annotations", ann);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(md, "ownerReferences"), minik_ctl_owner_ref(cj));
    const cJSON *spec = minik_ctl_get(cj, "spec.jobTemplate.spec");
    cJSON_AddItemToObject(job, "spec", spec ? cJSON_Duplicate(spec, 1) : cJSON_CreateObject());
    return job;
}

static cJSON *job_ref(const cJSON *job)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "apiVersion", "batch/v1");
    cJSON_AddStringToObject(r, "kind", "Job");
    cJSON_AddStringToObject(r, "name", minik_ctl_str(job, "metadata.name"));
    cJSON_AddStringToObject(r, "namespace", minik_ctl_str(job, "metadata.namespace"));
    cJSON_AddStringToObject(r, "uid", minik_ctl_str(job, "metadata.uid"));
    return r;
}

void minik_cronjob_sync(const char *key, void *ud)
{
    minik_controllers_t *c = ud;
    char *ns, *name;
    minik_ctl_split_key(key, &ns, &name);
    cJSON *cj = NULL, *jobs = NULL;
    minik_error_t *err = NULL;
    if (minik_store_get(c->store, "CronJob", ns, name, &cj, &err) < 0 || minik_ctl_terminating(cj))
        goto out;
    minik_cron_t sched;
    if (minik_cron_parse(minik_ctl_str(cj, "spec.schedule"), &sched, &err) < 0) {
        minik_log_warn("cronjob: bad schedule", "cronjob", key, "error", err->msg, NULL);
        goto out;
    }
    jobs = minik_ctl_list_owned(c, "Job", ns, minik_ctl_str(cj, "metadata.uid"));
    if (!jobs) {
        minik_wq_add_rate_limited(c->cj_q, key);
        goto out;
    }
    cJSON *upd = cJSON_Duplicate(cj, 1);
    cJSON *st = minik_ctl_obj(upd, "status");
    cJSON *active = cJSON_CreateArray();
    const cJSON *j;
    time_t last_success = 0;
    cJSON_ArrayForEach(j, jobs)
    {
        int s = job_state(j);
        if (s == 0 && !minik_ctl_terminating(j))
            cJSON_AddItemToArray(active, job_ref(j));
        time_t done = minik_ctl_parse_time(minik_ctl_str(j, "status.completionTime"));
        if (s == 1 && done > last_success)
            last_success = done;
    }
    time_t now = minik_ctl_now();
    time_t last = minik_ctl_parse_time(minik_ctl_str(cj, "status.lastScheduleTime"));
    if (!last)
        last = minik_ctl_parse_time(minik_ctl_str(cj, "metadata.creationTimestamp"));
    if (!last)
        last = now;
    /* The most recent scheduled time not yet run (bounded: a minutely schedule after a long
     * outage still takes only this loop). */
    time_t due = 0;
    for (time_t t = minik_cron_next(&sched, last), i = 0; t && t <= now && i < 600000; i++) {
        due = t;
        t = minik_cron_next(&sched, t);
    }
    int64_t deadline = minik_ctl_int(cj, "spec.startingDeadlineSeconds", -1);
    const char *policy = minik_ctl_str(cj, "spec.concurrencyPolicy");
    bool suspended = cJSON_IsTrue(minik_ctl_get(cj, "spec.suspend"));
    if (due && !suspended && (deadline < 0 || (int64_t)(now - due) <= deadline)) {
        bool run = true;
        if (policy && strcmp(policy, "Forbid") == 0 && cJSON_GetArraySize(active) > 0)
            run = false; /* skipped: the next time is tried at its turn */
        if (run && policy && strcmp(policy, "Replace") == 0) {
            const cJSON *r;
            cJSON_ArrayForEach(r, active)
            {
                minik_ctl_delete(c, c->cj_q, key, "Job", ns, minik_ctl_str(r, "name"), NULL);
            }
            cJSON_Delete(active);
            active = cJSON_CreateArray();
        }
        if (run) {
            cJSON *job = job_for(cj, ns, name, due);
            cJSON_AddItemToArray(active, job_ref(job));
            minik_ctl_write(c, c->cj_q, key, MINIK_STORE_OP_CREATE, job);
        }
        char *ts = minik_ctl_format_time(due);
        minik_ctl_set_str(st, "lastScheduleTime", ts);
        free(ts);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(st, "active");
    if (cJSON_GetArraySize(active) > 0)
        cJSON_AddItemToObject(st, "active", active);
    else
        cJSON_Delete(active);
    if (last_success) {
        char *ts = minik_ctl_format_time(last_success);
        minik_ctl_set_str(st, "lastSuccessfulTime", ts);
        free(ts);
    }
    prune(c, key, ns, jobs, 1, minik_ctl_int(cj, "spec.successfulJobsHistoryLimit", 3));
    prune(c, key, ns, jobs, 2, minik_ctl_int(cj, "spec.failedJobsHistoryLimit", 1));
    minik_ctl_update_if_changed(c, c->cj_q, key, cj, upd);
    /* Wake up at the next scheduled time. */
    time_t next = minik_cron_next(&sched, now);
    if (next && !suspended)
        minik_wq_add_after(c->cj_q, key, (uint64_t)(next - now) * 1000);
    minik_wq_forget(c->cj_q, key);
out:
    minik_error_free(err);
    cJSON_Delete(jobs);
    cJSON_Delete(cj);
    free(ns);
    free(name);
}
