/* The agent's own HTTP endpoint (the apiserver's HTTP server code), which the API server
 * relays pods/log, pods/exec and nodes/proxy to:
 *   GET /healthz
 *   GET /metrics                                    Prometheus text
 *   GET /containerLogs/{ns}/{pod}/{container}?tailLines=N&previous=true&timestamps=true
 *       &follow=true
 *   POST /exec/{ns}/{pod}/{container}               see exec_http.c
 *   GET /stats/summary                              see metrics.c
 * Everything but /healthz needs "Authorization: Bearer <token>", the random token the agent
 * makes at each start and hands only to the API server, in its heartbeats (never in the
 * Node object): API clients reach the agent through the server, which authorises them. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lazy_openssl.h"

#include "agent/internal.h"
#include "agent/logs.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define LOG_MAX_READ (64u << 20)

typedef struct follow {
    minik_http_request_t *req;
    struct minik_agent *a;
    char *uid, *ctr, *path;
    long offset;
    bool timestamps;
    uv_timer_t timer;
} follow_t;

static bool authorized(struct minik_agent *a, minik_http_request_t *req)
{
    const char *h = minik_http_request_header(req, "authorization");
    if (!h || strncmp(h, "Bearer ", 7) != 0)
        return false;
    const char *t = h + 7;
    size_t n = strlen(a->endpoint_token);
    return strlen(t) == n && CRYPTO_memcmp(t, a->endpoint_token, n) == 0;
}

/* Highest (or second highest with previous) attempt number with a log file. */
static int pick_attempt(const char *dir, bool previous)
{
    cleanup_closedir DIR *d = opendir(dir);
    struct dirent *de;
    int best = -1, second = -1;
    while (d && (de = readdir(d))) {
        char *end;
        long n = strtol(de->d_name, &end, 10);
        if (end == de->d_name || strcmp(end, ".log") != 0 || n < 0)
            continue;
        if (n > best) {
            second = best;
            best = (int)n;
        } else if (n > second) {
            second = (int)n;
        }
    }
    return previous ? second : best;
}

static bool query_true(const char *q, const char *key)
{
    bool bad = false;
    cleanup_free char *v = minik_http_query_param(q, key, &bad);
    return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

static void follow_closed(uv_handle_t *h)
{
    follow_t *f = h->data;
    free(f->uid);
    free(f->ctr);
    free(f->path);
    free(f);
}

static void follow_end(follow_t *f)
{
    if (f->req) {
        if (f->req->conn)
            minik_http_stream_end(f->req);
        else
            minik_http_request_free(f->req);
        f->req = NULL;
    }
    uv_close((uv_handle_t *)&f->timer, follow_closed);
}

static void follow_abort(minik_http_request_t *r)
{
    follow_t *f = r->user;
    minik_http_request_free(r);
    f->req = NULL;
    uv_close((uv_handle_t *)&f->timer, follow_closed);
}

/* Send what was appended since the last look; stop once the attempt is over. */
static void follow_tick(uv_timer_t *t)
{
    follow_t *f = t->data;
    FILE *fp = fopen(f->path, "re");
    bool more = false;
    if (fp && fseek(fp, f->offset, SEEK_SET) == 0) {
        char buf[65536];
        size_t got;
        minik_buf_t raw = MINIK_BUF_INIT;
        while ((got = fread(buf, 1, sizeof(buf), fp)) > 0)
            minik_buf_append(&raw, buf, got);
        /* Only whole records: a record still being written waits for the next tick. */
        char *last_nl = raw.data ? memrchr(raw.data, '\n', raw.len) : NULL;
        if (last_nl) {
            size_t use = (size_t)(last_nl - raw.data) + 1;
            minik_buf_t out = MINIK_BUF_INIT;
            minik_agent_logs_render(raw.data, use, -1, f->timestamps, &out);
            f->offset += (long)use;
            more = true;
            if (out.len && !minik_http_stream_chunk(f->req, out.data, out.len)) {
                minik_buf_free(&out);
                minik_buf_free(&raw);
                fclose(fp);
                return; /* gone: on_abort cleans up */
            }
            minik_buf_free(&out);
        }
        minik_buf_free(&raw);
    }
    if (fp)
        fclose(fp);
    agent_pod_t *p = minik_agent_pod_find(f->a, f->uid);
    /* A busy pod's containers belong to its job (internal.h): look again next tick. */
    bool running = p && p->busy;
    for (size_t i = 0; p && !p->busy && i < p->n_ctrs; i++)
        if (strcmp(p->ctrs[i].name, f->ctr) == 0)
            running = p->ctrs[i].id != NULL || !p->ctrs[i].done;
    if ((!running || f->a->stopping) && !more)
        follow_end(f);
}

static void serve_logs(struct minik_agent *a, minik_http_request_t *req, char **seg)
{
    agent_pod_t *pod = NULL;
    for (agent_pod_t *p = a->pods; p; p = p->next)
        if (strcmp(p->ns, seg[0]) == 0 && strcmp(p->name, seg[1]) == 0 && !p->deleted)
            pod = p;
    if (!pod) {
        minik_http_respond_status(req, 404, "pod not found on this node");
        return;
    }
    bool previous = query_true(req->query, "previous");
    bool timestamps = query_true(req->query, "timestamps");
    bool follow = query_true(req->query, "follow") && !previous;
    bool bad = false;
    cleanup_free char *tail_s = minik_http_query_param(req->query, "tailLines", &bad);
    long tail = -1;
    if (tail_s) {
        char *end;
        tail = strtol(tail_s, &end, 10);
        if (*end || tail < 0) {
            minik_http_respond_status(req, 400, "tailLines must be a non-negative integer");
            return;
        }
    }
    cleanup_free char *dir = xasprintf("%s/%s/logs/%s", a->pods_dir, pod->uid, seg[2]);
    int attempt = pick_attempt(dir, previous);
    if (attempt < 0) {
        cleanup_free char *msg =
            previous ? xasprintf("previous terminated container \"%s\" not found", seg[2])
                     : xasprintf("container \"%s\" has no logs (not started yet?)", seg[2]);
        minik_http_respond_status(req, previous ? 400 : 404, msg);
        return;
    }
    cleanup_free char *path = xasprintf("%s/%d.log", dir, attempt);
    cleanup_free char *data = NULL;
    size_t len = 0;
    minik_error_t *err = NULL;
    if (minik_file_read(path, LOG_MAX_READ, &data, &len, &err) < 0) {
        minik_http_respond_status(req, 500, err->msg);
        minik_error_free(err);
        return;
    }
    /* Only whole records now; follow picks up from the last newline. */
    char *last_nl = len ? memrchr(data, '\n', len) : NULL;
    size_t use = last_nl ? (size_t)(last_nl - data) + 1 : 0;
    cleanup_buf minik_buf_t out = MINIK_BUF_INIT;
    minik_agent_logs_render(data, follow ? use : len, tail, timestamps, &out);
    if (!follow) {
        minik_http_respond(req, 200, "text/plain", out.data ? out.data : "", out.len, NULL);
        return;
    }
    if (!minik_http_stream_start(req, 200, "text/plain"))
        return;
    if (out.len && !minik_http_stream_chunk(req, out.data, out.len))
        return;
    follow_t *f = xcalloc(1, sizeof(*f));
    f->req = req;
    f->a = a;
    f->uid = xstrdup(pod->uid);
    f->ctr = xstrdup(seg[2]);
    f->path = steal_pointer(&path);
    f->offset = (long)use;
    f->timestamps = timestamps;
    req->user = f;
    req->on_abort = follow_abort;
    uv_timer_init(a->loop, &f->timer);
    f->timer.data = f;
    uv_timer_start(&f->timer, follow_tick, 200, 200);
}

static void serve_metrics(struct minik_agent *a, minik_http_request_t *req)
{
    size_t pods = 0, running = 0;
    for (agent_pod_t *p = a->pods; p; p = p->next) {
        pods++;
        /* Not a busy pod's containers: its job owns them (internal.h). */
        for (size_t i = 0; !p->busy && i < p->n_ctrs; i++)
            running += p->ctrs[i].id != NULL;
    }
    cleanup_buf minik_buf_t b = MINIK_BUF_INIT;
    minik_buf_appendf(
        &b,
        "# HELP minik_agent_pods Pods this agent tracks.\n"
        "# TYPE minik_agent_pods gauge\nminik_agent_pods %zu\n"
        "# HELP minik_agent_containers_running Containers with a live attempt.\n"
        "# TYPE minik_agent_containers_running gauge\n"
        "minik_agent_containers_running %zu\n"
        "# HELP minik_agent_container_starts_total Containers started.\n"
        "# TYPE minik_agent_container_starts_total counter\n"
        "minik_agent_container_starts_total %llu\n"
        "# HELP minik_agent_heartbeats_total Heartbeats by outcome.\n"
        "# TYPE minik_agent_heartbeats_total counter\n"
        "minik_agent_heartbeats_total{result=\"ok\"} %llu\n"
        "minik_agent_heartbeats_total{result=\"failed\"} %llu\n"
        "# HELP minik_agent_status_writes_total Pod status writes sent.\n"
        "# TYPE minik_agent_status_writes_total counter\n"
        "minik_agent_status_writes_total %llu\n",
        pods, running, (unsigned long long)a->starts, (unsigned long long)a->heartbeats_ok,
        (unsigned long long)a->heartbeats_failed, (unsigned long long)a->status_writes);
    minik_http_respond(req, 200, "text/plain; version=0.0.4", b.data, b.len, NULL);
}

static void on_request(minik_http_request_t *req, void *ud)
{
    struct minik_agent *a = ud;
    if (strcmp(req->path, "/healthz") == 0) {
        minik_http_respond(req, 200, "text/plain", "ok", 2, NULL);
        return;
    }
    if (!authorized(a, req)) {
        minik_http_respond_status(req, 401, "a valid agent token is required");
        return;
    }
    bool is_exec = minik_str_has_prefix(req->path, "/exec/");
    if (strcmp(req->method, is_exec ? "POST" : "GET") != 0) {
        minik_http_respond_status(req, 405, is_exec ? "exec is a POST" : "only GET is served");
        return;
    }
    if (strcmp(req->path, "/metrics") == 0) {
        serve_metrics(a, req);
        return;
    }
    if (strcmp(req->path, "/stats/summary") == 0) {
        minik_agent_stats_summary(a, req);
        return;
    }
    if (minik_str_has_prefix(req->path, "/containerLogs/") || is_exec) {
        cleanup_strv char **seg = minik_str_split(req->path + (is_exec ? 6 : 15), "/", false);
        if (minik_strv_len(seg) == 3) {
            char *dec[3] = {0};
            bool ok = true;
            for (int i = 0; i < 3; i++) {
                dec[i] = minik_http_unescape(seg[i], strlen(seg[i]), false);
                ok = ok && dec[i] && dec[i][0] && !strchr(dec[i], '/') &&
                     strcmp(dec[i], "..") != 0 && strcmp(dec[i], ".") != 0;
            }
            if (ok && is_exec)
                minik_agent_exec(a, req, dec);
            else if (ok)
                serve_logs(a, req, dec);
            else
                minik_http_respond_status(req, 400, "bad namespace, pod or container name");
            for (int i = 0; i < 3; i++)
                free(dec[i]);
            return;
        }
    }
    minik_http_respond_status(req, 404, "not found");
}

/* exec's stdin arrives as a streamed request body. */
static bool stream_body(const minik_http_request_t *req, void *ud)
{
    (void)ud;
    return strcmp(req->method, "POST") == 0 && minik_str_has_prefix(req->path, "/exec/");
}

int minik_agent_http_start(struct minik_agent *a, minik_error_t **err)
{
    minik_http_server_options_t o = {
        .host = a->node_ip,
        .port = a->port,
        .tls = a->endpoint_tls,
        .on_request = on_request,
        .stream_body = stream_body,
        .ud = a,
    };
    if (minik_http_server_start(a->loop, &o, &a->http, err) < 0)
        return minik_error_wrap(err, "agent endpoint on %s:%d", a->node_ip, a->port);
    a->port = minik_http_server_port(a->http);
    return 0;
}
