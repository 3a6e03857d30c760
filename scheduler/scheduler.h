/* The scheduler loop: runs inside `minik server` on its libuv loop, driven by the store's
 * change feed (never polling).
 *
 * It keeps a cache of Nodes and Pods fed by minik_store_watch. Pending pods (no
 * spec.nodeName, not terminating, spec.schedulerName empty or "default-scheduler") are
 * scheduled in FIFO order, a batch per loop iteration. A placement is "assumed" at once
 * (the node's free resources shrink before the write lands, as in kube-scheduler) and
 * bound by writing spec.nodeName plus the condition PodScheduled=True through the store's
 * group-committed API, with compare-and-swap on resourceVersion: the same effect as the
 * binding subresource. A pod that fits nowhere gets PodScheduled=False, reason
 * Unschedulable and kube-scheduler's message ("0/3 nodes are available: ..."), and waits
 * in an unschedulable set until the cluster changes (a node added or updated, a node
 * becoming Ready, a pod deleted or finished), then is retried.
 *
 * Node readiness: heartbeats live in server memory, not in the store, so readiness is
 * asked from a callback (opts.node_ready) whenever a node is added or updated or the
 * owner of the heartbeats calls minik_scheduler_node_ready_changed(). Without a callback
 * the node's status.conditions[type=Ready] decides. A node that is not Ready is treated
 * as tainted node.kubernetes.io/not-ready:NoSchedule (pods that tolerate it may land).
 *
 * Threading: everything runs on the loop thread. */
#ifndef MINIK_SCHEDULER_SCHEDULER_H
#define MINIK_SCHEDULER_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "lib/error.h"
#include "scheduler/scores.h"
#include "store/store.h"

typedef struct minik_scheduler minik_scheduler_t;

/* Is this node Ready right now? `node` is the stored Node object. Must not block. */
typedef bool (*minik_scheduler_node_ready_fn)(const char *node_name, const cJSON *node, void *ud);

typedef struct minik_scheduler_opts {
    minik_sched_policy_t policy; /* --scheduler-policy spread|binpack (default spread) */
    minik_scheduler_node_ready_fn node_ready; /* NULL: status.conditions Ready=True */
    void *node_ready_ud;
    /* 0: ties go to the first node by name; otherwise seeds the random tie-break. */
    uint64_t seed;
    /* kube-scheduler's percentageOfNodesToScore (0 = adaptive; see algorithm.h). */
    int percentage_of_nodes_to_score;
    /* Pods scheduled per loop iteration before yielding to other handles (0 = 512); a
     * batch also ends after 20 ms, so API requests on the same loop keep flowing. */
    size_t batch;
} minik_scheduler_opts_t;

typedef struct minik_scheduler_stats {
    uint64_t bound;         /* binds the store acknowledged */
    uint64_t bind_errors;   /* binds refused (conflict, deleted pod...) and retried */
    uint64_t unschedulable; /* attempts that found no node */
    uint64_t attempts;      /* scheduling attempts */
    size_t pending;         /* pods waiting in the active queue */
    size_t waiting;         /* pods parked as unschedulable until the cluster changes */
    size_t binding;         /* binds in flight */
    size_t nodes;           /* Node objects in the cache */
    size_t pods;            /* pods in the cache */
} minik_scheduler_stats_t;

/* Create a scheduler over `store` (which must have `loop` attached, and outlive the
 * scheduler) on `loop`. opts may be NULL for defaults; it is copied. Nothing happens until
 * minik_scheduler_start. */
int minik_scheduler_new(minik_store_t *store, uv_loop_t *loop, const minik_scheduler_opts_t *opts,
                        minik_scheduler_t **out, minik_error_t **err);

/* List Nodes and Pods, watch both from the listed resourceVersion, and queue the pending
 * pods. Scheduling runs from the loop afterwards. */
int minik_scheduler_start(minik_scheduler_t *s, minik_error_t **err);

/* Tell the scheduler that the readiness of `node_name` may have changed (a heartbeat
 * started or stopped). It asks opts.node_ready again and, if the node became Ready,
 * retries the pods waiting as unschedulable. */
void minik_scheduler_node_ready_changed(minik_scheduler_t *s, const char *node_name);

void minik_scheduler_get_stats(const minik_scheduler_t *s, minik_scheduler_stats_t *out);

/* Stop watching and scheduling and release the scheduler. Its libuv handle closes and
 * in-flight store writes complete on later loop iterations; the memory is released when
 * both are done, so keep running the loop (as a server's shutdown does). NULL is a no-op. */
void minik_scheduler_free(minik_scheduler_t *s);

#endif
