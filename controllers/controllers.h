/* The control loops of `minik server`: Deployments (through ReplicaSets), DaemonSets,
 * Jobs, Endpoints of Services, garbage collection by ownerReferences and node lifecycle. See
 * docs/controllers.md.
 *
 * They run on the server's libuv loop, are driven by the store's change feed
 * (minik_store_watch on every kind; nothing polls), read with the store's synchronous
 * reads and write through its group-committed async API (minik_store_submit), with
 * compare-and-swap on resourceVersion for every update. Each controller has a keyed,
 * de-duplicated work queue (controllers/workqueue.h); a key is not reconciled again while
 * its own writes are in flight. */
#ifndef MINIK_CONTROLLERS_CONTROLLERS_H
#define MINIK_CONTROLLERS_CONTROLLERS_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "controllers/nodelifecycle.h"
#include "lib/error.h"
#include "store/store.h"

typedef struct minik_controllers minik_controllers_t;

typedef struct minik_controllers_opts {
    /* A node that has not heartbeated for this long becomes NotReady (default 5000). */
    uint64_t node_grace_ms;
    /* Pods on a NotReady node are evicted after this long (default 10000). */
    uint64_t pod_eviction_ms;
    /* Called when a node's readiness changes (to tell the scheduler), may be NULL. */
    void (*node_ready_changed)(const char *node, bool ready, void *ud);
    void *node_ready_ud;
    /* Delay before the garbage collector acts on a dependent whose owner is gone, so
     * that an Orphan delete's own updates (which drop the ownerReference) land first
     * (default 100). */
    uint64_t gc_delay_ms;
} minik_controllers_opts_t;

typedef struct minik_controllers_stats {
    uint64_t reconciles;           /* keys processed over all queues */
    uint64_t writes;               /* store writes submitted */
    uint64_t conflicts;            /* writes refused 409 and retried */
    uint64_t evictions;            /* pods deleted by node lifecycle */
    uint64_t collected;            /* dependents deleted by the garbage collector */
    uint64_t max_writes_in_flight; /* most store writes in flight at once */
} minik_controllers_stats_t;

/* Create the controllers over `store` (with `loop` attached; the store must outlive them).
 * opts may be NULL for defaults; it is copied. Nothing happens until _start. */
int minik_controllers_new(minik_store_t *store, uv_loop_t *loop,
                          const minik_controllers_opts_t *opts, minik_controllers_t **out,
                          minik_error_t **err);

/* Watch every kind, then queue every Deployment, ReplicaSet, DaemonSet, Job, Node and every
 * object with ownerReferences once, so state left by a previous run is reconciled. */
int minik_controllers_start(minik_controllers_t *c, minik_error_t **err);

/* The in-memory heartbeat table (owned by the controllers). */
minik_nodes_t *minik_controllers_nodes(minik_controllers_t *c);

void minik_controllers_get_stats(const minik_controllers_t *c, minik_controllers_stats_t *out);

/* Stop watching and release. Timers close and writes in flight complete on later loop
 * iterations; the memory goes when they are done, so keep running the loop. NULL is a
 * no-op. */
void minik_controllers_free(minik_controllers_t *c);

#endif
