/* The node agent: registers this machine as a Node, heartbeats, watches the pods bound to
 * it and runs them through the runtime (one shim per container), reports their status and
 * events, restarts them with back-off, stops them with their grace period, and serves
 * their logs on its own authenticated HTTP endpoint. docs/agent.md tells the whole story.
 *
 * It runs on the caller's libuv loop (the same loop as the API server in `minik server`);
 * anything that blocks (image pulls, root filesystems, starting shims) runs in libuv's
 * thread pool, one job per pod at a time. */
#ifndef MINIK_AGENT_AGENT_H
#define MINIK_AGENT_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "lib/error.h"
#include "proto/client.h"
#include "proto/client_uv.h"

typedef struct minik_agent minik_agent_t;

/* libuv's thread pool size for processes that run an agent (unless UV_THREADPOOL_SIZE
 * is set): call before the loop queues any work (agent/threadpool.c says why). */
#define MINIK_AGENT_THREADPOOL_SIZE "32"
void minik_agent_threadpool_size(void);

/* How long a stopping process waits for pod jobs still in the thread pool (an image pull,
 * a probe, a CNI plugin) before it exits without them: their pods' containers keep
 * running either way and the next start re-adopts them. */
#define MINIK_AGENT_STOP_WAIT_MS 5000
/* Log the pods whose jobs are still running and what each is doing (a stop that waits). */
void minik_agent_log_busy(minik_agent_t *a);

typedef struct minik_agent_opts {
    const minik_client_config_t *client; /* server URL, CA, token (copied) */
    const char *node_name;               /* default: the host name */
    const char *data_dir;     /* images, pods, oci state (default /var/lib/minik/agent) */
    const char *node_ip;      /* InternalIP reported, and the endpoint's address */
    int port;                 /* agent endpoint port; 0 picks a free one */
    char *const *labels;      /* "k=v", NULL-terminated, may be NULL */
    char *const *taints;      /* "k=v:Effect" or "k:Effect", may be NULL */
    uint64_t heartbeat_ms;    /* default 1000 */
    uint64_t sync_ms;         /* local state check period, default 1000 */
    uint64_t backoff_base_ms; /* crash back-off start, default 10 s (max 5 min) */
    /* "cni" (default): each pod gets its own address on the minik0 bridge through the CNI
     * plugins (docs/networking.md). "none": pods keep a private network namespace with
     * loopback only (tests that run an agent in the host's namespace use it). */
    const char *pod_network;
    const char *cluster_cidr, *service_cidr; /* defaults 10.42.0.0/16, 10.43.0.0/16 */
    bool masquerade_outbound; /* NAT pods' traffic leaving the cluster (off by default) */
    const char *dns_listen;   /* cluster DNS address; NULL: the bridge address */
    int dns_port;             /* 0: 53 */
    const char *dns_upstream; /* resolver for other names ("IP[:PORT]"); NULL: none */
    /* A hollow node (kubemark): registers and heartbeats like a real one and reports its
     * pods Running and Ready without running anything; no image store, no runtime. */
    bool hollow;
    /* Hollow only: a directory where a file named after a node silences it (no
     * heartbeats, no watch, no status) until the file is removed; NULL: never. */
    const char *hollow_control;
    /* Hollow only: one request driver (curl multi) shared by every hollow node of the
     * process, borrowed, so 5,000 nodes share a pool of connections and file descriptors.
     * Its owner closes it after minik_agent_shutdown of every agent that uses it, and then
     * calls minik_agent_client_closed on each. NULL: the agent has its own. */
    minik_client_uv_t *shared_cuv;
    /* Wait this long before registering: thousands of hollow nodes starting at once would
     * overflow the server's accept queue and list pods all in the same instant. */
    uint64_t start_delay_ms;
} minik_agent_opts_t;

/* Validate opts, open the image store and start registering on `loop`. Registration,
 * watch and status writes continue asynchronously; failures there are retried. */
int minik_agent_start(uv_loop_t *loop, const minik_agent_opts_t *opts, minik_agent_t **out,
                      minik_error_t **err);

/* With opts.shared_cuv: the shared driver is closed (every callback of this agent's
 * requests has run); the agent finishes shutting down. */
void minik_agent_client_closed(minik_agent_t *a);

/* Stop watching and serving; containers keep running (they belong to their shims and are
 * re-adopted on the next start). done(ud) runs once every handle is closed. */
void minik_agent_shutdown(minik_agent_t *a, void (*done)(void *ud), void *ud);

#endif
