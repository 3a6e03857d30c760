#include "apiserver/http_conn.h"

#include <ctype.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiserver/status.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"

struct minik_http_conn {
    http_parser parser;
    const minik_http_callbacks_t *cb;
    void *ud;
    minik_buf_t in;                /* received, not yet parsed */
    minik_http_request_t *cur;     /* being parsed */
    minik_http_request_t *active;  /* dispatched, being answered */
    minik_buf_t url, field, value; /* pieces of the request being parsed */
    bool in_value;                 /* last header callback was a value */
    size_t header_bytes;           /* request target + header bytes seen */
    int reject;                    /* status chosen by a callback that aborted parsing */
    bool message_done;             /* on_message_complete fired; parser paused */
    bool processing;               /* guards against re-entering process() */
    bool closing;                  /* on_close called or pending */
    bool close_signalled;
    bool stream_ready;             /* headers of a body-streamed request are complete */
    minik_http_request_t *body_to; /* the dispatched request whose body is being parsed */
    bool body_open;                /* parsing the body of a dispatched request */
    bool stream_paused;            /* parser paused at the end of a streamed body */
    minik_http_phase_t phase;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void minik_http_request_free(minik_http_request_t *r)
{
    if (!r)
        return;
    free(r->url);
    free(r->path);
    free(r->query);
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    minik_buf_free(&r->body);
    free(r);
}

const char *minik_http_request_header(const minik_http_request_t *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static minik_http_conn_t *conn_of(http_parser *p)
{
    return (minik_http_conn_t *)p->data;
}

static int count_header_bytes(minik_http_conn_t *c, size_t len)
{
    c->header_bytes += len;
    if (c->header_bytes > MINIK_HTTP_MAX_HEADER_BYTES) {
        c->reject = 431;
        return -1;
    }
    return 0;
}

static int commit_header(minik_http_conn_t *c)
{
    if (c->field.len == 0 && c->value.len == 0)
        return 0;
    minik_http_request_t *r = c->cur;
    if (!r) {
        /* Trailers of a chunked body that is being streamed to a request already
         * dispatched (c->cur handed over): nothing reads them, so they are dropped. */
        minik_buf_reset(&c->field);
        minik_buf_reset(&c->value);
        return 0;
    }
    if (r->n_headers >= MINIK_HTTP_MAX_HEADERS) {
        c->reject = 431;
        return -1;
    }
    char *name = minik_buf_steal(&c->field);
    for (char *p = name; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    r->headers[r->n_headers].name = name;
    r->headers[r->n_headers].value = minik_buf_steal(&c->value);
    r->n_headers++;
    return 0;
}

static int on_message_begin(http_parser *p)
{
    minik_http_conn_t *c = conn_of(p);
    minik_http_request_free(c->cur);
    c->cur = xcalloc(1, sizeof(*c->cur));
    c->cur->conn = c;
    minik_buf_reset(&c->url);
    minik_buf_reset(&c->field);
    minik_buf_reset(&c->value);
    c->in_value = false;
    c->header_bytes = 0;
    c->phase = MINIK_HTTP_HEADERS;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    minik_http_conn_t *c = conn_of(p);
    if (count_header_bytes(c, len) < 0)
        return -1;
    minik_buf_append(&c->url, at, len);
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    minik_http_conn_t *c = conn_of(p);
    if (count_header_bytes(c, len) < 0)
        return -1;
    if (c->in_value) {
        if (commit_header(c) < 0)
            return -1;
        c->in_value = false;
    }
    minik_buf_append(&c->field, at, len);
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    minik_http_conn_t *c = conn_of(p);
    if (count_header_bytes(c, len) < 0)
        return -1;
    c->in_value = true;
    minik_buf_append(&c->value, at, len);
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    minik_http_conn_t *c = conn_of(p);
    minik_http_request_t *r = c->cur;
    if (commit_header(c) < 0)
        return -1;
    r->method = http_method_str((enum http_method)p->method);
    r->head = p->method == HTTP_HEAD;
    r->keep_alive = http_should_keep_alive(p) != 0;
    r->url = minik_buf_steal(&c->url);
    const char *q = strchr(r->url, '?');
    if (q) {
        r->path = xstrndup(r->url, (size_t)(q - r->url));
        r->query = xstrdup(q + 1);
    } else {
        r->path = xstrdup(r->url);
        r->query = xstrdup("");
    }
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > MINIK_HTTP_MAX_BODY_BYTES) {
        c->reject = 413;
        return -1;
    }
    c->phase = MINIK_HTTP_BODY;
    /* curl and others wait (up to a second) for this before sending a large body. */
    const char *expect = minik_http_request_header(r, "expect");
    bool has_body = (p->flags & F_CHUNKED) || ((p->flags & F_CONTENTLENGTH) && p->content_length);
    if (expect && strcasecmp(expect, "100-continue") == 0 && has_body)
        c->cb->write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25, c->ud);
    if (has_body && c->cb->stream_body && !p->upgrade && c->cb->stream_body(c, r, c->ud)) {
        /* Dispatch now (process() does, once the parser stops here); the body follows. */
        r->body_streamed = true;
        c->stream_ready = true;
        http_parser_pause(p, 1);
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    minik_http_conn_t *c = conn_of(p);
    if (c->body_open) {
        minik_http_request_t *sr = c->body_to; /* NULL once answered: the rest is dropped */
        if (sr && sr->on_body)
            sr->on_body(sr, at, len);
        else if (sr && sr->body.len + len <= MINIK_HTTP_MAX_BODY_BYTES)
            minik_buf_append(&sr->body, at, len);
        return 0;
    }
    minik_http_request_t *r = c->cur;
    if (r->body.len + len > MINIK_HTTP_MAX_BODY_BYTES) {
        c->reject = 413;
        return -1;
    }
    minik_buf_append(&r->body, at, len);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    minik_http_conn_t *c = conn_of(p);
    if (c->body_open) {
        minik_http_request_t *sr = c->body_to;
        c->body_open = false;
        c->body_to = NULL;
        if (sr) {
            sr->body_done = true;
            if (sr->on_body)
                sr->on_body(sr, NULL, 0);
        }
        /* Parse nothing further until this request is answered. */
        c->stream_paused = true;
        http_parser_pause(p, 1);
        return 0;
    }
    c->message_done = true;
    /* Stop after one request: the next one is parsed only once this one is answered, so
     * responses go out in order and a slow handler applies back-pressure. */
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

minik_http_conn_t *minik_http_conn_new(const minik_http_callbacks_t *cb, void *ud)
{
    minik_http_conn_t *c = xcalloc(1, sizeof(*c));
    c->cb = cb;
    c->ud = ud;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->phase = MINIK_HTTP_IDLE;
    return c;
}

void minik_http_conn_free(minik_http_conn_t *c)
{
    if (!c)
        return;
    if (c->active) {
        minik_http_request_t *r = c->active;
        c->active = NULL;
        r->conn = NULL;
        if (r->on_abort)
            r->on_abort(r);
        /* Without on_abort the handler still owns r and frees it when it answers. */
    }
    minik_http_request_free(c->cur);
    minik_buf_free(&c->in);
    minik_buf_free(&c->url);
    minik_buf_free(&c->field);
    minik_buf_free(&c->value);
    free(c);
}

minik_http_phase_t minik_http_conn_phase(const minik_http_conn_t *c)
{
    return c->phase;
}

static void signal_close(minik_http_conn_t *c)
{
    c->closing = true;
    c->phase = MINIK_HTTP_CLOSING;
    if (!c->close_signalled) {
        c->close_signalled = true;
        c->cb->on_close(c, c->ud);
    }
}

void minik_http_conn_close(minik_http_conn_t *c)
{
    c->closing = true;
    if (!c->active)
        signal_close(c);
}

static void write_response_head(minik_http_conn_t *c, minik_buf_t *out, int status,
                                const char *content_type, bool keep_alive)
{
    minik_buf_appendf(out, "HTTP/1.1 %d %s\r\n", status, minik_http_reason_phrase(status));
    if (content_type)
        minik_buf_appendf(out, "Content-Type: %s\r\n", content_type);
    minik_buf_append_str(out, "Cache-Control: no-cache, private\r\n");
    if (!keep_alive)
        minik_buf_append_str(out, "Connection: close\r\n");
}

/* Reject the request being parsed: answer with a Status and close the connection. */
static void reject(minik_http_conn_t *c, int status, const char *message)
{
    cleanup_buf minik_buf_t out = MINIK_BUF_INIT;
    char *body = minik_status_json(status, message);
    write_response_head(c, &out, status, "application/json", false);
    minik_buf_appendf(&out, "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
    free(body);
    c->cb->write(c, out.data, out.len, c->ud);
    if (c->cb->on_response && c->cur)
        c->cb->on_response(c, c->cur, status, c->ud);
    minik_http_request_free(c->cur);
    c->cur = NULL;
    minik_buf_reset(&c->in);
    signal_close(c);
}

void minik_http_conn_reject(minik_http_conn_t *c, int status, const char *message)
{
    if (c->active || c->closing)
        return;
    reject(c, status, message);
}

static void process(minik_http_conn_t *c)
{
    if (c->processing)
        return;
    c->processing = true;
    if (c->stream_paused && !c->active) {
        c->stream_paused = false;
        http_parser_pause(&c->parser, 0);
    }
    while ((!c->active || c->body_open) && !c->closing && c->in.len > 0) {
        size_t n = http_parser_execute(&c->parser, &settings, c->in.data, c->in.len);
        if (c->stream_ready) {
            c->stream_ready = false;
            minik_buf_consume(&c->in, n);
            http_parser_pause(&c->parser, 0);
            minik_http_request_t *r = c->cur;
            c->cur = NULL;
            r->start_ns = now_ns();
            c->active = r;
            c->body_to = r;
            c->body_open = true;
            c->phase = MINIK_HTTP_ACTIVE;
            c->cb->on_request(c, r, c->ud);
            continue;
        }
        if (c->stream_paused) {
            /* The streamed body just ended: parse on once the request is answered. */
            minik_buf_consume(&c->in, n);
            if (c->active)
                break;
            c->stream_paused = false;
            http_parser_pause(&c->parser, 0);
            continue;
        }
        if (c->message_done) {
            c->message_done = false;
            minik_buf_consume(&c->in, n);
            http_parser_pause(&c->parser, 0);
            minik_http_request_t *r = c->cur;
            c->cur = NULL;
            if (c->parser.upgrade)
                r->keep_alive = false; /* we never switch protocols; finish and close */
            r->start_ns = now_ns();
            c->active = r;
            c->phase = MINIK_HTTP_ACTIVE;
            c->cb->on_request(c, r, c->ud);
            continue;
        }
        enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
        if (e != HPE_OK && c->body_open) {
            /* A bad streamed body: end it for the handler, which is still answering; the
             * connection closes after that answer. */
            minik_http_request_t *sr = c->body_to;
            c->body_open = false;
            c->body_to = NULL;
            if (sr && sr->on_body)
                sr->on_body(sr, NULL, 0);
            minik_buf_reset(&c->in);
            minik_http_conn_close(c);
            break;
        }
        if (e != HPE_OK) {
            if (c->reject == 413) {
                reject(c, 413, "request body larger than 3 MiB");
            } else if (c->reject == 431 || e == HPE_HEADER_OVERFLOW) {
                reject(c, 431, "request line and headers larger than 16 KiB");
            } else {
                char *msg = xasprintf("malformed HTTP request: %s", http_errno_description(e));
                reject(c, 400, msg);
                free(msg);
            }
            break;
        }
        minik_buf_consume(&c->in, n);
    }
    if (!c->active && !c->closing && c->phase != MINIK_HTTP_HEADERS && c->phase != MINIK_HTTP_BODY)
        c->phase = MINIK_HTTP_IDLE;
    c->processing = false;
}

void minik_http_conn_feed(minik_http_conn_t *c, const char *data, size_t len)
{
    if (c->closing || len == 0)
        return;
    /* Cap what a client can queue behind an active request (pipelining flood). */
    if (c->in.len + len > MINIK_HTTP_MAX_BODY_BYTES + MINIK_HTTP_MAX_HEADER_BYTES * 2) {
        if (!c->active) {
            reject(c, 413, "request too large");
        } else {
            minik_buf_reset(&c->in);
            minik_http_conn_close(c);
        }
        return;
    }
    minik_buf_append(&c->in, data, len);
    process(c);
}

void minik_http_conn_eof(minik_http_conn_t *c)
{
    if (c->closing)
        return;
    if (c->active) {
        if (c->active->streaming) {
            /* The watcher went away: nothing more to send. */
            signal_close(c);
        } else {
            c->closing = true; /* answer the request in flight, then close */
        }
        return;
    }
    if (c->phase == MINIK_HTTP_HEADERS || c->phase == MINIK_HTTP_BODY || c->in.len > 0) {
        /* Let the parser see the end: a message delimited by EOF is not legal for
         * requests, so anything pending is a truncated request. */
        if (!c->cur)
            c->cur = xcalloc(1, sizeof(*c->cur));
        reject(c, 400, "truncated HTTP request");
        return;
    }
    signal_close(c);
}

static void finish(minik_http_request_t *r, int status)
{
    minik_http_conn_t *c = r->conn;
    if (!c) {
        minik_http_request_free(r);
        return;
    }
    bool keep = r->keep_alive && !c->closing && !c->body_open;
    c->body_to = NULL; /* body bytes still to come are dropped, then the connection closes */
    c->active = NULL;
    if (keep)
        c->phase = MINIK_HTTP_IDLE;
    /* After the state change, so the transport sees the connection idle (timers). */
    if (c->cb->on_response)
        c->cb->on_response(c, r, status, c->ud);
    minik_http_request_free(r);
    if (!keep) {
        signal_close(c);
        return;
    }
    process(c);
}

void minik_http_respond(minik_http_request_t *r, int status, const char *content_type,
                        const char *body, size_t len, const char *extra_headers)
{
    minik_http_conn_t *c = r->conn;
    if (c) {
        cleanup_buf minik_buf_t out = MINIK_BUF_INIT;
        /* A streamed body that has not ended cannot be skipped reliably: close after. */
        bool keep = r->keep_alive && !c->closing && !(c->body_open && c->body_to == r);
        r->keep_alive = keep;
        write_response_head(c, &out, status, content_type, keep);
        if (extra_headers)
            minik_buf_append_str(&out, extra_headers);
        minik_buf_appendf(&out, "Content-Length: %zu\r\n\r\n", len);
        if (!r->head && len)
            minik_buf_append(&out, body, len);
        c->cb->write(c, out.data, out.len, c->ud);
    }
    finish(r, status);
}

void minik_http_respond_status(minik_http_request_t *r, int code, const char *message)
{
    char *body = minik_status_json(code, message);
    minik_http_respond(r, code, "application/json", body, strlen(body), NULL);
    free(body);
}

bool minik_http_stream_start(minik_http_request_t *r, int status, const char *content_type)
{
    minik_http_conn_t *c = r->conn;
    if (!c)
        return false;
    r->streaming = true;
    cleanup_buf minik_buf_t out = MINIK_BUF_INIT;
    write_response_head(c, &out, status, content_type, r->keep_alive);
    minik_buf_append_str(&out, "Transfer-Encoding: chunked\r\n\r\n");
    c->cb->write(c, out.data, out.len, c->ud);
    return true;
}

bool minik_http_stream_chunk(minik_http_request_t *r, const char *data, size_t len)
{
    minik_http_conn_t *c = r->conn;
    if (!c || c->close_signalled)
        return false;
    if (len == 0)
        return true; /* an empty chunk would end the stream */
    cleanup_buf minik_buf_t out = MINIK_BUF_INIT;
    minik_buf_appendf(&out, "%zx\r\n", len);
    minik_buf_append(&out, data, len);
    minik_buf_append_str(&out, "\r\n");
    c->cb->write(c, out.data, out.len, c->ud);
    return true;
}

void minik_http_stream_end(minik_http_request_t *r)
{
    minik_http_conn_t *c = r->conn;
    if (c && !c->close_signalled)
        c->cb->write(c, "0\r\n\r\n", 5, c->ud);
    finish(r, 200);
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

char *minik_http_unescape(const char *in, size_t len, bool plus_is_space)
{
    char *out = xmalloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = in[i];
        if (ch == '%') {
            if (i + 2 >= len) {
                free(out);
                return NULL;
            }
            int hi = hexval(in[i + 1]), lo = hexval(in[i + 2]);
            if (hi < 0 || lo < 0) {
                free(out);
                return NULL;
            }
            ch = (char)(hi * 16 + lo);
            i += 2;
        } else if (ch == '+' && plus_is_space) {
            ch = ' ';
        }
        if (ch == '\0') {
            free(out);
            return NULL;
        }
        out[o++] = ch;
    }
    out[o] = '\0';
    return out;
}

char *minik_http_query_param(const char *query, const char *key, bool *bad)
{
    size_t klen = strlen(key);
    const char *p = query;
    while (p && *p) {
        const char *end = strchr(p, '&');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        size_t namelen = eq ? (size_t)(eq - p) : n;
        if (namelen == klen && memcmp(p, key, klen) == 0) {
            if (!eq)
                return xstrdup("");
            char *v = minik_http_unescape(eq + 1, n - namelen - 1, true);
            if (!v && bad)
                *bad = true;
            return v;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}
