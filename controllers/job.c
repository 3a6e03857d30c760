/* The Job controller: runs pods until `completions` succeed (at most `parallelism` at a
 * time), fails the Job after more than backoffLimit pod failures or past
 * activeDeadlineSeconds, and deletes a finished Job ttlSecondsAfterFinished later. */
#include <stdlib.h>
#include <string.h>

#include "controllers/internal.h"
#include "lib/log.h"
#include "lib/xalloc.h"

static bool finished(const cJSON *job, time_t *when)
{
    static const char *const types[] = {"Complete", "Failed"};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *cond = minik_ctl_condition(job, types[i]);
        const char *st = minik_ctl_str(cond, "status");
        if (st && strcmp(st, "True") == 0) {
            if (when)
                *when = minik_ctl_parse_time(minik_ctl_str(cond, "lastTransitionTime"));
            return true;
        }
    }
    return false;
}

/* A finished Job with a TTL: delete it (its pods follow through the garbage collector)
 * once the TTL has passed, else look again then. */
static void handle_ttl(minik_controllers_t *c, const char *key, const cJSON *job, time_t done)
{
    int64_t ttl = minik_ctl_int(job, "spec.ttlSecondsAfterFinished", -1);
    if (ttl < 0)
        return;
    time_t now = minik_ctl_now();
    int64_t left = (int64_t)done + ttl - (int64_t)now;
    if (left > 0) {
        minik_wq_add_after(c->job_q, key, (uint64_t)left * 1000);
        return;
    }
    minik_ctl_delete(c, c->job_q, key, "Job", minik_ctl_str(job, "metadata.namespace"),
                     minik_ctl_str(job, "metadata.name"),
                     minik_ctl_str(job, "metadata.resourceVersion"));
}

static void delete_active(minik_controllers_t *c, const char *key, const char *ns,
                          const cJSON **active, size_t n)
{
    for (size_t i = 0; i < n; i++)
        minik_ctl_delete(c, c->job_q, key, "Pod", ns, minik_ctl_str(active[i], "metadata.name"),
                         NULL);
}

void minik_job_sync(const char *key, void *ud)
{
    minik_controllers_t *c = ud;
    char *ns, *name;
    minik_ctl_split_key(key, &ns, &name);
    cJSON *job = NULL, *pods = NULL;
    const cJSON **active = NULL;
    minik_error_t *err = NULL;
    if (minik_store_get(c->store, "Job", ns, name, &job, &err) < 0) {
        minik_error_free(err);
        goto out;
    }
    if (minik_ctl_terminating(job))
        goto out;
    time_t done_at = 0;
    if (finished(job, &done_at)) {
        handle_ttl(c, key, job, done_at);
        goto out;
    }
    pods = minik_ctl_list_owned(c, "Pod", ns, minik_ctl_str(job, "metadata.uid"));
    if (!pods) {
        minik_wq_add_rate_limited(c->job_q, key);
        goto out;
    }
    int64_t succeeded = 0, failed = 0, ready = 0;
    size_t n_active = 0;
    active = xcalloc((size_t)cJSON_GetArraySize(pods) + 1, sizeof(*active));
    const cJSON *p;
    cJSON_ArrayForEach(p, pods)
    {
        const char *phase = minik_ctl_str(p, "status.phase");
        if (phase && strcmp(phase, "Succeeded") == 0)
            succeeded++;
        else if (phase && strcmp(phase, "Failed") == 0)
            failed++;
        else if (!minik_ctl_terminating(p)) {
            active[n_active++] = p;
            if (minik_ctl_pod_ready(p))
                ready++;
        }
    }
    /* Counts never go down when finished pods are removed by someone else. */
    const cJSON *old_st = minik_ctl_get(job, "status");
    if (minik_ctl_int(old_st, "succeeded", 0) > succeeded)
        succeeded = minik_ctl_int(old_st, "succeeded", 0);
    if (minik_ctl_int(old_st, "failed", 0) > failed)
        failed = minik_ctl_int(old_st, "failed", 0);

    const cJSON *comp_v = minik_ctl_get(job, "spec.completions");
    bool has_completions = cJSON_IsNumber(comp_v);
    int64_t completions = has_completions ? minik_ctl_int(job, "spec.completions", 1) : 1;
    int64_t parallelism = minik_ctl_int(job, "spec.parallelism", 1);
    int64_t backoff = minik_ctl_int(job, "spec.backoffLimit", 6);
    int64_t ads = minik_ctl_int(job, "spec.activeDeadlineSeconds", -1);
    time_t now = minik_ctl_now();

    cJSON *upd = cJSON_Duplicate(job, 1);
    cJSON *st = minik_ctl_obj(upd, "status");
    time_t start = minik_ctl_parse_time(minik_ctl_str(job, "status.startTime"));
    if (!start) {
        start = now;
        char *ts = minik_ctl_format_time(now);
        minik_ctl_set_str(st, "startTime", ts);
        free(ts);
    }
    const char *fail_reason = NULL, *fail_msg = NULL;
    if (failed > backoff) {
        fail_reason = "BackoffLimitExceeded";
        fail_msg = "Job has reached the specified backoff limit";
    } else if (ads >= 0 && (int64_t)(now - start) >= ads) {
        fail_reason = "DeadlineExceeded";
        fail_msg = "Job was active longer than specified deadline";
    }
    /* Without completions (a work queue), the first success ends the Job once the others
     * are done. */
    bool complete = has_completions ? succeeded >= completions : succeeded > 0 && n_active == 0;
    if (fail_reason) {
        delete_active(c, key, ns, active, n_active);
        n_active = 0;
        ready = 0;
        minik_ctl_set_condition(st, "Failed", "True", fail_reason, fail_msg, now, false);
    } else if (complete) {
        delete_active(c, key, ns, active, n_active);
        n_active = 0;
        ready = 0;
        minik_ctl_set_condition(st, "Complete", "True", NULL, NULL, now, false);
        char *ts = minik_ctl_format_time(now);
        minik_ctl_set_str(st, "completionTime", ts);
        free(ts);
    } else {
        int64_t want = has_completions ? completions - succeeded : parallelism;
        if (!has_completions && succeeded > 0)
            want = 0; /* work queue: one success means no new pods */
        if (want > parallelism)
            want = parallelism;
        if ((int64_t)n_active < want) {
            for (int64_t i = (int64_t)n_active; i < want; i++)
                minik_ctl_write(c, c->job_q, key, MINIK_STORE_OP_CREATE,
                                minik_ctl_pod_from_template(minik_ctl_get(job, "spec.template"), ns,
                                                            name, job));
        } else if ((int64_t)n_active > want) {
            delete_active(c, key, ns, active, n_active - (size_t)want);
            n_active = (size_t)want;
        }
        if (ads >= 0) {
            int64_t left = (int64_t)start + ads - (int64_t)now;
            minik_wq_add_after(c->job_q, key, (uint64_t)(left > 0 ? left : 1) * 1000);
        }
    }
    minik_ctl_set_int(st, "active", (int64_t)n_active);
    minik_ctl_set_int(st, "ready", ready);
    minik_ctl_set_int(st, "succeeded", succeeded);
    minik_ctl_set_int(st, "failed", failed);
    minik_ctl_update_if_changed(c, c->job_q, key, job, upd);
    minik_wq_forget(c->job_q, key);
out:
    free(active);
    cJSON_Delete(pods);
    cJSON_Delete(job);
    free(ns);
    free(name);
}
