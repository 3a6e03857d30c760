/* The pods bound to this node: list, then watch from the list's resourceVersion (resuming
 * from the last one seen after a disconnect; a 410 Gone means list again). Each pod gets a
 * reconcile job on a watch event and on every sync tick; a job's status and events are
 * written from the loop when it finishes. */
#include <stdlib.h>
#include <string.h>

#include "agent/internal.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

static const char *meta_str(const cJSON *o, const char *key)
{
    const cJSON *v =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "metadata"), key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

agent_pod_t *minik_agent_pod_find(struct minik_agent *a, const char *uid)
{
    for (agent_pod_t *p = a->pods; p; p = p->next)
        if (strcmp(p->uid, uid) == 0)
            return p;
    return NULL;
}

static void unlink_pod(struct minik_agent *a, agent_pod_t *p)
{
    for (agent_pod_t **pp = &a->pods; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            return;
        }
    }
}

typedef struct status_write {
    struct minik_agent *a;
    char *uid;
} status_write_t;

/* A failed write (server away, 5xx) forgets what was "sent", so the next sync tick sends
 * the status again: the server converges once it is back. */
static void status_written(const cJSON *reply, const minik_error_t *err, void *ud)
{
    (void)reply;
    status_write_t *w = ud;
    if (err) {
        minik_log_debug("pod status not written", "error", err->msg, NULL);
        agent_pod_t *p = w->a->stopping ? NULL : minik_agent_pod_find(w->a, w->uid);
        if (p) {
            free(p->status_sent);
            p->status_sent = NULL;
        }
    }
    free(w->uid);
    free(w);
}

static void work_cb(uv_work_t *w)
{
    agent_pod_t *p = w->data;
    minik_agent_pod_reconcile(p, minik_agent_mono_ms());
}

static void after_work_cb(uv_work_t *w, int status)
{
    (void)status;
    agent_pod_t *p = w->data;
    struct minik_agent *a = p->agent;
    a->jobs--;
    p->busy = false;
    if (a->stopping) {
        cJSON_Delete(p->events_out);
        cJSON_Delete(p->status_out);
        p->events_out = p->status_out = NULL;
        minik_agent_maybe_done(a);
        return;
    }
    if (p->events_out && cJSON_GetArraySize(p->events_out) > 0 && !a->stopping)
        minik_agent_events_post(a, p, p->events_out);
    cJSON_Delete(p->events_out);
    p->events_out = NULL;
    if (p->status_out && a->silenced) {
        /* A silenced hollow node cannot reach the server: send again once it is back. */
        free(p->status_sent);
        p->status_sent = NULL;
    } else if (p->status_out && !p->deleted && !a->stopping) {
        cleanup_free char *s = cJSON_PrintUnformatted(p->status_out);
        if (!minik_str_eq(s, p->status_sent)) {
            cleanup_cjson cJSON *patch = cJSON_CreateObject();
            cJSON_AddItemToObject(patch, "status", steal_pointer(&p->status_out));
            cleanup_free char *path =
                xasprintf("/api/v1/namespaces/%s/pods/%s/status", p->ns, p->name);
            minik_error_t *err = NULL;
            status_write_t *w = xcalloc(1, sizeof(*w));
            w->a = a;
            w->uid = xstrdup(p->uid);
            if (minik_client_uv_request(a->cuv, a->client, "PATCH", path,
                                        "application/merge-patch+json", patch, status_written, w,
                                        &err) < 0) {
                minik_log_warn("pod status not sent", "error", err->msg, NULL);
                minik_error_free(err);
                free(w->uid);
                free(w);
            } else {
                free(p->status_sent);
                p->status_sent = steal_pointer(&s);
                a->status_writes++;
            }
        }
    }
    cJSON_Delete(p->status_out);
    p->status_out = NULL;
    if (p->gone) {
        minik_log_info("pod removed", "pod", p->name, "uid", p->uid, NULL);
        unlink_pod(a, p);
        minik_agent_pod_free(p);
        return;
    }
    if (p->dirty && !a->stopping) {
        p->dirty = false;
        minik_agent_pod_kick(a, p);
    }
}

void minik_agent_pod_kick(struct minik_agent *a, agent_pod_t *p)
{
    if (a->stopping)
        return;
    if (p->busy) {
        p->dirty = true;
        return;
    }
    cJSON_Delete(p->job_obj);
    p->job_obj = p->obj ? cJSON_Duplicate(p->obj, 1) : NULL;
    p->busy = true;
    p->job_started_ms = minik_agent_mono_ms();
    p->job_next_report_ms = 0;
    p->stage[0] = '\0'; /* no job runs: nothing reads or writes it now */
    a->jobs++;
    if (uv_queue_work(a->loop, &p->work, work_cb, after_work_cb) != 0) {
        p->busy = false;
        a->jobs--;
    }
}

void minik_agent_sync_tick(uv_timer_t *t)
{
    struct minik_agent *a = t->data;
    minik_agent_net_tick(a);
    if (!a->listed || a->silenced)
        return;
    minik_agent_pods_watchdog(a, minik_agent_mono_ms());
    /* A hollow pod's status depends on nothing local, so only a failed write (which
     * forgot what was sent) is worth another pass; with thousands of hollow pods a pass
     * over all of them each tick would be the whole CPU. */
    for (agent_pod_t *p = a->pods; p; p = p->next)
        if (!p->busy && (!a->hollow || !p->status_sent))
            minik_agent_pod_kick(a, p);
}

/* A pod seen in a list or watch event. */
static void pod_seen(struct minik_agent *a, const char *type, const cJSON *obj)
{
    const char *uid = meta_str(obj, "uid");
    if (!uid)
        return;
    agent_pod_t *p = minik_agent_pod_find(a, uid);
    if (strcmp(type, "DELETED") == 0) {
        if (p) {
            p->deleted = true;
            cJSON_Delete(p->obj);
            p->obj = cJSON_Duplicate(obj, 1);
            minik_agent_pod_kick(a, p);
        }
        return;
    }
    if (!p)
        p = minik_agent_pod_new(a, uid, meta_str(obj, "namespace"), meta_str(obj, "name"));
    if (!p->name[0]) {
        free(p->name);
        free(p->ns);
        p->name = xstrdup(meta_str(obj, "name") ? meta_str(obj, "name") : "");
        p->ns = xstrdup(meta_str(obj, "namespace") ? meta_str(obj, "namespace") : "");
    }
    cJSON_Delete(p->obj);
    p->obj = cJSON_Duplicate(obj, 1);
    /* The status the server has is what this agent last wrote (or nothing yet). */
    if (!p->status_sent) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(obj, "status");
        if (st && cJSON_GetObjectItemCaseSensitive(st, "containerStatuses"))
            p->status_sent = cJSON_PrintUnformatted(st);
    }
    if (a->listed)
        minik_agent_pod_kick(a, p);
}

static void watch_again(struct minik_agent *a);

static int on_event(const char *type, const cJSON *object, void *ud)
{
    struct minik_agent *a = ud;
    const char *rv = meta_str(object, "resourceVersion");
    if (strcmp(type, "ERROR") == 0) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(object, "code");
        if (cJSON_IsNumber(code) && code->valueint == 410) {
            free(a->pods_rv);
            a->pods_rv = NULL; /* too old: list again */
        }
        return 1;
    }
    if (rv) {
        free(a->pods_rv);
        a->pods_rv = xstrdup(rv);
    }
    if (strcmp(type, "BOOKMARK") != 0)
        pod_seen(a, type, object);
    return 0;
}

static void retry_cb(uv_timer_t *t)
{
    struct minik_agent *a = t->data;
    if (a->silenced)
        return; /* minik_agent_hollow_silenced lists again when the node is back */
    if (a->pods_rv)
        watch_again(a);
    else
        minik_agent_pods_list(a);
}

static void on_watch_done(minik_watch_end_t how, const minik_error_t *err, void *ud)
{
    struct minik_agent *a = ud;
    a->watch = NULL;
    if (a->stopping || a->silenced || how == MINIK_WATCH_CANCELLED)
        return;
    if (err) {
        if (err->code == 410) {
            free(a->pods_rv);
            a->pods_rv = NULL;
        }
        minik_log_warn("pod watch failed; retrying", "error", err->msg, NULL);
    }
    /* Ended streams resume at once; failures wait a second (server restarting). */
    uv_timer_start(&a->retry_timer, retry_cb, err ? 1000 : 0, 0);
}

static void watch_again(struct minik_agent *a)
{
    cleanup_free char *sel = xasprintf("spec.nodeName=%s", a->node_name);
    cleanup_free char *esc = minik_client_escape(sel);
    cleanup_free char *path = xasprintf("/api/v1/pods?watch=1&allowWatchBookmarks=true&"
                                        "fieldSelector=%s&resourceVersion=%s",
                                        esc, a->pods_rv);
    a->watch = minik_client_uv_watch(a->cuv, a->client, path, on_event, on_watch_done, a);
    if (!a->watch)
        uv_timer_start(&a->retry_timer, retry_cb, 1000, 0);
}

static void on_list(const cJSON *reply, const minik_error_t *err, void *ud)
{
    struct minik_agent *a = ud;
    if (a->stopping || a->silenced)
        return;
    if (err) {
        minik_log_warn("listing pods failed; retrying", "error", err->msg, NULL);
        uv_timer_start(&a->retry_timer, retry_cb, 1000, 0);
        return;
    }
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(reply, "items");
    /* Pods known locally but not in the list were deleted while we were away. */
    for (agent_pod_t *p = a->pods; p; p = p->next) {
        bool found = false;
        const cJSON *it;
        cJSON_ArrayForEach(it, items)
        {
            if (minik_str_eq(meta_str(it, "uid"), p->uid))
                found = true;
        }
        if (!found)
            p->deleted = true;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        pod_seen(a, "ADDED", it);
    }
    free(a->pods_rv);
    const char *rv = meta_str(reply, "resourceVersion");
    a->pods_rv = xstrdup(rv ? rv : "0");
    a->listed = true;
    for (agent_pod_t *p = a->pods; p; p = p->next)
        minik_agent_pod_kick(a, p);
    watch_again(a);
}

void minik_agent_pods_list(struct minik_agent *a)
{
    cleanup_free char *sel = xasprintf("spec.nodeName=%s", a->node_name);
    cleanup_free char *esc = minik_client_escape(sel);
    cleanup_free char *path = xasprintf("/api/v1/pods?fieldSelector=%s", esc);
    minik_error_t *err = NULL;
    if (minik_client_uv_request(a->cuv, a->client, "GET", path, NULL, NULL, on_list, a, &err) < 0) {
        minik_log_warn("cannot list pods", "error", err->msg, NULL);
        minik_error_free(err);
        uv_timer_start(&a->retry_timer, retry_cb, 1000, 0);
    }
}
