/* An in-memory index of pods by controlling owner (and by node), kept current from the change feed
 * the controllers already consume. A ReplicaSet, DaemonSet or Job reconcile reads its pods here in
 * O(its pods) instead of scanning every stored pod (with 20,000 pods the scan dominated the
 * controllers' time). Pods without a controller are indexed by namespace for adoption. The store
 * delivers watch events before it acknowledges writes, so once a controller's write is acknowledged
 * the index already holds its result. */
#ifndef MINIK_CONTROLLERS_PODINDEX_H
#define MINIK_CONTROLLERS_PODINDEX_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "lib/strmap.h"
#include "store/store.h"

typedef struct minik_podindex {
    minik_strmap_t pods; /* "ns/name" -> entry: the pod (a copy) and its bucket */
    /* "u:<ns>/<owner uid>", "o:<ns>" (no controller) or "n:<node>" (bound there) -> the
     * bucket of those pods ("ns/name" -> pod) and their counts */
    minik_strmap_t buckets;
} minik_podindex_t;

#define MINIK_PODINDEX_INIT                                                                        \
    {                                                                                              \
        MINIK_STRMAP_INIT, MINIK_STRMAP_INIT                                                       \
    }

/* Apply one change-feed event for a Pod (a copy of `pod` is kept). */
void minik_podindex_observe(minik_podindex_t *idx, minik_store_event_type_t type, const cJSON *pod);
/* Replace the whole content with the pods of the array `pods` (a full list). */
void minik_podindex_resync(minik_podindex_t *idx, const cJSON *pods);

/* A new array of references to the pods in `ns` whose controller has `uid` (the caller
 * cJSON_Deletes it; the pods stay the index's and must not be modified, nor used after
 * the next observe/resync). */
cJSON *minik_podindex_owned(const minik_podindex_t *idx, const char *ns, const char *uid);
/* How many of those pods there are, and how many are active (not finished, not being
 * deleted), ready (and active), finished (Succeeded/Failed, not being deleted): kept as
 * pods change, so a ReplicaSet with nothing to delete need not walk its pods. */
typedef struct minik_podindex_counts {
    size_t pods, active, ready, finished;
} minik_podindex_counts_t;
void minik_podindex_owned_counts(const minik_podindex_t *idx, const char *ns, const char *uid,
                                 minik_podindex_counts_t *out);
/* The same for the pods in `ns` without a controller. */
cJSON *minik_podindex_orphans(const minik_podindex_t *idx, const char *ns);
/* The same for the pods bound to `node` (spec.nodeName), in every namespace. */
cJSON *minik_podindex_on_node(const minik_podindex_t *idx, const char *node);
/* The index's copy of one pod (same lifetime rules), or NULL. */
const cJSON *minik_podindex_get(const minik_podindex_t *idx, const char *ns, const char *name);

size_t minik_podindex_len(const minik_podindex_t *idx);
void minik_podindex_clear(minik_podindex_t *idx);

#endif
