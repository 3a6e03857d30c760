#include "apiserver/http_server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/tls.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#define MAX_WRITE_QUEUE (64u * 1024 * 1024)

typedef struct server_conn server_conn_t;

struct minik_http_server {
    uv_tcp_t listener;
    uv_loop_t *loop;
    minik_http_server_options_t opts;
    minik_http_callbacks_t cb;
    server_conn_t *conns; /* doubly linked list of open connections */
    size_t n_conns;
    bool shutting_down;
    bool listener_closed;
    void (*done)(void *ud);
    void *done_ud;
    int port;
};

struct server_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    minik_http_server_t *srv;
    minik_http_conn_t *http;
    minik_tls_t *tls;
    server_conn_t *prev, *next;
    size_t pending_writes;
    int armed_phase; /* phase the timer was armed for; -1 forces re-arming */
    int handles_open;
    bool want_close; /* close once pending writes drain */
    bool closing;    /* uv_close issued */
};

typedef struct write_req {
    uv_write_t req;
    server_conn_t *conn;
    char data[];
} write_req_t;

static void maybe_finish_shutdown(minik_http_server_t *s);

static void conn_handle_closed(uv_handle_t *h)
{
    server_conn_t *c = h->data;
    if (--c->handles_open > 0)
        return;
    minik_http_server_t *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_conns--;
    minik_http_conn_free(c->http);
    minik_tls_free(c->tls);
    free(c);
    maybe_finish_shutdown(s);
}

static void conn_close_now(server_conn_t *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_timer_stop(&c->timer);
    uv_read_stop((uv_stream_t *)&c->tcp);
    uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
    uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
}

static void on_write_done(uv_write_t *req, int status)
{
    write_req_t *w = (write_req_t *)req;
    server_conn_t *c = w->conn;
    free(w);
    c->pending_writes--;
    if (status < 0 && !c->closing) {
        conn_close_now(c);
        return;
    }
    if (c->want_close && c->pending_writes == 0)
        conn_close_now(c);
}

static void raw_write(server_conn_t *c, const char *data, size_t len)
{
    if (c->closing || len == 0)
        return;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > MAX_WRITE_QUEUE) {
        minik_log_warn("closing connection of a client that does not read", NULL);
        conn_close_now(c);
        return;
    }
    write_req_t *w = xmalloc(sizeof(*w) + len);
    w->conn = c;
    memcpy(w->data, data, len);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    int r = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write_done);
    if (r < 0) {
        free(w);
        conn_close_now(c);
        return;
    }
    c->pending_writes++;
}

static void tls_cipher_out(const char *data, size_t len, void *ud)
{
    raw_write(ud, data, len);
}

static void tls_plain_in(const char *data, size_t len, void *ud)
{
    server_conn_t *c = ud;
    if (!c->closing)
        minik_http_conn_feed(c->http, data, len);
}

static void http_write(minik_http_conn_t *h, const char *data, size_t len, void *ud)
{
    server_conn_t *c = ud;
    if (c->closing)
        return;
    if (c->tls) {
        cleanup_error minik_error_t *err = NULL;
        if (minik_tls_write(c->tls, data, len, &err) < 0)
            c->want_close = true;
    } else {
        raw_write(c, data, len);
    }
}

static void http_close(minik_http_conn_t *h, void *ud)
{
    server_conn_t *c = ud;
    if (c->closing)
        return;
    if (c->tls)
        minik_tls_shutdown(c->tls);
    c->want_close = true;
    if (c->pending_writes == 0)
        conn_close_now(c);
}

static void rearm(server_conn_t *c);

static void http_response(minik_http_conn_t *h, minik_http_request_t *req, int status, void *ud)
{
    server_conn_t *c = ud;
    /* A response may end long after the last read (store write, watch): start the idle
     * clock now, not at the next read. */
    c->armed_phase = -1;
    rearm(c);
    if (c->srv->opts.on_response)
        c->srv->opts.on_response(req, status, c->srv->opts.ud);
}

static void http_request(minik_http_conn_t *h, minik_http_request_t *req, void *ud)
{
    server_conn_t *c = ud;
    c->srv->opts.on_request(req, c->srv->opts.ud);
}

static bool http_stream_body(minik_http_conn_t *h, const minik_http_request_t *req, void *ud)
{
    (void)h;
    server_conn_t *c = ud;
    return c->srv->opts.stream_body && c->srv->opts.stream_body(req, c->srv->opts.ud);
}

static void on_timer(uv_timer_t *t)
{
    server_conn_t *c = t->data;
    minik_http_phase_t ph = minik_http_conn_phase(c->http);
    if (ph == MINIK_HTTP_ACTIVE && !c->want_close) {
        /* A pipelined request started after the timer was armed: no deadline now. */
        c->armed_phase = -1;
        rearm(c);
        return;
    }
    if (ph == MINIK_HTTP_HEADERS || ph == MINIK_HTTP_BODY) {
        /* A request that is not arriving fast enough: answer 408 like other servers. */
        if (!c->tls || minik_tls_handshake_done(c->tls))
            minik_http_conn_reject(c->http, 408, "request not received in time");
        http_close(c->http, c);
        /* Do not wait for a peer that does not read either. */
        if (!c->closing && c->pending_writes > 0) {
            c->armed_phase = MINIK_HTTP_CLOSING;
            uv_timer_start(&c->timer, on_timer, 2000, 0);
        }
        return;
    }
    conn_close_now(c);
}

static void rearm(server_conn_t *c)
{
    if (c->closing)
        return;
    int ph = (int)minik_http_conn_phase(c->http);
    if (c->tls && !minik_tls_handshake_done(c->tls) && ph == MINIK_HTTP_IDLE)
        ph = MINIK_HTTP_HEADERS; /* a handshake is part of getting the first request */
    if (c->want_close)
        ph = MINIK_HTTP_CLOSING;
    if (ph == c->armed_phase)
        return;
    c->armed_phase = ph;
    uint64_t ms = 0;
    switch ((minik_http_phase_t)ph) {
    case MINIK_HTTP_IDLE:
        ms = c->srv->opts.idle_ms;
        break;
    case MINIK_HTTP_HEADERS:
        ms = c->srv->opts.header_ms;
        break;
    case MINIK_HTTP_BODY:
        ms = c->srv->opts.body_ms;
        break;
    case MINIK_HTTP_ACTIVE:
        uv_timer_stop(&c->timer);
        return;
    case MINIK_HTTP_CLOSING:
        ms = 5000; /* give the last bytes a chance, then drop the peer */
        break;
    }
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    buf->base = xmalloc(65536);
    buf->len = 65536;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    server_conn_t *c = stream->data;
    if (nread > 0 && !c->closing) {
        if (c->tls) {
            cleanup_error minik_error_t *err = NULL;
            if (minik_tls_feed(c->tls, buf->base, (size_t)nread, &err) < 0) {
                minik_log_debug("TLS connection failed", "error", err->msg, NULL);
                http_close(c->http, c);
            }
        } else {
            minik_http_conn_feed(c->http, buf->base, (size_t)nread);
        }
    } else if (nread < 0 && !c->closing) {
        uv_read_stop(stream);
        minik_http_conn_eof(c->http);
    }
    free(buf->base);
    rearm(c);
}

static void on_connection(uv_stream_t *listener, int status)
{
    minik_http_server_t *s = listener->data;
    if (status < 0) {
        minik_log_warn("accept failed", "error", uv_strerror(status), NULL);
        return;
    }
    server_conn_t *c = xcalloc(1, sizeof(*c));
    c->srv = s;
    c->armed_phase = -1;
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->handles_open = 2;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    c->http = minik_http_conn_new(&s->cb, c);
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) < 0 || s->shutting_down) {
        conn_close_now(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (s->opts.tls)
        c->tls = minik_tls_new(s->opts.tls, tls_plain_in, tls_cipher_out, c);
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
    rearm(c);
}

int minik_http_server_start(uv_loop_t *loop, const minik_http_server_options_t *opts,
                            minik_http_server_t **out, minik_error_t **err)
{
    struct sockaddr_storage addr;
    if (uv_ip4_addr(opts->host, opts->port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(opts->host, opts->port, (struct sockaddr_in6 *)&addr) != 0)
        return minik_error_set(err, EINVAL, "listen address \"%s\" is not a numeric IP",
                               opts->host);
    minik_http_server_t *s = xcalloc(1, sizeof(*s));
    s->loop = loop;
    s->opts = *opts;
    if (!s->opts.idle_ms)
        s->opts.idle_ms = 60000;
    if (!s->opts.header_ms)
        s->opts.header_ms = 10000;
    if (!s->opts.body_ms)
        s->opts.body_ms = 30000;
    s->cb = (minik_http_callbacks_t){
        .write = http_write,
        .on_request = http_request,
        .on_close = http_close,
        .on_response = http_response,
        .stream_body = http_stream_body,
    };
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    int r = uv_tcp_bind(&s->listener, (const struct sockaddr *)&addr, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&s->listener, 511, on_connection);
    if (r < 0) {
        /* The handle must be closed through the loop; free the server in its callback. */
        uv_close((uv_handle_t *)&s->listener, (uv_close_cb)free);
        return minik_error_set(err, -r, "listen on %s:%d", opts->host, opts->port);
    }
    struct sockaddr_storage bound;
    int len = sizeof(bound);
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &len);
    s->port = bound.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
                                          : ntohs(((struct sockaddr_in *)&bound)->sin_port);
    *out = s;
    return 0;
}

int minik_http_server_port(const minik_http_server_t *s)
{
    return s->port;
}

size_t minik_http_server_connections(const minik_http_server_t *s)
{
    return s->n_conns;
}

static void maybe_finish_shutdown(minik_http_server_t *s)
{
    if (!s->shutting_down || !s->listener_closed || s->n_conns > 0)
        return;
    void (*done)(void *) = s->done;
    void *ud = s->done_ud;
    free(s);
    if (done)
        done(ud);
}

static void listener_closed(uv_handle_t *h)
{
    minik_http_server_t *s = h->data;
    s->listener_closed = true;
    maybe_finish_shutdown(s);
}

void minik_http_server_shutdown(minik_http_server_t *s, void (*done)(void *ud), void *ud)
{
    if (s->shutting_down)
        return;
    s->shutting_down = true;
    s->done = done;
    s->done_ud = ud;
    for (server_conn_t *c = s->conns, *next; c; c = next) {
        next = c->next;
        minik_http_conn_close(c->http); /* idle ones close now, busy ones after answering */
        rearm(c);
    }
    uv_close((uv_handle_t *)&s->listener, listener_closed);
}
