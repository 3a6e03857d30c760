/* Pods by controlling owner and by node (see podindex.h). */
#include "controllers/podindex.h"

#include <stdlib.h>
#include <string.h>

#include "controllers/internal.h"
#include "lib/xalloc.h"

/* What a ReplicaSet counts, decided once per pod event instead of once per reconcile. */
enum { POD_ACTIVE = 1, POD_READY = 2, POD_FINISHED = 4 };

typedef struct entry {
    cJSON *pod;
    char *bucket;      /* the key of the owner (or namespace) bucket the pod is in */
    char *node_bucket; /* "n:<spec.nodeName>" when bound, else NULL */
    unsigned flags;    /* POD_* of the current copy */
} entry_t;

typedef struct bucket {
    minik_strmap_t pods; /* "ns/name" -> the entry's pod */
    minik_podindex_counts_t counts;
} bucket_t;

static unsigned flags_of(const cJSON *pod)
{
    if (minik_ctl_pod_active(pod))
        return POD_ACTIVE | (minik_ctl_pod_ready(pod) ? POD_READY : 0);
    /* Finished (Succeeded/Failed) and not being deleted: a ReplicaSet replaces it. */
    if (!minik_ctl_terminating(pod) && minik_ctl_str(pod, "status.phase"))
        return POD_FINISHED;
    return 0;
}

/* The owner bucket: the controller's namespace and uid (references across namespaces are
 * not honoured, as in Kubernetes), or the namespace of a pod without a controller. */
static char *owner_bucket_key(const char *ns, const char *uid)
{
    return xasprintf("u:%s/%s", ns ? ns : "", uid);
}

static char *orphan_bucket_key(const char *ns)
{
    return xasprintf("o:%s", ns ? ns : "");
}

static char *bucket_key(const cJSON *pod)
{
    const char *uid = minik_ctl_str(minik_ctl_controller_ref(pod), "uid");
    const char *ns = minik_ctl_str(pod, "metadata.namespace");
    return uid ? owner_bucket_key(ns, uid) : orphan_bucket_key(ns);
}

static char *node_bucket_key(const cJSON *pod)
{
    const char *node = minik_ctl_str(pod, "spec.nodeName");
    return node && *node ? xasprintf("n:%s", node) : NULL;
}

static void count(minik_podindex_counts_t *c, unsigned flags, int delta)
{
    c->pods += (size_t)delta;
    if (flags & POD_ACTIVE)
        c->active += (size_t)delta;
    if (flags & POD_READY)
        c->ready += (size_t)delta;
    if (flags & POD_FINISHED)
        c->finished += (size_t)delta;
}

static void bucket_put(minik_podindex_t *idx, const char *bucket, const char *key, const entry_t *e)
{
    bucket_t *b = minik_strmap_get(&idx->buckets, bucket);
    if (!b) {
        b = xcalloc(1, sizeof(*b));
        minik_strmap_put(&idx->buckets, bucket, b);
    }
    minik_strmap_put(&b->pods, key, e->pod);
    count(&b->counts, e->flags, 1);
}

static void bucket_del(minik_podindex_t *idx, const char *bucket, const char *key, const entry_t *e)
{
    bucket_t *b = minik_strmap_get(&idx->buckets, bucket);
    if (!b || !minik_strmap_del(&b->pods, key))
        return;
    count(&b->counts, e->flags, -1);
    if (b->pods.len == 0) {
        minik_strmap_del(&idx->buckets, bucket);
        minik_strmap_clear(&b->pods);
        free(b);
    }
}

static void entry_unlink(minik_podindex_t *idx, const char *key, entry_t *e)
{
    if (e->bucket)
        bucket_del(idx, e->bucket, key, e);
    if (e->node_bucket)
        bucket_del(idx, e->node_bucket, key, e);
}

static void entry_free(entry_t *e)
{
    cJSON_Delete(e->pod);
    free(e->bucket);
    free(e->node_bucket);
    free(e);
}

static void remove_key(minik_podindex_t *idx, const char *key)
{
    entry_t *e = minik_strmap_del(&idx->pods, key);
    if (!e)
        return;
    entry_unlink(idx, key, e);
    entry_free(e);
}

static void upsert(minik_podindex_t *idx, const char *key, const cJSON *pod)
{
    entry_t *e = minik_strmap_get(&idx->pods, key);
    if (e) {
        /* Out of its buckets with its old counts; back in below with the new ones (the
         * owner may have changed: adopted, released; the node: a same-named new pod). */
        entry_unlink(idx, key, e);
        cJSON_Delete(e->pod);
        free(e->bucket);
        free(e->node_bucket);
    } else {
        e = xcalloc(1, sizeof(*e));
        minik_strmap_put(&idx->pods, key, e);
    }
    e->pod = cJSON_Duplicate(pod, 1);
    e->flags = flags_of(pod);
    e->bucket = bucket_key(pod);
    e->node_bucket = node_bucket_key(pod);
    bucket_put(idx, e->bucket, key, e);
    if (e->node_bucket)
        bucket_put(idx, e->node_bucket, key, e);
}

void minik_podindex_observe(minik_podindex_t *idx, minik_store_event_type_t type, const cJSON *pod)
{
    const char *name = minik_ctl_str(pod, "metadata.name");
    if (!name)
        return;
    char *key = minik_ctl_key(minik_ctl_str(pod, "metadata.namespace"), name);
    if (type == MINIK_STORE_DELETED)
        remove_key(idx, key);
    else
        upsert(idx, key, pod);
    free(key);
}

void minik_podindex_resync(minik_podindex_t *idx, const cJSON *pods)
{
    minik_podindex_clear(idx);
    const cJSON *p;
    cJSON_ArrayForEach(p, pods)
    {
        minik_podindex_observe(idx, MINIK_STORE_ADDED, p);
    }
}

static void collect_one(const char *key, void *value, void *ud)
{
    (void)key;
    cJSON_AddItemReferenceToArray(ud, value);
}

static cJSON *collect(const minik_podindex_t *idx, char *bucket)
{
    cJSON *out = cJSON_CreateArray();
    const bucket_t *b = minik_strmap_get(&idx->buckets, bucket);
    if (b)
        minik_strmap_foreach(&b->pods, collect_one, out);
    free(bucket);
    return out;
}

cJSON *minik_podindex_owned(const minik_podindex_t *idx, const char *ns, const char *uid)
{
    if (!uid)
        return cJSON_CreateArray();
    return collect(idx, owner_bucket_key(ns, uid));
}

void minik_podindex_owned_counts(const minik_podindex_t *idx, const char *ns, const char *uid,
                                 minik_podindex_counts_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!uid)
        return;
    char *key = owner_bucket_key(ns, uid);
    const bucket_t *b = minik_strmap_get(&idx->buckets, key);
    free(key);
    if (b)
        *out = b->counts;
}

cJSON *minik_podindex_orphans(const minik_podindex_t *idx, const char *ns)
{
    return collect(idx, orphan_bucket_key(ns));
}

cJSON *minik_podindex_on_node(const minik_podindex_t *idx, const char *node)
{
    return collect(idx, xasprintf("n:%s", node ? node : ""));
}

const cJSON *minik_podindex_get(const minik_podindex_t *idx, const char *ns, const char *name)
{
    char *key = minik_ctl_key(ns, name);
    const entry_t *e = minik_strmap_get(&idx->pods, key);
    free(key);
    return e ? e->pod : NULL;
}

size_t minik_podindex_len(const minik_podindex_t *idx)
{
    return idx->pods.len;
}

static void free_entry_cb(const char *key, void *value, void *ud)
{
    (void)key;
    (void)ud;
    entry_free(value);
}

static void free_bucket_cb(const char *key, void *value, void *ud)
{
    (void)key;
    (void)ud;
    bucket_t *b = value;
    minik_strmap_clear(&b->pods);
    free(b);
}

void minik_podindex_clear(minik_podindex_t *idx)
{
    minik_strmap_foreach(&idx->buckets, free_bucket_cb, NULL);
    minik_strmap_clear(&idx->buckets);
    minik_strmap_foreach(&idx->pods, free_entry_cb, NULL);
    minik_strmap_clear(&idx->pods);
}
