/* Nodes in memory, from the change feed (see nodecache.h). */
#include "controllers/nodecache.h"

#include <stdlib.h>
#include <string.h>

#include "controllers/internal.h"
#include "lib/log.h"
#include "lib/xalloc.h"

static void drop_views(minik_nodecache_entry_t *e)
{
    for (int i = 0; i < 2; i++) {
        minik_sched_node_free(e->sched[i]);
        e->sched[i] = NULL;
    }
}

static void entry_free(minik_nodecache_entry_t *e)
{
    drop_views(e);
    cJSON_Delete(e->node);
    free(e);
}

/* Index in `sorted` of the first entry whose name is >= name. */
static size_t lower_bound(const minik_nodecache_t *nc, const char *name)
{
    size_t lo = 0, hi = nc->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(nc->sorted[mid]->name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void remove_name(minik_nodecache_t *nc, const char *name)
{
    minik_nodecache_entry_t *e = minik_strmap_del(&nc->by_name, name);
    if (!e)
        return;
    size_t i = lower_bound(nc, name);
    if (i < nc->len && nc->sorted[i] == e) {
        memmove(&nc->sorted[i], &nc->sorted[i + 1], (nc->len - i - 1) * sizeof(*nc->sorted));
        nc->len--;
    }
    entry_free(e);
}

static void upsert(minik_nodecache_t *nc, const char *name, const cJSON *node)
{
    minik_nodecache_entry_t *e = minik_strmap_get(&nc->by_name, name);
    if (e) {
        /* The sorted slot and the map key stay; only the object and its views change. */
        drop_views(e);
        cJSON_Delete(e->node);
        e->node = cJSON_Duplicate(node, 1);
        e->name = minik_ctl_str(e->node, "metadata.name");
        return;
    }
    e = xcalloc(1, sizeof(*e));
    e->node = cJSON_Duplicate(node, 1);
    e->name = minik_ctl_str(e->node, "metadata.name");
    minik_strmap_put(&nc->by_name, name, e);
    if (nc->len == nc->cap) {
        nc->cap = nc->cap ? nc->cap * 2 : 16;
        nc->sorted = xrealloc(nc->sorted, nc->cap * sizeof(*nc->sorted));
    }
    size_t i = lower_bound(nc, name);
    memmove(&nc->sorted[i + 1], &nc->sorted[i], (nc->len - i) * sizeof(*nc->sorted));
    nc->sorted[i] = e;
    nc->len++;
}

void minik_nodecache_observe(minik_nodecache_t *nc, minik_store_event_type_t type,
                             const cJSON *node)
{
    const char *name = minik_ctl_str(node, "metadata.name");
    if (!name)
        return;
    if (type == MINIK_STORE_DELETED)
        remove_name(nc, name);
    else
        upsert(nc, name, node);
}

void minik_nodecache_resync(minik_nodecache_t *nc, const cJSON *nodes)
{
    minik_nodecache_clear(nc);
    const cJSON *n;
    cJSON_ArrayForEach(n, nodes)
    {
        minik_nodecache_observe(nc, MINIK_STORE_ADDED, n);
    }
}

size_t minik_nodecache_len(const minik_nodecache_t *nc)
{
    return nc->len;
}

minik_nodecache_entry_t *minik_nodecache_at(const minik_nodecache_t *nc, size_t i)
{
    return i < nc->len ? nc->sorted[i] : NULL;
}

minik_nodecache_entry_t *minik_nodecache_get(const minik_nodecache_t *nc, const char *name)
{
    return name ? minik_strmap_get(&nc->by_name, name) : NULL;
}

const minik_sched_node_t *minik_nodecache_sched(minik_nodecache_entry_t *e, bool no_execute_only)
{
    minik_nodecache_entry_t *me = e;
    int i = no_execute_only ? 1 : 0;
    if (me->sched[i])
        return me->sched[i];
    cJSON *copy = NULL;
    const cJSON *src = me->node;
    if (no_execute_only) {
        copy = cJSON_Duplicate(me->node, 1);
        cJSON *taints = (cJSON *)minik_ctl_get(copy, "spec.taints");
        for (int t = cJSON_GetArraySize(taints) - 1; t >= 0; t--) {
            const char *eff = minik_ctl_str(cJSON_GetArrayItem(taints, t), "effect");
            if (!eff || strcmp(eff, "NoExecute") != 0)
                cJSON_DeleteItemFromArray(taints, t);
        }
        src = copy;
    }
    minik_error_t *err = NULL;
    if (minik_sched_node_new(src, true, &me->sched[i], &err) < 0) {
        minik_log_warn("nodecache: undecodable node", "node", me->name, "error", err->msg, NULL);
        minik_error_free(err);
        me->sched[i] = NULL;
    }
    cJSON_Delete(copy);
    return me->sched[i];
}

static void free_entry_cb(const char *key, void *value, void *ud)
{
    (void)key;
    (void)ud;
    entry_free(value);
}

void minik_nodecache_clear(minik_nodecache_t *nc)
{
    minik_strmap_foreach(&nc->by_name, free_entry_cb, NULL);
    minik_strmap_clear(&nc->by_name);
    free(nc->sorted);
    nc->sorted = NULL;
    nc->len = nc->cap = 0;
}
