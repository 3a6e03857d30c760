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
 * long as the NoExecute ones are (so an unreachable:NoSchedule taint does not evict it). */
static bool eligible(const minik_sched_pod_t *sp, const cJSON *node, bool running)
{
    cJSON *copy = cJSON_Duplicate(node, 1);
    cJSON *taints = (cJSON *)minik_ctl_get(copy, "spec.taints");
    for (int i = cJSON_GetArraySize(taints) - 1; running && i >= 0; i--) {
        const char *eff = minik_ctl_str(cJSON_GetArrayItem(taints, i), "effect");
        if (!eff || strcmp(eff, "NoExecute") != 0)
            cJSON_DeleteItemFromArray(taints, i);
    }
    minik_sched_node_t *sn = NULL;
    minik_error_t *err = NULL;
    bool ok = false;
    if (minik_sched_node_new(copy, true, &sn, &err) == 0) {
        minik_sched_prefilter_t pf;
        memset(&pf, 0, sizeof(pf));
        minik_sched_reasons_t why = {0};
        ok = minik_sched_filter_node_affinity(&pf, sp, sn, &why) &&
             minik_sched_filter_taints(&pf, sp, sn, &why);
    }
    minik_error_free(err);
    minik_sched_node_free(sn);
    cJSON_Delete(copy);
    return ok;
}

void minik_daemonset_sync(const char *key, void *ud)
{
    minik_controllers_t *c = ud;
    char *ns, *name;
    minik_ctl_split_key(key, &ns, &name);
    cJSON *ds = NULL, *pods = NULL, *nodes = NULL, *probe = NULL;
    char *hash = NULL;
    minik_sched_pod_t *sp = NULL;
    minik_error_t *err = NULL;
    if (minik_store_get(c->store, "DaemonSet", ns, name, &ds, &err) < 0)
        goto out;
    if (minik_ctl_terminating(ds))
        goto out;
    pods = minik_ctl_list_owned(c, "Pod", ns, minik_ctl_str(ds, "metadata.uid"));
    if (!pods || minik_store_list(c->store, "Node", NULL, NULL, NULL, &nodes, NULL, &err) < 0) {
        minik_wq_add_rate_limited(c->ds_q, key);
        goto out;
    }
    hash = minik_ctl_template_hash(minik_ctl_get(ds, "spec.template"));
    probe = ds_pod(ds, ns, name, hash, NULL);
    if (minik_sched_pod_new(probe, &sp, &err) < 0) {
        minik_log_warn("daemonset: bad template", "daemonset", key, "error", err->msg, NULL);
        goto out;
    }
    const char *strategy = minik_ctl_str(ds, "spec.updateStrategy.type");
    bool on_delete = strategy && strcmp(strategy, "OnDelete") == 0;
    int64_t n_nodes = cJSON_GetArraySize(nodes);
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
    const cJSON *node;
    cJSON_ArrayForEach(node, nodes)
    {
        const char *nn = minik_ctl_str(node, "metadata.name");
        bool has_pod = false;
        const cJSON *p;
        cJSON_ArrayForEach(p, pods)
        {
            const char *pn = minik_ctl_str(p, "spec.nodeName");
            if (pn && strcmp(pn, nn) == 0 && minik_ctl_pod_active(p))
                has_pod = true;
        }
        bool want = !minik_ctl_terminating(node) && eligible(sp, node, has_pod);
        const cJSON *mine = NULL;
        cJSON_ArrayForEach(p, pods)
        {
            const char *pn = minik_ctl_str(p, "spec.nodeName");
            if (!pn || strcmp(pn, nn) != 0 || minik_ctl_terminating(p))
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
    /* Pods on nodes that no longer exist. */
    const cJSON *p;
    cJSON_ArrayForEach(p, pods)
    {
        const char *pn = minik_ctl_str(p, "spec.nodeName");
        bool found = false;
        cJSON_ArrayForEach(node, nodes)
        {
            if (pn && strcmp(pn, minik_ctl_str(node, "metadata.name")) == 0)
                found = true;
        }
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
    if (!cJSON_Compare(upd, ds, 1))
        minik_ctl_write(c, c->ds_q, key, MINIK_STORE_OP_UPDATE, upd);
    else
        cJSON_Delete(upd);
    minik_wq_forget(c->ds_q, key);
out:
    minik_error_free(err);
    minik_sched_pod_free(sp);
    cJSON_Delete(probe);
    free(hash);
    cJSON_Delete(nodes);
    cJSON_Delete(pods);
    cJSON_Delete(ds);
    free(ns);
    free(name);
}
