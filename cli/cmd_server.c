/* `minik server`: the control plane (API server + store) on one libuv loop. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "agent/agent.h"
#include "apiserver/apiserver.h"
#include "controllers/controllers.h"
#include "scheduler/scheduler.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/kubeconfig.h"

static const char *data_dir = "/var/lib/minik";
static const char *listen_addr = "0.0.0.0:6443";
static bool no_agent;
static bool no_scheduler;
static bool insecure_http;
static char **tls_sans;
static const char *idle_timeout = "60s";
static const char *header_timeout = "10s";
static const char *event_retention;
static const char *node_grace = "5s";
static const char *pod_eviction = "10s";
static const char *scheduler_policy = "spread";
static const char *cluster_cidr = "10.42.0.0/16";
static const char *service_cidr = "10.43.0.0/16";
static const char *pod_network = "cni";

static const minik_cli_flag_t flags[] = {
    {"data-dir", 0, MINIK_FLAG_STRING, &data_dir, "DIR",
     "state directory: state.db, tls/, admin.conf (default /var/lib/minik)"},
    {"listen", 0, MINIK_FLAG_STRING, &listen_addr, "HOST:PORT",
     "address to serve the API on (default 0.0.0.0:6443; port 0 picks a free one)"},
    {"disable-scheduler", 0, MINIK_FLAG_BOOL, &no_scheduler, NULL,
     "do not place pods (as k3s --disable-scheduler): for API-only servers and tests"},
    {"no-agent", 0, MINIK_FLAG_BOOL, &no_agent, NULL,
     "do not run the embedded node agent (by default this machine is also a node, with its "
     "state under DIR/agent)"},
    {"insecure-http", 0, MINIK_FLAG_BOOL, &insecure_http, NULL,
     "serve plain HTTP instead of TLS (only on a loopback address)"},
    {"tls-san", 0, MINIK_FLAG_LIST, &tls_sans, "NAME",
     "extra DNS name or IP for the server certificate (repeatable)"},
    {"idle-timeout", 0, MINIK_FLAG_STRING, &idle_timeout, "DURATION",
     "close connections idle this long (default 60s)"},
    {"header-timeout", 0, MINIK_FLAG_STRING, &header_timeout, "DURATION",
     "a request's line and headers must arrive within this (default 10s)"},
    {"event-retention", 0, MINIK_FLAG_STRING, &event_retention, "N",
     "change-feed events kept for watches to resume from (default 10000); older "
     "resourceVersions get 410 Gone"},
    {"node-grace-period", 0, MINIK_FLAG_STRING, &node_grace, "DURATION",
     "a node that has not sent a heartbeat for this long becomes NotReady (default 5s)"},
    {"pod-eviction-timeout", 0, MINIK_FLAG_STRING, &pod_eviction, "DURATION",
     "pods on a NotReady node are deleted after this long (default 10s)"},
    {"scheduler-policy", 0, MINIK_FLAG_STRING, &scheduler_policy, "spread|binpack",
     "spread pods over the least-allocated nodes (default) or pack the most-allocated"},
    {"cluster-cidr", 0, MINIK_FLAG_STRING, &cluster_cidr, "CIDR",
     "pod addresses; each node gets a /24 of it (default 10.42.0.0/16)"},
    {"service-cidr", 0, MINIK_FLAG_STRING, &service_cidr, "CIDR",
     "ClusterIP addresses of Services (default 10.43.0.0/16)"},
    {"pod-network", 0, MINIK_FLAG_STRING, &pod_network, "cni|none",
     "the embedded agent's pod network (see minik agent --pod-network; default cni)"},
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik server [--data-dir DIR] [--listen HOST:PORT] [--no-agent] "
             "[--insecure-http] [--tls-san NAME]...",
    .summary = "Run the control plane: the Kubernetes-style API server and its store",
    .description =
        "Serves the API over HTTPS (a cluster CA and server certificate are created in\n"
        "DIR/tls on first start) with bearer-token auth; DIR/admin.conf is a kubeconfig\n"
        "for minik and stock kubectl. SIGTERM/SIGINT stop it gracefully.\n"
        "Unless --no-agent, the same process runs a node agent (see `minik agent`).",
    .flags = flags,
    .min_args = 0,
    .max_args = 0,
};

typedef struct server_main {
    uv_loop_t loop;
    uv_signal_t sigterm, sigint;
    minik_apiserver_t *api;
    minik_controllers_t *ctl;
    minik_scheduler_t *sched;
    minik_agent_t *agent;
    uv_timer_t stop_deadline;
    bool stopping;
} server_main_t;

/* Both halves have stopped: nothing is left to wait for. */
static void stop_check(server_main_t *m)
{
    if (!m->api && !m->agent && !uv_is_closing((uv_handle_t *)&m->stop_deadline))
        uv_close((uv_handle_t *)&m->stop_deadline, NULL);
}

static void agent_stopped(void *ud)
{
    server_main_t *m = ud;
    m->agent = NULL;
    stop_check(m);
}

/* Pod jobs that still run MINIK_AGENT_STOP_WAIT_MS after the signal (a hung image pull, a
 * slow CNI plugin) cannot be cancelled: once the API server has closed its store, exit
 * without them (their containers keep running, as on any stop, and are re-adopted). */
static void on_stop_deadline(uv_timer_t *t)
{
    server_main_t *m = t->data;
    if (!m->agent)
        return;
    minik_agent_log_busy(m->agent);
    if (m->api) {
        uv_timer_start(t, on_stop_deadline, 1000, 0); /* the store first */
        return;
    }
    minik_log_warn("server stopped; pod jobs above abandoned", NULL);
    _exit(MINIK_EXIT_OK);
}

static void stopped(void *ud)
{
    server_main_t *m = ud;
    m->api = NULL;
    uv_close((uv_handle_t *)&m->sigterm, NULL);
    uv_close((uv_handle_t *)&m->sigint, NULL);
    minik_log_info("server stopped", NULL);
    stop_check(m);
}

/* Agents' heartbeats (POST .../nodes/NAME/heartbeat) go to the node lifecycle's table in
 * memory; without this every node turns NotReady after the grace period and its pods are
 * evicted. */
static void on_heartbeat(const char *node, void *ud)
{
    server_main_t *m = ud;
    if (m->ctl)
        minik_nodes_heartbeat(minik_controllers_nodes(m->ctl), node, uv_now(&m->loop));
}

static void on_signal(uv_signal_t *h, int signum)
{
    server_main_t *m = h->data;
    if (m->stopping)
        return;
    m->stopping = true;
    minik_log_info("shutting down", "signal", strsignal(signum), NULL);
    minik_apiserver_set_heartbeat_fn(m->api, NULL, NULL);
    /* The controllers stop before the store closes; their writes in flight still finish. */
    minik_scheduler_free(m->sched);
    m->sched = NULL;
    minik_controllers_free(m->ctl);
    m->ctl = NULL;
    uv_timer_init(&m->loop, &m->stop_deadline);
    m->stop_deadline.data = m;
    uv_timer_start(&m->stop_deadline, on_stop_deadline, MINIK_AGENT_STOP_WAIT_MS, 0);
    minik_agent_shutdown(m->agent, agent_stopped, m); /* its containers keep running */
    minik_apiserver_shutdown(m->api, stopped, m);
}

/* Node lifecycle decided a node became (not) Ready: pods waiting for room may now fit. */
static void on_node_ready_changed(const char *node, bool ready, void *ud)
{
    server_main_t *m = ud;
    if (m->sched)
        minik_scheduler_node_ready_changed(m->sched, node);
}

/* Split HOST:PORT (IPv6 as [::1]:6443). */
static int parse_listen(const char *s, char **host, int *port, minik_error_t **err)
{
    const char *colon = strrchr(s, ':');
    if (!colon)
        return minik_error_set(err, 0, "--listen %s: expected HOST:PORT", s);
    const char *h = s;
    size_t hl = (size_t)(colon - s);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    int64_t p;
    if (minik_str_to_i64(colon + 1, 0, 65535, &p, "--listen port", err) < 0)
        return -1;
    *host = hl ? xstrndup(h, hl) : xstrdup("0.0.0.0");
    *port = (int)p;
    return 0;
}

int minik_cmd_server(int argc, char **argv)
{
    int r = minik_cli_parse(&spec, argc, argv, NULL);
    if (r != 0)
        return minik_cli_parse_exit(r);
    cleanup_strv char **sans = tls_sans;
    tls_sans = NULL;
    cleanup_error minik_error_t *err = NULL;
    cleanup_free char *host = NULL;
    int port = 0;
    int64_t idle_ms = 0, header_ms = 0, retention = 0, grace_ms = 0, eviction_ms = 0;
    minik_sched_policy_t policy;
    if (parse_listen(listen_addr, &host, &port, &err) < 0 ||
        minik_sched_policy_parse(scheduler_policy, &policy, &err) < 0 ||
        minik_str_to_duration_ms(idle_timeout, &idle_ms, "--idle-timeout", &err) < 0 ||
        minik_str_to_duration_ms(header_timeout, &header_ms, "--header-timeout", &err) < 0 ||
        minik_str_to_duration_ms(node_grace, &grace_ms, "--node-grace-period", &err) < 0 ||
        minik_str_to_duration_ms(pod_eviction, &eviction_ms, "--pod-eviction-timeout", &err) < 0 ||
        (event_retention && minik_str_to_i64(event_retention, 1, INT64_MAX, &retention,
                                             "--event-retention", &err) < 0)) {
        fprintf(stderr, "error: %s\n", err->msg);
        return MINIK_EXIT_USAGE;
    }
    if (insecure_http && !minik_apiserver_is_loopback(host)) {
        fprintf(stderr,
                "error: --insecure-http is only allowed on a loopback address "
                "(127.0.0.1, ::1), not %s\n",
                host);
        return MINIK_EXIT_USAGE;
    }
    /* Writes to a peer that went away must fail with EPIPE, not kill the server. */
    signal(SIGPIPE, SIG_IGN);
    minik_agent_threadpool_size();
    server_main_t m = {0};
    uv_loop_init(&m.loop);
    minik_apiserver_options_t opts = {
        .data_dir = data_dir,
        .host = host,
        .port = port,
        .insecure_http = insecure_http,
        .tls_sans = sans,
        .idle_ms = (uint64_t)idle_ms,
        .header_ms = (uint64_t)header_ms,
        .event_retention = retention,
        .cluster_cidr = cluster_cidr,
        .service_cidr = service_cidr,
    };
    if (minik_apiserver_start(&m.loop, &opts, &m.api, &err) < 0) {
        /* Let handles closed on the failure path finish. */
        uv_run(&m.loop, UV_RUN_DEFAULT);
        uv_loop_close(&m.loop);
        return minik_cli_fail(err);
    }
    minik_controllers_opts_t copts = {.node_grace_ms = grace_ms > 0 ? (uint64_t)grace_ms : 1,
                                      .pod_eviction_ms =
                                          eviction_ms > 0 ? (uint64_t)eviction_ms : 1,
                                      .node_ready_changed = on_node_ready_changed,
                                      .node_ready_ud = &m};
    if (minik_controllers_new(minik_apiserver_store(m.api), &m.loop, &copts, &m.ctl, &err) < 0 ||
        minik_controllers_start(m.ctl, &err) < 0 ||
        (!no_scheduler && (minik_scheduler_new(minik_apiserver_store(m.api), &m.loop,
                                               &(minik_scheduler_opts_t){
                                                   .policy = policy,
                                                   .node_ready = minik_nodes_ready_fn,
                                                   .node_ready_ud = minik_controllers_nodes(m.ctl)},
                                               &m.sched, &err) < 0 ||
                           minik_scheduler_start(m.sched, &err) < 0))) {
        /* A control plane without its controllers or scheduler would accept Deployments
         * it never runs (--disable-scheduler asks for exactly that). */
        minik_scheduler_free(m.sched);
        minik_controllers_free(m.ctl);
        minik_apiserver_shutdown(m.api, NULL, NULL);
        uv_run(&m.loop, UV_RUN_DEFAULT);
        uv_loop_close(&m.loop);
        return minik_cli_fail(err);
    }
    minik_apiserver_set_heartbeat_fn(m.api, on_heartbeat, &m);
    uv_signal_init(&m.loop, &m.sigterm);
    uv_signal_init(&m.loop, &m.sigint);
    m.sigterm.data = m.sigint.data = &m;
    uv_signal_start(&m.sigterm, on_signal, SIGTERM);
    uv_signal_start(&m.sigint, on_signal, SIGINT);
    char portbuf[16];
    snprintf(portbuf, sizeof(portbuf), "%d", minik_apiserver_port(m.api));
    cleanup_free char *kubeconfig = xasprintf("%s/admin.conf", data_dir);
    minik_log_info("API server listening", "url", minik_apiserver_url(m.api), "port", portbuf,
                   "kubeconfig", kubeconfig, "tls", insecure_http ? "off" : "on", NULL);
    if (!no_agent) {
        /* The embedded agent talks to this server like any other, with the admin
         * kubeconfig written at start. */
        minik_client_config_t ccfg = {0};
        cleanup_free char *agent_dir = xasprintf("%s/agent", data_dir);
        if (minik_kubeconfig_load(kubeconfig, NULL, &ccfg, &err) < 0 ||
            minik_agent_start(&m.loop,
                              &(minik_agent_opts_t){.client = &ccfg,
                                                    .data_dir = agent_dir,
                                                    .node_ip = "127.0.0.1",
                                                    .pod_network = pod_network},
                              &m.agent, &err) < 0) {
            minik_log_error("embedded agent not started", "error", err->msg, NULL);
            minik_error_clear(&err);
        }
        minik_client_config_clear(&ccfg);
    } else {
        minik_log_info("embedded agent not started (--no-agent)", NULL);
    }
    uv_run(&m.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&m.loop) != 0)
        minik_log_warn("event loop closed with handles still open", NULL);
    return MINIK_EXIT_OK;
}
