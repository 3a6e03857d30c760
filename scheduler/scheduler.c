/* The scheduling loop: cache maintenance from the change feed, the FIFO and unschedulable
 * queues, assume-then-bind, and status updates. Placement itself is algorithm.c. */
#include "scheduler/scheduler.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/timestamp.h"
#include "lib/xalloc.h"
#include "scheduler/algorithm.h"
#include "scheduler/owners.h"
#include "scheduler/snapshot.h"
#include "lib/strmap.h"

#define DEFAULT_BATCH 512
#define MAX_SLICE_MS  20 /* longest run of scheduling per loop iteration */

typedef enum pod_state {
    POD_IGNORED,       /* not ours to place: finished, terminating, other scheduler */
    POD_ACTIVE,        /* in the FIFO */
    POD_UNSCHEDULABLE, /* parked until the cluster changes */
    POD_BINDING,       /* assumed on a node, bind write in flight */
    POD_ASSIGNED,      /* spec.nodeName is set in the store */
} pod_state_t;

typedef struct entry entry_t;
struct entry {
    char *key; /* "ns/name" */
    minik_sched_pod_t *pod;
    pod_state_t state;
    minik_sched_node_t *node; /* the node the pod is accounted on, or NULL */
    entry_t *prev, *next;     /* links in the active or unschedulable list */
    char *reported;           /* unschedulable message last written to the store */
    bool orphan;              /* bound to a node the cache does not know (yet) */
};

typedef struct list {
    entry_t *head, *tail;
    size_t len;
} list_t;

struct minik_scheduler {
    minik_store_t *store;
    uv_loop_t *loop;
    minik_scheduler_opts_t opts;
    minik_sched_algo_t algo;

    uv_idle_t idle; /* runs scheduling batches while the active queue is non-empty */
    bool idle_active;
    bool closing;
    bool handle_closed;
    size_t inflight; /* store writes whose callback has not run yet */

    minik_store_watch_t *node_watch, *pod_watch;

    minik_strmap_t nodes; /* name -> minik_sched_node_t */
    minik_strmap_t pods;  /* "ns/name" -> entry_t */
    minik_sched_node_t **snap_nodes;
    size_t n_snap_nodes;
    bool snap_dirty;
    size_t term_pods;            /* accounted pods with inter-pod (anti-)affinity terms */
    size_t orphans;              /* entries with orphan set: a new node only scans pods if any */
    minik_sched_owners_t owners; /* accounted pods per controller owner, per zone */

    list_t active, unschedulable;
    minik_scheduler_stats_t stats;
};

/* ---- lists -------------------------------------------------------------------------- */

static void list_push(list_t *l, entry_t *e)
{
    e->next = NULL;
    e->prev = l->tail;
    if (l->tail)
        l->tail->next = e;
    else
        l->head = e;
    l->tail = e;
    l->len++;
}

static void list_remove(list_t *l, entry_t *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        l->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        l->tail = e->prev;
    e->prev = e->next = NULL;
    l->len--;
}

static void dequeue(minik_scheduler_t *s, entry_t *e)
{
    if (e->state == POD_ACTIVE)
        list_remove(&s->active, e);
    else if (e->state == POD_UNSCHEDULABLE)
        list_remove(&s->unschedulable, e);
}

static void on_idle(uv_idle_t *h);

static void kick(minik_scheduler_t *s)
{
    if (s->closing || s->idle_active || s->active.len == 0)
        return;
    uv_idle_start(&s->idle, on_idle);
    s->idle_active = true;
}

static void enqueue(minik_scheduler_t *s, entry_t *e)
{
    dequeue(s, e);
    e->state = POD_ACTIVE;
    list_push(&s->active, e);
    kick(s);
}

/* Something that can make waiting pods fit happened: retry them all, in arrival order. */
static void cluster_changed(minik_scheduler_t *s)
{
    entry_t *e;
    while ((e = s->unschedulable.head) != NULL) {
        list_remove(&s->unschedulable, e);
        e->state = POD_ACTIVE;
        list_push(&s->active, e);
    }
    kick(s);
}

/* ---- accounting --------------------------------------------------------------------- */

static void account(minik_scheduler_t *s, entry_t *e, minik_sched_node_t *node)
{
    e->node = node;
    if (!node) {
        if (e->state == POD_ASSIGNED && !e->orphan) {
            e->orphan = true;
            s->orphans++;
        }
        return;
    }
    /* The owner group first: the node counts its pods per group. */
    if (e->pod->owner_uid)
        minik_sched_owners_add(&s->owners, e->pod, node->zone);
    minik_sched_node_add_pod(node, e->pod);
    if (minik_sched_pod_has_pod_terms(e->pod))
        s->term_pods++;
}

/* Returns true if resources were released. */
static bool unaccount(minik_scheduler_t *s, entry_t *e)
{
    if (e->orphan) {
        e->orphan = false;
        s->orphans--;
    }
    if (!e->node)
        return false;
    minik_sched_node_remove_pod(e->node, e->pod);
    if (e->pod->owner_uid)
        minik_sched_owners_remove(&s->owners, e->pod, e->node->zone);
    if (minik_sched_pod_has_pod_terms(e->pod))
        s->term_pods--;
    e->node = NULL;
    return true;
}

static void entry_free(entry_t *e)
{
    if (!e)
        return;
    minik_sched_pod_free(e->pod);
    free(e->reported);
    free(e->key);
    free(e);
}

/* ---- readiness ---------------------------------------------------------------------- */

static bool condition_ready(const cJSON *node)
{
    const cJSON *conds = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(node, "status"), "conditions");
    const cJSON *c;
    cJSON_ArrayForEach(c, conds)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(c, "type");
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(c, "status");
        if (cJSON_IsString(type) && strcmp(type->valuestring, "Ready") == 0)
            return cJSON_IsString(status) && strcmp(status->valuestring, "True") == 0;
    }
    return false;
}

static bool ask_ready(minik_scheduler_t *s, const char *name, const cJSON *node)
{
    if (s->opts.node_ready)
        return s->opts.node_ready(name, node, s->opts.node_ready_ud);
    return condition_ready(node);
}

/* ---- change feed: nodes ------------------------------------------------------------- */

typedef struct attach_ctx {
    minik_scheduler_t *s;
    minik_sched_node_t *node;
} attach_ctx_t;

/* Pods bound to a node the cache did not know yet (or any more) join it when it appears. */
static void attach_orphan(const char *key, void *value, void *ud)
{
    attach_ctx_t *a = ud;
    entry_t *e = value;
    if (e->orphan && e->pod->node_name && strcmp(e->pod->node_name, a->node->name) == 0) {
        unaccount(a->s, e);
        account(a->s, e, a->node);
    }
}

typedef struct detach_ctx {
    minik_scheduler_t *s;
    minik_sched_node_t *node;
} detach_ctx_t;

static void detach_pod(const char *key, void *value, void *ud)
{
    detach_ctx_t *d = ud;
    entry_t *e = value;
    if (e->node == d->node) {
        unaccount(d->s, e);
        /* A bound pod waits for its node to come back (or for its owner to replace it);
         * an assumed one keeps its bind in flight and is handled by its outcome. */
        account(d->s, e, NULL);
    }
}

static bool str_eq_nullable(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* A node's zone label changed: its pods now count for the new zone in owner spreading. */
static void move_zone(minik_scheduler_t *s, minik_sched_node_t *node, const char *old_zone)
{
    for (size_t i = 0; i < node->n_pods; i++) {
        minik_sched_pod_t *p = node->pods[i];
        if (!p->owner_uid)
            continue;
        minik_sched_owners_move(&s->owners, p, old_zone, node->zone);
    }
}

static void on_node_event(const minik_store_event_t *ev, void *ud)
{
    minik_scheduler_t *s = ud;
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(ev->object, "metadata"), "name"));
    if (!name)
        return;
    minik_sched_node_t *node = minik_strmap_get(&s->nodes, name);
    if (ev->type == MINIK_STORE_DELETED) {
        if (!node)
            return;
        detach_ctx_t d = {s, node};
        minik_strmap_foreach(&s->pods, detach_pod, &d);
        minik_strmap_del(&s->nodes, name);
        minik_sched_node_free(node);
        s->snap_dirty = true;
        return;
    }
    bool ready = ask_ready(s, name, ev->object);
    cleanup_error minik_error_t *err = NULL;
    if (node) {
        /* The zone points into the node's object, which the update replaces. */
        cleanup_free char *old_zone = node->zone ? xstrdup(node->zone) : NULL;
        if (minik_sched_node_update(node, ev->object, ready, &err) < 0) {
            minik_log_warn("scheduler: node ignored", "node", name, "error", err->msg, NULL);
            return;
        }
        if (!str_eq_nullable(old_zone, node->zone))
            move_zone(s, node, old_zone);
    } else {
        if (minik_sched_node_new(ev->object, ready, &node, &err) < 0) {
            minik_log_warn("scheduler: node ignored", "node", name, "error", err->msg, NULL);
            return;
        }
        minik_strmap_put(&s->nodes, node->name, node);
        attach_ctx_t a = {s, node};
        if (s->orphans > 0)
            minik_strmap_foreach(&s->pods, attach_orphan, &a);
        s->snap_dirty = true;
    }
    cluster_changed(s);
}

/* ---- change feed: pods -------------------------------------------------------------- */

static char *pod_key(const minik_sched_pod_t *p)
{
    return xasprintf("%s/%s", p->ns, p->name);
}

static bool ours(const minik_sched_pod_t *p)
{
    return strcmp(p->scheduler_name, MINIK_DEFAULT_SCHEDULER_NAME) == 0;
}

/* Did the part of the pod that placement reads change? (Our own status writes must not
 * retry a parked pod, or an unschedulable pod would loop.) */
static bool placement_changed(const minik_sched_pod_t *a, const minik_sched_pod_t *b)
{
    const cJSON *sa = cJSON_GetObjectItemCaseSensitive(a->obj, "spec");
    const cJSON *sb = cJSON_GetObjectItemCaseSensitive(b->obj, "spec");
    if (!cJSON_Compare(sa, sb, true))
        return true;
    if (!(a->labels == NULL && b->labels == NULL) &&
        (a->labels == NULL || b->labels == NULL || !cJSON_Compare(a->labels, b->labels, true)))
        return true;
    return false;
}

static void remove_pod(minik_scheduler_t *s, const char *key)
{
    entry_t *e = minik_strmap_del(&s->pods, key);
    if (!e)
        return;
    dequeue(s, e);
    bool freed = unaccount(s, e);
    entry_free(e);
    if (freed)
        cluster_changed(s);
}

static void on_pod_event(const minik_store_event_t *ev, void *ud)
{
    minik_scheduler_t *s = ud;
    minik_sched_pod_t *p = NULL;
    cleanup_error minik_error_t *err = NULL;
    if (minik_sched_pod_new(ev->object, &p, &err) < 0) {
        minik_log_warn("scheduler: pod ignored", "error", err->msg, NULL);
        return;
    }
    cleanup_free char *key = pod_key(p);
    if (ev->type == MINIK_STORE_DELETED) {
        minik_sched_pod_free(p);
        remove_pod(s, key);
        return;
    }
    entry_t *e = minik_strmap_get(&s->pods, key);
    bool is_new = e == NULL;
    if (is_new) {
        e = xcalloc(1, sizeof(*e));
        e->key = xstrdup(key);
        e->state = POD_IGNORED;
        minik_strmap_put(&s->pods, key, e);
    } else if (e->pod && strcmp(e->pod->uid, p->uid) != 0) {
        /* Deleted and re-created under the same name between two events we saw. */
        free(e->reported);
        e->reported = NULL;
    }
    minik_sched_pod_t *old = e->pod;
    minik_sched_node_t *was_on = e->node;
    bool released = unaccount(s, e);
    bool changed = !old || placement_changed(old, p);
    e->pod = p;

    if (p->finished || (!p->node_name && (p->terminating || !ours(p)))) {
        /* Holds nothing (finished) or is not ours to place. */
        dequeue(s, e);
        e->state = POD_IGNORED;
        minik_sched_pod_free(old);
        if (released)
            cluster_changed(s);
        return;
    }
    if (p->node_name) {
        dequeue(s, e);
        e->state = POD_ASSIGNED;
        minik_sched_node_t *node = minik_strmap_get(&s->nodes, p->node_name);
        account(s, e, node);
        minik_sched_pod_free(old);
        /* A pod that moved off a node (or shrank) may make room for waiting ones. */
        if (released && node != was_on)
            cluster_changed(s);
        return;
    }
    /* Pending. */
    switch (e->state) {
    case POD_BINDING:
        /* Changed while our bind is in flight: keep the assumption with the new requests;
         * the bind will fail its resourceVersion check and the pod is retried. */
        if (was_on) {
            free(p->assumed_node);
            p->assumed_node = xstrdup(was_on->name);
        }
        account(s, e, was_on);
        break;
    case POD_UNSCHEDULABLE:
        if (changed)
            enqueue(s, e);
        break;
    case POD_ACTIVE:
        break;
    case POD_IGNORED:
    case POD_ASSIGNED:
        enqueue(s, e);
        break;
    }
    minik_sched_pod_free(old);
}

/* ---- writes --------------------------------------------------------------------------- */

typedef struct write_req {
    minik_scheduler_t *s;
    char *key;
    char *uid;
    char *message; /* status writes: the message written */
} write_req_t;

static write_req_t *write_req_new(minik_scheduler_t *s, const entry_t *e, const char *message)
{
    write_req_t *w = xcalloc(1, sizeof(*w));
    w->s = s;
    w->key = xstrdup(e->key);
    w->uid = xstrdup(e->pod->uid);
    w->message = message ? xstrdup(message) : NULL;
    s->inflight++;
    return w;
}

static void write_req_free(write_req_t *w)
{
    free(w->key);
    free(w->uid);
    free(w->message);
    free(w);
}

static void maybe_destroy(minik_scheduler_t *s);

/* Set status.conditions[type=PodScheduled] in `obj`, keeping lastTransitionTime when the
 * status does not change. */
static void set_condition(cJSON *obj, const char *status, const char *reason, const char *message)
{
    cJSON *st = cJSON_GetObjectItemCaseSensitive(obj, "status");
    if (!cJSON_IsObject(st)) {
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "status");
        st = cJSON_AddObjectToObject(obj, "status");
    }
    if (!cJSON_GetObjectItemCaseSensitive(st, "phase"))
        cJSON_AddStringToObject(st, "phase", "Pending");
    cJSON *conds = cJSON_GetObjectItemCaseSensitive(st, "conditions");
    if (!cJSON_IsArray(conds)) {
        cJSON_DeleteItemFromObjectCaseSensitive(st, "conditions");
        conds = cJSON_AddArrayToObject(st, "conditions");
    }
    char now[MINIK_TIMESTAMP_LEN];
    minik_timestamp_format(time(NULL), now);
    int idx = 0, found = -1;
    const char *ltt = now;
    cJSON *it;
    cJSON_ArrayForEach(it, conds)
    {
        if (minik_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "type")),
                         "PodScheduled")) {
            found = idx;
            const char *old = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "status"));
            const char *t =
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "lastTransitionTime"));
            if (minik_str_eq(old, status) && t)
                ltt = t;
            break;
        }
        idx++;
    }
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "type", "PodScheduled");
    cJSON_AddStringToObject(c, "status", status);
    cJSON_AddStringToObject(c, "lastProbeTime", now);
    cJSON_AddStringToObject(c, "lastTransitionTime", ltt);
    if (reason)
        cJSON_AddStringToObject(c, "reason", reason);
    if (message)
        cJSON_AddStringToObject(c, "message", message);
    if (found >= 0)
        cJSON_ReplaceItemInArray(conds, found, c); /* frees the old one; ltt was copied */
    else
        cJSON_AddItemToArray(conds, c);
}

static void on_bound(int status, cJSON *result, minik_error_t *err, void *ud)
{
    write_req_t *w = ud;
    minik_scheduler_t *s = w->s;
    s->inflight--;
    if (status == 0) {
        s->stats.bound++;
    } else if (!s->closing) {
        s->stats.bind_errors++;
        entry_t *e = minik_strmap_get(&s->pods, w->key);
        /* Still our assumption for the same pod: forget it and try again. (A conflict
         * means the pod changed; the change is already in the cache.) */
        if (e && e->state == POD_BINDING && strcmp(e->pod->uid, w->uid) == 0) {
            minik_log_debug("scheduler: bind failed, retrying", "pod", w->key, "error",
                            err ? err->msg : "", NULL);
            bool released = unaccount(s, e);
            free(e->pod->assumed_node);
            e->pod->assumed_node = NULL;
            e->state = POD_IGNORED;
            enqueue(s, e);
            if (released)
                cluster_changed(s);
        }
    }
    cJSON_Delete(result);
    minik_error_free(err);
    write_req_free(w);
    maybe_destroy(s);
}

static void bind_pod(minik_scheduler_t *s, entry_t *e, minik_sched_node_t *node)
{
    cJSON *obj = cJSON_Duplicate(e->pod->obj, true);
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    if (!cJSON_IsObject(spec)) {
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "spec");
        spec = cJSON_AddObjectToObject(obj, "spec");
    }
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "nodeName");
    cJSON_AddStringToObject(spec, "nodeName", node->name);
    set_condition(obj, "True", NULL, NULL);
    minik_store_submit(s->store, MINIK_STORE_OP_UPDATE, obj, on_bound, write_req_new(s, e, NULL));
}

static void on_reported(int status, cJSON *result, minik_error_t *err, void *ud)
{
    write_req_t *w = ud;
    minik_scheduler_t *s = w->s;
    s->inflight--;
    if (status < 0 && !s->closing) {
        entry_t *e = minik_strmap_get(&s->pods, w->key);
        /* The pod changed under the write (409). Forget what we think is reported and, if
         * it is still parked, try it again now: a change that did not touch its spec
         * (another writer's status update) would otherwise leave it without the
         * condition until the cluster changes. */
        if (e && e->reported && strcmp(e->reported, w->message) == 0) {
            free(e->reported);
            e->reported = NULL;
        }
        if (e && err && err->code == 409 && e->state == POD_UNSCHEDULABLE &&
            strcmp(e->pod->uid, w->uid) == 0)
            enqueue(s, e);
        minik_log_debug("scheduler: status update failed", "pod", w->key, "error",
                        err ? err->msg : "", NULL);
    }
    cJSON_Delete(result);
    minik_error_free(err);
    write_req_free(w);
    maybe_destroy(s);
}

static void report_unschedulable(minik_scheduler_t *s, entry_t *e, const char *message)
{
    if (e->reported && strcmp(e->reported, message) == 0)
        return;
    /* Already written by an earlier run of the scheduler? */
    const cJSON *conds = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(e->pod->obj, "status"), "conditions");
    const cJSON *c;
    cJSON_ArrayForEach(c, conds)
    {
        if (minik_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "type")),
                         "PodScheduled") &&
            minik_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "status")),
                         "False") &&
            minik_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "message")),
                         message)) {
            free(e->reported);
            e->reported = xstrdup(message);
            return;
        }
    }
    free(e->reported);
    e->reported = xstrdup(message);
    cJSON *obj = cJSON_Duplicate(e->pod->obj, true);
    set_condition(obj, "False", "Unschedulable", message);
    minik_store_submit(s->store, MINIK_STORE_OP_UPDATE, obj, on_reported,
                       write_req_new(s, e, message));
}

/* ---- scheduling ----------------------------------------------------------------------- */

static int cmp_node_name(const void *a, const void *b)
{
    const minik_sched_node_t *x = *(minik_sched_node_t *const *)a;
    const minik_sched_node_t *y = *(minik_sched_node_t *const *)b;
    return strcmp(x->name, y->name);
}

static void collect_node(const char *key, void *value, void *ud)
{
    minik_scheduler_t *s = ud;
    s->snap_nodes[s->n_snap_nodes++] = value;
}

static void refresh_snapshot(minik_scheduler_t *s)
{
    if (!s->snap_dirty)
        return;
    s->snap_nodes = xrealloc(s->snap_nodes, (s->nodes.len + 1) * sizeof(*s->snap_nodes));
    s->n_snap_nodes = 0;
    minik_strmap_foreach(&s->nodes, collect_node, s);
    qsort(s->snap_nodes, s->n_snap_nodes, sizeof(*s->snap_nodes), cmp_node_name);
    s->snap_dirty = false;
}

static void schedule_one(minik_scheduler_t *s, entry_t *e)
{
    refresh_snapshot(s);
    minik_sched_snapshot_t snap = {s->snap_nodes, s->n_snap_nodes, s->term_pods > 0, &s->owners};
    minik_sched_result_t r;
    s->stats.attempts++;
    if (minik_sched_schedule(&s->algo, &snap, e->pod, &r) == 0) {
        e->state = POD_BINDING;
        free(e->pod->assumed_node);
        e->pod->assumed_node = xstrdup(r.node->name);
        account(s, e, r.node);
        bind_pod(s, e, r.node);
        return;
    }
    s->stats.unschedulable++;
    e->state = POD_UNSCHEDULABLE;
    list_push(&s->unschedulable, e);
    minik_log_debug("scheduler: pod unschedulable", "pod", e->key, "reason", r.message, NULL);
    report_unschedulable(s, e, r.message);
    free(r.message);
}

static void on_idle(uv_idle_t *h)
{
    minik_scheduler_t *s = h->data;
    size_t batch = s->opts.batch ? s->opts.batch : DEFAULT_BATCH;
    /* The API server shares this loop: yield after a time slice even if the batch is not
     * done, so a burst of pods on a big cluster does not stall requests. */
    uint64_t deadline = uv_hrtime() + (uint64_t)MAX_SLICE_MS * 1000000u;
    for (size_t i = 0; i < batch && s->active.head; i++) {
        entry_t *e = s->active.head;
        list_remove(&s->active, e);
        e->state = POD_IGNORED;
        schedule_one(s, e);
        if ((i & 15) == 15 && uv_hrtime() > deadline)
            break;
    }
    if (s->active.len == 0 && s->idle_active) {
        uv_idle_stop(&s->idle);
        s->idle_active = false;
    }
}

/* ---- lifecycle ------------------------------------------------------------------------ */

int minik_scheduler_new(minik_store_t *store, uv_loop_t *loop, const minik_scheduler_opts_t *opts,
                        minik_scheduler_t **out, minik_error_t **err)
{
    if (!store || !loop)
        return minik_error_set(err, 0, "scheduler: a store and a loop are required");
    minik_scheduler_t *s = xcalloc(1, sizeof(*s));
    s->store = store;
    s->loop = loop;
    if (opts)
        s->opts = *opts;
    s->algo.policy = s->opts.policy;
    s->algo.percentage_of_nodes_to_score = s->opts.percentage_of_nodes_to_score;
    s->algo.rng = s->opts.seed;
    int r = uv_idle_init(loop, &s->idle);
    if (r < 0) {
        free(s);
        return minik_error_set(err, -r, "scheduler: uv_idle_init");
    }
    s->idle.data = s;
    s->snap_dirty = true;
    *out = s;
    return 0;
}

static int list_into(minik_scheduler_t *s, const char *kind, minik_store_watch_cb cb,
                     minik_store_watch_t **watch, minik_error_t **err)
{
    cleanup_cjson cJSON *items = NULL;
    int64_t rv = 0;
    int r = minik_store_list(s->store, kind, NULL, NULL, NULL, &items, &rv, err);
    if (r < 0)
        return minik_error_wrap(err, "scheduler: listing %s", kind);
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        minik_store_event_t ev = {MINIK_STORE_ADDED, rv, it};
        cb(&ev, s);
    }
    r = minik_store_watch(s->store, kind, NULL, NULL, NULL, rv, cb, s, watch, err);
    if (r < 0)
        return minik_error_wrap(err, "scheduler: watching %s", kind);
    return 0;
}

int minik_scheduler_start(minik_scheduler_t *s, minik_error_t **err)
{
    /* Nodes first, so that listed pods find the nodes they are bound to. */
    int r = list_into(s, "Node", on_node_event, &s->node_watch, err);
    if (r < 0)
        return r;
    r = list_into(s, "Pod", on_pod_event, &s->pod_watch, err);
    if (r < 0)
        return r;
    minik_log_info("scheduler started", "policy", minik_sched_policy_name(s->opts.policy), NULL);
    kick(s);
    return 0;
}

void minik_scheduler_node_ready_changed(minik_scheduler_t *s, const char *node_name)
{
    minik_sched_node_t *node = minik_strmap_get(&s->nodes, node_name);
    if (!node || s->closing)
        return;
    bool was = node->ready;
    node->ready = ask_ready(s, node->name, node->obj);
    if (node->ready && !was)
        cluster_changed(s);
}

void minik_scheduler_get_stats(const minik_scheduler_t *s, minik_scheduler_stats_t *out)
{
    *out = s->stats;
    out->pending = s->active.len;
    out->waiting = s->unschedulable.len;
    out->binding = s->inflight;
    out->nodes = s->nodes.len;
    out->pods = s->pods.len;
}

static void free_entry_cb(const char *key, void *value, void *ud)
{
    entry_free(value);
}

static void free_node_cb(const char *key, void *value, void *ud)
{
    minik_sched_node_free(value);
}

static void maybe_destroy(minik_scheduler_t *s)
{
    if (!s->closing || !s->handle_closed || s->inflight > 0)
        return;
    minik_strmap_foreach(&s->pods, free_entry_cb, NULL);
    minik_strmap_clear(&s->pods);
    minik_sched_owners_clear(&s->owners);
    minik_strmap_foreach(&s->nodes, free_node_cb, NULL);
    minik_strmap_clear(&s->nodes);
    free(s->snap_nodes);
    free(s);
}

static void on_closed(uv_handle_t *h)
{
    minik_scheduler_t *s = h->data;
    s->handle_closed = true;
    maybe_destroy(s);
}

void minik_scheduler_free(minik_scheduler_t *s)
{
    if (!s || s->closing)
        return;
    s->closing = true;
    minik_store_unwatch(s->node_watch);
    minik_store_unwatch(s->pod_watch);
    s->node_watch = s->pod_watch = NULL;
    uv_close((uv_handle_t *)&s->idle, on_closed);
}
