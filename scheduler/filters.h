/* Filters: can this pod run on this node? Pure functions over the snapshot structs, in
 * kube-scheduler's order, each returning pass (true) or the reasons it failed, worded as
 * kube-scheduler words them (they become the unschedulable message, see explain.h). */
#ifndef MINIK_SCHEDULER_FILTERS_H
#define MINIK_SCHEDULER_FILTERS_H

#include <stdbool.h>
#include <stddef.h>

#include "scheduler/snapshot.h"
#include "scheduler/spread.h"
#include "lib/strmap.h"

#define MINIK_SCHED_MAX_REASONS 3
#define MINIK_SCHED_REASON_LEN  384

#define MINIK_REASON_UNSCHEDULABLE "node(s) were unschedulable"
#define MINIK_REASON_NODE_AFFINITY "node(s) didn't match Pod's node affinity/selector"
#define MINIK_REASON_PORTS         "node(s) didn't have free ports for the requested pod ports"
#define MINIK_REASON_TOO_MANY_PODS "Too many pods"
#define MINIK_REASON_CPU           "Insufficient cpu"
#define MINIK_REASON_MEMORY        "Insufficient memory"
#define MINIK_REASON_AFFINITY      "node(s) didn't match pod affinity rules"
#define MINIK_REASON_ANTI_AFFINITY "node(s) didn't match pod anti-affinity rules"
#define MINIK_REASON_EXISTING_ANTI "node(s) didn't satisfy existing pods anti-affinity rules"
#define MINIK_REASON_TAINT_FMT     "node(s) had untolerated taint {%s: %s}"

typedef struct minik_sched_reasons {
    size_t n;
    char text[MINIK_SCHED_MAX_REASONS][MINIK_SCHED_REASON_LEN];
} minik_sched_reasons_t;

/* What is computed once per pod before its nodes are filtered (kube-scheduler's
 * PreFilter): the topology domains its anti-affinity terms exclude, those that existing
 * pods' anti-affinity terms exclude for it, and those holding pods its affinity wants. */
typedef struct minik_sched_prefilter {
    minik_strmap_t own;      /* "topologyKey\x1fvalue" -> non-NULL when a matching pod is there */
    minik_strmap_t existing; /* same, from existing pods' terms that match this pod */
    char **existing_keys;    /* distinct topology keys used in `existing` */
    size_t n_existing_keys;
    minik_strmap_t affinity;           /* domains with a pod matching all required affinity terms */
    bool affinity_matched;             /* some pod anywhere matches them */
    bool self_affinity;                /* the pod matches its own affinity terms */
    minik_sched_spread_state_t spread; /* topology spread counts */
} minik_sched_prefilter_t;

/* Compute the pre-filter state of `pod` over every node of the snapshot. */
void minik_sched_prefilter_init(minik_sched_prefilter_t *pf, const minik_sched_snapshot_t *snap,
                                const minik_sched_pod_t *pod);
void minik_sched_prefilter_free(minik_sched_prefilter_t *pf);

typedef bool (*minik_sched_filter_fn)(const minik_sched_prefilter_t *pf,
                                      const minik_sched_pod_t *pod, const minik_sched_node_t *node,
                                      minik_sched_reasons_t *out);

/* spec.unschedulable (cordoned), unless the pod tolerates node.kubernetes.io/unschedulable. */
bool minik_sched_filter_unschedulable(const minik_sched_prefilter_t *pf,
                                      const minik_sched_pod_t *pod, const minik_sched_node_t *node,
                                      minik_sched_reasons_t *out);
/* Readiness, as the implicit taint node.kubernetes.io/not-ready:NoSchedule (so a pod that
 * tolerates it, like a DaemonSet's, may still land), then NoSchedule/NoExecute taints. */
bool minik_sched_filter_taints(const minik_sched_prefilter_t *pf, const minik_sched_pod_t *pod,
                               const minik_sched_node_t *node, minik_sched_reasons_t *out);
/* spec.nodeSelector and required node affinity. */
bool minik_sched_filter_node_affinity(const minik_sched_prefilter_t *pf,
                                      const minik_sched_pod_t *pod, const minik_sched_node_t *node,
                                      minik_sched_reasons_t *out);
/* hostPort conflicts with pods already on the node (protocol and hostIP aware). */
bool minik_sched_filter_ports(const minik_sched_prefilter_t *pf, const minik_sched_pod_t *pod,
                              const minik_sched_node_t *node, minik_sched_reasons_t *out);
/* Requests fit allocatable minus what the node's pods request: pod count, cpu, memory. */
bool minik_sched_filter_resources(const minik_sched_prefilter_t *pf, const minik_sched_pod_t *pod,
                                  const minik_sched_node_t *node, minik_sched_reasons_t *out);
/* Required inter-pod affinity and anti-affinity (the pod's own terms and existing pods'
 * anti-affinity terms) over topology domains (node label values of topologyKey). */
bool minik_sched_filter_pod_affinity(const minik_sched_prefilter_t *pf,
                                     const minik_sched_pod_t *pod, const minik_sched_node_t *node,
                                     minik_sched_reasons_t *out);

/* topologySpreadConstraints with whenUnsatisfiable: DoNotSchedule (see spread.h). */
bool minik_sched_filter_spread(const minik_sched_prefilter_t *pf, const minik_sched_pod_t *pod,
                               const minik_sched_node_t *node, minik_sched_reasons_t *out);

/* Does `term`, written in a pod of namespace `term_ns`, select pod `p`? */
bool minik_sched_pod_term_selects(const minik_sched_pod_term_t *term, const char *term_ns,
                                  const minik_sched_pod_t *p);

typedef struct minik_sched_filter {
    const char *name;
    minik_sched_filter_fn fn;
} minik_sched_filter_t;

/* Every filter in evaluation order, terminated by {NULL, NULL}. */
extern const minik_sched_filter_t minik_sched_filters[];

/* Run the filters in order, stopping at the first that fails (its reasons in *out). */
bool minik_sched_filter_node(const minik_sched_prefilter_t *pf, const minik_sched_pod_t *pod,
                             const minik_sched_node_t *node, minik_sched_reasons_t *out);

/* Does the node's label set / name satisfy one NodeSelectorTerm? (Exported for tests and
 * the scores, which evaluate preferred terms the same way.) */
bool minik_sched_nsel_term_matches(const minik_sched_nsel_term_t *t,
                                   const minik_sched_node_t *node);

#endif
