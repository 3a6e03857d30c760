/* The API server as the way to node agents, as the Kubernetes API server is to kubelets:
 *   GET  /api/v1/namespaces/{ns}/pods/{name}/log?container=&follow=&tailLines=&previous=
 *        &timestamps=                                    -> agent /containerLogs/...
 *   POST /api/v1/namespaces/{ns}/pods/{name}/exec?command=..&command=..&container=&stdin=
 *        &tty=&cols=&rows=
 *                                                        -> agent /exec/... (stdin streamed)
 *   GET  /api/v1/nodes/{name}/proxy/{stats/summary|metrics|healthz}
 * Admins only. The server learns where each agent listens and the secret it accepts from
 * the agent's heartbeats (a node token may only heartbeat for its own node), keeps both
 * in memory and never in the Node object, so no API client can read the secret; the
 * agent serves TLS with a key made at its start, whose hash (also from the heartbeat) the
 * relay pins. The
 * answer is relayed chunk by chunk as curl receives it (a followed log never sits in the
 * server), the request body (exec stdin) chunk by chunk as the client sends it; a client
 * that goes away cancels the upstream transfer, which closes the agent's connection. */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/internal.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/client_uv.h"

struct api_agent {
    char *node, *endpoint, *token, *pin;
    struct api_agent *next;
};

struct api_proxy {
    minik_apiserver_t *srv;
    minik_http_request_t *req; /* downstream; NULL once it is gone or answered */
    minik_client_uv_xfer_t *x; /* upstream; NULL once it ended */
    CURL *easy;
    struct curl_slist *hdrs;
    char *what; /* "node n1 at http://..." for messages */
    bool started;
    long status;
    minik_buf_t err_body; /* a non-2xx upstream answer, relayed whole */
    /* Request body on its way up. */
    minik_buf_t up;
    size_t up_off; /* sent up to here: consuming from the front would copy the rest */
    bool up_eof, up_paused, upload;
    bool in_cb; /* inside one of this transfer's curl callbacks */
    bool gone;  /* downstream went away while in_cb */
    struct api_proxy *next, *prev;
};

/* ---- the agents' endpoints, from heartbeats ------------------------------------------ */

static struct api_agent *agent_find(minik_apiserver_t *srv, const char *node)
{
    for (struct api_agent *a = srv->agents; a; a = a->next)
        if (strcmp(a->node, node) == 0)
            return a;
    return NULL;
}

static void agent_free(struct api_agent *a)
{
    free(a->node);
    free(a->endpoint);
    if (a->token)
        OPENSSL_cleanse(a->token, strlen(a->token));
    free(a->token);
    free(a->pin);
    free(a);
}

void minik_api_agent_note(minik_apiserver_t *srv, const char *node, const cJSON *hb)
{
    const char *ep = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(hb, "endpoint"));
    const char *tok = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(hb, "token"));
    const char *pin = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(hb, "pin"));
    if (!ep || !tok || !*tok ||
        !(minik_str_has_prefix(ep, "http://") || minik_str_has_prefix(ep, "https://")))
        return; /* a hollow node, or an agent without an endpoint */
    struct api_agent *a = agent_find(srv, node);
    if (a && strcmp(a->endpoint, ep) == 0 && strcmp(a->token, tok) == 0 &&
        minik_str_eq(a->pin, pin))
        return;
    if (!a) {
        a = xcalloc(1, sizeof(*a));
        a->node = xstrdup(node);
        a->next = srv->agents;
        srv->agents = a;
    }
    free(a->endpoint);
    free(a->token);
    free(a->pin);
    a->endpoint = xstrdup(ep);
    a->token = xstrdup(tok);
    a->pin = pin && *pin ? xstrdup(pin) : NULL;
}

void minik_api_agents_free(minik_apiserver_t *srv)
{
    while (srv->agents) {
        struct api_agent *a = srv->agents;
        srv->agents = a->next;
        agent_free(a);
    }
}

/* ---- one relayed request -------------------------------------------------------------- */

static void proxy_unlink_free(api_proxy_t *p)
{
    minik_apiserver_t *srv = p->srv;
    if (p->prev)
        p->prev->next = p->next;
    else
        srv->proxies = p->next;
    if (p->next)
        p->next->prev = p->prev;
    curl_slist_free_all(p->hdrs);
    minik_buf_free(&p->err_body);
    minik_buf_free(&p->up);
    free(p->what);
    free(p);
}

static void downstream_end(api_proxy_t *p)
{
    if (!p->req)
        return;
    p->req->on_body = NULL;
    p->req->on_abort = NULL;
    if (p->req->conn)
        minik_http_stream_end(p->req);
    else
        minik_http_request_free(p->req);
    p->req = NULL;
}

static size_t on_up_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    api_proxy_t *p = ud;
    size_t n = size * nmemb;
    if (!p->status)
        curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &p->status);
    if (!p->req || p->gone)
        return 0; /* nobody to give it to: abort the upstream */
    if (p->status < 200 || p->status >= 300) {
        if (p->err_body.len < 64 * 1024)
            minik_buf_append(&p->err_body, ptr, n);
        return n;
    }
    p->in_cb = true;
    bool ok = true;
    if (!p->started) {
        char *ct = NULL;
        curl_easy_getinfo(p->easy, CURLINFO_CONTENT_TYPE, &ct);
        p->started = true;
        ok = minik_http_stream_start(p->req, (int)p->status, ct ? ct : "text/plain");
    }
    ok = ok && minik_http_stream_chunk(p->req, ptr, n);
    p->in_cb = false;
    return ok && !p->gone ? n : 0;
}

static size_t on_up_read(char *buf, size_t size, size_t nitems, void *ud)
{
    api_proxy_t *p = ud;
    size_t room = size * nitems;
    size_t avail = p->up.len - p->up_off;
    if (avail == 0) {
        minik_buf_reset(&p->up);
        p->up_off = 0;
        if (p->up_eof)
            return 0;
        p->up_paused = true;
        return CURL_READFUNC_PAUSE;
    }
    size_t n = avail < room ? avail : room;
    memcpy(buf, p->up.data + p->up_off, n);
    p->up_off += n;
    return n;
}

/* The client's request body, as it arrives (NULL, 0 at its end). */
static void on_down_body(minik_http_request_t *r, const char *data, size_t len)
{
    api_proxy_t *p = r->user;
    if (data)
        minik_buf_append(&p->up, data, len);
    else
        p->up_eof = true;
    if (p->up_paused && p->x) {
        p->up_paused = false;
        minik_client_uv_unpause(p->x);
    }
}

static void on_down_abort(minik_http_request_t *r)
{
    api_proxy_t *p = r->user;
    minik_http_request_free(r);
    p->req = NULL;
    if (p->in_cb) {
        p->gone = true; /* the write callback fails the transfer */
        return;
    }
    if (p->x)
        minik_client_uv_cancel(p->x); /* closes the agent's connection */
    proxy_unlink_free(p);
}

static void on_up_done(void *easy, int rc, void *ud)
{
    (void)easy;
    api_proxy_t *p = ud;
    p->x = NULL;
    if (!p->status)
        curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &p->status);
    if (!p->req) {
        proxy_unlink_free(p);
        return;
    }
    if (p->started) {
        /* Already streaming: an upstream failure can only cut the stream short. */
        if (rc != CURLE_OK)
            minik_log_debug("agent stream ended early", "agent", p->what, "error",
                            curl_easy_strerror((CURLcode)rc), NULL);
        downstream_end(p);
    } else if (p->status >= 300 || (p->status && p->status < 200)) {
        p->req->on_body = NULL;
        p->req->on_abort = NULL;
        minik_http_respond(p->req, (int)p->status, "application/json",
                           p->err_body.data ? p->err_body.data : "", p->err_body.len, NULL);
        p->req = NULL;
    } else if (rc != CURLE_OK || !p->status) {
        cleanup_free char *msg = xasprintf("cannot reach the agent of %s: %s", p->what,
                                           curl_easy_strerror((CURLcode)rc));
        p->req->on_body = NULL;
        p->req->on_abort = NULL;
        minik_http_respond_status(p->req, 502, msg);
        p->req = NULL;
    } else {
        p->req->on_body = NULL;
        p->req->on_abort = NULL;
        minik_http_respond(p->req, (int)p->status, "text/plain", "", 0, NULL);
        p->req = NULL;
    }
    proxy_unlink_free(p);
}

/* Send req upstream to `url` on node `a`; takes over c->req, frees c. */
static void relay(api_call_t *c, struct api_agent *a, const char *url, bool post)
{
    minik_apiserver_t *srv = c->srv;
    minik_error_t *err = NULL;
    if (!srv->cuv && minik_client_uv_new(srv->loop, &srv->cuv, &err) < 0) {
        minik_api_respond_err(c, err);
        return;
    }
    api_proxy_t *p = xcalloc(1, sizeof(*p));
    p->srv = srv;
    p->what = xasprintf("node %s at %s", a->node, a->endpoint);
    p->easy = curl_easy_init();
    cleanup_free char *auth = xasprintf("Authorization: Bearer %s", a->token);
    p->hdrs = curl_slist_append(NULL, auth);
    p->hdrs = curl_slist_append(p->hdrs, "Expect:");
    curl_easy_setopt(p->easy, CURLOPT_URL, url);
    curl_easy_setopt(p->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(p->easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, on_up_data);
    curl_easy_setopt(p->easy, CURLOPT_WRITEDATA, p);
    curl_easy_setopt(p->easy, CURLOPT_FORBID_REUSE, 1L);
    if (a->pin) {
        /* The agent's self-signed certificate, pinned by the public key it reported over
         * the authenticated heartbeat. */
        cleanup_free char *pin = xasprintf("sha256//%s", a->pin);
        curl_easy_setopt(p->easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(p->easy, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(p->easy, CURLOPT_PINNEDPUBLICKEY, pin);
    }
    minik_http_request_t *req = c->req;
    if (post) {
        p->upload = true;
        p->hdrs = curl_slist_append(p->hdrs, "Transfer-Encoding: chunked");
        p->hdrs = curl_slist_append(p->hdrs, "Content-Type: application/octet-stream");
        curl_easy_setopt(p->easy, CURLOPT_POST, 1L);
        curl_easy_setopt(p->easy, CURLOPT_READFUNCTION, on_up_read);
        curl_easy_setopt(p->easy, CURLOPT_READDATA, p);
        /* What arrived with the headers (or the whole body, when it was not streamed). */
        if (req->body.len)
            minik_buf_append(&p->up, req->body.data, req->body.len);
        minik_buf_reset(&req->body);
        p->up_eof = !req->body_streamed || req->body_done;
    }
    curl_easy_setopt(p->easy, CURLOPT_HTTPHEADER, p->hdrs);
    /* The request now belongs to the relay. */
    c->req = NULL;
    minik_api_call_free(c);
    p->req = req;
    req->user = p;
    req->on_abort = on_down_abort;
    if (post && req->body_streamed && !req->body_done)
        req->on_body = on_down_body;
    p->next = srv->proxies;
    if (srv->proxies)
        srv->proxies->prev = p;
    srv->proxies = p;
    p->x = minik_client_uv_add(srv->cuv, p->easy, on_up_done, p);
    if (!p->x) {
        p->req = NULL;
        req->on_body = NULL;
        req->on_abort = NULL;
        minik_http_respond_status(req, 500, "cannot start a transfer to the agent");
        proxy_unlink_free(p);
    }
}

void minik_api_proxy_end_all(minik_apiserver_t *srv)
{
    while (srv->proxies) {
        api_proxy_t *p = srv->proxies;
        if (p->x)
            minik_client_uv_cancel(p->x);
        p->x = NULL;
        if (p->req) {
            p->req->on_body = NULL;
            p->req->on_abort = NULL;
            if (p->started)
                downstream_end(p);
            else
                minik_http_respond_status(p->req, 503, "the server is shutting down");
            p->req = NULL;
        }
        proxy_unlink_free(p);
    }
}

/* ---- the routes -------------------------------------------------------------------------- */

static bool query_bool(const char *q, const char *key, bool *bad)
{
    cleanup_free char *v = minik_http_query_param(q, key, bad);
    return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* Every value of query parameter `key`, escaped again for the upstream URL. */
static void append_all(minik_buf_t *out, const char *q, const char *key, bool *bad)
{
    size_t klen = strlen(key);
    for (const char *p = q; p && *p;) {
        const char *end = strchr(p, '&');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
            cleanup_free char *v = minik_http_unescape(p + klen + 1, n - klen - 1, true);
            if (!v) {
                *bad = true;
                return;
            }
            char *e = curl_easy_escape(NULL, v, 0);
            minik_buf_appendf(out, "&%s=%s", key, e);
            curl_free(e);
        }
        p = end ? end + 1 : NULL;
    }
}

static bool pod_has_container(const cJSON *pod, const char *name)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    static const char *const lists[] = {"containers", "initContainers"};
    for (int i = 0; i < 2; i++) {
        const cJSON *ctr;
        cJSON_ArrayForEach(ctr, cJSON_GetObjectItemCaseSensitive(spec, lists[i]))
        {
            if (minik_str_eq(minik_obj_str(ctr, NULL, "name"), name))
                return true;
        }
    }
    return false;
}

static struct api_agent *agent_for(api_call_t *c, const char *node)
{
    struct api_agent *a = agent_find(c->srv, node);
    if (!a)
        minik_api_respond_error(c, 503,
                                "node %s has not reported an agent endpoint (is its agent "
                                "running?)",
                                node);
    return a;
}

static void pod_log_or_exec(api_call_t *c, bool is_exec)
{
    minik_http_request_t *req = c->req;
    if (strcmp(req->method, is_exec ? "POST" : "GET") != 0) {
        minik_api_respond_error(c, 405, "pods/%s takes %s", is_exec ? "exec" : "log",
                                is_exec ? "POST" : "GET");
        return;
    }
    cJSON *pod = NULL;
    minik_error_t *err = NULL;
    if (minik_store_get(c->srv->store, "Pod", c->route.ns, c->route.name, &pod, &err) < 0) {
        minik_api_respond_err(c, err);
        return;
    }
    cleanup_cjson cJSON *pod_owned = pod;
    bool bad = false;
    cleanup_free char *ctr = minik_http_query_param(req->query, "container", &bad);
    if (!ctr || !*ctr) {
        free(ctr);
        const cJSON *first =
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
                                   cJSON_GetObjectItemCaseSensitive(pod, "spec"), "containers"),
                               0);
        const char *n = minik_obj_str(first, NULL, "name");
        ctr = n ? xstrdup(n) : NULL;
    }
    if (bad) {
        minik_api_respond_error(c, 400, "malformed percent-encoding in query");
        return;
    }
    if (!ctr || !pod_has_container(pod, ctr)) {
        minik_api_respond_error(c, 400, "container %s is not valid for pod %s", ctr ? ctr : "\"\"",
                                c->route.name);
        return;
    }
    const char *node = minik_obj_str(pod, "spec", "nodeName");
    if (!node || !*node) {
        minik_api_respond_error(c, 400, "pod %s is not scheduled to a node yet", c->route.name);
        return;
    }
    struct api_agent *a = agent_for(c, node);
    if (!a)
        return;
    char *ens = curl_easy_escape(NULL, c->route.ns, 0),
         *epod = curl_easy_escape(NULL, c->route.name, 0), *ectr = curl_easy_escape(NULL, ctr, 0);
    cleanup_buf minik_buf_t url = MINIK_BUF_INIT;
    minik_buf_appendf(&url, "%s/%s/%s/%s/%s?", a->endpoint, is_exec ? "exec" : "containerLogs", ens,
                      epod, ectr);
    curl_free(ens);
    curl_free(epod);
    curl_free(ectr);
    if (is_exec) {
        size_t before = url.len;
        append_all(&url, req->query, "command", &bad);
        if (!bad && url.len == before) {
            minik_api_respond_error(c, 400, "exec needs at least one command= parameter");
            return;
        }
        minik_buf_appendf(&url, "&stdin=%s&tty=%s",
                          query_bool(req->query, "stdin", &bad) ? "true" : "false",
                          query_bool(req->query, "tty", &bad) ? "true" : "false");
        /* The terminal's size at the start (minik's addition; no resizes later). */
        append_all(&url, req->query, "cols", &bad);
        append_all(&url, req->query, "rows", &bad);
    } else {
        cleanup_free char *tail = minik_http_query_param(req->query, "tailLines", &bad);
        int64_t n = 0;
        if (tail && minik_str_to_i64(tail, 0, INT64_MAX, &n, "tailLines", &err) < 0) {
            err->code = 400;
            minik_api_respond_err(c, err);
            return;
        }
        minik_buf_appendf(&url, "follow=%s&previous=%s&timestamps=%s",
                          query_bool(req->query, "follow", &bad) ? "true" : "false",
                          query_bool(req->query, "previous", &bad) ? "true" : "false",
                          query_bool(req->query, "timestamps", &bad) ? "true" : "false");
        if (tail)
            minik_buf_appendf(&url, "&tailLines=%lld", (long long)n);
    }
    if (bad) {
        minik_api_respond_error(c, 400, "malformed percent-encoding in query");
        return;
    }
    relay(c, a, url.data, is_exec);
}

/* The agent paths a node proxy may reach. */
static bool proxy_path_ok(const char *rest)
{
    return strcmp(rest, "stats/summary") == 0 || strcmp(rest, "metrics") == 0 ||
           strcmp(rest, "healthz") == 0;
}

void minik_api_proxy(api_call_t *c)
{
    /* Metric labels outlive the call: static strings only. */
    c->req->metric_verb = strcmp(c->route.sub, "exec") == 0  ? "exec"
                          : strcmp(c->route.sub, "log") == 0 ? "log"
                                                             : "proxy";
    if (c->id.role != MINIK_ROLE_ADMIN) {
        minik_api_respond_error(c, 403, "%s/%s is forbidden: only admins may reach node agents",
                                c->route.res->name, c->route.sub);
        return;
    }
    if (strcmp(c->route.res->name, "pods") == 0) {
        pod_log_or_exec(c, strcmp(c->route.sub, "exec") == 0);
        return;
    }
    /* nodes/{name}/proxy/{path} */
    if (strcmp(c->req->method, "GET") != 0) {
        minik_api_respond_error(c, 405, "nodes/proxy takes GET");
        return;
    }
    if (!proxy_path_ok(c->route.rest)) {
        minik_api_respond_error(c, 404,
                                "nodes/proxy serves stats/summary, metrics and healthz, not "
                                "\"%s\"",
                                c->route.rest);
        return;
    }
    struct api_agent *a = agent_for(c, c->route.name);
    if (!a)
        return;
    cleanup_free char *url = xasprintf("%s/%s", a->endpoint, c->route.rest);
    relay(c, a, url, false);
}

bool minik_api_stream_body(const minik_http_request_t *req, void *ud)
{
    (void)ud;
    /* exec's stdin: the one request body that is a stream, not a document. */
    return strcmp(req->method, "POST") == 0 && minik_str_has_suffix(req->path, "/exec") &&
           minik_str_has_prefix(req->path, "/api/v1/namespaces/");
}
