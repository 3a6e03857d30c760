/* The DaemonSet controller: one pod per eligible node (nodeSelector, required node
 * affinity and taints, judged by the scheduler's own filter functions), following nodes
 * as they join and leave; RollingUpdate replaces pods of an old template at most
 * maxUnavailable at a time; OnDelete leaves them to the user. */
#include <stdlib.h>
#include <string.h>

#include "controllers/internal.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "scheduler/filters.h"
#include "scheduler/snapshot.h"

/* The tolerations Kubernetes adds to every DaemonSet pod, so that daemons keep running on
 * nodes in trouble (they often are what fixes them). */
static void add_tolerations(cJSON *spec)
{
    static const struct {
        const char *key, *effect;
    } tols[] = {
        {"node.kubernetes.io/not-ready", "NoExecute"},
        {MINIK_TAINT_UNREACHABLE, "NoExecute"},
        {"node.kubernetes.io/disk-pressure", "NoSchedule"},
        {"node.kubernetes.io/memory-pressure", "NoSchedule"},
        {"node.kubernetes.io/pid-pressure", "NoSchedule"},
        {MINIK_TAINT_UNSCHEDULABLE, "NoSchedule"},
        {"node.kubernetes.io/not-ready", "NoSchedule"},
    };
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(spec, "tolerations");
    if (!cJSON_IsArray(arr)) {
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "tolerations");
        arr = cJSON_AddArrayToObject(spec, "tolerations");
    }
    for (size_t i = 0; i < sizeof(tols) / sizeof(tols[0]); i++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "key", tols[i].key);
        cJSON_AddStringToObject(t, "operator", "Exists");
        cJSON_AddStringToObject(t, "effect", tols[i].effect);
        cJSON_AddItemToArray(arr, t);
    }
}

static cJSON *ds_pod(const cJSON *ds, const char *ns, const char *name, const char *hash,
                     const char *node)
{
    cJSON *pod = minik_ctl_pod_from_template(minik_ctl_get(ds, "spec.template"), ns, name, ds);
    cJSON *labels = minik_ctl_obj(minik_ctl_obj(pod, "metadata"), "labels");
    minik_ctl_set_str(labels, MINIK_LABEL_REVISION_HASH, hash);
    cJSON *spec = minik_ctl_obj(pod, "spec");
    add_tolerations(spec);
    if (node)
        minik_ctl_set_str(spec, "nodeName", node);
    return pod;
}

/* Should a pod of this DaemonSet run on `node`? As Kubernetes' NodeShouldRunDaemonPod:
 * a new pod needs every NoSchedule/NoExecute taint tolerated; a running one is kept as
 * long as the NoExecute ones are (so an unreachable:NoSchedule taint does not evict it).
 * The node's decoded views come from the node cache, built once per node change. */
static bool eligible(const minik_sched_pod_t *sp, minik_nodecache_entry_t *node, bool running)
{
    const minik_sched_node_t *sn = minik_nodecache_sched(node, running);
    if (!sn)
        return false;
    minik_sched_prefilter_t pf;
    memset(&pf, 0, sizeof(pf));
    minik_sched_reasons_t why = {0};
    return minik_sched_filter_node_affinity(&pf, sp, sn, &why) &&
           minik_sched_filter_taints(&pf, sp, sn, &why);
}

/* The DaemonSet's pods grouped by spec.nodeName (borrowed references), so each node finds
 * its pods in O(1) instead of scanning all of them. */
typedef struct podvec {
    const cJSON **v;
    size_t n, cap;
} podvec_t;

static void podvec_free_cb(const char *key, void *value, void *ud)
{
    (void)key;
    (void)ud;
    podvec_t *pv = value;
    free(pv->v);
    free(pv);
}

static void group_by_node(const cJSON *pods, minik_strmap_t *by_node)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, pods)
    {
        const char *pn = minik_ctl_str(p, "spec.nodeName");
        if (!pn)
            continue;
        podvec_t *pv = minik_strmap_get(by_node, pn);
        if (!pv) {
            pv = xcalloc(1, sizeof(*pv));
            minik_strmap_put(by_node, pn, pv);
        }
        if (pv->n == pv->cap) {
            pv->cap = pv->cap ? pv->cap * 2 : 2;
            pv->v = xrealloc(pv->v, pv->cap * sizeof(*pv->v));
        }
        pv->v[pv->n++] = p;
    }
}

void minik_daemonset_sync(const char *key, void *ud)
{
    minik_controllers_t *c = ud;
    char *ns, *name;
    minik_ctl_split_key(key, &ns, &name);
    cJSON *ds = NULL, *pods = NULL, *probe = NULL;
    minik_strmap_t by_node = MINIK_STRMAP_INIT;
    char *hash = NULL;
    minik_sched_pod_t *sp = NULL;
    minik_error_t *err = NULL;
    if (minik_store_get(c->store, "DaemonSet", ns, name, &ds, &err) < 0)
        goto out;
    if (minik_ctl_terminating(ds))
        goto out;
    pods = minik_ctl_list_owned(c, "Pod", ns, minik_ctl_str(ds, "metadata.uid"));
    if (!pods) {
        minik_wq_add_rate_limited(c->ds_q, key);
        goto out;
    }
    group_by_node(pods, &by_node);
    hash = minik_ctl_template_hash(minik_ctl_get(ds, "spec.template"));
    probe = ds_pod(ds, ns, name, hash, NULL);
    if (minik_sched_pod_new(probe, &sp, &err) < 0) {
        minik_log_warn("daemonset: bad template", "daemonset", key, "error", err->msg, NULL);
        goto out;
    }
    const char *strategy = minik_ctl_str(ds, "spec.updateStrategy.type");
    bool on_delete = strategy && strcmp(strategy, "OnDelete") == 0;
    size_t n_cached = minik_nodecache_len(&c->node_cache);
    int64_t n_nodes = (int64_t)n_cached;
    int64_t max_unavailable = minik_ctl_scaled(
        minik_ctl_get(ds, "spec.updateStrategy.rollingUpdate.maxUnavailable"), n_nodes, false, -1);
    if (!minik_ctl_get(ds, "spec.updateStrategy.rollingUpdate.maxUnavailable"))
        max_unavailable = 1;
    if (max_unavailable < 1)
        max_unavailable = 1;
    int64_t min_ready = minik_ctl_int(ds, "spec.minReadySeconds", 0);
    time_t now = minik_ctl_now();

    int64_t desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
    int64_t unavailable = 0;
    /* Old-template pods that could be replaced, in node order. */
    const cJSON **old = xcalloc((size_t)cJSON_GetArraySize(pods) + 1, sizeof(*old));
    size_t n_old = 0;
    for (size_t ni = 0; ni < n_cached; ni++) {
        minik_nodecache_entry_t *node = minik_nodecache_at(&c->node_cache, ni);
        const char *nn = node->name;
        const podvec_t *here = minik_strmap_get(&by_node, nn);
        size_t n_here = here ? here->n : 0;
        bool has_pod = false;
        for (size_t k = 0; k < n_here; k++)
            if (minik_ctl_pod_active(here->v[k]))
                has_pod = true;
        bool want = !minik_ctl_terminating(node->node) && eligible(sp, node, has_pod);
        const cJSON *mine = NULL;
        for (size_t k = 0; k < n_here; k++) {
            const cJSON *p = here->v[k];
            if (minik_ctl_terminating(p))
                continue;
            const char *phase = minik_ctl_str(p, "status.phase");
            bool dead = phase && strcmp(phase, "Failed") == 0;
            if (!want || dead || mine) {
                /* Not wanted here, failed (replace it), or a duplicate. */
                minik_ctl_delete(c, c->ds_q, key, "Pod", ns, minik_ctl_str(p, "metadata.name"),
                                 NULL);
                if (!want && !dead)
                    misscheduled++;
                continue;
            }
            mine = p;
        }
        if (!want)
            continue;
        desired++;
        if (!mine) {
            minik_ctl_write(c, c->ds_q, key, MINIK_STORE_OP_CREATE, ds_pod(ds, ns, name, hash, nn));
            unavailable++;
            continue;
        }
        current++;
        const char *ph = minik_ctl_str(mine, "metadata.labels." MINIK_LABEL_REVISION_HASH);
        bool is_new = ph && strcmp(ph, hash) == 0;
        if (is_new)
            updated++;
        if (minik_ctl_pod_ready(mine))
            ready++;
        if (minik_ctl_pod_available(mine, min_ready, now, NULL))
            available++;
        else
            unavailable++;
        if (!is_new)
            old[n_old++] = mine;
    }
    /* Pods on nodes that no longer exist (or on none). */
    const cJSON *p;
    cJSON_ArrayForEach(p, pods)
    {
        bool found = minik_nodecache_get(&c->node_cache, minik_ctl_str(p, "spec.nodeName"));
        if (!found && !minik_ctl_terminating(p))
            minik_ctl_delete(c, c->ds_q, key, "Pod", ns, minik_ctl_str(p, "metadata.name"), NULL);
    }
    /* RollingUpdate: old pods that are unavailable anyway go first, then available ones
     * while fewer than maxUnavailable pods are down. */
    if (!on_delete) {
        int64_t budget = max_unavailable - unavailable;
        for (size_t i = 0; i < n_old; i++) {
            bool avail = minik_ctl_pod_available(old[i], min_ready, now, NULL);
            if (avail && budget <= 0)
                continue;
            if (avail)
                budget--;
            minik_ctl_delete(c, c->ds_q, key, "Pod", ns, minik_ctl_str(old[i], "metadata.name"),
                             minik_ctl_str(old[i], "metadata.resourceVersion"));
        }
    }
    free(old);
    if (min_ready > 0 && ready > available)
        minik_wq_add_after(c->ds_q, key, (uint64_t)min_ready * 1000);

    cJSON *upd = cJSON_Duplicate(ds, 1);
    cJSON *st = minik_ctl_obj(upd, "status");
    minik_ctl_set_int(st, "desiredNumberScheduled", desired);
    minik_ctl_set_int(st, "currentNumberScheduled", current);
    minik_ctl_set_int(st, "numberMisscheduled", misscheduled);
    minik_ctl_set_int(st, "numberReady", ready);
    minik_ctl_set_int(st, "numberAvailable", available);
    minik_ctl_set_int(st, "numberUnavailable", desired - available > 0 ? desired - available : 0);
    minik_ctl_set_int(st, "updatedNumberScheduled", updated);
    minik_ctl_set_int(st, "observedGeneration", minik_ctl_int(ds, "metadata.generation", 1));
    minik_ctl_update_if_changed(c, c->ds_q, key, ds, upd);
    minik_wq_forget(c->ds_q, key);
out:
    minik_error_free(err);
    minik_sched_pod_free(sp);
    cJSON_Delete(probe);
    free(hash);
    minik_strmap_foreach(&by_node, podvec_free_cb, NULL);
    minik_strmap_clear(&by_node);
    cJSON_Delete(pods);
    cJSON_Delete(ds);
    free(ns);
    free(name);
}
