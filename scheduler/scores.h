/* Scores: how good is each feasible node for the pod? Each scorer gives a raw value per
 * node; values are normalised to 0-100 per scorer and combined as a weighted sum, as
 * kube-scheduler does with its score plugins. */
#ifndef MINIK_SCHEDULER_SCORES_H
#define MINIK_SCHEDULER_SCORES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "scheduler/snapshot.h"

#define MINIK_SCHED_MAX_SCORE 100

#define MINIK_SCHED_POLICIES(X)                                                                    \
    X(MINIK_SCHED_POLICY_SPREAD, "spread")                                                         \
    X(MINIK_SCHED_POLICY_BINPACK, "binpack")

/* spread: least-allocated (the default, as kube-scheduler's LeastAllocated);
 * binpack: most-allocated, filling nodes before using empty ones. */
typedef enum minik_sched_policy {
#define X(e, s) e,
    MINIK_SCHED_POLICIES(X)
#undef X
} minik_sched_policy_t;

const char *minik_sched_policy_name(minik_sched_policy_t p);
/* Parse "spread" or "binpack"; the error names the bad value and the choices. */
int minik_sched_policy_parse(const char *s, minik_sched_policy_t *out, minik_error_t **err);

/* Raw scorers. The resource ones are already 0-100 (Kubernetes' formulas over cpu and
 * memory with equal weights, counting the incoming pod and defaults for unset requests). */
int64_t minik_sched_score_least_allocated(const minik_sched_pod_t *pod,
                                          const minik_sched_node_t *node);
int64_t minik_sched_score_most_allocated(const minik_sched_pod_t *pod,
                                         const minik_sched_node_t *node);
/* Sum of the weights of the preferred node-affinity terms the node matches. */
int64_t minik_sched_score_node_affinity(const minik_sched_pod_t *pod,
                                        const minik_sched_node_t *node);
/* Number of PreferNoSchedule taints the pod does not tolerate (fewer is better). */
int64_t minik_sched_score_taints(const minik_sched_pod_t *pod, const minik_sched_node_t *node);
/* Pods on the node with the same controller owner (fewer is better); 0 without owner. */
int64_t minik_sched_score_owner_spread(const minik_sched_pod_t *pod,
                                       const minik_sched_node_t *node);

/* Inter-pod preferences (kube-scheduler's InterPodAffinity score) for the n nodes into
 * raw[n]: for every pod in the snapshot, the weights of the incoming pod's preferred
 * affinity terms that select it are added to (anti-affinity: subtracted from) its
 * topology domain, as are the weights of its own preferred terms that select the
 * incoming pod, and 1 for each of its required affinity terms that does; a node scores
 * the sum over its domains. May be negative. */
void minik_sched_score_inter_pod(const minik_sched_snapshot_t *snap, const minik_sched_pod_t *pod,
                                 minik_sched_node_t *const *nodes, size_t n, int64_t *raw);
/* Min-max normalisation to 0-100 (InterPodAffinity's NormalizeScore); all equal gives 0. */
void minik_sched_normalize_min_max(int64_t *scores, size_t n);

/* Zone-aware owner spreading (kube-scheduler's SelectorSpread): when nodes carry
 * topology.kubernetes.io/zone, each normalised per-node score becomes
 * (node + 2 * zone) / 3, where zone = 100 * (max - count) / max over the owner's pods per
 * zone (100 when no zone has any). Nodes without a zone keep their per-node score. */
void minik_sched_owner_zone_blend(const minik_sched_snapshot_t *snap, const minik_sched_pod_t *pod,
                                  minik_sched_node_t *const *nodes, size_t n, int64_t *scores);

/* kube-scheduler's DefaultNormalizeScore: scale so the maximum becomes 100; `reverse`
 * turns "fewer is better" counts into scores (100 - v*100/max); all 0 stays 0, or 100
 * when reversed. */
void minik_sched_normalize(int64_t *scores, size_t n, bool reverse);

/* Plugin weights in the combined score (kube-scheduler's defaults for the same plugins). */
#define MINIK_SCHED_WEIGHT_RESOURCES     1
#define MINIK_SCHED_WEIGHT_NODE_AFFINITY 2
#define MINIK_SCHED_WEIGHT_TAINTS        3
#define MINIK_SCHED_WEIGHT_SPREAD        2
#define MINIK_SCHED_WEIGHT_INTER_POD     2
#define MINIK_SCHED_WEIGHT_TOPOLOGY      2
/* Weight of an existing pod's *required* affinity term that selects the incoming pod
 * (kube-scheduler's hardPodAffinityWeight default). */
#define MINIK_SCHED_HARD_POD_AFFINITY_WEIGHT 1

struct minik_sched_prefilter;
/* Weighted total for each of the n feasible nodes into totals[n]. `pf` (may be NULL: no
 * topology spread score) is the pod's pre-filter state. */
void minik_sched_score_nodes(minik_sched_policy_t policy, const minik_sched_snapshot_t *snap,
                             const struct minik_sched_prefilter *pf, const minik_sched_pod_t *pod,
                             minik_sched_node_t *const *nodes, size_t n, int64_t *totals);

/* PodTopologySpread's normalisation of soft-constraint counts: -1 (node lacks a label)
 * scores 0; otherwise 100 * (max + min - v) / max, or 100 when max is 0. */
void minik_sched_normalize_spread(int64_t *scores, size_t n);

#endif
