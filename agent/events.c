/* Events about pods (Pulling, Pulled, Created, Started, Killing, BackOff, Failed, ...),
 * as the kubelet reports them: built by the pod job, posted from the loop. A failed post
 * is logged and dropped — events are best effort, as in Kubernetes. */
#include <stdarg.h>
#include <stdio.h>

#include "agent/internal.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/xalloc.h"

void minik_agent_event_add(cJSON *events, const char *type, const char *reason,
                           const char *field_path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "type", type);
    cJSON_AddStringToObject(e, "reason", reason);
    cJSON_AddStringToObject(e, "message", msg);
    if (field_path)
        cJSON_AddStringToObject(e, "fieldPath", field_path);
    cJSON_AddItemToArray(events, e);
}

static void posted(const cJSON *reply, const minik_error_t *err, void *ud)
{
    (void)reply;
    (void)ud;
    if (err)
        minik_log_debug("event not recorded", "error", err->msg, NULL);
}

void minik_agent_events_post(struct minik_agent *a, const agent_pod_t *p, cJSON *events)
{
    const cJSON *e;
    cleanup_free char *now = minik_agent_now_rfc3339();
    cleanup_free char *path = xasprintf("/api/v1/namespaces/%s/events", p->ns);
    cJSON_ArrayForEach(e, events)
    {
        cleanup_cjson cJSON *ev = cJSON_CreateObject();
        cJSON_AddStringToObject(ev, "apiVersion", "v1");
        cJSON_AddStringToObject(ev, "kind", "Event");
        cJSON *md = cJSON_AddObjectToObject(ev, "metadata");
        cleanup_free char *gen = xasprintf("%s.", p->name);
        cJSON_AddStringToObject(md, "generateName", gen);
        cJSON_AddStringToObject(md, "namespace", p->ns);
        cJSON *io = cJSON_AddObjectToObject(ev, "involvedObject");
        cJSON_AddStringToObject(io, "apiVersion", "v1");
        cJSON_AddStringToObject(io, "kind", "Pod");
        cJSON_AddStringToObject(io, "name", p->name);
        cJSON_AddStringToObject(io, "namespace", p->ns);
        cJSON_AddStringToObject(io, "uid", p->uid);
        const cJSON *fp = cJSON_GetObjectItemCaseSensitive(e, "fieldPath");
        if (cJSON_IsString(fp))
            cJSON_AddStringToObject(io, "fieldPath", fp->valuestring);
        const char *keys[] = {"type", "reason", "message"};
        for (int i = 0; i < 3; i++)
            cJSON_AddItemToObject(ev, keys[i],
                                  cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(e, keys[i]), 1));
        cJSON *src = cJSON_AddObjectToObject(ev, "source");
        cJSON_AddStringToObject(src, "component", "kubelet");
        cJSON_AddStringToObject(src, "host", a->node_name);
        cJSON_AddStringToObject(ev, "firstTimestamp", now);
        cJSON_AddStringToObject(ev, "lastTimestamp", now);
        cJSON_AddNumberToObject(ev, "count", 1);
        minik_error_t *err = NULL;
        if (minik_client_uv_request(a->cuv, a->client, "POST", path, NULL, ev, posted, NULL, &err) <
            0) {
            minik_log_debug("event not sent", "error", err->msg, NULL);
            minik_error_free(err);
        }
    }
}
