/* Pods by controlling owner (see podindex.h). */
#include "controllers/podindex.h"

#include <stdlib.h>
#include <string.h>

#include "controllers/internal.h"
#include "lib/xalloc.h"

typedef struct entry {
    cJSON *pod;
    char *bucket;      /* the key of the owner (or namespace) bucket the pod is in */
    char *node_bucket; /* "n:<spec.nodeName>" when bound, else NULL */
} entry_t;

static char *node_bucket_key(const cJSON *pod)
{
    const char *node = minik_ctl_str(pod, "spec.nodeName");
    return node && *node ? xasprintf("n:%s", node) : NULL;
}

/* The bucket a pod belongs to: its controller's uid, or its namespace when it has none. */
static char *bucket_key(const cJSON *pod)
{
    const char *uid = minik_ctl_str(minik_ctl_controller_ref(pod), "uid");
    if (uid)
        return xasprintf("u:%s", uid);
    const char *ns = minik_ctl_str(pod, "metadata.namespace");
    return xasprintf("o:%s", ns ? ns : "");
}

static void bucket_del(minik_podindex_t *idx, const char *bucket, const char *key)
{
    minik_strmap_t *b = minik_strmap_get(&idx->buckets, bucket);
    if (!b)
        return;
    minik_strmap_del(b, key);
    if (b->len == 0) {
        minik_strmap_del(&idx->buckets, bucket);
        minik_strmap_clear(b);
        free(b);
    }
}

static void entry_free(entry_t *e)
{
    cJSON_Delete(e->pod);
    free(e->bucket);
    free(e->node_bucket);
    free(e);
}

static void bucket_put(minik_podindex_t *idx, const char *bucket, const char *key, cJSON *pod)
{
    minik_strmap_t *b = minik_strmap_get(&idx->buckets, bucket);
    if (!b) {
        b = xcalloc(1, sizeof(*b));
        minik_strmap_put(&idx->buckets, bucket, b);
    }
    minik_strmap_put(b, key, pod);
}

/* The namespace bucket: the key holds the namespace, so a pod never moves out of it. */
static char *ns_bucket_key(const cJSON *pod)
{
    const char *ns = minik_ctl_str(pod, "metadata.namespace");
    return xasprintf("s:%s", ns ? ns : "");
}

static void remove_key(minik_podindex_t *idx, const char *key)
{
    entry_t *e = minik_strmap_del(&idx->pods, key);
    if (!e)
        return;
    bucket_del(idx, e->bucket, key);
    char *ns_bucket = ns_bucket_key(e->pod);
    bucket_del(idx, ns_bucket, key);
    free(ns_bucket);
    if (e->node_bucket)
        bucket_del(idx, e->node_bucket, key);
    entry_free(e);
}

static void upsert(minik_podindex_t *idx, const char *key, const cJSON *pod)
{
    entry_t *e = minik_strmap_get(&idx->pods, key);
    char *bucket = bucket_key(pod);
    if (e && strcmp(e->bucket, bucket) != 0) {
        /* Adopted, released or re-owned: move it to its new bucket. */
        bucket_del(idx, e->bucket, key);
        free(e->bucket);
        e->bucket = NULL;
    }
    if (!e) {
        e = xcalloc(1, sizeof(*e));
        minik_strmap_put(&idx->pods, key, e);
    }
    cJSON_Delete(e->pod);
    e->pod = cJSON_Duplicate(pod, 1);
    if (!e->bucket)
        e->bucket = xstrdup(bucket);
    bucket_put(idx, bucket, key, e->pod);
    free(bucket);
    char *ns_bucket = ns_bucket_key(e->pod);
    bucket_put(idx, ns_bucket, key, e->pod);
    free(ns_bucket);
    /* The node bucket holds the new copy too (a pod is bound once, but may be replaced by
     * a same-named pod on another node). */
    char *node_bucket = node_bucket_key(pod);
    if (e->node_bucket && (!node_bucket || strcmp(e->node_bucket, node_bucket) != 0)) {
        bucket_del(idx, e->node_bucket, key);
        free(e->node_bucket);
        e->node_bucket = NULL;
    }
    if (node_bucket) {
        bucket_put(idx, node_bucket, key, e->pod);
        free(e->node_bucket);
        e->node_bucket = node_bucket;
    }
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

typedef struct collect {
    const char *ns;
    cJSON *out;
} collect_t;

static void collect_one(const char *key, void *value, void *ud)
{
    collect_t *c = ud;
    const char *ns = minik_ctl_str(value, "metadata.namespace");
    (void)key;
    /* Owners and dependents share a namespace; a reference across namespaces is not
     * honoured (as in Kubernetes). */
    if (strcmp(ns ? ns : "", c->ns) == 0)
        cJSON_AddItemReferenceToArray(c->out, value);
}

static cJSON *collect_bucket(const minik_podindex_t *idx, const char *bucket, const char *ns)
{
    collect_t c = {.ns = ns ? ns : "", .out = cJSON_CreateArray()};
    const minik_strmap_t *b = minik_strmap_get(&idx->buckets, bucket);
    if (b)
        minik_strmap_foreach(b, collect_one, &c);
    return c.out;
}

cJSON *minik_podindex_owned(const minik_podindex_t *idx, const char *ns, const char *uid)
{
    if (!uid)
        return cJSON_CreateArray();
    char *bucket = xasprintf("u:%s", uid);
    cJSON *out = collect_bucket(idx, bucket, ns);
    free(bucket);
    return out;
}

cJSON *minik_podindex_namespace(const minik_podindex_t *idx, const char *ns)
{
    char *bucket = xasprintf("s:%s", ns ? ns : "");
    cJSON *out = collect_bucket(idx, bucket, ns);
    free(bucket);
    return out;
}

static void collect_any(const char *key, void *value, void *ud)
{
    (void)key;
    cJSON_AddItemReferenceToArray(ud, value);
}

cJSON *minik_podindex_on_node(const minik_podindex_t *idx, const char *node)
{
    cJSON *out = cJSON_CreateArray();
    char *bucket = xasprintf("n:%s", node ? node : "");
    const minik_strmap_t *b = minik_strmap_get(&idx->buckets, bucket);
    if (b)
        minik_strmap_foreach(b, collect_any, out);
    free(bucket);
    return out;
}

const cJSON *minik_podindex_get(const minik_podindex_t *idx, const char *ns, const char *name)
{
    char *key = minik_ctl_key(ns, name);
    const entry_t *e = minik_strmap_get(&idx->pods, key);
    free(key);
    return e ? e->pod : NULL;
}

cJSON *minik_podindex_orphans(const minik_podindex_t *idx, const char *ns)
{
    char *bucket = xasprintf("o:%s", ns ? ns : "");
    cJSON *out = collect_bucket(idx, bucket, ns);
    free(bucket);
    return out;
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
    minik_strmap_clear(value);
    free(value);
}

void minik_podindex_clear(minik_podindex_t *idx)
{
    minik_strmap_foreach(&idx->buckets, free_bucket_cb, NULL);
    minik_strmap_clear(&idx->buckets);
    minik_strmap_foreach(&idx->pods, free_entry_cb, NULL);
    minik_strmap_clear(&idx->pods);
}
