/* The Deployment controller: one ReplicaSet per pod template (named by the template hash,
 * numbered by the deployment.kubernetes.io/revision annotation), rolled with the
 * RollingUpdate or Recreate strategy, old revisions pruned to revisionHistoryLimit, status
 * and the Available/Progressing conditions computed as kube-controller-manager does. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/internal.h"
#include "lib/log.h"
#include "lib/xalloc.h"

typedef struct dsync {
    minik_controllers_t *c;
    const char *key, *ns, *name;
    const cJSON *d;
    cJSON *rses;         /* owned ReplicaSets (the list) */
    const cJSON *new_rs; /* NULL until created */
    const cJSON **old;   /* the others */
    size_t n_old;
    int64_t replicas, max_surge, max_unavailable;
    bool wrote;
} dsync_t;

static int64_t revision_of(const cJSON *rs)
{
    return minik_ctl_int(rs, "metadata.annotations." MINIK_ANN_REVISION, 0);
}

static int64_t spec_replicas(const cJSON *rs)
{
    return rs ? minik_ctl_int(rs, "spec.replicas", 0) : 0;
}

static int64_t status_int(const cJSON *rs, const char *f)
{
    const cJSON *st = minik_ctl_get(rs, "status");
    return rs ? minik_ctl_int(st, f, 0) : 0;
}

/* Has the ReplicaSet controller seen the latest spec of rs? */
static bool rs_fresh(const cJSON *rs)
{
    return minik_ctl_int(rs, "status.observedGeneration", 0) >=
           minik_ctl_int(rs, "metadata.generation", 1);
}

static void scale_rs(dsync_t *s, const cJSON *rs, int64_t n)
{
    if (spec_replicas(rs) == n)
        return;
    cJSON *upd = cJSON_Duplicate(rs, 1);
    cJSON *spec = minik_ctl_obj(upd, "spec");
    minik_ctl_set_int(spec, "replicas", n);
    cJSON *md = minik_ctl_obj(upd, "metadata");
    minik_ctl_set_int(md, "generation", minik_ctl_int(rs, "metadata.generation", 1) + 1);
    minik_ctl_write(s->c, s->c->deploy_q, s->key, MINIK_STORE_OP_UPDATE, upd);
    s->wrote = true;
}

static int64_t max_old_revision(const dsync_t *s)
{
    int64_t max = 0;
    for (size_t i = 0; i < s->n_old; i++)
        if (revision_of(s->old[i]) > max)
            max = revision_of(s->old[i]);
    return max;
}

static void create_new_rs(dsync_t *s, int64_t initial)
{
    const cJSON *d = s->d;
    char *hash = minik_ctl_template_hash(minik_ctl_get(d, "spec.template"));
    cJSON *rs = cJSON_CreateObject();
    cJSON_AddStringToObject(rs, "apiVersion", "apps/v1");
    cJSON_AddStringToObject(rs, "kind", "ReplicaSet");
    cJSON *md = cJSON_AddObjectToObject(rs, "metadata");
    char *name = xasprintf("%s-%s", s->name, hash);
    cJSON_AddStringToObject(md, "name", name);
    free(name);
    cJSON_AddStringToObject(md, "namespace", s->ns);
    cJSON_AddNumberToObject(md, "generation", 1);
    cJSON *tmpl = cJSON_Duplicate(minik_ctl_get(d, "spec.template"), 1);
    cJSON *labels = minik_ctl_obj(minik_ctl_obj(tmpl, "metadata"), "labels");
    minik_ctl_set_str(labels, MINIK_LABEL_TEMPLATE_HASH, hash);
    cJSON_AddItemToObject(md, "labels", cJSON_Duplicate(labels, 1));
    cJSON *ann = cJSON_AddObjectToObject(md, "annotations");
    char rev[32];
    snprintf(rev, sizeof(rev), "%" PRId64, max_old_revision(s) + 1);
    cJSON_AddStringToObject(ann, MINIK_ANN_REVISION, rev);
    const char *cause = minik_ctl_str(d, "metadata.annotations.kubernetes.io/change-cause");
    if (cause)
        cJSON_AddStringToObject(ann, "kubernetes.io/change-cause", cause);
    cJSON *refs = cJSON_AddArrayToObject(md, "ownerReferences");
    cJSON_AddItemToArray(refs, minik_ctl_owner_ref(d));
    cJSON *spec = cJSON_AddObjectToObject(rs, "spec");
    cJSON_AddNumberToObject(spec, "replicas", (double)initial);
    cJSON_AddNumberToObject(spec, "minReadySeconds",
                            (double)minik_ctl_int(d, "spec.minReadySeconds", 0));
    cJSON *sel = cJSON_Duplicate(minik_ctl_get(d, "spec.selector"), 1);
    if (!sel)
        sel = cJSON_CreateObject();
    minik_ctl_set_str(minik_ctl_obj(sel, "matchLabels"), MINIK_LABEL_TEMPLATE_HASH, hash);
    cJSON_AddItemToObject(spec, "selector", sel);
    cJSON_AddItemToObject(spec, "template", tmpl);
    free(hash);
    minik_ctl_write(s->c, s->c->deploy_q, s->key, MINIK_STORE_OP_CREATE, rs);
    s->wrote = true;
}

/* Make the new ReplicaSet's revision the newest (after an undo picked an old one). */
static bool bump_revision(dsync_t *s)
{
    int64_t max = max_old_revision(s);
    if (revision_of(s->new_rs) > max)
        return false;
    cJSON *upd = cJSON_Duplicate(s->new_rs, 1);
    char rev[32];
    snprintf(rev, sizeof(rev), "%" PRId64, max + 1);
    cJSON *ann = minik_ctl_obj(minik_ctl_obj(upd, "metadata"), "annotations");
    minik_ctl_set_str(ann, MINIK_ANN_REVISION, rev);
    minik_ctl_write(s->c, s->c->deploy_q, s->key, MINIK_STORE_OP_UPDATE, upd);
    s->wrote = true;
    return true;
}

static int64_t all_spec_replicas(const dsync_t *s)
{
    int64_t n = spec_replicas(s->new_rs);
    for (size_t i = 0; i < s->n_old; i++)
        n += spec_replicas(s->old[i]);
    return n;
}

/* Kubernetes' rolling update: scale the new ReplicaSet up within maxSurge... */
static void reconcile_new(dsync_t *s)
{
    int64_t cur = spec_replicas(s->new_rs);
    if (cur == s->replicas)
        return;
    if (cur > s->replicas) {
        scale_rs(s, s->new_rs, s->replicas);
        return;
    }
    int64_t allowed = s->replicas + s->max_surge;
    int64_t total = all_spec_replicas(s);
    if (total >= allowed)
        return;
    int64_t up = allowed - total;
    if (up > s->replicas - cur)
        up = s->replicas - cur;
    scale_rs(s, s->new_rs, cur + up);
}

static int cmp_revision(const void *a, const void *b)
{
    int64_t x = revision_of(*(const cJSON *const *)a), y = revision_of(*(const cJSON *const *)b);
    return x < y ? -1 : x > y;
}

/* ...and the old ones down while at least replicas - maxUnavailable pods stay available. */
static void reconcile_old(dsync_t *s)
{
    int64_t old_count = 0;
    for (size_t i = 0; i < s->n_old; i++)
        old_count += spec_replicas(s->old[i]);
    if (old_count == 0)
        return;
    /* Counts are only trusted once every ReplicaSet controller caught up with its spec. */
    if (s->new_rs && !rs_fresh(s->new_rs))
        return;
    for (size_t i = 0; i < s->n_old; i++)
        if (!rs_fresh(s->old[i]))
            return;
    int64_t all = all_spec_replicas(s);
    int64_t min_available = s->replicas - s->max_unavailable;
    int64_t new_unavailable = spec_replicas(s->new_rs) - status_int(s->new_rs, "availableReplicas");
    int64_t max_down = all - min_available - new_unavailable;
    if (max_down <= 0)
        return;
    qsort(s->old, s->n_old, sizeof(*s->old), cmp_revision);
    /* First the old pods that are not available anyway: removing them costs nothing. */
    int64_t cleaned = 0;
    int64_t *target = xcalloc(s->n_old, sizeof(*target));
    for (size_t i = 0; i < s->n_old; i++) {
        target[i] = spec_replicas(s->old[i]);
        if (cleaned >= max_down || target[i] == 0)
            continue;
        int64_t unhealthy = target[i] - status_int(s->old[i], "availableReplicas");
        if (unhealthy <= 0)
            continue;
        int64_t d = unhealthy < max_down - cleaned ? unhealthy : max_down - cleaned;
        target[i] -= d;
        cleaned += d;
    }
    /* Then available ones, down to minAvailable over all ReplicaSets. */
    int64_t available = status_int(s->new_rs, "availableReplicas");
    for (size_t i = 0; i < s->n_old; i++)
        available += status_int(s->old[i], "availableReplicas");
    int64_t total_down = available - min_available;
    if (total_down > max_down - cleaned)
        total_down = max_down - cleaned;
    for (size_t i = 0; i < s->n_old && total_down > 0; i++) {
        int64_t d = target[i] < total_down ? target[i] : total_down;
        target[i] -= d;
        total_down -= d;
    }
    for (size_t i = 0; i < s->n_old; i++)
        scale_rs(s, s->old[i], target[i]);
    free(target);
}

static void rollout_recreate(dsync_t *s)
{
    bool old_running = false;
    for (size_t i = 0; i < s->n_old; i++) {
        if (spec_replicas(s->old[i]) > 0) {
            scale_rs(s, s->old[i], 0);
            old_running = true;
        } else if (!rs_fresh(s->old[i]) || status_int(s->old[i], "replicas") > 0) {
            old_running = true;
        }
    }
    /* The new pods start only when every old pod is gone. */
    if (!old_running)
        scale_rs(s, s->new_rs, s->replicas);
}

static void cleanup_history(dsync_t *s)
{
    int64_t limit = minik_ctl_int(s->d, "spec.revisionHistoryLimit", 10);
    const cJSON **dead = xcalloc(s->n_old + 1, sizeof(*dead));
    size_t n = 0;
    for (size_t i = 0; i < s->n_old; i++)
        if (spec_replicas(s->old[i]) == 0 && status_int(s->old[i], "replicas") == 0 &&
            rs_fresh(s->old[i]) && !minik_ctl_terminating(s->old[i]))
            dead[n++] = s->old[i];
    qsort(dead, n, sizeof(*dead), cmp_revision);
    for (size_t i = 0; limit >= 0 && (int64_t)(n - i) > limit; i++) {
        minik_ctl_delete(s->c, s->c->deploy_q, s->key, "ReplicaSet", s->ns,
                         minik_ctl_str(dead[i], "metadata.name"),
                         minik_ctl_str(dead[i], "metadata.resourceVersion"));
        s->wrote = true;
    }
    free(dead);
}

static void sync_status(dsync_t *s)
{
    const cJSON *d = s->d;
    cJSON *upd = cJSON_Duplicate(d, 1);
    cJSON *st = minik_ctl_obj(upd, "status");
    int64_t replicas = status_int(s->new_rs, "replicas");
    int64_t ready = status_int(s->new_rs, "readyReplicas");
    int64_t available = status_int(s->new_rs, "availableReplicas");
    for (size_t i = 0; i < s->n_old; i++) {
        replicas += status_int(s->old[i], "replicas");
        ready += status_int(s->old[i], "readyReplicas");
        available += status_int(s->old[i], "availableReplicas");
    }
    int64_t updated = status_int(s->new_rs, "replicas");
    int64_t unavailable = all_spec_replicas(s) - available;
    if (unavailable < 0)
        unavailable = 0;
    const cJSON *old_st = minik_ctl_get(d, "status");
    bool progressed = s->wrote || minik_ctl_int(old_st, "replicas", -1) != replicas ||
                      minik_ctl_int(old_st, "updatedReplicas", -1) != updated ||
                      minik_ctl_int(old_st, "readyReplicas", -1) != ready ||
                      minik_ctl_int(old_st, "availableReplicas", -1) != available;
    minik_ctl_set_int(st, "replicas", replicas);
    minik_ctl_set_int(st, "updatedReplicas", updated);
    minik_ctl_set_int(st, "readyReplicas", ready);
    minik_ctl_set_int(st, "availableReplicas", available);
    minik_ctl_set_int(st, "unavailableReplicas", unavailable);
    minik_ctl_set_int(st, "observedGeneration", minik_ctl_int(d, "metadata.generation", 1));
    time_t now = minik_ctl_now();
    if (available >= s->replicas - s->max_unavailable)
        minik_ctl_set_condition(st, "Available", "True", "MinimumReplicasAvailable",
                                "Deployment has minimum availability.", now, false);
    else
        minik_ctl_set_condition(st, "Available", "False", "MinimumReplicasUnavailable",
                                "Deployment does not have minimum availability.", now, false);
    const char *rs_name = s->new_rs ? minik_ctl_str(s->new_rs, "metadata.name") : s->name;
    char *msg = NULL;
    bool complete = s->new_rs && updated == s->replicas && available >= s->replicas &&
                    replicas == s->replicas && spec_replicas(s->new_rs) == s->replicas;
    int64_t deadline = minik_ctl_int(d, "spec.progressDeadlineSeconds", 600);
    const cJSON *prog = minik_ctl_condition(d, "Progressing");
    const char *reason = minik_ctl_str(prog, "reason");
    if (cJSON_IsTrue(minik_ctl_get(d, "spec.paused"))) {
        minik_ctl_set_condition(st, "Progressing", "Unknown", "DeploymentPaused",
                                "Deployment is paused", now, false);
    } else if (complete) {
        msg = xasprintf("ReplicaSet \"%s\" has successfully progressed.", rs_name);
        minik_ctl_set_condition(st, "Progressing", "True", "NewReplicaSetAvailable", msg, now,
                                false);
    } else if (progressed || !prog ||
               (reason && strcmp(reason, "ProgressDeadlineExceeded") != 0 &&
                strcmp(reason, "ReplicaSetUpdated") != 0)) {
        msg = xasprintf("ReplicaSet \"%s\" is progressing.", rs_name);
        minik_ctl_set_condition(st, "Progressing", "True", "ReplicaSetUpdated", msg, now, true);
        minik_wq_add_after(s->c->deploy_q, s->key, (uint64_t)deadline * 1000 + 1000);
    } else if (reason && strcmp(reason, "ReplicaSetUpdated") == 0) {
        time_t last = minik_ctl_parse_time(minik_ctl_str(prog, "lastUpdateTime"));
        if (last && now - last >= deadline) {
            msg = xasprintf("ReplicaSet \"%s\" has timed out progressing.", rs_name);
            minik_ctl_set_condition(st, "Progressing", "False", "ProgressDeadlineExceeded", msg,
                                    now, false);
        } else {
            int64_t left = last ? deadline - (int64_t)(now - last) : deadline;
            minik_wq_add_after(s->c->deploy_q, s->key, (uint64_t)(left > 0 ? left : 1) * 1000);
        }
    }
    free(msg);
    if (s->new_rs) {
        const char *rev = minik_ctl_str(s->new_rs, "metadata.annotations." MINIK_ANN_REVISION);
        if (rev)
            minik_ctl_set_str(minik_ctl_obj(minik_ctl_obj(upd, "metadata"), "annotations"),
                              MINIK_ANN_REVISION, rev);
    }
    minik_ctl_update_if_changed(s->c, s->c->deploy_q, s->key, d, upd);
}

void minik_deployment_sync(const char *key, void *ud)
{
    minik_controllers_t *c = ud;
    char *ns, *name;
    minik_ctl_split_key(key, &ns, &name);
    cJSON *d = NULL;
    minik_error_t *err = NULL;
    dsync_t s = {.c = c, .key = key, .ns = ns, .name = name};
    if (minik_store_get(c->store, "Deployment", ns, name, &d, &err) < 0) {
        minik_error_free(err);
        goto out;
    }
    if (minik_ctl_terminating(d))
        goto out;
    s.d = d;
    /* Orphaned ReplicaSets it selects come back first; it looks again once they are its. */
    if (minik_ctl_adopt(c, c->deploy_q, key, d, "ReplicaSet") > 0)
        goto out;
    s.rses = minik_ctl_list_owned(c, "ReplicaSet", ns, minik_ctl_str(d, "metadata.uid"));
    if (!s.rses) {
        minik_wq_add_rate_limited(c->deploy_q, key);
        goto out;
    }
    s.old = xcalloc((size_t)cJSON_GetArraySize(s.rses) + 1, sizeof(*s.old));
    const cJSON *tmpl = minik_ctl_get(d, "spec.template");
    const cJSON *rs;
    cJSON_ArrayForEach(rs, s.rses)
    {
        if (!s.new_rs && minik_ctl_template_equal(minik_ctl_get(rs, "spec.template"), tmpl))
            s.new_rs = rs;
        else
            s.old[s.n_old++] = rs;
    }
    s.replicas = minik_ctl_int(d, "spec.replicas", 1);
    const cJSON *ru = minik_ctl_get(d, "spec.strategy.rollingUpdate");
    const char *type = minik_ctl_str(d, "spec.strategy.type");
    bool recreate = type && strcmp(type, "Recreate") == 0;
    s.max_surge =
        recreate ? 0 : minik_ctl_scaled(minik_ctl_get(ru, "maxSurge"), s.replicas, true, 25);
    s.max_unavailable =
        recreate ? s.replicas
                 : minik_ctl_scaled(minik_ctl_get(ru, "maxUnavailable"), s.replicas, false, 25);
    if (s.max_unavailable > s.replicas)
        s.max_unavailable = s.replicas;
    if (!recreate && s.max_surge == 0 && s.max_unavailable == 0)
        s.max_unavailable = 1;

    if (cJSON_IsTrue(minik_ctl_get(d, "spec.paused"))) {
        /* Paused: no rollout, but a scale of the current ReplicaSet still applies. */
        if (s.new_rs && s.n_old == 0)
            scale_rs(&s, s.new_rs, s.replicas);
    } else if (!s.new_rs) {
        /* The first pods of a new Deployment may all start at once; a new revision
         * starts empty under Recreate and within maxSurge under RollingUpdate. */
        int64_t initial = s.replicas;
        if (s.n_old) {
            int64_t total = all_spec_replicas(&s);
            initial = recreate ? 0 : s.replicas + s.max_surge - total;
            if (initial < 0)
                initial = 0;
            if (initial > s.replicas)
                initial = s.replicas;
        }
        create_new_rs(&s, initial);
    } else if (!bump_revision(&s)) {
        if (recreate)
            rollout_recreate(&s);
        else {
            reconcile_new(&s);
            if (!s.wrote)
                reconcile_old(&s);
        }
        if (!s.wrote)
            cleanup_history(&s);
    }
    sync_status(&s);
    minik_wq_forget(c->deploy_q, key);
out:
    free(s.old);
    cJSON_Delete(s.rses);
    cJSON_Delete(d);
    free(ns);
    free(name);
}
