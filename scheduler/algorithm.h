/* One scheduling decision over a snapshot: filter, score, pick (kube-scheduler's
 * schedulePod). Pure: reads the snapshot, changes nothing; the caller binds. */
#ifndef MINIK_SCHEDULER_ALGORITHM_H
#define MINIK_SCHEDULER_ALGORITHM_H

#include <stddef.h>
#include <stdint.h>

#include "scheduler/scores.h"
#include "scheduler/snapshot.h"

typedef struct minik_sched_algo {
    minik_sched_policy_t policy;
    /* Share of nodes to find feasible before scoring stops looking (kube-scheduler's
     * percentageOfNodesToScore): 0 = adaptive (50% - nodes/125, at least 5%), 100 = all.
     * Clusters under 100 nodes always check every node. */
    int percentage_of_nodes_to_score;
    /* Where the next search starts, so large clusters are visited round-robin; kept by
     * the caller between pods (may start at 0). */
    size_t next_start;
    /* Ties between the best nodes: 0 picks the first by node name (deterministic);
     * otherwise the state of a xorshift generator that picks uniformly among them. */
    uint64_t rng;
} minik_sched_algo_t;

typedef struct minik_sched_result {
    minik_sched_node_t *node; /* chosen node, NULL when unschedulable */
    char *message;            /* unschedulable: the explanation (caller frees) */
    size_t evaluated;         /* nodes the filters ran on */
    size_t feasible;          /* nodes that passed */
} minik_sched_result_t;

/* Choose a node for `pod` among snap->nodes. Returns 0 with result->node set, or 1 with
 * result->message when no node fits. `algo` carries the options and the round-robin and
 * random state, which this call advances. */
int minik_sched_schedule(minik_sched_algo_t *algo, const minik_sched_snapshot_t *snap,
                         const minik_sched_pod_t *pod, minik_sched_result_t *result);

/* How many feasible nodes to look for among n (exported for tests). */
size_t minik_sched_num_feasible_to_find(int percentage, size_t n);

#endif
