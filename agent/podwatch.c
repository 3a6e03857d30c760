/* A pod job that runs for long must not leave its pod silently Pending: the job's events
 * and status are only written when it ends, so the loop looks at jobs in flight on every
 * sync tick and, past MINIK_AGENT_SLOW_JOB_MS, posts a Warning event saying what the job
 * is doing (the stage it last recorded: sandbox, network, image, start, stop), again every
 * MINIK_AGENT_SLOW_JOB_REPEAT_MS while it lasts; a pod that has no status from this agent
 * yet gets one with its containers waiting in ContainerCreating, the stage as message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agent/internal.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/xalloc.h"

void minik_agent_pod_stage(agent_pod_t *p, const char *fmt, ...)
{
    char buf[sizeof(p->stage)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&p->agent->stage_lock);
    memcpy(p->stage, buf, sizeof(buf));
    pthread_mutex_unlock(&p->agent->stage_lock);
}

static const char *str_at(const cJSON *o, const char *key)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return v ? v : "";
}

static void status_written(const cJSON *reply, const minik_error_t *err, void *ud)
{
    (void)reply;
    (void)ud;
    if (err) /* best effort: the job's own status follows when it ends */
        minik_log_debug("waiting pod status not written", "error", err->msg, NULL);
}

/* From the desired pod (loop-owned), not from the job's container records. */
static void write_waiting_status(struct minik_agent *a, agent_pod_t *p, const char *stage)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(p->obj, "spec");
    cleanup_cjson cJSON *patch = cJSON_CreateObject();
    cJSON *st = cJSON_AddObjectToObject(patch, "status");
    cJSON_AddStringToObject(st, "phase", "Pending");
    cJSON_AddStringToObject(st, "hostIP", a->node_ip);
    cJSON *conds = cJSON_AddArrayToObject(st, "conditions");
    const char *types[] = {"PodScheduled", "Initialized", "ContainersReady", "Ready"};
    for (int i = 0; i < 4; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "type", types[i]);
        cJSON_AddStringToObject(c, "status", i == 0 ? "True" : "False");
        if (i > 0)
            cJSON_AddStringToObject(c, "reason", "ContainersNotReady");
        cJSON_AddItemToArray(conds, c);
    }
    const char *lists[2] = {"initContainers", "containers"};
    for (int k = 0; k < 2; k++) {
        cJSON *out =
            cJSON_AddArrayToObject(st, k == 0 ? "initContainerStatuses" : "containerStatuses");
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(spec, lists[k]))
        {
            cJSON *cs = cJSON_CreateObject();
            cJSON_AddStringToObject(cs, "name", str_at(c, "name"));
            cJSON_AddStringToObject(cs, "image", str_at(c, "image"));
            cJSON_AddBoolToObject(cs, "ready", false);
            cJSON_AddNumberToObject(cs, "restartCount", 0);
            cJSON *w = cJSON_AddObjectToObject(cJSON_AddObjectToObject(cs, "state"), "waiting");
            cJSON_AddStringToObject(w, "reason", k == 0 ? "PodInitializing" : "ContainerCreating");
            cJSON_AddStringToObject(w, "message", stage);
            cJSON_AddItemToArray(out, cs);
        }
    }
    cleanup_free char *path = xasprintf("/api/v1/namespaces/%s/pods/%s/status", p->ns, p->name);
    minik_error_t *err = NULL;
    if (minik_client_uv_request(a->cuv, a->client, "PATCH", path, "application/merge-patch+json",
                                patch, status_written, NULL, &err) < 0) {
        minik_log_debug("waiting pod status not sent", "error", err->msg, NULL);
        minik_error_free(err);
    }
}

void minik_agent_pods_watchdog(struct minik_agent *a, int64_t now)
{
    for (agent_pod_t *p = a->pods; p; p = p->next) {
        if (!p->busy || !p->job_started_ms || now < p->job_next_report_ms)
            continue;
        int64_t ran = now - p->job_started_ms;
        if (ran < MINIK_AGENT_SLOW_JOB_MS)
            continue;
        char stage[sizeof(p->stage)];
        pthread_mutex_lock(&a->stage_lock);
        memcpy(stage, p->stage, sizeof(stage));
        pthread_mutex_unlock(&a->stage_lock);
        cleanup_cjson cJSON *events = cJSON_CreateArray();
        minik_agent_event_add(events, "Warning", "Stalled", NULL,
                              "The agent has been working on this pod for %llds, still %s",
                              (long long)(ran / 1000), stage[0] ? stage : "starting");
        minik_agent_events_post(a, p, events);
        if (!p->status_sent && p->obj && !p->deleted)
            write_waiting_status(a, p, stage[0] ? stage : "starting");
        minik_log_warn("pod job is slow", "pod", p->name, "stage", stage, NULL);
        p->job_next_report_ms = now + MINIK_AGENT_SLOW_JOB_REPEAT_MS;
    }
}
