/* `minik agent`: join a cluster as a node and run the pods bound to it. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "agent/agent.h"
#include "cli/cli.h"
#include "cli/client_config.h"
#include "cli/commands.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/client.h"
#include "proto/client_uv.h"
#include "proto/jointoken.h"

static const char *server_url, *token, *token_file, *ca_file, *kubeconfig, *node_name, *node_ip;
static const char *data_dir = "/var/lib/minik/agent";
static const char *hollow_s = "0", *hollow_control;
static const char *port_s = "10250", *heartbeat_s = "1s", *sync_s = "1s", *backoff_s = "10s";
static char **labels, **taints;
static bool insecure;
static const char *pod_network = "cni";
static const char *cluster_cidr = "10.42.0.0/16", *service_cidr = "10.43.0.0/16";
static const char *dns_address, *dns_upstream = "auto";
static bool masquerade_outbound;

static const minik_cli_flag_t flags[] = {
    {"server", 's', MINIK_FLAG_STRING, &server_url, "URL", "API server URL"},
    {"token", 0, MINIK_FLAG_STRING, &token, "TOKEN",
     "node-join token (minik token create): K10<CA sha256>::<id>.<secret>"},
    {"token-file", 0, MINIK_FLAG_STRING, &token_file, "FILE",
     "read the join token from FILE (keeps it out of the process list)"},
    {"ca-file", 0, MINIK_FLAG_STRING, &ca_file, "FILE",
     "CA certificate to verify the server with (the server's DIR/tls/ca.crt)"},
    {"insecure-skip-tls-verify", 0, MINIK_FLAG_BOOL, &insecure, NULL,
     "do not verify the server's certificate (insecure)"},
    {"kubeconfig", 0, MINIK_FLAG_STRING, &kubeconfig, "FILE",
     "take server, CA and token from a kubeconfig instead"},
    {"node-name", 0, MINIK_FLAG_STRING, &node_name, "NAME", "node name (default: host name)"},
    {"node-ip", 0, MINIK_FLAG_STRING, &node_ip, "IP",
     "address reported as InternalIP and served on (default 127.0.0.1)"},
    {"data-dir", 0, MINIK_FLAG_STRING, &data_dir, "DIR",
     "images, pods, container state and node-credential (default /var/lib/minik/agent)"},
    {"port", 0, MINIK_FLAG_STRING, &port_s, "PORT",
     "agent endpoint port for logs and metrics (default 10250; 0 picks one)"},
    {"labels", 0, MINIK_FLAG_LIST, &labels, "K=V[,K=V]", "extra node labels"},
    {"pod-network", 0, MINIK_FLAG_STRING, &pod_network, "cni|none",
     "cni: pods get addresses on the minik0 bridge (default); none: loopback only, and this "
     "node programs no Service/NodePort rules, routes or cluster DNS"},
    {"cluster-cidr", 0, MINIK_FLAG_STRING, &cluster_cidr, "CIDR",
     "all pods' addresses, as given to the server (default 10.42.0.0/16)"},
    {"service-cidr", 0, MINIK_FLAG_STRING, &service_cidr, "CIDR",
     "ClusterIPs, as given to the server (default 10.43.0.0/16)"},
    {"masquerade-outbound", 0, MINIK_FLAG_BOOL, &masquerade_outbound, NULL,
     "NAT pods' traffic to addresses outside the cluster behind the node's address"},
    {"dns-address", 0, MINIK_FLAG_STRING, &dns_address, "IP",
     "where cluster DNS listens (default: the bridge address, the pod CIDR's .1)"},
    {"dns-upstream", 0, MINIK_FLAG_STRING, &dns_upstream, "IP[:PORT]|auto|none",
     "resolver for names outside the cluster (auto: the first nameserver in "
     "/etc/resolv.conf)"},
    {"taints", 0, MINIK_FLAG_LIST, &taints, "K[=V]:EFFECT[,...]", "node taints"},
    {"heartbeat", 0, MINIK_FLAG_STRING, &heartbeat_s, "DURATION", "heartbeat period (1s)"},
    {"sync-period", 0, MINIK_FLAG_STRING, &sync_s, "DURATION",
     "how often containers are checked (1s)"},
    {"hollow", 0, MINIK_FLAG_STRING, &hollow_s, "N",
     "run N simulated nodes NAME-0..NAME-(N-1) (NAME: --node-name, default hollow-node) "
     "that heartbeat and report their pods Running and Ready without running containers; "
     "in --labels and --taints, {i} is the node's index and {i%M} the index modulo M"},
    {"hollow-control", 0, MINIK_FLAG_STRING, &hollow_control, "DIR",
     "with --hollow: a file DIR/NODE silences that node (no heartbeats, watch or status, as "
     "if cut off) until it is removed"},
    {"crash-backoff", 0, MINIK_FLAG_STRING, &backoff_s, "DURATION",
     "first restart delay of a crashing container, doubled up to 5m (10s)"},
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik agent --server URL --token T [--ca-file F] [--node-name N] [--data-dir DIR] "
             "[--labels k=v,...] [--taints k=v:NoSchedule,...]",
    .summary = "Join a cluster as a node and run the pods bound to it",
    .description = "Registers a Node, heartbeats, watches the pods bound to it and runs them.\n"
                   "Containers outlive the agent: a restarted agent re-adopts them.\n"
                   "SIGTERM/SIGINT stop the agent (not the containers).",
    .flags = flags,
    .min_args = 0,
    .max_args = 0,
};

typedef struct agent_main {
    uv_loop_t loop;
    uv_signal_t sigterm, sigint;
    minik_agent_t **agents;
    /* Hollow nodes' request drivers, one per HOLLOW_PER_DRIVER nodes: libcurl's cost per
     * transfer grows with the handles in its multi, and 5,000 nodes' watches in one made
     * the agent spend its time inside curl (few status writes got out). */
    minik_client_uv_t **shared;
    size_t n_shared, shared_open;
    size_t n_agents, running;
    uv_timer_t stop_deadline;
    bool stopping;
} agent_main_t;

static void stopped(void *ud)
{
    agent_main_t *m = ud;
    if (--m->running > 0)
        return;
    uv_close((uv_handle_t *)&m->sigterm, NULL);
    uv_close((uv_handle_t *)&m->sigint, NULL);
    if (m->stopping)
        uv_close((uv_handle_t *)&m->stop_deadline, NULL);
}

/* Pod jobs still in the thread pool MINIK_AGENT_STOP_WAIT_MS after the signal (a hung image
 * pull, a slow CNI plugin) cannot be cancelled: exit without them. Their containers keep
 * running, as on any stop, and the next start re-adopts them. */
static void on_stop_deadline(uv_timer_t *t)
{
    agent_main_t *m = t->data;
    if (m->running == 0)
        return;
    minik_log_warn("agent stopped; pod jobs still running abandoned", NULL);
    _exit(MINIK_EXIT_OK);
}

#define HOLLOW_PER_DRIVER 250

static void shared_closed(void *ud)
{
    agent_main_t *m = ud;
    if (--m->shared_open > 0)
        return;
    free(m->shared);
    m->shared = NULL;
    /* Each agent may be freed (and `stopped` run) from inside this call. */
    size_t n = m->n_agents;
    for (size_t i = 0; i < n; i++)
        minik_agent_client_closed(m->agents[i]);
}

/* Stop every agent; the shared driver goes once none of them sends anything more. */
static void stop_all(agent_main_t *m, void (*done)(void *), void *ud)
{
    for (size_t i = 0; i < m->n_agents; i++)
        minik_agent_shutdown(m->agents[i], done, ud);
    size_t n = m->shared ? m->n_shared : 0;
    for (size_t i = 0; i < n; i++)
        minik_client_uv_close(m->shared[i], shared_closed, m);
}

static void on_signal(uv_signal_t *h, int signum)
{
    agent_main_t *m = h->data;
    (void)signum;
    if (m->stopping)
        return;
    m->stopping = true;
    uv_timer_init(&m->loop, &m->stop_deadline);
    m->stop_deadline.data = m;
    uv_timer_start(&m->stop_deadline, on_stop_deadline, MINIK_AGENT_STOP_WAIT_MS, 0);
    if (m->running == 0)
        uv_close((uv_handle_t *)&m->stop_deadline, NULL);
    stop_all(m, stopped, m);
}

/* Trust on first use, pinned by the token: fetch the server's CA from /cacerts without
 * verifying and without any secret, and accept it only if its SHA-256 is the one the join
 * token carries. From then on every request is verified against that CA. */
static int fetch_pinned_ca(minik_client_config_t *cfg, const char *want_hash, minik_error_t **err)
{
    minik_client_config_t probe = {
        .server = cfg->server, .insecure_skip_tls_verify = true, .timeout_ms = 10000};
    cleanup_client minik_client_t *c = NULL;
    minik_client_response_t resp = {0};
    if (minik_client_new(&probe, &c, err) < 0 ||
        minik_client_request(c, "GET", "/cacerts", NULL, NULL, 0, &resp, err) < 0)
        return minik_error_wrap(err, "fetch the cluster CA from %s", cfg->server);
    if (resp.status != 200) {
        minik_client_response_clear(&resp);
        return minik_error_set(err, 0,
                               "%s/cacerts answered HTTP %ld: not a minik server with TLS "
                               "(a K10 join token needs one)",
                               cfg->server, resp.status);
    }
    char got[65];
    minik_join_ca_hash(resp.body, resp.body_len, got);
    if (strcmp(got, want_hash) != 0) {
        minik_client_response_clear(&resp);
        return minik_error_set(err, 0,
                               "the server at %s presents a CA with SHA-256 %s, but the join "
                               "token expects %s: refusing to send the token (wrong server, "
                               "or someone in between)",
                               cfg->server, got, want_hash);
    }
    cfg->ca_pem = resp.body;
    cfg->ca_pem_len = resp.body_len;
    resp.body = NULL;
    minik_client_response_clear(&resp);
    return 0;
}

/* Fail now, with a message a person can act on, if the server refuses the token (expired,
 * deleted, forged), instead of an agent that starts and then retries for ever. /api needs
 * authentication but binds nothing. */
static int check_token(const minik_client_config_t *cfg, const char *what, const char *hint,
                       minik_error_t **err)
{
    cleanup_client minik_client_t *c = NULL;
    minik_client_response_t resp = {0};
    if (minik_client_new(cfg, &c, err) < 0 ||
        minik_client_request(c, "GET", "/api", NULL, NULL, 0, &resp, err) < 0)
        return minik_error_wrap(err, "reach %s", cfg->server);
    long st = resp.status;
    cleanup_cjson cJSON *body = cJSON_Parse(resp.body ? resp.body : "");
    minik_client_response_clear(&resp);
    if (st == 401 || st == 403) {
        const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(body, "message"));
        bool unknown = msg && strstr(msg, "invalid bearer token");
        return minik_error_set(err, 0, "the server refused %s: %s%s", what,
                               msg ? msg : "unauthorized", unknown ? hint : "");
    }
    if (st >= 400)
        return minik_error_set(err, 0, "%s/api answered HTTP %ld", cfg->server, st);
    return 0;
}

/* The node name the agent registers, as minik_agent_new derives it. */
static char *effective_node_name(void)
{
    char host[256] = "localhost";
    gethostname(host, sizeof(host) - 1);
    char *n = xstrdup(node_name && *node_name ? node_name : host);
    for (char *p = n; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    return n;
}

/* Exchange the join token (cfg->token) for this node's credential, keep it in `path` (0600,
 * atomic) and use it from now on. The server spends the join token. */
static int exchange_credential(minik_client_config_t *cfg, const char *path, minik_error_t **err)
{
    cleanup_free char *name = effective_node_name();
    cleanup_free char *url = xasprintf("/apis/minik.io/v1/nodes/%s/credential", name);
    cleanup_client minik_client_t *c = NULL;
    cleanup_cjson cJSON *out = NULL;
    if (minik_client_new(cfg, &c, err) < 0 ||
        minik_client_json(c, "POST", url, NULL, NULL, &out, err) < 0)
        return minik_error_wrap(err, "exchange the join token for node %s's credential", name);
    const char *cred = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(out, "token"));
    if (!cred || !*cred)
        return minik_error_set(err, 0, "the server's credential reply carries no token");
    cleanup_free char *line = xasprintf("%s\n", cred);
    if (minik_mkdir_p(data_dir, 0755, err) < 0 ||
        minik_file_write_atomic(path, line, strlen(line), 0600, err) < 0)
        return minik_error_wrap(err, "save the node credential");
    free(cfg->token);
    cfg->token = xstrdup(cred);
    minik_log_info("join token exchanged for a node credential", "node", name, "file", path, NULL);
    return 0;
}

/* Fill cfg from --server and the join token: the CA (pinned by the token's hash, or from
 * --ca-file, which must then match the hash too) and the bearer: the node credential in
 * DATA_DIR/node-credential if the node has joined before, else the join token, exchanged
 * for that credential (one agent per process; hollow nodes keep the join token). */
static int join_config(minik_client_config_t *cfg, bool exchange, minik_error_t **err)
{
    cleanup_free char *from_file = NULL;
    if (token_file) {
        size_t len = 0;
        if (minik_file_read(token_file, 4096, &from_file, &len, err) < 0)
            return minik_error_wrap(err, "--token-file");
        from_file[strcspn(from_file, "\r\n")] = '\0';
    }
    const char *tok = from_file ? from_file : token;
    if (!tok)
        return minik_error_set(err, 0,
                               "--server needs --token or --token-file (minik token create)");
    minik_join_token_t jt;
    if (minik_join_token_parse(tok, &jt, err) < 0)
        return -1;
    cfg->server = xstrdup(server_url);
    cfg->token = xstrdup(jt.bearer);
    cfg->insecure_skip_tls_verify = insecure;
    if (ca_file) {
        if (minik_file_read(ca_file, 1 << 20, &cfg->ca_pem, &cfg->ca_pem_len, err) < 0)
            return -1;
        if (jt.has_ca_hash) {
            char got[65];
            minik_join_ca_hash(cfg->ca_pem, cfg->ca_pem_len, got);
            if (strcmp(got, jt.ca_hash) != 0)
                return minik_error_set(err, 0,
                                       "--ca-file %s has SHA-256 %s, but the join token expects "
                                       "%s",
                                       ca_file, got, jt.ca_hash);
        }
    } else if (jt.has_ca_hash && !insecure) {
        if (fetch_pinned_ca(cfg, jt.ca_hash, err) < 0)
            return -1;
        minik_log_info("server CA matches the join token", "server", server_url, "sha256",
                       jt.ca_hash, NULL);
    }
    cleanup_free char *cred_path = xasprintf("%s/node-credential", data_dir);
    cleanup_free char *cred = NULL;
    size_t cred_len = 0;
    if (exchange && access(cred_path, F_OK) == 0) {
        if (minik_file_read(cred_path, 4096, &cred, &cred_len, err) < 0)
            return minik_error_wrap(err, "read the node credential");
        cred[strcspn(cred, "\r\n")] = '\0';
        free(cfg->token);
        cfg->token = xstrdup(cred);
        minik_log_info("using the node credential", "file", cred_path, NULL);
        cleanup_free char *what = xasprintf("this node's credential (%s)", cred_path);
        return check_token(cfg, what,
                           " (revoked with minik token delete: remove the file and join again "
                           "with a new token)",
                           err);
    }
    if (check_token(cfg, "the join token",
                    " (deleted with minik token delete, spent by another node's join, never "
                    "issued by this cluster, or mistyped)",
                    err) < 0)
        return -1;
    return exchange ? exchange_credential(cfg, cred_path, err) : 0;
}

/* "a=b,c=d" given once or repeated -> one entry per item. */
static char **split_all(char **in)
{
    char **out = xcalloc(1, sizeof(char *));
    size_t n = 0;
    for (char **i = in; i && *i; i++) {
        cleanup_strv char **parts = minik_str_split(*i, ",", true);
        for (char **p = parts; *p; p++) {
            out = xrealloc(out, (n + 2) * sizeof(char *));
            out[n++] = xstrdup(*p);
            out[n] = NULL;
        }
    }
    return out;
}

/* A hollow node's own copy of the labels or taints: {i} becomes its index, {i%M} the
 * index modulo M (zones, racks). Anything else is kept as written. */
static char **per_node(char *const *in, size_t idx)
{
    size_t n = minik_strv_len(in);
    char **out = xcalloc(n + 1, sizeof(char *));
    for (size_t k = 0; k < n; k++) {
        minik_buf_t b = MINIK_BUF_INIT;
        for (const char *s = in[k]; *s;) {
            unsigned long mod = 0;
            int used = 0;
            if (strncmp(s, "{i}", 3) == 0) {
                minik_buf_appendf(&b, "%zu", idx);
                s += 3;
            } else if (sscanf(s, "{i%%%lu}%n", &mod, &used) == 1 && used > 0 && mod > 0) {
                minik_buf_appendf(&b, "%zu", idx % mod);
                s += used;
            } else {
                minik_buf_appendf(&b, "%c", *s++);
            }
        }
        out[k] = minik_buf_steal(&b);
        if (!out[k])
            out[k] = xstrdup("");
    }
    return out;
}

/* The node's resolver: the first IPv4 nameserver in /etc/resolv.conf, or NULL. */
static char *host_nameserver(void)
{
    cleanup_fclose FILE *f = fopen("/etc/resolv.conf", "r");
    char line[512];
    while (f && fgets(line, sizeof(line), f)) {
        char ip[64];
        if (sscanf(line, " nameserver %63s", ip) == 1 && strchr(ip, '.') && !strchr(ip, ':'))
            return xstrdup(ip);
    }
    return NULL;
}

int minik_cmd_agent(int argc, char **argv)
{
    int r = minik_cli_parse(&spec, argc, argv, NULL);
    if (r != 0)
        return minik_cli_parse_exit(r);
    cleanup_strv char **lab = split_all(labels), **tai = split_all(taints);
    minik_strv_free(labels);
    minik_strv_free(taints);
    labels = taints = NULL;
    cleanup_error minik_error_t *err = NULL;
    int64_t port = 0, hb = 0, sync = 0, backoff = 0, hollow = 0;
    if (minik_str_to_i64(port_s, 0, 65535, &port, "--port", &err) < 0 ||
        minik_str_to_i64(hollow_s, 0, 100000, &hollow, "--hollow", &err) < 0 ||
        minik_str_to_duration_ms(heartbeat_s, &hb, "--heartbeat", &err) < 0 ||
        minik_str_to_duration_ms(sync_s, &sync, "--sync-period", &err) < 0 ||
        minik_str_to_duration_ms(backoff_s, &backoff, "--crash-backoff", &err) < 0) {
        fprintf(stderr, "error: %s\n", err->msg);
        return MINIK_EXIT_USAGE;
    }
    if (hollow_control && hollow == 0) {
        fprintf(stderr, "error: --hollow-control needs --hollow N\n");
        return MINIK_EXIT_USAGE;
    }
    minik_client_config_t cfg = {0};
    if (server_url) {
        if (join_config(&cfg, hollow == 0, &err) < 0) {
            minik_client_config_clear(&cfg);
            return minik_cli_fail(err);
        }
    } else {
        minik_client_flags.kubeconfig = kubeconfig;
        minik_client_flags.insecure_skip_tls_verify = insecure;
        if (minik_cli_client_config(&cfg, &err) < 0)
            return minik_cli_fail(err);
    }
    cleanup_free char *upstream = NULL;
    if (minik_str_eq(dns_upstream, "auto")) {
        upstream = host_nameserver();
    } else if (!minik_str_eq(dns_upstream, "none")) {
        upstream = xstrdup(dns_upstream);
    }
    signal(SIGPIPE, SIG_IGN);
    minik_agent_threadpool_size();
    agent_main_t m = {0};
    uv_loop_init(&m.loop);
    minik_agent_opts_t o = {
        .client = &cfg,
        .node_name = node_name,
        .data_dir = data_dir,
        .node_ip = node_ip,
        .port = (int)port,
        .labels = lab,
        .taints = tai,
        .heartbeat_ms = (uint64_t)hb,
        .sync_ms = (uint64_t)sync,
        .backoff_base_ms = (uint64_t)backoff,
        .pod_network = pod_network,
        .cluster_cidr = cluster_cidr,
        .service_cidr = service_cidr,
        .masquerade_outbound = masquerade_outbound,
        .dns_listen = dns_address,
        .dns_upstream = upstream,
    };
    size_t n = hollow > 0 ? (size_t)hollow : 1;
    m.agents = xcalloc(n, sizeof(minik_agent_t *));
    if (hollow > 0) {
        m.n_shared = (n + HOLLOW_PER_DRIVER - 1) / HOLLOW_PER_DRIVER;
        m.shared = xcalloc(m.n_shared, sizeof(*m.shared));
    }
    r = 0;
    for (size_t i = 0; r == 0 && i < m.n_shared; i++) {
        r = minik_client_uv_new(&m.loop, &m.shared[i], &err);
        if (r == 0)
            m.shared_open++;
        else
            m.n_shared = i; /* only those made are closed */
    }
    for (size_t i = 0; r == 0 && i < n; i++) {
        cleanup_free char *name = NULL;
        cleanup_strv char **nl = NULL, **nt = NULL;
        if (hollow > 0) {
            name = xasprintf("%s-%zu", node_name ? node_name : "hollow-node", i);
            o.node_name = name;
            o.port = 0;
            o.hollow = true;
            o.hollow_control = hollow_control;
            o.shared_cuv = m.shared[i / HOLLOW_PER_DRIVER];
            o.start_delay_ms = i; /* 1,000 nodes a second */
            o.labels = nl = per_node(lab, i);
            o.taints = nt = per_node(tai, i);
        }
        r = minik_agent_start(&m.loop, &o, &m.agents[i], &err);
        if (r == 0)
            m.n_agents = m.running = i + 1;
    }
    minik_client_config_clear(&cfg);
    if (r < 0) {
        stop_all(&m, NULL, NULL);
        uv_run(&m.loop, UV_RUN_DEFAULT);
        uv_loop_close(&m.loop);
        free(m.agents);
        return minik_cli_fail(err);
    }
    uv_signal_init(&m.loop, &m.sigterm);
    uv_signal_init(&m.loop, &m.sigint);
    m.sigterm.data = m.sigint.data = &m;
    uv_signal_start(&m.sigterm, on_signal, SIGTERM);
    uv_signal_start(&m.sigint, on_signal, SIGINT);
    uv_run(&m.loop, UV_RUN_DEFAULT);
    uv_loop_close(&m.loop);
    free(m.agents);
    return MINIK_EXIT_OK;
}
