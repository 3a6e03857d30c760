/* The garbage collector: an object whose every ownerReference points at an owner that no
 * longer exists (by uid) is deleted — background propagation, so deleting a Deployment
 * removes its ReplicaSets, and then their pods, each level in turn.
 *
 * The API server cascades deletes it serves itself; the collector covers deletes made
 * straight in the store (a Job removed by its TTL, a ReplicaSet pruned from history) and
 * owners deleted while the server was down. An Orphan delete is recorded by the API server
 * by dropping the ownerReference from each dependent (apiserver/handlers.c), so an orphan
 * has no reference to a missing owner and is left alone. The collector acts gc_delay_ms
 * after it notices, and deletes with a resourceVersion precondition, so an orphaning
 * update that lands first always wins. */
#include <stdlib.h>
#include <string.h>

#include "controllers/internal.h"
#include "lib/log.h"
#include "lib/xalloc.h"

static bool any_ref_filter(const cJSON *obj, void *ud)
{
    const cJSON *ref;
    cJSON_ArrayForEach(ref, minik_ctl_get(obj, "metadata.ownerReferences"))
    {
        const char *u = minik_ctl_str(ref, "uid");
        if (u && strcmp(u, ud) == 0)
            return true;
    }
    return false;
}

static void observe_key(minik_controllers_t *c, const char *kind, const char *ns, const char *name)
{
    char *key = xasprintf("%s/%s/%s", kind, ns ? ns : "", name);
    minik_wq_add_after(c->gc_q, key, c->opts.gc_delay_ms);
    free(key);
}

void minik_gc_observe(minik_controllers_t *c, const cJSON *obj)
{
    const char *kind = minik_ctl_str(obj, "kind");
    const char *name = minik_ctl_str(obj, "metadata.name");
    if (kind && name)
        observe_key(c, kind, minik_ctl_str(obj, "metadata.namespace"), name);
}

/* Owners seen to exist, at most this many (then the cache starts over). */
#define OWNER_CACHE_MAX 65536

static char *owner_cache_key(const char *kind, const char *ns, const char *name, const char *uid)
{
    return xasprintf("%s/%s/%s/%s", kind, ns ? ns : "", name, uid);
}

void minik_gc_owner_deleted(minik_controllers_t *c, const cJSON *owner)
{
    static const char *const dependent_kinds[] = {"ReplicaSet", "Pod", "Job", NULL};
    const char *uid = minik_ctl_str(owner, "metadata.uid");
    const char *kind = minik_ctl_str(owner, "kind");
    if (uid && kind && c->gc_owners.len > 0) {
        char *key = owner_cache_key(kind, minik_ctl_str(owner, "metadata.namespace"),
                                    minik_ctl_str(owner, "metadata.name"), uid);
        minik_strmap_del(&c->gc_owners, key);
        free(key);
    }
    if (!uid || !kind || strcmp(kind, "Pod") == 0 || strcmp(kind, "Event") == 0)
        return;
    const char *ns = minik_ctl_str(owner, "metadata.namespace");
    for (size_t i = 0; dependent_kinds[i]; i++) {
        cJSON *items = NULL;
        minik_error_t *err = NULL;
        if (minik_store_list(c->store, dependent_kinds[i], ns && *ns ? ns : NULL, any_ref_filter,
                             (void *)uid, &items, NULL, &err) < 0) {
            minik_log_warn("gc: list failed", "error", err->msg, NULL);
            minik_error_free(err);
            continue;
        }
        const cJSON *it;
        cJSON_ArrayForEach(it, items)
        {
            minik_gc_observe(c, it);
        }
        cJSON_Delete(items);
    }
}

/* Does the owner a reference names still exist, with that uid? Errors count as "yes":
 * never delete on a doubt. */
static bool owner_exists(minik_controllers_t *c, const cJSON *ref, const char *ns)
{
    const char *kind = minik_ctl_str(ref, "kind");
    const char *name = minik_ctl_str(ref, "name");
    const char *uid = minik_ctl_str(ref, "uid");
    if (!kind || !name || !uid)
        return true;
    bool cluster = strcmp(kind, "Node") == 0 || strcmp(kind, "Namespace") == 0;
    /* A read that finds the owner is remembered until the owner's delete event arrives:
     * the feed delivers that event on this loop after any read that could still see it. */
    char *key = owner_cache_key(kind, cluster ? "" : ns, name, uid);
    if (minik_strmap_get(&c->gc_owners, key)) {
        free(key);
        return true;
    }
    cJSON *owner = NULL;
    minik_error_t *err = NULL;
    if (minik_store_get(c->store, kind, cluster ? "" : ns, name, &owner, &err) < 0) {
        bool gone = err->code == 404;
        minik_error_free(err);
        free(key);
        return !gone;
    }
    const char *ouid = minik_ctl_str(owner, "metadata.uid");
    bool same = ouid && strcmp(ouid, uid) == 0;
    cJSON_Delete(owner);
    if (same) {
        if (c->gc_owners.len >= OWNER_CACHE_MAX)
            minik_strmap_clear(&c->gc_owners);
        minik_strmap_put(&c->gc_owners, key, (void *)1);
    }
    free(key);
    return same;
}

void minik_gc_sync(const char *key, void *ud)
{
    minik_controllers_t *c = ud;
    const char *s1 = strchr(key, '/');
    const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    if (!s2)
        return;
    char *kind = xstrndup(key, (size_t)(s1 - key));
    char *ns = xstrndup(s1 + 1, (size_t)(s2 - s1 - 1));
    const char *name = s2 + 1;
    cJSON *obj = NULL;
    minik_error_t *err = NULL;
    if (strcmp(kind, "Pod") == 0) {
        /* Pods are the bulk of dependents: read the index's copy, not SQLite. */
        const cJSON *pod = minik_podindex_get(&c->pods, ns, name);
        if (!pod)
            goto out;
        obj = cJSON_Duplicate(pod, 1);
    } else if (minik_store_get(c->store, kind, ns, name, &obj, &err) < 0) {
        minik_error_free(err);
        goto out;
    }
    const cJSON *refs = minik_ctl_get(obj, "metadata.ownerReferences");
    if (cJSON_GetArraySize(refs) == 0)
        goto out;
    const cJSON *ref;
    cJSON_ArrayForEach(ref, refs)
    {
        if (owner_exists(c, ref, ns))
            goto out;
    }
    minik_log_debug("gc: deleting dependent of a deleted owner", "object", key, NULL);
    c->stats.collected++;
    minik_ctl_delete(c, c->gc_q, key, kind, ns, name,
                     minik_ctl_str(obj, "metadata.resourceVersion"));
out:
    cJSON_Delete(obj);
    free(kind);
    free(ns);
}
