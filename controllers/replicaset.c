/* The ReplicaSet controller: keeps spec.replicas active pods from the template, and writes
 * the counts the Deployment controller gates its rollout on. */
#include <stdlib.h>
#include <string.h>

#include "controllers/internal.h"
#include "lib/log.h"
#include "lib/xalloc.h"

/* Kubernetes' burstReplicas: at most this many creates or deletes per reconcile. Each
 * write holds the key, and the key is reconciled again once they are all acknowledged,
 * so a scale-up by 100,000 goes out in rounds; the scheduler's binds reach the store's
 * write queue between rounds instead of waiting behind every create. */
#define BURST_REPLICAS 500

/* Which pod to delete first when scaling down, as Kubernetes ranks them: unscheduled
 * before scheduled, pending before running, not ready before ready, newer before older. */
static int rank(const cJSON *pod)
{
    int r = 0;
    if (minik_ctl_str(pod, "spec.nodeName"))
        r += 4;
    const char *phase = minik_ctl_str(pod, "status.phase");
    if (phase && strcmp(phase, "Running") == 0)
        r += 2;
    if (minik_ctl_pod_ready(pod))
        r += 1;
    return r;
}

static int cmp_delete_order(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    int rx = rank(x), ry = rank(y);
    if (rx != ry)
        return rx - ry;
    /* Newer first: a larger creationTimestamp (then name) goes first. */
    const char *tx = minik_ctl_str(x, "metadata.creationTimestamp");
    const char *ty = minik_ctl_str(y, "metadata.creationTimestamp");
    int c = strcmp(ty ? ty : "", tx ? tx : "");
    if (c)
        return c;
    return strcmp(minik_ctl_str(y, "metadata.name"), minik_ctl_str(x, "metadata.name"));
}

static void create_pods(minik_controllers_t *c, const char *key, const cJSON *rs, const char *ns,
                        const char *name, int64_t n)
{
    const cJSON *tmpl = minik_ctl_get(rs, "spec.template");
    for (int64_t i = 0; i < n; i++)
        minik_ctl_write(c, c->rs_q, key, MINIK_STORE_OP_CREATE,
                        minik_ctl_pod_from_template(tmpl, ns, name, rs));
}

static void write_status(minik_controllers_t *c, const char *key, const cJSON *rs, size_t keep,
                         int64_t ready, int64_t available)
{
    cJSON *upd = cJSON_Duplicate(rs, 1);
    cJSON *st = minik_ctl_obj(upd, "status");
    minik_ctl_set_int(st, "replicas", (int64_t)keep);
    minik_ctl_set_int(st, "fullyLabeledReplicas", (int64_t)keep);
    minik_ctl_set_int(st, "readyReplicas", ready);
    minik_ctl_set_int(st, "availableReplicas", available);
    minik_ctl_set_int(st, "observedGeneration", minik_ctl_int(rs, "metadata.generation", 1));
    minik_ctl_update_if_changed(c, c->rs_q, key, rs, upd);
}

static int64_t burst(int64_t diff)
{
    return diff > BURST_REPLICAS ? BURST_REPLICAS : diff < -BURST_REPLICAS ? -BURST_REPLICAS : diff;
}

void minik_replicaset_sync(const char *key, void *ud)
{
    minik_controllers_t *c = ud;
    char *ns, *name;
    minik_ctl_split_key(key, &ns, &name);
    cJSON *rs = NULL;
    minik_error_t *err = NULL;
    if (minik_store_get(c->store, "ReplicaSet", ns, name, &rs, &err) < 0) {
        /* Gone: its pods are the garbage collector's. */
        minik_error_free(err);
        goto out;
    }
    if (minik_ctl_terminating(rs))
        goto out;
    if (minik_ctl_adopt(c, c->rs_q, key, rs, "Pod") > 0)
        goto out;
    const char *uid = minik_ctl_str(rs, "metadata.uid");
    int64_t want = minik_ctl_int(rs, "spec.replicas", 1);
    int64_t min_ready = minik_ctl_int(rs, "spec.minReadySeconds", 0);

    /* Nothing to delete and no readiness to time: the index's counts say everything, so the
     * reconcile that follows each burst and pod event does not walk 100,000 pods. */
    minik_podindex_counts_t cnt;
    minik_podindex_owned_counts(&c->pods, ns, uid, &cnt);
    if (min_ready <= 0 && cnt.finished == 0 && (int64_t)cnt.active <= want) {
        create_pods(c, key, rs, ns, name, burst(want - (int64_t)cnt.active));
        write_status(c, key, rs, cnt.active, (int64_t)cnt.ready, (int64_t)cnt.ready);
        minik_wq_forget(c->rs_q, key);
        goto out;
    }

    cJSON *pods = minik_ctl_list_owned(c, "Pod", ns, uid);
    if (!pods) {
        minik_wq_add_rate_limited(c->rs_q, key);
        goto out;
    }
    size_t n = (size_t)cJSON_GetArraySize(pods);
    const cJSON **active = xcalloc(n + 1, sizeof(*active));
    size_t n_active = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, pods)
    {
        const char *phase = minik_ctl_str(p, "status.phase");
        if (minik_ctl_pod_active(p))
            active[n_active++] = p;
        else if (phase && !minik_ctl_terminating(p)) {
            /* A finished pod of an always-restarting set is replaced: remove it. */
            minik_ctl_delete(c, c->rs_q, key, "Pod", ns, minik_ctl_str(p, "metadata.name"),
                             minik_ctl_str(p, "metadata.resourceVersion"));
        }
    }
    int64_t diff = burst(want - (int64_t)n_active);
    size_t keep = n_active;
    if (diff > 0) {
        create_pods(c, key, rs, ns, name, diff);
    } else if (diff < 0) {
        qsort(active, n_active, sizeof(*active), cmp_delete_order);
        for (int64_t i = 0; i < -diff; i++)
            minik_ctl_delete(c, c->rs_q, key, "Pod", ns, minik_ctl_str(active[i], "metadata.name"),
                             NULL);
        /* The status counts only the pods that stay, so the Deployment controller never
         * trusts a pod that is being deleted. */
        memmove(active, active + (-diff), (n_active - (size_t)(-diff)) * sizeof(*active));
        keep = n_active - (size_t)(-diff);
    }
    int64_t ready = 0, available = 0, wait_min = 0;
    time_t now = minik_ctl_now();
    for (size_t i = 0; i < keep; i++) {
        int64_t wait = 0;
        if (minik_ctl_pod_ready(active[i]))
            ready++;
        if (minik_ctl_pod_available(active[i], min_ready, now, &wait))
            available++;
        else if (wait > 0 && (!wait_min || wait < wait_min))
            wait_min = wait;
    }
    free(active);
    cJSON_Delete(pods);
    /* A ready pod becomes available after minReadySeconds: look again then. */
    if (wait_min > 0)
        minik_wq_add_after(c->rs_q, key, (uint64_t)wait_min * 1000);
    write_status(c, key, rs, keep, ready, available);
    minik_wq_forget(c->rs_q, key);
out:
    cJSON_Delete(rs);
    free(ns);
    free(name);
}
