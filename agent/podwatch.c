/* A pod job that runs for long must not leave its pod silently Pending: the job's events
 * and status are only written when it ends, so the loop looks at jobs in flight on every
 * sync tick and, past MINIK_AGENT_SLOW_JOB_MS, posts a Warning event saying what the job
 * is doing (the stage it last recorded: sandbox, network, image, start, stop), again every
 * MINIK_AGENT_SLOW_JOB_REPEAT_MS while it lasts. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agent/internal.h"
#include "lib/cleanup.h"
#include "lib/log.h"

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
        minik_log_warn("pod job is slow", "pod", p->name, "stage", stage, NULL);
        p->job_next_report_ms = now + MINIK_AGENT_SLOW_JOB_REPEAT_MS;
    }
}
