/* Pod status as the kubelet writes it: phase, conditions, container statuses, hostIP,
 * podIP, startTime. Built from the agent's own record of each container, so the same pod
 * state always gives the same document (the agent writes only when it changes). */
#include <string.h>
#include <time.h>

#include "agent/internal.h"
#include "lib/str.h"
#include "lib/timestamp.h"
#include "lib/xalloc.h"

char *minik_agent_now_rfc3339(void)
{
    return minik_timestamp_new(time(NULL));
}

static void add_cond(cJSON *conds, const char *type, bool ok, const char *since, const char *reason)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "type", type);
    cJSON_AddStringToObject(c, "status", ok ? "True" : "False");
    if (since)
        cJSON_AddStringToObject(c, "lastTransitionTime", since);
    if (!ok && reason)
        cJSON_AddStringToObject(c, "reason", reason);
    cJSON_AddItemToArray(conds, c);
}

static cJSON *terminated(const agent_ctr_t *c)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddNumberToObject(t, "exitCode", c->last_exit);
    if (c->last_signal)
        cJSON_AddNumberToObject(t, "signal", c->last_signal);
    cJSON_AddStringToObject(t, "reason", c->last_reason ? c->last_reason : "Error");
    if (c->last_message)
        cJSON_AddStringToObject(t, "message", c->last_message);
    if (c->last_started)
        cJSON_AddStringToObject(t, "startedAt", c->last_started);
    if (c->last_finished)
        cJSON_AddStringToObject(t, "finishedAt", c->last_finished);
    return t;
}

static const char *image_of(const cJSON *pod, const char *name, bool init)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    const cJSON *it;
    cJSON_ArrayForEach(
        it, cJSON_GetObjectItemCaseSensitive(spec, init ? "initContainers" : "containers"))
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
        const cJSON *img = cJSON_GetObjectItemCaseSensitive(it, "image");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0 && cJSON_IsString(img))
            return img->valuestring;
    }
    return "";
}

cJSON *minik_agent_pod_status(const agent_pod_t *p, const cJSON *pod, const char *host_ip)
{
    cJSON *st = cJSON_CreateObject();
    cJSON *cs = cJSON_CreateArray(), *ics = cJSON_CreateArray();
    size_t started = 0, n = 0, ready = 0, done_ok = 0, done_fail = 0, init_n = 0, init_ok = 0;
    bool init_failed = false;
    for (size_t i = 0; i < p->n_ctrs; i++) {
        const agent_ctr_t *c = &p->ctrs[i];
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "name", c->name);
        cJSON_AddStringToObject(s, "image", image_of(pod, c->name, c->init));
        cJSON_AddStringToObject(s, "imageID", "");
        if (c->id) {
            char cid[160];
            snprintf(cid, sizeof(cid), "minik://%s", c->id);
            cJSON_AddStringToObject(s, "containerID", cid);
        }
        cJSON *state = cJSON_AddObjectToObject(s, "state");
        bool is_running = c->id && c->pid > 0;
        if (is_running) {
            cJSON *r = cJSON_AddObjectToObject(state, "running");
            if (c->started_at)
                cJSON_AddStringToObject(r, "startedAt", c->started_at);
        } else if (c->done) {
            cJSON_AddItemToObject(state, "terminated", terminated(c));
        } else {
            cJSON *w = cJSON_AddObjectToObject(state, "waiting");
            cJSON_AddStringToObject(w, "reason",
                                    c->wait_reason ? c->wait_reason : "ContainerCreating");
            if (c->wait_message)
                cJSON_AddStringToObject(w, "message", c->wait_message);
        }
        cJSON *last = cJSON_AddObjectToObject(s, "lastState");
        if (c->has_last && !c->done)
            cJSON_AddItemToObject(last, "terminated", terminated(c));
        bool is_ready = is_running && !c->init && c->ready;
        cJSON_AddBoolToObject(s, "ready", c->init ? (c->done && c->last_exit == 0) : is_ready);
        cJSON_AddNumberToObject(s, "restartCount", c->restarts);
        cJSON_AddBoolToObject(s, "started", is_running && c->started);
        if (c->init) {
            init_n++;
            if (c->done && c->last_exit == 0)
                init_ok++;
            else if (c->done)
                init_failed = true;
            cJSON_AddItemToArray(ics, s);
            continue;
        }
        n++;
        started += is_running || c->has_last;
        ready += is_ready;
        if (c->done && c->last_exit == 0)
            done_ok++;
        else if (c->done)
            done_fail++;
        cJSON_AddItemToArray(cs, s);
    }
    const char *phase = "Pending";
    if (init_failed)
        phase = "Failed";
    else if (n > 0 && done_ok == n)
        phase = "Succeeded";
    else if (n > 0 && done_ok + done_fail == n)
        phase = "Failed";
    else if (init_ok == init_n && started > 0)
        phase = "Running";
    cJSON_AddStringToObject(st, "phase", phase);
    const char *since = p->start_time;
    cJSON *conds = cJSON_AddArrayToObject(st, "conditions");
    add_cond(conds, "PodScheduled", true, since, NULL);
    add_cond(conds, "Initialized", init_ok == init_n, since, "ContainersNotInitialized");
    bool all_ready = n > 0 && ready == n;
    add_cond(conds, "ContainersReady", all_ready, since, "ContainersNotReady");
    add_cond(conds, "Ready", all_ready, since, "ContainersNotReady");
    if (host_ip)
        cJSON_AddStringToObject(st, "hostIP", host_ip);
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    const char *pod_ip = p->pod_ip;
    if (!pod_ip && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "hostNetwork")))
        pod_ip = host_ip;
    if (pod_ip) {
        cJSON_AddStringToObject(st, "podIP", pod_ip);
        cJSON *ips = cJSON_AddArrayToObject(st, "podIPs");
        cJSON *one = cJSON_CreateObject();
        cJSON_AddStringToObject(one, "ip", pod_ip);
        cJSON_AddItemToArray(ips, one);
    }
    if (since)
        cJSON_AddStringToObject(st, "startTime", since);
    if (init_n)
        cJSON_AddItemToObject(st, "initContainerStatuses", ics);
    else
        cJSON_Delete(ics);
    cJSON_AddItemToObject(st, "containerStatuses", cs);
    return st;
}
