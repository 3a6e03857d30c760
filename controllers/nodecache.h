/* An in-memory cache of the Nodes, kept current from the change feed the controllers
 * already consume (as the pod index is) and rebuilt from a full list at start. Every Node
 * event queues every DaemonSet; reading the nodes here instead of listing them from the
 * store, and keeping each node's decoded scheduler view, makes a DaemonSet reconcile cost
 * O(nodes + its pods) with no JSON parsing. The store delivers watch events before it
 * acknowledges writes, so the cache already holds the result of any acknowledged write. */
#ifndef MINIK_CONTROLLERS_NODECACHE_H
#define MINIK_CONTROLLERS_NODECACHE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "scheduler/snapshot.h"
#include "lib/strmap.h"
#include "store/store.h"

typedef struct minik_nodecache_entry {
    cJSON *node;      /* a copy of the stored Node */
    const char *name; /* metadata.name, inside node */
    /* The scheduler's decoded view of the node, built on first use and dropped when the
     * node changes: [0] with every taint, [1] with only its NoExecute taints (what a
     * DaemonSet pod already running there must tolerate). */
    minik_sched_node_t *sched[2];
} minik_nodecache_entry_t;

typedef struct minik_nodecache {
    minik_strmap_t by_name;           /* name -> entry */
    minik_nodecache_entry_t **sorted; /* by name: a stable order for reconciles */
    size_t len, cap;
} minik_nodecache_t;

#define MINIK_NODECACHE_INIT                                                                       \
    {                                                                                              \
        MINIK_STRMAP_INIT, NULL, 0, 0                                                              \
    }

/* Apply one change-feed event for a Node (a copy of `node` is kept). */
void minik_nodecache_observe(minik_nodecache_t *nc, minik_store_event_type_t type,
                             const cJSON *node);
/* Replace the whole content with the Nodes of the array `nodes` (a full list). */
void minik_nodecache_resync(minik_nodecache_t *nc, const cJSON *nodes);

size_t minik_nodecache_len(const minik_nodecache_t *nc);
/* The i-th node in name order (i < len); valid until the next observe/resync/clear. */
minik_nodecache_entry_t *minik_nodecache_at(const minik_nodecache_t *nc, size_t i);
/* The node named `name`, or NULL. */
minik_nodecache_entry_t *minik_nodecache_get(const minik_nodecache_t *nc, const char *name);
/* The entry's scheduler view (see sched[] above), decoded on first use; NULL if the node
 * cannot be decoded (logged). Owned by the cache. */
const minik_sched_node_t *minik_nodecache_sched(minik_nodecache_entry_t *e, bool no_execute_only);
void minik_nodecache_clear(minik_nodecache_t *nc);

#endif
