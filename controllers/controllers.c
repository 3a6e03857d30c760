/* The controllers' shell: one store watch over every kind dispatches keys to the
 * per-controller work queues; writes go through minik_store_submit with the key held. */
#include "controllers/controllers.h"

#include <stdlib.h>
#include <string.h>

#include "controllers/internal.h"
#include "lib/log.h"
#include "lib/xalloc.h"

typedef struct write_ctx {
    minik_controllers_t *c;
    minik_wq_t *q;
    char *key;
} write_ctx_t;

static void maybe_release(minik_controllers_t *c)
{
    if (c->freeing && c->pending_writes == 0 && c->timer_closed)
        free(c);
}

static void write_done(int status, cJSON *result, minik_error_t *err, void *ud)
{
    write_ctx_t *w = ud;
    minik_controllers_t *c = w->c;
    c->pending_writes--;
    if (!c->freeing) {
        if (status < 0 && err && err->code == 409) {
            c->stats.conflicts++;
            minik_wq_add_rate_limited(w->q, w->key);
        } else if (status < 0 && err && err->code != 404) {
            minik_log_warn("controllers: write failed", "key", w->key, "error", err->msg, NULL);
            minik_wq_add_rate_limited(w->q, w->key);
        }
        minik_wq_release(w->q, w->key);
    }
    cJSON_Delete(result);
    minik_error_free(err);
    free(w->key);
    free(w);
    maybe_release(c);
}

void minik_ctl_write(minik_controllers_t *c, minik_wq_t *q, const char *key, minik_store_op_t op,
                     cJSON *obj)
{
    write_ctx_t *w = xcalloc(1, sizeof(*w));
    w->c = c;
    w->q = q;
    w->key = xstrdup(key);
    minik_wq_hold(q, key);
    c->pending_writes++;
    if (c->pending_writes > c->stats.max_writes_in_flight)
        c->stats.max_writes_in_flight = c->pending_writes;
    c->stats.writes++;
    minik_store_submit(c->store, op, obj, write_done, w);
}

void minik_ctl_update_if_changed(minik_controllers_t *c, minik_wq_t *q, const char *key,
                                 const cJSON *orig, cJSON *upd)
{
    if (!cJSON_Compare(upd, orig, 1))
        minik_ctl_write(c, q, key, MINIK_STORE_OP_UPDATE, upd);
    else
        cJSON_Delete(upd);
}

void minik_ctl_delete(minik_controllers_t *c, minik_wq_t *q, const char *key, const char *kind,
                      const char *ns, const char *name, const char *rv)
{
    cJSON *id = cJSON_CreateObject();
    cJSON_AddStringToObject(id, "kind", kind);
    cJSON *md = cJSON_AddObjectToObject(id, "metadata");
    cJSON_AddStringToObject(md, "namespace", ns ? ns : "");
    cJSON_AddStringToObject(md, "name", name);
    if (rv)
        cJSON_AddStringToObject(md, "resourceVersion", rv);
    minik_ctl_write(c, q, key, MINIK_STORE_OP_DELETE, id);
}

/* Queue the controller of an owned object (a Pod's ReplicaSet, DaemonSet or Job; a
 * ReplicaSet's Deployment). */
static void queue_owner(minik_controllers_t *c, const cJSON *obj)
{
    const cJSON *ref = minik_ctl_controller_ref(obj);
    const char *kind = minik_ctl_str(ref, "kind");
    const char *name = minik_ctl_str(ref, "name");
    if (!kind || !name)
        return;
    minik_wq_t *q = strcmp(kind, "ReplicaSet") == 0   ? c->rs_q
                    : strcmp(kind, "Deployment") == 0 ? c->deploy_q
                    : strcmp(kind, "DaemonSet") == 0  ? c->ds_q
                    : strcmp(kind, "Job") == 0        ? c->job_q
                    : strcmp(kind, "CronJob") == 0    ? c->cj_q
                                                      : NULL;
    if (!q)
        return;
    char *key = minik_ctl_key(minik_ctl_str(obj, "metadata.namespace"), name);
    /* An owner with thousands of pods would otherwise re-list them on every bind and
     * status write of each one. */
    if (strcmp(minik_ctl_str(obj, "kind") ? minik_ctl_str(obj, "kind") : "", "Pod") == 0)
        minik_wq_add_paced(q, key);
    else
        minik_wq_add(q, key);
    free(key);
}

static void ds_key_observe(minik_controllers_t *c, minik_store_event_type_t type, const cJSON *ds)
{
    char *key =
        minik_ctl_key(minik_ctl_str(ds, "metadata.namespace"), minik_ctl_str(ds, "metadata.name"));
    if (type == MINIK_STORE_DELETED)
        minik_strmap_del(&c->ds_keys, key);
    else
        minik_strmap_put(&c->ds_keys, key, c); /* a set: any non-NULL value */
    free(key);
}

static void queue_ds_key(const char *key, void *value, void *ud)
{
    (void)value;
    minik_wq_add(ud, key);
}

static void queue_all(minik_controllers_t *c, const char *kind, minik_wq_t *q)
{
    cJSON *items = NULL;
    minik_error_t *err = NULL;
    if (minik_store_list(c->store, kind, NULL, NULL, NULL, &items, NULL, &err) < 0) {
        minik_log_warn("controllers: list failed", "kind", kind, "error", err->msg, NULL);
        minik_error_free(err);
        return;
    }
    if (strcmp(kind, "Pod") == 0)
        minik_podindex_resync(&c->pods, items);
    else if (strcmp(kind, "Node") == 0)
        minik_nodecache_resync(&c->node_cache, items);
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        if (q) {
            char *key = minik_ctl_key(minik_ctl_str(it, "metadata.namespace"),
                                      minik_ctl_str(it, "metadata.name"));
            minik_wq_add(q, key);
            free(key);
        }
        if (strcmp(kind, "Node") == 0)
            minik_nodes_observe(c, MINIK_STORE_ADDED, it);
        else if (strcmp(kind, "DaemonSet") == 0)
            ds_key_observe(c, MINIK_STORE_ADDED, it);
        else if (strcmp(kind, "Service") == 0)
            minik_endpoints_service_observe(c, MINIK_STORE_ADDED, it);
        if (minik_ctl_get(it, "metadata.ownerReferences"))
            minik_gc_observe(c, it);
    }
    cJSON_Delete(items);
}

static void on_event(const minik_store_event_t *ev, void *ud)
{
    minik_controllers_t *c = ud;
    const cJSON *obj = ev->object;
    const char *kind = minik_ctl_str(obj, "kind");
    if (!kind || c->freeing)
        return;
    char *key = minik_ctl_key(minik_ctl_str(obj, "metadata.namespace"),
                              minik_ctl_str(obj, "metadata.name"));
    if (strcmp(kind, "Deployment") == 0)
        minik_wq_add(c->deploy_q, key);
    else if (strcmp(kind, "ReplicaSet") == 0)
        minik_wq_add(c->rs_q, key);
    else if (strcmp(kind, "DaemonSet") == 0) {
        ds_key_observe(c, ev->type, obj);
        minik_wq_add(c->ds_q, key);
    } else if (strcmp(kind, "Job") == 0)
        minik_wq_add(c->job_q, key);
    else if (strcmp(kind, "CronJob") == 0)
        minik_wq_add(c->cj_q, key);
    else if (strcmp(kind, "Node") == 0) {
        minik_nodes_observe(c, ev->type, obj);
        minik_nodecache_observe(&c->node_cache, ev->type, obj);
        /* Every DaemonSet may gain or lose a pod when a node comes, goes or changes; the
         * set of them is kept from the feed, not listed per node event. */
        minik_strmap_foreach(&c->ds_keys, queue_ds_key, c->ds_q);
    } else if (strcmp(kind, "Service") == 0) {
        minik_endpoints_service_observe(c, ev->type, obj);
        minik_wq_add(c->ep_q, key);
    } else if (strcmp(kind, "Endpoints") == 0 && ev->type == MINIK_STORE_DELETED)
        minik_wq_add(c->ep_q, key); /* put back if its Service still selects pods */
    else if (strcmp(kind, "Pod") == 0) {
        minik_podindex_observe(&c->pods, ev->type, obj);
        minik_endpoints_pod_changed(c, obj);
    }
    free(key);
    queue_owner(c, obj);
    if (ev->type == MINIK_STORE_DELETED)
        minik_gc_owner_deleted(c, obj);
    else if (ev->type == MINIK_STORE_ADDED && minik_ctl_get(obj, "metadata.ownerReferences"))
        minik_gc_observe(c, obj); /* an owner may be gone already */
}

int minik_controllers_new(minik_store_t *store, uv_loop_t *loop,
                          const minik_controllers_opts_t *opts, minik_controllers_t **out,
                          minik_error_t **err)
{
    minik_controllers_t *c = xcalloc(1, sizeof(*c));
    c->store = store;
    c->loop = loop;
    if (opts)
        c->opts = *opts;
    if (!c->opts.node_grace_ms)
        c->opts.node_grace_ms = 5000;
    if (!c->opts.pod_eviction_ms)
        c->opts.pod_eviction_ms = 10000;
    if (!c->opts.gc_delay_ms)
        c->opts.gc_delay_ms = 100;
    c->nodes.ctl = c;
    c->nodes.grace_ms = c->opts.node_grace_ms;
    c->deploy_q = minik_wq_new(loop, "deployment", minik_deployment_sync, c);
    c->rs_q = minik_wq_new(loop, "replicaset", minik_replicaset_sync, c);
    c->ds_q = minik_wq_new(loop, "daemonset", minik_daemonset_sync, c);
    c->job_q = minik_wq_new(loop, "job", minik_job_sync, c);
    c->cj_q = minik_wq_new(loop, "cronjob", minik_cronjob_sync, c);
    c->gc_q = minik_wq_new(loop, "gc", minik_gc_sync, c);
    c->node_q = minik_wq_new(loop, "node", minik_node_sync, c);
    c->ep_q = minik_wq_new(loop, "endpoints", minik_endpoints_sync, c);
    uv_timer_init(loop, &c->node_timer);
    c->node_timer.data = c;
    *out = c;
    (void)err;
    return 0;
}

int minik_controllers_start(minik_controllers_t *c, minik_error_t **err)
{
    if (minik_store_watch(c->store, NULL, NULL, NULL, NULL, 0, on_event, c, &c->watch, err) < 0)
        return minik_error_wrap(err, "controllers: watch");
    c->started = true;
    queue_all(c, "Node", c->node_q);
    queue_all(c, "Deployment", c->deploy_q);
    queue_all(c, "ReplicaSet", c->rs_q);
    queue_all(c, "DaemonSet", c->ds_q);
    queue_all(c, "Job", c->job_q);
    queue_all(c, "CronJob", c->cj_q);
    queue_all(c, "Pod", NULL);
    /* Every Service, and every Endpoints object (one whose Service is gone is deleted). */
    queue_all(c, "Service", c->ep_q);
    queue_all(c, "Endpoints", c->ep_q);
    return 0;
}

minik_nodes_t *minik_controllers_nodes(minik_controllers_t *c)
{
    return &c->nodes;
}

void minik_controllers_get_stats(const minik_controllers_t *c, minik_controllers_stats_t *out)
{
    *out = c->stats;
    out->reconciles = minik_wq_processed(c->deploy_q) + minik_wq_processed(c->rs_q) +
                      minik_wq_processed(c->ds_q) + minik_wq_processed(c->job_q) +
                      minik_wq_processed(c->cj_q) + minik_wq_processed(c->gc_q) +
                      minik_wq_processed(c->node_q) + minik_wq_processed(c->ep_q);
}

static void timer_closed(uv_handle_t *h)
{
    minik_controllers_t *c = h->data;
    c->timer_closed = true;
    maybe_release(c);
}

void minik_controllers_free(minik_controllers_t *c)
{
    if (!c)
        return;
    c->freeing = true;
    minik_store_unwatch(c->watch);
    c->watch = NULL;
    minik_wq_free(c->deploy_q);
    minik_wq_free(c->rs_q);
    minik_wq_free(c->ds_q);
    minik_wq_free(c->job_q);
    minik_wq_free(c->cj_q);
    minik_wq_free(c->gc_q);
    minik_wq_free(c->node_q);
    minik_wq_free(c->ep_q);
    minik_nodes_clear(&c->nodes);
    minik_podindex_clear(&c->pods);
    minik_nodecache_clear(&c->node_cache);
    minik_strmap_clear(&c->ds_keys);
    minik_endpoints_services_clear(c);
    minik_strmap_clear(&c->gc_owners);
    uv_close((uv_handle_t *)&c->node_timer, timer_closed);
}
