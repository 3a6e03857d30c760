/* Where each controller owner's pods are, counted per zone: the index that lets owner
 * spreading blend in zones in O(zones) per placement instead of walking every pod the
 * owner has (which made placing N replicas of one Deployment quadratic in N).
 *
 * Owners are keyed by namespace and controller uid together: ownerReferences are
 * namespace-local, so a pod in another namespace naming the same uid is not a sibling.
 * Counts are kept by whoever accounts pods on nodes (the scheduler's cache): add a pod
 * when it is placed on a node, remove it with the same zone when it leaves, and move it
 * when its node's zone label changes. */
#ifndef MINIK_SCHEDULER_OWNERS_H
#define MINIK_SCHEDULER_OWNERS_H

#include <stddef.h>

#include "scheduler/snapshot.h"
#include "lib/strmap.h"

typedef struct minik_sched_owners {
    minik_strmap_t by_owner; /* "ns/uid" -> minik_sched_owner_zones_t */
} minik_sched_owners_t;

#define MINIK_SCHED_OWNERS_INIT                                                                    \
    {                                                                                              \
        MINIK_STRMAP_INIT                                                                          \
    }

/* One owner's accounted pods. */
typedef struct minik_sched_owner_zones {
    minik_strmap_t zones; /* zone -> (void *)(intptr_t) pods of the owner on nodes there */
    size_t pods;          /* every accounted pod of the owner, on a zoned node or not */
} minik_sched_owner_zones_t;

/* Count pod `p` (which must have an owner) on a node of `zone` (NULL: an unzoned node);
 * sets p->owner_group. */
void minik_sched_owners_add(minik_sched_owners_t *o, minik_sched_pod_t *p, const char *zone);
/* Undo an add with the same zone; clears p->owner_group. */
void minik_sched_owners_remove(minik_sched_owners_t *o, minik_sched_pod_t *p, const char *zone);
/* The counts of the owner of `p` (NULL when it has no owner or no accounted pod). */
const minik_sched_owner_zones_t *minik_sched_owners_get(const minik_sched_owners_t *o,
                                                        const minik_sched_pod_t *p);
/* How many pods of this owner are on nodes of `zone`. */
size_t minik_sched_owner_zone_count(const minik_sched_owner_zones_t *z, const char *zone);
/* A counted pod's node changed zone (its owner entry stays the same, so nodes' per-group
 * counts stay valid). */
void minik_sched_owners_move(minik_sched_owners_t *o, const minik_sched_pod_t *p,
                             const char *old_zone, const char *new_zone);
/* Pods of the owner group `z` on the node, `except` left out: read from the node's
 * per-group counts (see minik_sched_node_t). */
int64_t minik_sched_owner_pods_on(const minik_sched_owner_zones_t *z, const minik_sched_node_t *n,
                                  const minik_sched_pod_t *except);
void minik_sched_owners_clear(minik_sched_owners_t *o);

#endif
