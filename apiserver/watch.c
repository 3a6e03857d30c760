/* Watch streams: GET ...?watch=1 answers with a chunked stream of
 * {"type":"ADDED|MODIFIED|DELETED|ERROR","object":{...}} lines, one per change.
 *
 * Without a resourceVersion (or with "0") the stream starts with ADDED events for every
 * current object, then follows changes (Kubernetes' "get state and start at most recent").
 * With resourceVersion=N it replays the changes after N from the store's change feed; if
 * N is older than the feed retains, the stream carries one ERROR event with a 410 Gone
 * Status and ends, so the client re-lists. timeoutSeconds ends the stream cleanly. */
#include <string.h>

#include "apiserver/internal.h"
#include "apiserver/status.h"
#include "apiserver/table.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

struct api_watch {
    minik_apiserver_t *srv;
    minik_http_request_t *req;
    minik_store_watch_t *sw;
    minik_api_filter_t filter;
    uv_timer_t timer;
    bool timer_active;
    const char *kind; /* static (resource table) */
    bool table;       /* the client asked for meta.k8s.io Tables (kubectl get -w) */
    bool columns_sent;
    api_watch_t *prev, *next;
};

static bool watch_filter(const cJSON *obj, void *ud)
{
    api_watch_t *w = ud;
    return minik_api_filter_match(obj, &w->filter);
}

static void send_event(api_watch_t *w, const char *type, const cJSON *obj)
{
    cleanup_buf minik_buf_t line = MINIK_BUF_INIT;
    cleanup_cjson cJSON *table = NULL;
    if (w->table && strcmp(type, "ERROR") != 0) {
        /* One row per event; the column definitions only with the first. */
        cJSON *one = cJSON_CreateArray();
        cJSON_AddItemReferenceToArray(one, (cJSON *)obj);
        table = minik_api_table_new(w->kind, one, minik_obj_str(obj, "metadata", "resourceVersion"),
                                    time(NULL), !w->columns_sent);
        cJSON_Delete(one);
        w->columns_sent = true;
        obj = table;
    }
    char *o = cJSON_PrintUnformatted(obj);
    minik_buf_appendf(&line, "{\"type\":\"%s\",\"object\":%s}\n", type, o);
    free(o);
    minik_http_stream_chunk(w->req, line.data, line.len);
}

static void timer_closed(uv_handle_t *h)
{
    free(h->data);
}

/* Unlink and free; the request was already ended or released. */
static void watch_free(api_watch_t *w)
{
    minik_apiserver_t *srv = w->srv;
    minik_store_unwatch(w->sw);
    w->sw = NULL;
    if (w->prev)
        w->prev->next = w->next;
    else if (srv->watches == w)
        srv->watches = w->next;
    if (w->next)
        w->next->prev = w->prev;
    srv->n_watches--;
    minik_api_filter_clear(&w->filter);
    if (w->timer_active) {
        uv_timer_stop(&w->timer);
        w->timer.data = w;
        uv_close((uv_handle_t *)&w->timer, timer_closed);
    } else {
        free(w);
    }
}

/* The connection went away mid-stream. */
static void on_abort(minik_http_request_t *req)
{
    api_watch_t *w = req->user;
    minik_http_request_free(req);
    watch_free(w);
}

static void end_watch(api_watch_t *w)
{
    minik_http_request_t *req = w->req;
    req->on_abort = NULL;
    req->user = NULL;
    watch_free(w);
    minik_http_stream_end(req);
}

static void on_event(const minik_store_event_t *ev, void *ud)
{
    api_watch_t *w = ud;
    minik_apiserver_t *srv = w->srv;
    if (w->table) {
        send_event(w, minik_store_event_type_name(ev->type), ev->object);
        return;
    }
    /* Every watcher of a kind gets the same event: encode it once, not once per watcher
     * (a change seen by 1,000 watchers would otherwise be printed 1,000 times). */
    if (srv->event_cache_rv != ev->rv || srv->event_cache_type != (int)ev->type) {
        cleanup_buf minik_buf_t line = MINIK_BUF_INIT;
        char *o = cJSON_PrintUnformatted(ev->object);
        minik_buf_appendf(&line, "{\"type\":\"%s\",\"object\":%s}\n",
                          minik_store_event_type_name(ev->type), o);
        free(o);
        minik_buf_free(&srv->event_cache);
        srv->event_cache = line;
        line = (minik_buf_t)MINIK_BUF_INIT;
        srv->event_cache_rv = ev->rv;
        srv->event_cache_type = (int)ev->type;
    }
    minik_http_stream_chunk(w->req, srv->event_cache.data, srv->event_cache.len);
}

static void on_timeout(uv_timer_t *t)
{
    end_watch(t->data);
}

void minik_api_watch_end_all(minik_apiserver_t *srv)
{
    while (srv->watches)
        end_watch(srv->watches);
}

void minik_api_watch(api_call_t *c)
{
    minik_apiserver_t *srv = c->srv;
    minik_error_t *err = NULL;
    bool bad = false;
    if (srv->shutting_down) {
        minik_api_respond_error(c, 503, "the server is shutting down");
        return;
    }
    cleanup_free char *rvq = minik_http_query_param(c->req->query, "resourceVersion", &bad);
    cleanup_free char *tq = minik_http_query_param(c->req->query, "timeoutSeconds", &bad);
    int64_t from = 0, timeout = 0;
    if (rvq && *rvq && minik_str_to_i64(rvq, 0, INT64_MAX, &from, "resourceVersion", &err) < 0) {
        err->code = 400;
        minik_api_respond_err(c, err);
        return;
    }
    if (tq && *tq && minik_str_to_i64(tq, 0, 86400 * 7, &timeout, "timeoutSeconds", &err) < 0) {
        err->code = 400;
        minik_api_respond_err(c, err);
        return;
    }
    api_watch_t *w = xcalloc(1, sizeof(*w));
    w->srv = srv;
    if (minik_api_filter_parse(c->req->query, &w->filter, &err) < 0) {
        minik_api_filter_clear(&w->filter);
        free(w);
        minik_api_respond_err(c, err);
        return;
    }
    /* Link first so watch_free can unlink on every path. */
    w->next = srv->watches;
    if (srv->watches)
        srv->watches->prev = w;
    srv->watches = w;
    srv->n_watches++;

    minik_http_request_t *req = c->req;
    w->req = req;
    w->kind = c->route.res->kind;
    w->table = minik_api_table_wanted(minik_http_request_header(req, "accept"));
    req->user = w;
    req->on_abort = on_abort;
    const minik_resource_t *res = c->route.res;
    cleanup_free char *c_route_ns = c->route.ns ? xstrdup(c->route.ns) : NULL;
    cleanup_cjson cJSON *initial = NULL;
    const char *pin_path, *pin_value;
    minik_api_filter_pin(&w->filter, &pin_path, &pin_value);
    if (from == 0) {
        if (minik_store_list_pinned(srv->store, res->kind, c->route.ns, pin_path, pin_value,
                                    watch_filter, w, &initial, &from, &err) < 0) {
            req->on_abort = NULL;
            req->user = NULL;
            watch_free(w);
            minik_api_respond_err(c, err);
            return;
        }
    }
    /* Headers, then the current state, then the store's replay (which runs inside
     * minik_store_watch) and live events: in that order on the wire. */
    minik_http_stream_start(req, 200, "application/json");
    /* The request now belongs to the watch; the call is done. */
    c->req = NULL;
    minik_api_call_free(c);
    const cJSON *it;
    cJSON_ArrayForEach(it, initial)
    {
        send_event(w, "ADDED", it);
    }
    int r = minik_store_watch_pinned(srv->store, res->kind, c_route_ns, pin_path, pin_value,
                                     watch_filter, w, from, on_event, w, &w->sw, &err);
    if (r < 0) {
        int code = err->code ? err->code : 500;
        cJSON *st = minik_status_new(code, NULL, err->msg, NULL, NULL, NULL);
        send_event(w, "ERROR", st);
        cJSON_Delete(st);
        minik_error_free(err);
        end_watch(w);
        return;
    }
    /* An equality on a field (an agent's spec.nodeName=NAME) lets the store rule out most
     * events for this watch with one string compare. */
    if (timeout > 0) {
        uv_timer_init(srv->loop, &w->timer);
        w->timer.data = w;
        w->timer_active = true;
        uv_timer_start(&w->timer, on_timeout, (uint64_t)timeout * 1000, 0);
    }
}
