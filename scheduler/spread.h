/* Pod topology spread constraints (kube-scheduler's PodTopologySpread): how many pods the
 * constraints' selectors match in each topology domain, computed once per pod, then a
 * filter for DoNotSchedule constraints and a score for ScheduleAnyway ones. */
#ifndef MINIK_SCHEDULER_SPREAD_H
#define MINIK_SCHEDULER_SPREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scheduler/snapshot.h"
#include "lib/strmap.h"

#define MINIK_REASON_SPREAD "node(s) didn't match pod topology spread constraints"
#define MINIK_REASON_SPREAD_LABEL                                                                  \
    "node(s) didn't match pod topology spread constraints (missing required label)"

typedef struct minik_sched_spread_counts {
    minik_strmap_t counts; /* domain value -> (intptr_t) matching pods */
    int64_t min;           /* smallest count over the eligible domains */
    size_t n_domains;
} minik_sched_spread_counts_t;

typedef struct minik_sched_spread_state {
    minik_sched_spread_counts_t *c; /* one per constraint of the pod, NULL if none */
    size_t n;
} minik_sched_spread_state_t;

/* Count, for every constraint of `pod`, the matching pods (same namespace, not
 * terminating) per domain over the eligible nodes of the snapshot: nodes that have every
 * constraint's topology label and, per the constraint's policies, match the pod's node
 * affinity/selector (nodeAffinityPolicy Honor) and whose taints it tolerates
 * (nodeTaintsPolicy Honor). */
void minik_sched_spread_init(minik_sched_spread_state_t *st, const minik_sched_snapshot_t *snap,
                             const minik_sched_pod_t *pod);
void minik_sched_spread_free(minik_sched_spread_state_t *st);

/* DoNotSchedule: placing the pod on `node` must keep (count in the node's domain + 1 if
 * the pod matches its own selector) - (global minimum, or 0 with fewer than minDomains
 * domains) within maxSkew. */
bool minik_sched_spread_fits(const minik_sched_spread_state_t *st, const minik_sched_pod_t *pod,
                             const minik_sched_node_t *node, const char **reason);

/* ScheduleAnyway: matching pods in the node's domains, summed over the soft constraints
 * (fewer is better); -1 when the node lacks a soft constraint's label (scored last). */
int64_t minik_sched_spread_soft(const minik_sched_spread_state_t *st, const minik_sched_pod_t *pod,
                                const minik_sched_node_t *node);

#endif
