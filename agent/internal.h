/* The agent's shared state: pods and containers as the agent tracks them. Loop-thread
 * data unless noted; a pod with `busy` set belongs to a thread-pool job until its
 * after-work callback runs on the loop. */
#ifndef MINIK_AGENT_INTERNAL_H
#define MINIK_AGENT_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "agent/agent.h"
#include "agent/images/images.h"
#include "agent/network/cni.h"
#include "apiserver/http_server.h"
#include "proto/client.h"
#include "proto/client_uv.h"

#define MINIK_AGENT_BACKOFF_MAX_MS (5 * 60 * 1000)

/* netsync.c's informers, by what they watch. */
enum { NET_NODES, NET_SERVICES, NET_ENDPOINTS, NET_N };
#define MINIK_AGENT_BACKOFF_RESET_MS (10 * 60 * 1000)
/* podwatch.c: a pod job running longer than this is reported in a Warning event. */
#define MINIK_AGENT_SLOW_JOB_MS        (20 * 1000)
#define MINIK_AGENT_SLOW_JOB_REPEAT_MS (2 * 60 * 1000)

/* One probe's timing state (Kubernetes semantics: initialDelaySeconds, periodSeconds,
 * timeoutSeconds, successThreshold, failureThreshold). */
typedef struct agent_probe_state {
    int64_t next_ms; /* when to run next (0: not scheduled for this attempt yet) */
    int successes, failures;
    bool ok;
} agent_probe_state_t;

typedef struct agent_ctr {
    char *name;
    bool init;
    char *id;     /* runtime container id of the current attempt; NULL if none */
    int restarts; /* attempts started minus one */
    pid_t pid;
    char *started_at; /* RFC 3339 of the current attempt */
    int64_t started_ms;
    /* last termination (lastState, or state when not restarting) */
    bool has_last;
    int last_exit, last_signal;
    char *last_reason, *last_started, *last_finished, *last_message;
    bool done;         /* terminated and will not be restarted */
    char *wait_reason; /* ContainerCreating, CrashLoopBackOff, ErrImagePull, ... */
    char *wait_message;
    int64_t next_start_ms; /* back-off: do not start before this (monotonic ms) */
    int64_t backoff_ms;
    agent_probe_state_t liveness, readiness, startup;
    bool started;    /* the startup probe passed (or there is none) */
    bool ready;      /* running, started, and the readiness probe passes (or there is none) */
    bool probes_set; /* probe state belongs to the current attempt */
} agent_ctr_t;

typedef struct agent_pod {
    struct agent_pod *next;
    struct minik_agent *agent;
    char *uid, *ns, *name;
    cJSON *obj;     /* latest desired Pod (loop thread; the job gets a copy) */
    cJSON *job_obj; /* the copy the running job reads */
    bool deleted;   /* gone from the API: terminate and clean up */
    bool busy, dirty;
    bool gone; /* everything removed: free on the loop */
    agent_ctr_t *ctrs;
    size_t n_ctrs;
    char *start_time;
    bool sandbox_ready;
    int64_t term_started_ms;
    bool term_killed;
    char *pod_ip;      /* from CNI ADD (or the node's address for hostNetwork) */
    char *status_sent; /* last status written (JSON) */
    char *status_inflight;
    cJSON *status_out; /* job output: status to write */
    cJSON *events_out; /* job output: events to post */
    uv_work_t work;
    int64_t job_started_ms, job_next_report_ms; /* loop: the job in flight (podwatch.c) */
    char stage[160]; /* what the job is doing now (under agent->stage_lock) */
} agent_pod_t;

struct minik_agent {
    uv_loop_t *loop;
    minik_client_config_t ccfg;
    minik_client_t *client;
    minik_client_uv_t *cuv;
    bool cuv_borrowed; /* hollow: shared with the process's other hollow nodes */
    minik_images_t *images;
    pthread_mutex_t images_lock; /* the store is shared by the pool's threads */
    pthread_mutex_t stage_lock;  /* agent_pod_t.stage, written by jobs, read by the loop */
    char *node_name, *data_dir, *node_ip, *oci_root, *pods_dir;
    /* Pod network: the Node's spec.podCIDR (set once at registration, then read by the
     * pool's threads) and the CNI state directory. */
    char *pod_cidr, *cni_dir;
    bool pod_network_none; /* --pod-network none */
    /* netsync.c: routes, Service rules and cluster DNS kept in step with the API. */
    char *cluster_cidr, *service_cidr;
    bool masquerade_outbound;
    char *dns_listen, *dns_upstream; /* NULL: the bridge address; no forwarding */
    int dns_port;
    struct minik_dns_table *dns_table;
    struct minik_dns_server *dns;
    struct minik_informer *net_inf[NET_N]; /* watched Nodes, Services, Endpoints */
    uv_timer_t net_timer;                  /* debounce: apply after a burst of changes */
    bool net_started, net_busy, net_dirty;
    bool net_bridge;                  /* minik0 seen (with it: DNS, service route) */
    char *net_rules, *net_routes_key; /* what is in place (NULL: unknown) */
    char **labels, **taints;
    char *endpoint_token; /* what the endpoint accepts; only the API server learns it */
    char *endpoint_pin;   /* sha256 of the endpoint's TLS public key (base64), or NULL */
    SSL_CTX *endpoint_tls;
    uint64_t heartbeat_ms, sync_ms, backoff_base_ms;
    int port;
    uv_timer_t heartbeat_timer, sync_timer, retry_timer;
    minik_http_server_t *http;
    minik_client_uv_watch_t *watch;
    char *pods_rv; /* resume the pod watch from here */
    bool registered, listed, stopping;
    bool hollow;
    char *hollow_control; /* hollow: directory of files that silence nodes (NULL: none) */
    bool silenced;        /* hollow: silenced through hollow_control */
    agent_pod_t *pods;
    int jobs; /* thread-pool jobs in flight */
    int handles_open;
    void (*done)(void *);
    void *done_ud;
    uint64_t heartbeats_ok, heartbeats_failed, status_writes, starts;
};

/* node.c */
void minik_agent_node_register(struct minik_agent *a);
void minik_agent_heartbeat_start(struct minik_agent *a);
int minik_agent_parse_taint(const char *s, cJSON **out, minik_error_t **err);
cJSON *minik_agent_node_object(struct minik_agent *a);
/* "http(s)://IP:PORT" of the agent's endpoint (caller frees). */
char *minik_agent_endpoint_url(const struct minik_agent *a);

/* podsync.c */
void minik_agent_pods_list(struct minik_agent *a);
void minik_agent_pod_kick(struct minik_agent *a, agent_pod_t *p);
agent_pod_t *minik_agent_pod_find(struct minik_agent *a, const char *uid);
void minik_agent_sync_tick(uv_timer_t *t);

/* pods.c (thread pool side) */
void minik_agent_pod_reconcile(agent_pod_t *p, int64_t now_ms);
void minik_agent_adopt(struct minik_agent *a);
void minik_agent_pod_free(agent_pod_t *p);
agent_pod_t *minik_agent_pod_new(struct minik_agent *a, const char *uid, const char *ns,
                                 const char *name);

/* network.c (thread pool side): attach / detach a pod's network namespace through CNI
 * and write the files that make cluster DNS work in it; recover after a restart. */
int minik_agent_net_setup(struct minik_agent *a, agent_pod_t *p, const cJSON *pod,
                          const char *netns, minik_error_t **err);
void minik_agent_net_teardown(struct minik_agent *a, agent_pod_t *p);
void minik_agent_net_recover(struct minik_agent *a);
minik_cni_config_t minik_agent_cni_config(const struct minik_agent *a);

/* netsync.c (loop): start watching once registered; the sync tick only looks at local
 * state (the bridge); stop closes the watches and the DNS responder. */
void minik_agent_net_start(struct minik_agent *a);
void minik_agent_net_tick(struct minik_agent *a);
void minik_agent_net_stop(struct minik_agent *a);
void minik_agent_net_free(struct minik_agent *a);
bool minik_agent_dns_enabled(const struct minik_agent *a);

/* hollow.c (kubemark-style nodes) */
/* Thread pool side: the pod's containers "run" (or exit at once if their command line ends
 * in `exit N`); sets p->status_out, or p->gone for a deleted pod. */
void minik_agent_hollow_reconcile(agent_pod_t *p, const cJSON *pod);
/* The code a hollow container exits with: N when its command and args, joined, end in the
 * words `exit N` (0..255); -1 when it runs for ever. */
int minik_agent_hollow_exit_code(const cJSON *cspec);
/* Loop side, on each heartbeat tick: is the node silenced by a file named after it in the
 * control directory? Going silent cancels the pod watch; coming back lists pods again. */
bool minik_agent_hollow_silenced(struct minik_agent *a);
/* podwatch.c: a job records what it is doing (thread side); the loop reports jobs that
 * take long in a Warning event (every sync tick). */
void minik_agent_pod_stage(agent_pod_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void minik_agent_pods_watchdog(struct minik_agent *a, int64_t now_ms);

/* status.c */
cJSON *minik_agent_pod_status(const agent_pod_t *p, const cJSON *pod, const char *host_ip);
char *minik_agent_now_rfc3339(void);

/* restart.c */
int64_t minik_agent_backoff_next(int64_t prev_ms, int64_t base_ms, int64_t ran_ms);
bool minik_agent_should_restart(const char *policy, int exit_code);

/* probes.c (thread pool side): run the due probes of a running container; kills it
 * when liveness or startup fails for good. */
void minik_agent_probes_run(struct minik_agent *a, agent_pod_t *p, agent_ctr_t *c,
                            const cJSON *cspec, int64_t now_ms, cJSON *events);
/* ctrexec.c: run argv in a container through `minik nsexec` (blocking, at most
 * timeout_s): its exit code, or -1; *why (caller frees) says what failed. */
int minik_agent_exec_in(pid_t pid, const char *bundle, const char *cgroup_path, char **argv,
                        int timeout_s, char **why);
/* The same for the running container c of pod p, with its bundle and cgroup: `command` is
 * a JSON array of strings (an exec probe's or a lifecycle hook's); blocking (a pool
 * thread). Its exit code, or -1; a non-zero result sets *why (caller frees). */
int minik_agent_exec_in_container(struct minik_agent *a, const agent_pod_t *p, const agent_ctr_t *c,
                                  const cJSON *command, int timeout_s, char **why);

/* Reset probe state for a new attempt. */
void minik_agent_probes_reset(agent_ctr_t *c, const cJSON *cspec);
/* The containerPort of `container`'s port called `name` in `pod`, or -1 (probe and hook
 * ports given by name). */
int minik_agent_named_port(const cJSON *pod, const char *container, const char *name);

/* hooks.c: run cspec's lifecycle.postStart in the just-started container c (blocking: a
 * pool thread). On failure: a FailedPostStartHook event, the container is killed, < 0. */
int minik_agent_post_start(struct minik_agent *a, agent_pod_t *p, agent_ctr_t *c,
                           const cJSON *cspec, const char *field_path, cJSON *events);

/* podcgroup.c: the pod's own cgroup, parent of its containers' (see the file). */
struct minik_cgroup_stats;
char *minik_agent_pod_cgroup_path(const char *uid);
/* Kubernetes' effective pod limit of "memory" or "cpu" in milli-units, -1: unlimited. */
int64_t minik_agent_pod_limit_milli(const cJSON *pod, const char *what);
/* Create the pod's group with its limits unless it exists. */
int minik_agent_pod_cgroup_ensure(const cJSON *pod, const char *uid, minik_error_t **err);
/* Remove it, in every hierarchy (after its containers); absent is fine. < 0 (logged) when
 * some hierarchy still has it (a process left in it). */
int minik_agent_pod_cgroup_remove(const char *uid);
int minik_agent_pod_cgroup_stats(const char *uid, struct minik_cgroup_stats *out,
                                 minik_error_t **err);

/* events.c */
void minik_agent_event_add(cJSON *events, const char *type, const char *reason,
                           const char *field_path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void minik_agent_events_post(struct minik_agent *a, const agent_pod_t *p, cJSON *events);

/* exec_http.c: POST /exec/{ns}/{pod}/{container} (seg: the three decoded names). */
void minik_agent_exec(struct minik_agent *a, minik_http_request_t *req, char **seg);

/* metrics.c: GET /stats/summary. */
void minik_agent_stats_summary(struct minik_agent *a, minik_http_request_t *req);

/* logs_http.c */
int minik_agent_http_start(struct minik_agent *a, minik_error_t **err);

/* Free the agent once it is stopping and nothing is left in flight. */
void minik_agent_maybe_done(struct minik_agent *a);

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t minik_agent_mono_ms(void);

#endif
