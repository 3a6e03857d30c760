/* Node lifecycle: heartbeats in memory, one libuv timer armed at the next deadline (the
 * earliest heartbeat expiry), NotReady + unreachable taints, pod eviction after the
 * timeout, and the way back when heartbeats resume. */
#include "controllers/nodelifecycle.h"

#include <stdlib.h>
#include <string.h>

#include "controllers/internal.h"
#include "lib/log.h"
#include "lib/xalloc.h"

struct node_state {
    node_state_t *next;
    char *name;
    uint64_t last_hb; /* loop time of the last heartbeat (or first sight) */
    uint64_t not_ready_since;
    bool heartbeated; /* ever, since this server started */
    bool not_ready;   /* marked NotReady by us */
    char *hb_seen;    /* last status.conditions[Ready].lastHeartbeatTime seen */
};

static node_state_t *find(const minik_nodes_t *nodes, const char *name)
{
    return minik_strmap_get(&nodes->by_name, name);
}

static node_state_t *get(minik_nodes_t *nodes, const char *name, uint64_t now)
{
    node_state_t *n = find(nodes, name);
    if (n)
        return n;
    n = xcalloc(1, sizeof(*n));
    n->name = xstrdup(name);
    n->last_hb = now;
    n->next = nodes->head;
    nodes->head = n;
    minik_strmap_put(&nodes->by_name, n->name, n);
    return n;
}

static void forget(minik_nodes_t *nodes, const char *name)
{
    for (node_state_t **pp = &nodes->head; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->name, name) == 0) {
            node_state_t *n = *pp;
            *pp = n->next;
            minik_strmap_del(&nodes->by_name, n->name);
            free(n->hb_seen);
            free(n->name);
            free(n);
            return;
        }
    }
}

void minik_nodes_clear(minik_nodes_t *nodes)
{
    minik_strmap_clear(&nodes->by_name);
    while (nodes->head) {
        node_state_t *n = nodes->head;
        nodes->head = n->next;
        free(n->hb_seen);
        free(n->name);
        free(n);
    }
}

static void notify(minik_controllers_t *c, const char *name, bool ready)
{
    if (c->opts.node_ready_changed)
        c->opts.node_ready_changed(name, ready, c->opts.node_ready_ud);
}

static void on_timer(uv_timer_t *t)
{
    minik_controllers_t *c = t->data;
    uint64_t now = uv_now(c->loop);
    for (node_state_t *n = c->nodes.head; n; n = n->next) {
        if (!n->not_ready && now >= n->last_hb + c->nodes.grace_ms) {
            n->not_ready = true;
            n->not_ready_since = now;
            minik_log_info("node missed heartbeats: NotReady", "node", n->name, NULL);
            minik_wq_add(c->node_q, n->name);
            notify(c, n->name, false);
        }
    }
    minik_nodes_arm(c);
}

void minik_nodes_arm(minik_controllers_t *c)
{
    /* An armed timer fires no later than any node's deadline: heartbeats only push
     * deadlines later, and a node that joins or recovers gets now + grace, which is after
     * the earliest one. Firing early costs a scan that re-arms; scanning every node on
     * every Node event cost 10% of the server at 5,000 nodes. */
    if (c->freeing || uv_is_active((uv_handle_t *)&c->node_timer))
        return;
    uint64_t earliest = 0;
    for (node_state_t *n = c->nodes.head; n; n = n->next) {
        if (n->not_ready)
            continue;
        uint64_t due = n->last_hb + c->nodes.grace_ms;
        if (!earliest || due < earliest)
            earliest = due;
    }
    if (!earliest) {
        uv_timer_stop(&c->node_timer);
        return;
    }
    uint64_t now = uv_now(c->loop);
    uv_timer_start(&c->node_timer, on_timer, earliest > now ? earliest - now : 0, 0);
}

void minik_nodes_heartbeat(minik_nodes_t *nodes, const char *name, uint64_t now_ms)
{
    minik_controllers_t *c = nodes->ctl;
    if (c->freeing)
        return;
    node_state_t *n = get(nodes, name, now_ms);
    n->last_hb = now_ms;
    bool was_ready = n->heartbeated && !n->not_ready;
    n->heartbeated = true;
    if (n->not_ready) {
        n->not_ready = false;
        minik_log_info("node heartbeats resumed: Ready", "node", name, NULL);
    }
    if (!was_ready) {
        minik_wq_add(c->node_q, name);
        notify(c, name, true);
    }
    minik_nodes_arm(c); /* a no-op while the timer runs: see there */
}

bool minik_nodes_is_ready(const minik_nodes_t *nodes, const char *name)
{
    const node_state_t *n = find(nodes, name);
    return n && n->heartbeated && !n->not_ready;
}

bool minik_nodes_ready_fn(const char *name, const cJSON *node, void *ud)
{
    return minik_nodes_is_ready(ud, name);
}

static bool has_unreachable_taint(const cJSON *node)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, minik_ctl_get(node, "spec.taints"))
    {
        const char *k = minik_ctl_str(t, "key");
        if (k && strcmp(k, MINIK_TAINT_UNREACHABLE) == 0)
            return true;
    }
    return false;
}

void minik_nodes_observe(minik_controllers_t *c, minik_store_event_type_t type, const cJSON *node)
{
    const char *name = minik_ctl_str(node, "metadata.name");
    if (!name)
        return;
    if (type == MINIK_STORE_DELETED) {
        forget(&c->nodes, name);
        /* Its pods cannot run anywhere any more. */
        minik_wq_add(c->node_q, name);
        minik_nodes_arm(c);
        return;
    }
    uint64_t now = uv_now(c->loop);
    node_state_t *n = find(&c->nodes, name);
    if (!n) {
        n = get(&c->nodes, name, now);
        /* Tainted by an earlier run: NotReady until it heartbeats; the eviction clock
         * starts over, since how long it was away is not known. */
        if (has_unreachable_taint(node)) {
            n->not_ready = true;
            n->not_ready_since = now;
            minik_wq_add(c->node_q, name);
        }
    }
    /* A node that posts its status with a new Ready.lastHeartbeatTime (as a kubelet
     * does) is heartbeating too; the in-process minik_nodes_heartbeat is the cheap path
     * that writes nothing. */
    const char *hb = minik_ctl_str(minik_ctl_condition(node, "Ready"), "lastHeartbeatTime");
    if (hb && (!n->hb_seen || strcmp(n->hb_seen, hb) != 0)) {
        free(n->hb_seen);
        n->hb_seen = xstrdup(hb);
        minik_nodes_heartbeat(&c->nodes, name, now);
    }
    minik_nodes_arm(c);
}

int64_t minik_nodes_unreachable_toleration_ms(const cJSON *pod, int64_t default_ms)
{
    /* As Kubernetes' taint manager: of the tolerations that match the taint, one without
     * tolerationSeconds tolerates it for ever; otherwise the shortest one applies. The
     * default timeout stands in for the toleration Kubernetes' admission adds to pods that
     * have none (unreachable for 300 s). */
    const cJSON *t;
    int64_t best = -1;
    bool matched = false;
    cJSON_ArrayForEach(t, minik_ctl_get(pod, "spec.tolerations"))
    {
        const char *key = minik_ctl_str(t, "key");
        const char *op = minik_ctl_str(t, "operator");
        const char *eff = minik_ctl_str(t, "effect");
        const char *val = minik_ctl_str(t, "value");
        bool exists = op && strcmp(op, "Exists") == 0;
        bool key_ok = key && *key ? strcmp(key, MINIK_TAINT_UNREACHABLE) == 0 : exists;
        /* The unreachable taint has no value: Equal needs an empty one. */
        bool val_ok = exists || !val || !*val;
        bool eff_ok = !eff || !*eff || strcmp(eff, "NoExecute") == 0;
        if (!key_ok || !val_ok || !eff_ok)
            continue;
        const cJSON *secs = minik_ctl_get(t, "tolerationSeconds");
        if (!cJSON_IsNumber(secs))
            return -1;
        int64_t ms = secs->valuedouble <= 0 ? 0 : (int64_t)(secs->valuedouble * 1000);
        if (!matched || ms < best)
            best = ms;
        matched = true;
    }
    return matched ? best : default_ms;
}

/* Evict the pods of unreachable node `name` whose toleration ran out (all of them for a
 * deleted node); *next_ms is set to how long until the next one does (0: none left). */
static void evict_pods(minik_controllers_t *c, const char *name, bool all, uint64_t since,
                       uint64_t *next_ms)
{
    if (next_ms)
        *next_ms = 0;
    /* From the in-memory index: when 5,000 nodes go silent at once, listing the stored pods
     * per node parsed every pod 5,000 times. */
    cJSON *pods = minik_podindex_on_node(&c->pods, name);
    uint64_t now = uv_now(c->loop);
    const cJSON *p;
    cJSON_ArrayForEach(p, pods)
    {
        if (minik_ctl_terminating(p))
            continue;
        if (!all) {
            int64_t tol =
                minik_nodes_unreachable_toleration_ms(p, (int64_t)c->opts.pod_eviction_ms);
            if (tol < 0)
                continue; /* tolerates it for ever (DaemonSet pods) */
            uint64_t due = since + (uint64_t)tol;
            if (due > now) {
                if (next_ms && (!*next_ms || due - now < *next_ms))
                    *next_ms = due - now;
                continue;
            }
        }
        minik_log_info(all ? "deleting pod of a deleted node"
                           : "evicting pod from unreachable node",
                       "node", name, "pod", minik_ctl_str(p, "metadata.name"), NULL);
        c->stats.evictions++;
        minik_ctl_delete(c, c->node_q, name, "Pod", minik_ctl_str(p, "metadata.namespace"),
                         minik_ctl_str(p, "metadata.name"), NULL);
    }
    cJSON_Delete(pods);
}

/* Put (or take away) the unreachable taints and the Ready condition on the Node. */
static void write_node(minik_controllers_t *c, const cJSON *node, bool ready)
{
    cJSON *upd = cJSON_Duplicate(node, 1);
    cJSON *spec = minik_ctl_obj(upd, "spec");
    cJSON *taints = cJSON_GetObjectItemCaseSensitive(spec, "taints");
    if (!cJSON_IsArray(taints)) {
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "taints");
        taints = cJSON_AddArrayToObject(spec, "taints");
    }
    for (int i = cJSON_GetArraySize(taints) - 1; i >= 0; i--) {
        const char *k = minik_ctl_str(cJSON_GetArrayItem(taints, i), "key");
        if (k && strcmp(k, MINIK_TAINT_UNREACHABLE) == 0)
            cJSON_DeleteItemFromArray(taints, i);
    }
    time_t now = minik_ctl_now();
    cJSON *st = minik_ctl_obj(upd, "status");
    if (!ready) {
        char *ts = minik_ctl_format_time(now);
        static const char *const effects[] = {"NoSchedule", "NoExecute"};
        for (size_t i = 0; i < 2; i++) {
            cJSON *t = cJSON_CreateObject();
            cJSON_AddStringToObject(t, "key", MINIK_TAINT_UNREACHABLE);
            cJSON_AddStringToObject(t, "effect", effects[i]);
            cJSON_AddStringToObject(t, "timeAdded", ts);
            cJSON_AddItemToArray(taints, t);
        }
        free(ts);
        minik_ctl_set_condition(st, "Ready", "Unknown", "NodeStatusUnknown",
                                "Kubelet stopped posting node status.", now, false);
    } else {
        minik_ctl_set_condition(st, "Ready", "True", "KubeletReady",
                                "kubelet is posting ready status", now, false);
    }
    if (cJSON_GetArraySize(taints) == 0)
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "taints");
    /* Compare ignoring timestamps: only a change of taints or condition is written. */
    const char *old_ready = minik_ctl_str(minik_ctl_condition(node, "Ready"), "status");
    const char *new_ready = minik_ctl_str(minik_ctl_condition(upd, "Ready"), "status");
    bool same =
        has_unreachable_taint(node) == !ready && old_ready && strcmp(old_ready, new_ready) == 0;
    if (same)
        cJSON_Delete(upd);
    else
        minik_ctl_write(c, c->node_q, minik_ctl_str(node, "metadata.name"), MINIK_STORE_OP_UPDATE,
                        upd);
}

void minik_node_sync(const char *key, void *ud)
{
    minik_controllers_t *c = ud;
    cJSON *node = NULL;
    minik_error_t *err = NULL;
    if (minik_store_get(c->store, "Node", "", key, &node, &err) < 0) {
        bool gone = err->code == 404;
        minik_error_free(err);
        if (gone)
            evict_pods(c, key, true, 0, NULL);
        return;
    }
    node_state_t *n = find(&c->nodes, key);
    if (!n) {
        cJSON_Delete(node);
        return;
    }
    if (!n->not_ready) {
        /* Ready again (or first heartbeat): drop the taints if we had put them. */
        if (n->heartbeated)
            write_node(c, node, true);
        cJSON_Delete(node);
        return;
    }
    write_node(c, node, false);
    /* Each pod has its own deadline (its tolerationSeconds, or the eviction timeout): evict
     * those that are due and come back for the next one. */
    uint64_t next = 0;
    evict_pods(c, key, false, n->not_ready_since, &next);
    if (next)
        minik_wq_add_after(c->node_q, key, next);
    cJSON_Delete(node);
}
