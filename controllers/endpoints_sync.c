/* The Endpoints controller: keeps one Endpoints object per Service with a selector (same
 * namespace and name) equal to what minik_endpoints_compute makes of the Service and the
 * pods of its namespace, and deletes it when the Service goes.
 *
 * Keys are Services ("ns/name"). A Service event queues its key; a Pod event queues every
 * Service with a selector in the pod's namespace (the pod may have joined or left a
 * selector, and the store event does not carry the old labels). Both the namespace's pods
 * (the controllers' pod index) and its Services with a selector (a set kept here) come from
 * the change feed, so neither a sync nor a pod event reads lists from the store. A deleted
 * Endpoints object queues its Service, so it comes back while the Service selects pods. Others'
 * writes to Endpoints are left alone, as Kubernetes does: a user may create the Endpoints of a
 * selector-less Service before the Service. At start every Service and every Endpoints object is
 * queued, so Endpoints left by a Service deleted while the server was down go. The work
 * queue coalesces bursts, and the sync writes only when the subsets (or labels) differ,
 * so a status write that changes nothing a Service cares about costs reads, no write. */
#include <stdlib.h>
#include <string.h>

#include "controllers/endpoints.h"
#include "controllers/internal.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/xalloc.h"

/* Equal as JSON, a missing member counting as an empty array or object. */
static bool same_or_empty(const cJSON *a, const cJSON *b)
{
    if (a && b)
        return cJSON_Compare(a, b, 1);
    const cJSON *x = a ? a : b;
    return !x || !x->child;
}

/* What the controller owns in an Endpoints object: subsets and labels. */
static bool same_endpoints(const cJSON *have, const cJSON *want)
{
    return same_or_empty(minik_ctl_get(have, "subsets"), minik_ctl_get(want, "subsets")) &&
           same_or_empty(minik_ctl_get(have, "metadata.labels"),
                         minik_ctl_get(want, "metadata.labels"));
}

void minik_endpoints_sync(const char *key, void *ud)
{
    minik_controllers_t *c = ud;
    char *ns, *name;
    minik_ctl_split_key(key, &ns, &name);
    cJSON *svc = NULL, *have = NULL, *pods = NULL, *want = NULL;
    minik_error_t *err = NULL;
    if (minik_store_get(c->store, "Endpoints", ns, name, &have, &err) < 0) {
        if (err->code != 404) {
            minik_log_warn("endpoints: read failed", "key", key, "error", err->msg, NULL);
            minik_wq_add_rate_limited(c->ep_q, key);
            goto out;
        }
        minik_error_clear(&err);
    }
    if (minik_store_get(c->store, "Service", ns, name, &svc, &err) < 0) {
        if (err->code != 404) {
            minik_log_warn("endpoints: read failed", "key", key, "error", err->msg, NULL);
            minik_wq_add_rate_limited(c->ep_q, key);
            goto out;
        }
        minik_error_clear(&err);
        /* The Service is gone: so are its Endpoints (as Kubernetes does). */
        if (have)
            minik_ctl_delete(c, c->ep_q, key, "Endpoints", ns, name,
                             minik_ctl_str(have, "metadata.resourceVersion"));
        goto done;
    }
    /* The namespace's pods from the watch-fed index: no store scan per Service sync. */
    pods = minik_podindex_namespace(&c->pods, ns);
    if (minik_endpoints_compute(svc, pods, &want, &err) < 0) {
        /* The apiserver validates selectors; a bad one here is old data: leave it. */
        minik_log_warn("endpoints: cannot compute", "key", key, "error", err->msg, NULL);
        goto done;
    }
    if (!want)
        goto done; /* no selector: the user's Endpoints, not ours */
    if (!have) {
        minik_ctl_write(c, c->ep_q, key, MINIK_STORE_OP_CREATE, steal_pointer(&want));
        goto done;
    }
    if (same_endpoints(have, want))
        goto done;
    /* Update in place, on the version read (409: read again and recompute). */
    cJSON *upd = cJSON_Duplicate(have, 1);
    cJSON *md = minik_ctl_obj(upd, "metadata");
    cJSON_DeleteItemFromObjectCaseSensitive(md, "labels");
    cJSON *labels =
        cJSON_DetachItemFromObjectCaseSensitive(minik_ctl_obj(want, "metadata"), "labels");
    if (labels)
        cJSON_AddItemToObject(md, "labels", labels);
    cJSON_DeleteItemFromObjectCaseSensitive(upd, "subsets");
    cJSON_AddItemToObject(upd, "subsets", cJSON_DetachItemFromObjectCaseSensitive(want, "subsets"));
    minik_ctl_write(c, c->ep_q, key, MINIK_STORE_OP_UPDATE, upd);
done:
    minik_wq_forget(c->ep_q, key);
out:
    minik_error_free(err);
    cJSON_Delete(svc);
    cJSON_Delete(have);
    cJSON_Delete(pods);
    cJSON_Delete(want);
    free(ns);
    free(name);
}

static bool has_selector(const cJSON *svc)
{
    const cJSON *sel = minik_ctl_get(svc, "spec.selector");
    return cJSON_IsObject(sel) && sel->child;
}

void minik_endpoints_service_observe(minik_controllers_t *c, minik_store_event_type_t type,
                                     const cJSON *svc)
{
    const char *name = minik_ctl_str(svc, "metadata.name");
    const char *ns = minik_ctl_str(svc, "metadata.namespace");
    if (!name)
        return;
    ns = ns ? ns : "";
    minik_strmap_t *names = minik_strmap_get(&c->selector_services, ns);
    if (type != MINIK_STORE_DELETED && has_selector(svc)) {
        if (!names) {
            names = xcalloc(1, sizeof(*names));
            minik_strmap_put(&c->selector_services, ns, names);
        }
        minik_strmap_put(names, name, c); /* a set: any non-NULL value */
        return;
    }
    if (!names)
        return;
    minik_strmap_del(names, name);
    if (names->len == 0) {
        minik_strmap_del(&c->selector_services, ns);
        minik_strmap_clear(names);
        free(names);
    }
}

static void free_names(const char *key, void *value, void *ud)
{
    (void)key;
    (void)ud;
    minik_strmap_clear(value);
    free(value);
}

void minik_endpoints_services_clear(minik_controllers_t *c)
{
    minik_strmap_foreach(&c->selector_services, free_names, NULL);
    minik_strmap_clear(&c->selector_services);
}

typedef struct queue_ctx {
    minik_controllers_t *c;
    const char *ns;
} queue_ctx_t;

static void queue_service(const char *name, void *value, void *ud)
{
    (void)value;
    queue_ctx_t *q = ud;
    char *key = minik_ctl_key(q->ns, name);
    minik_wq_add(q->c->ep_q, key);
    free(key);
}

/* The Services with a selector in the pod's namespace come from a set kept from the
 * feed: a pod event (thousands during a rollout) reads nothing from the store. */
void minik_endpoints_pod_changed(minik_controllers_t *c, const cJSON *pod)
{
    const char *ns = minik_ctl_str(pod, "metadata.namespace");
    queue_ctx_t q = {c, ns ? ns : ""};
    const minik_strmap_t *names = minik_strmap_get(&c->selector_services, q.ns);
    if (names)
        minik_strmap_foreach(names, queue_service, &q);
}
