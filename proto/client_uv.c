/* curl multi on libuv: curl tells us which sockets to poll for what (socket callback) and
 * when to call it back (timer callback); libuv tells curl when a socket is ready. */
#include "proto/client_uv.h"

#include <errno.h>
#include <string.h>

#include "lib/lazy_curl.h"

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "proto/client_internal.h"

typedef struct sock_ctx {
    uv_poll_t poll; /* first: the close callback gets it back as the ctx */
    curl_socket_t fd;
    minik_client_uv_t *u;
    struct sock_ctx *next, *prev;
} sock_ctx_t;

/* Ordinary requests in flight at once; more wait in the driver's queue, in order. A hollow
 * agent writing the status of 50,000 pods had 14,000 requests (and connections) open, and
 * the server answered a node's heartbeat only after all of them: every node went NotReady.
 * Urgent requests (heartbeats) start at once whatever the count. */
#define MAX_REQUESTS 64

struct minik_client_uv {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    minik_client_uv_watch_t *watches; /* in progress, doubly linked */
    sock_ctx_t *socks;                /* polled sockets, doubly linked */
    size_t active;                    /* watches and requests, started or queued */
    size_t requests;                  /* requests started and not finished, urgent ones aside */
    size_t urgent;                    /* urgent requests started and not finished */
    minik_client_uv_watch_t *queued_head, *queued_tail; /* requests not started yet */
    bool closing;
    size_t pending_closes; /* libuv handles whose close callback has not run yet */
    void (*closed)(void *ud);
    void *closed_ud;
};

/* A watch, or (on_reply set) an ordinary request sharing the same plumbing. */
struct minik_client_uv_watch {
    minik_client_uv_t *u;
    minik_client_uv_reply_fn on_reply;    /* requests only */
    minik_client_uv_xfer_done_fn on_xfer; /* caller-configured transfers only */
    minik_buf_t body;                     /* requests only: the reply body */
    struct curl_slist *headers;           /* requests only: base headers + Content-Type */
    minik_client_t *client;
    CURL *easy;
    minik_watch_decoder_t *decoder;
    minik_watch_done_fn on_done;
    void *ud;
    long status;            /* HTTP status once known */
    minik_buf_t error_body; /* body of a >= 300 reply, for the Status message */
    char errbuf[CURL_ERROR_SIZE];
    bool in_write;      /* inside curl's write callback: curl forbids removing the handle */
    bool cancelled;     /* cancel() was called from inside the write callback */
    minik_error_t *err; /* a bad event seen in the write callback */
    minik_client_uv_watch_t *next, *prev;
    minik_client_uv_watch_t *qnext; /* requests: the driver's queue */
    bool urgent;                    /* requests: started at once, not counted in the limit */
};

static void check_multi_info(minik_client_uv_t *u);

/* ---- libuv side ----------------------------------------------------------------------- */

static void maybe_closed(minik_client_uv_t *u)
{
    if (u->pending_closes > 0 || !u->closed)
        return;
    void (*done)(void *) = u->closed;
    void *ud = u->closed_ud;
    free(u);
    done(ud);
}

static void on_sock_closed(uv_handle_t *h)
{
    sock_ctx_t *ctx = (sock_ctx_t *)h;
    minik_client_uv_t *u = ctx->u;
    free(ctx);
    u->pending_closes--;
    maybe_closed(u);
}

static void sock_release(sock_ctx_t *ctx)
{
    minik_client_uv_t *u = ctx->u;
    if (ctx->prev)
        ctx->prev->next = ctx->next;
    else
        u->socks = ctx->next;
    if (ctx->next)
        ctx->next->prev = ctx->prev;
    uv_poll_stop(&ctx->poll);
    u->pending_closes++;
    uv_close((uv_handle_t *)&ctx->poll, on_sock_closed);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    sock_ctx_t *ctx = (sock_ctx_t *)h;
    minik_client_uv_t *u = ctx->u;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running = 0;
    curl_multi_socket_action(u->multi, ctx->fd, flags, &running);
    check_multi_info(u);
}

static void on_timeout(uv_timer_t *t)
{
    minik_client_uv_t *u = t->data;
    int running = 0;
    curl_multi_socket_action(u->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_multi_info(u);
}

/* ---- curl side -------------------------------------------------------------------------- */

static int curl_socket_cb(CURL *easy, curl_socket_t s, int action, void *userp, void *socketp)
{
    minik_client_uv_t *u = userp;
    sock_ctx_t *ctx = socketp;
    if (action == CURL_POLL_REMOVE) {
        if (ctx) {
            curl_multi_assign(u->multi, s, NULL);
            sock_release(ctx);
        }
        return 0;
    }
    if (!ctx) {
        ctx = xcalloc(1, sizeof *ctx);
        ctx->fd = s;
        ctx->u = u;
        if (uv_poll_init_socket(u->loop, &ctx->poll, s) < 0) {
            free(ctx);
            return -1;
        }
        ctx->next = u->socks;
        if (u->socks)
            u->socks->prev = ctx;
        u->socks = ctx;
        curl_multi_assign(u->multi, s, ctx);
    }
    int events = 0;
    if (action != CURL_POLL_OUT)
        events |= UV_READABLE;
    if (action != CURL_POLL_IN)
        events |= UV_WRITABLE;
    uv_poll_start(&ctx->poll, events, on_poll);
    return 0;
}

static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    minik_client_uv_t *u = userp;
    if (timeout_ms < 0) {
        uv_timer_stop(&u->timer);
    } else {
        /* 0 means "call me now"; from inside a curl callback that must wait for the loop. */
        uv_timer_start(&u->timer, on_timeout, timeout_ms > 0 ? (uint64_t)timeout_ms : 1, 0);
    }
    return 0;
}

static size_t watch_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    minik_client_uv_watch_t *w = userdata;
    size_t n = size * nmemb;
    if (minik_client_watch_error_body(w->easy, &w->status, &w->error_body, ptr, n))
        return n;
    w->in_write = true;
    int r = minik_watch_decoder_feed(w->decoder, ptr, n, &w->err);
    w->in_write = false;
    if (r != 0 || w->cancelled)
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    return n;
}

/* Replies larger than this are refused (a hostile server must not exhaust memory). */
#define MAX_REPLY_BYTES (64u * 1024 * 1024)

static size_t request_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    minik_client_uv_watch_t *w = userdata;
    size_t n = size * nmemb;
    if (w->body.len + n > MAX_REPLY_BYTES)
        return 0;
    minik_buf_append(&w->body, ptr, n);
    return n;
}

int minik_client_uv_new(uv_loop_t *loop, minik_client_uv_t **out, minik_error_t **err)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    minik_client_uv_t *u = xcalloc(1, sizeof *u);
    u->loop = loop;
    u->multi = curl_multi_init();
    if (!u->multi) {
        free(u);
        return minik_error_set(err, ENOMEM, "curl_multi_init");
    }
    int r = uv_timer_init(loop, &u->timer);
    if (r < 0) {
        curl_multi_cleanup(u->multi);
        free(u);
        return minik_error_set(err, -r, "uv_timer_init");
    }
    u->timer.data = u;
    curl_multi_setopt(u->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
    curl_multi_setopt(u->multi, CURLMOPT_SOCKETDATA, u);
    curl_multi_setopt(u->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
    curl_multi_setopt(u->multi, CURLMOPT_TIMERDATA, u);
    *out = u;
    return 0;
}

/* ---- watches ---------------------------------------------------------------------------- */

static void unlink_watch(minik_client_uv_watch_t *w)
{
    minik_client_uv_t *u = w->u;
    if (w->prev)
        w->prev->next = w->next;
    else
        u->watches = w->next;
    if (w->next)
        w->next->prev = w->prev;
    u->active--;
}

/* End a watch: detach it from curl, work out why it ended, tell the owner, free it. */
static void free_transfer(minik_client_uv_watch_t *w)
{
    curl_easy_cleanup(w->easy);
    curl_slist_free_all(w->headers);
    minik_watch_decoder_free(w->decoder);
    minik_buf_free(&w->error_body);
    minik_buf_free(&w->body);
    minik_error_free(w->err);
    free(w);
}

/* Hand a set-up transfer to the multi handle and the list of live ones; on failure it is
 * left to the caller (unlinked, not freed). */
static int start_transfer(minik_client_uv_t *u, minik_client_uv_watch_t *w)
{
    w->next = u->watches;
    if (u->watches)
        u->watches->prev = w;
    u->watches = w;
    u->active++;
    if (curl_multi_add_handle(u->multi, w->easy) != CURLM_OK) {
        unlink_watch(w);
        return -1;
    }
    return 0;
}

/* Urgent requests have their own count: 5,000 hollow nodes' heartbeats in flight must
 * not keep every other request waiting for a free slot. */
static size_t *count_of(minik_client_uv_t *u, const minik_client_uv_watch_t *w)
{
    return w->urgent ? &u->urgent : &u->requests;
}

static int start_request(minik_client_uv_t *u, minik_client_uv_watch_t *w)
{
    (*count_of(u, w))++;
    if (start_transfer(u, w) < 0) {
        (*count_of(u, w))--;
        return -1;
    }
    return 0;
}

/* A request that never reached the server: its callback still runs exactly once. */
static void fail_unstarted(minik_client_uv_watch_t *w, int code, const char *why)
{
    minik_error_t *err = NULL;
    minik_error_set(&err, code, "request to %s %s", minik_client_server(w->client), why);
    w->on_reply(NULL, err, w->ud);
    minik_error_free(err);
    free_transfer(w);
}

static minik_client_uv_watch_t *dequeue(minik_client_uv_t *u)
{
    minik_client_uv_watch_t *w = u->queued_head;
    u->queued_head = w->qnext;
    if (!u->queued_head)
        u->queued_tail = NULL;
    w->qnext = NULL;
    u->active--; /* start_transfer counts it again */
    return w;
}

/* Start queued requests while there is room. */
static void start_queued(minik_client_uv_t *u)
{
    while (!u->closing && u->queued_head && u->requests < MAX_REQUESTS) {
        minik_client_uv_watch_t *w = dequeue(u);
        if (start_request(u, w) < 0)
            fail_unstarted(w, 0, "could not be started (curl_multi_add_handle failed)");
    }
}

/* End a request: work out the reply or the error and hand it over. */
static void finish_request(minik_client_uv_watch_t *w, CURLcode rc, bool cancel)
{
    minik_error_t *err = NULL;
    cJSON *reply = NULL;
    long status = 0;
    curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &status);
    if (cancel) {
        minik_error_set(&err, ECANCELED, "request to %s cancelled", minik_client_server(w->client));
    } else if (rc != CURLE_OK) {
        minik_client_unreachable(w->client, w->easy, rc, w->errbuf, &err);
    } else if (status < 200 || status >= 300) {
        minik_client_http_error(status, w->body.data, w->body.len, &err);
    } else if (w->body.len) {
        reply = cJSON_ParseWithLength(w->body.data, w->body.len);
        if (!reply)
            minik_error_set(&err, 0, "the reply from %s is not valid JSON",
                            minik_client_server(w->client));
    }
    w->on_reply(err ? NULL : reply, err, w->ud);
    cJSON_Delete(reply);
    minik_error_free(err);
    free_transfer(w);
}

static void finish(minik_client_uv_watch_t *w, CURLcode rc, bool cancel)
{
    minik_client_uv_t *u = w->u;
    curl_multi_remove_handle(u->multi, w->easy);
    unlink_watch(w);
    if (w->on_xfer) {
        if (!cancel)
            w->on_xfer(w->easy, (int)rc, w->ud);
        free_transfer(w);
        return;
    }
    if (w->on_reply) {
        (*count_of(u, w))--;
        finish_request(w, rc, cancel);
        start_queued(u);
        return;
    }
    minik_error_t *err = steal_pointer(&w->err);
    minik_watch_end_t how = MINIK_WATCH_CANCELLED;
    if (!cancel) {
        if (w->status == 0)
            curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &w->status);
        if (err) {
            how = MINIK_WATCH_FAILED;
        } else if (w->cancelled) {
            how = MINIK_WATCH_CANCELLED;
        } else if (rc == CURLE_WRITE_ERROR && w->status > 0 && w->status < 300) {
            how = MINIK_WATCH_STOPPED; /* the event callback asked to stop */
        } else if (w->status >= 300) {
            cleanup_free char *msg =
                minik_client_status_message(w->status, w->error_body.data, w->error_body.len);
            minik_error_set_code(&err, (int)w->status, 0, "%s", msg);
            how = MINIK_WATCH_FAILED;
        } else if (rc != CURLE_OK) {
            if (w->status == 0)
                minik_client_unreachable(w->client, w->easy, rc, w->errbuf, &err);
            else
                minik_error_set(&err, 0, "watch from %s: %s", minik_client_server(w->client),
                                *w->errbuf ? w->errbuf : curl_easy_strerror(rc));
            how = MINIK_WATCH_FAILED;
        } else if (minik_watch_decoder_finish(w->decoder, &err) < 0) {
            how = MINIK_WATCH_FAILED;
        } else {
            how = MINIK_WATCH_ENDED;
        }
    }
    if (how != MINIK_WATCH_FAILED)
        minik_error_clear(&err);
    w->on_done(how, err, w->ud);
    minik_error_free(err);
    free_transfer(w);
}

static void check_multi_info(minik_client_uv_t *u)
{
    CURLMsg *msg;
    int pending;
    while ((msg = curl_multi_info_read(u->multi, &pending))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        minik_client_uv_watch_t *w = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&w);
        CURLcode rc = msg->data.result;
        finish(w, rc, false);
    }
}

minik_client_uv_watch_t *minik_client_uv_watch(minik_client_uv_t *u, minik_client_t *c,
                                               const char *path, minik_watch_event_fn on_event,
                                               minik_watch_done_fn on_done, void *ud)
{
    minik_client_uv_watch_t *w = xcalloc(1, sizeof *w);
    w->easy = minik_client_watch_easy_setup(c, path, w->errbuf);
    if (!w->easy) {
        free(w);
        return NULL;
    }
    w->u = u;
    w->client = c;
    w->on_done = on_done;
    w->ud = ud;
    w->decoder = minik_watch_decoder_new(on_event, ud, 0);
    curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, watch_write);
    curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, w);
    curl_easy_setopt(w->easy, CURLOPT_PRIVATE, w);
    if (start_transfer(u, w) < 0) {
        free_transfer(w);
        return NULL;
    }
    return w;
}

static int request(minik_client_uv_t *u, minik_client_t *c, const char *method, const char *path,
                   const char *content_type, const cJSON *body, bool urgent,
                   minik_client_uv_reply_fn on_reply, void *ud, minik_error_t **err)
{
    minik_client_uv_watch_t *w = xcalloc(1, sizeof *w);
    w->easy = minik_client_request_easy_setup(c, path, w->errbuf);
    if (!w->easy) {
        free(w);
        return minik_error_set(err, ENOMEM, "curl_easy_init");
    }
    w->u = u;
    w->client = c;
    w->on_reply = on_reply;
    w->ud = ud;
    for (const struct curl_slist *h = minik_client_base_headers(c); h; h = h->next)
        w->headers = curl_slist_append(w->headers, h->data);
    w->headers = curl_slist_append(w->headers, "Expect:");
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(w->easy, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(w->easy, CURLOPT_CUSTOMREQUEST, method);
        if (body) {
            cleanup_free char *ct =
                xasprintf("Content-Type: %s", content_type ? content_type : "application/json");
            w->headers = curl_slist_append(w->headers, ct);
            cleanup_free char *text = cJSON_PrintUnformatted(body);
            curl_easy_setopt(w->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(text));
            curl_easy_setopt(w->easy, CURLOPT_COPYPOSTFIELDS, text);
        }
    }
    curl_easy_setopt(w->easy, CURLOPT_HTTPHEADER, w->headers);
    curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, request_write);
    curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, w);
    curl_easy_setopt(w->easy, CURLOPT_PRIVATE, w);
    w->urgent = urgent;
    if (!urgent && (u->requests >= MAX_REQUESTS || u->queued_head)) {
        if (u->queued_tail)
            u->queued_tail->qnext = w;
        else
            u->queued_head = w;
        u->queued_tail = w;
        u->active++;
        return 0;
    }
    if (start_request(u, w) < 0) {
        free_transfer(w);
        return minik_error_set(err, 0, "curl_multi_add_handle failed");
    }
    return 0;
}

int minik_client_uv_request(minik_client_uv_t *u, minik_client_t *c, const char *method,
                            const char *path, const char *content_type, const cJSON *body,
                            minik_client_uv_reply_fn on_reply, void *ud, minik_error_t **err)
{
    return request(u, c, method, path, content_type, body, false, on_reply, ud, err);
}

int minik_client_uv_request_urgent(minik_client_uv_t *u, minik_client_t *c, const char *method,
                                   const char *path, const char *content_type, const cJSON *body,
                                   minik_client_uv_reply_fn on_reply, void *ud, minik_error_t **err)
{
    return request(u, c, method, path, content_type, body, true, on_reply, ud, err);
}

minik_client_uv_xfer_t *minik_client_uv_add(minik_client_uv_t *u, void *easy,
                                            minik_client_uv_xfer_done_fn done, void *ud)
{
    minik_client_uv_watch_t *w = xcalloc(1, sizeof *w);
    w->easy = easy;
    w->u = u;
    w->on_xfer = done;
    w->ud = ud;
    curl_easy_setopt(w->easy, CURLOPT_PRIVATE, w);
    w->next = u->watches;
    if (u->watches)
        u->watches->prev = w;
    u->watches = w;
    u->active++;
    if (curl_multi_add_handle(u->multi, w->easy) != CURLM_OK) {
        unlink_watch(w);
        free_transfer(w);
        return NULL;
    }
    return w;
}

void minik_client_uv_cancel(minik_client_uv_xfer_t *x)
{
    finish(x, CURLE_OK, true);
}

void minik_client_uv_unpause(minik_client_uv_xfer_t *x)
{
    /* curl asks for its timer from here, which curl_timer_cb turns into 1 ms; a paused
     * upload resumed once per piece of a stream (exec stdin) would wait that long per
     * piece, so run it on the loop's next turn instead. */
    curl_easy_pause(x->easy, CURLPAUSE_CONT);
    uv_timer_start(&x->u->timer, on_timeout, 0, 0);
}

void minik_client_uv_watch_cancel(minik_client_uv_watch_t *w)
{
    if (w->in_write) {
        /* curl is inside this transfer's callback: abort it from there instead. */
        w->cancelled = true;
        return;
    }
    finish(w, CURLE_OK, true);
}

size_t minik_client_uv_in_flight(const minik_client_uv_t *u)
{
    return u->requests + u->urgent;
}

size_t minik_client_uv_active(const minik_client_uv_t *u)
{
    return u->active;
}

static void on_timer_closed(uv_handle_t *h)
{
    minik_client_uv_t *u = h->data;
    u->pending_closes--;
    maybe_closed(u);
}

void minik_client_uv_close(minik_client_uv_t *u, void (*done)(void *ud), void *ud)
{
    u->closing = true;
    while (u->queued_head)
        fail_unstarted(dequeue(u), ECANCELED, "cancelled");
    while (u->watches)
        finish(u->watches, CURLE_OK, true);
    /* Closing the multi closes cached connections; curl reports their sockets removed. */
    curl_multi_cleanup(u->multi);
    u->multi = NULL;
    while (u->socks)
        sock_release(u->socks);
    u->closed = done;
    u->closed_ud = ud;
    u->pending_closes++;
    uv_timer_stop(&u->timer);
    uv_close((uv_handle_t *)&u->timer, on_timer_closed);
}
