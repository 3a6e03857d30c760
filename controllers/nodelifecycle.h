/* Node heartbeats and readiness, kept in the server's memory (not SQLite: an idle cluster
 * writes nothing to disk for liveness).
 *
 * The apiserver calls minik_nodes_heartbeat when a node's agent posts a heartbeat; the
 * scheduler asks minik_nodes_is_ready (its minik_scheduler_node_ready_fn has the same
 * shape through minik_nodes_ready_fn). The node lifecycle controller (inside
 * minik_controllers_t) owns the timers: a node whose last heartbeat is older than the
 * grace period becomes NotReady and tainted node.kubernetes.io/unreachable (NoSchedule and
 * NoExecute); its pods are evicted after the pod-eviction timeout; a heartbeat from it
 * again makes it Ready and removes the taints.
 *
 * Threading: loop thread only. */
#ifndef MINIK_CONTROLLERS_NODELIFECYCLE_H
#define MINIK_CONTROLLERS_NODELIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

typedef struct minik_nodes minik_nodes_t;

#define MINIK_TAINT_UNREACHABLE   "node.kubernetes.io/unreachable"
#define MINIK_TAINT_UNSCHEDULABLE "node.kubernetes.io/unschedulable"

/* Record a heartbeat from node `name` at loop time `now_ms` (uv_now). A node that was
 * NotReady becomes Ready on the next loop iteration (its taints are removed then). Nodes
 * not known yet are remembered, so a heartbeat that races the Node's creation counts. */
void minik_nodes_heartbeat(minik_nodes_t *nodes, const char *name, uint64_t now_ms);

/* Is `name` Ready now: it heartbeated within the grace period and has not been marked
 * NotReady since? Unknown nodes are not Ready. */
bool minik_nodes_is_ready(const minik_nodes_t *nodes, const char *name);

/* The same, in the shape of minik_scheduler_node_ready_fn (ud is the minik_nodes_t). */
bool minik_nodes_ready_fn(const char *name, const cJSON *node, void *ud);

/* How long a pod stays on an unreachable node (ms after the node became NotReady): the
 * shortest tolerationSeconds of its tolerations matching node.kubernetes.io/unreachable
 * :NoExecute (0 if not positive), -1 if one of them has none (for ever), default_ms if
 * none matches. */
int64_t minik_nodes_unreachable_toleration_ms(const cJSON *pod, int64_t default_ms);

#endif
