/* One HTTP/1.1 server connection as a byte-level state machine, independent of sockets.
 *
 * Bytes read from the peer go in with minik_http_conn_feed(); complete requests come out
 * through the `on_request` callback one at a time (pipelined requests wait until the
 * previous response is finished); response bytes go out through `write`. The transport
 * (plain TCP or TLS, see http_server.c) and the fuzz target both drive it this way.
 *
 * Limits (checked while parsing, answered with a Status body and the connection closed):
 *   request line + headers > MINIK_HTTP_MAX_HEADER_BYTES -> 431
 *   body > MINIK_HTTP_MAX_BODY_BYTES (declared or received) -> 413
 *   anything the nodejs http-parser rejects -> 400 */
#ifndef MINIK_APISERVER_HTTP_CONN_H
#define MINIK_APISERVER_HTTP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>

#include "lib/buf.h"

#define MINIK_HTTP_MAX_HEADER_BYTES (16 * 1024)
#define MINIK_HTTP_MAX_BODY_BYTES   (3 * 1024 * 1024)
#define MINIK_HTTP_MAX_HEADERS      100

typedef struct minik_http_conn minik_http_conn_t;

typedef struct minik_http_header {
    char *name; /* lower-cased */
    char *value;
} minik_http_header_t;

typedef struct minik_http_request {
    minik_http_conn_t *conn; /* NULL once the connection is gone (async handlers check) */
    const char *method;      /* "GET", ... (static string) */
    char *url;               /* raw request target */
    char *path;              /* url up to '?', still percent-encoded */
    char *query;             /* after '?', or "" */
    minik_http_header_t headers[MINIK_HTTP_MAX_HEADERS];
    size_t n_headers;
    minik_buf_t body;
    bool keep_alive;
    bool head; /* HEAD: answer like GET without a body */
    bool streaming;
    uint64_t start_ns; /* when the request was dispatched (for latency metrics) */
    void *user;        /* handler-owned slot */
    /* Labels for metrics (static strings set by the handler; NULL = "unknown"). */
    const char *metric_verb;
    const char *metric_resource;
    /* Set by a handler that answers later (store write, watch): called instead of freeing
     * when the connection goes away while this request is active. The handler must stop
     * using the connection and release `r` with minik_http_request_free (now or later). */
    void (*on_abort)(struct minik_http_request *r);
    /* Body streaming (see minik_http_callbacks_t.stream_body): the request was dispatched
     * when its headers were complete and its body arrives through on_body, set by the
     * handler in on_request: each piece as it is parsed, then (NULL, 0) at the end of the
     * body. Pieces that arrive before on_body is set are kept in `body`. */
    bool body_streamed;
    bool body_done; /* the whole body has been received */
    void (*on_body)(struct minik_http_request *r, const char *data, size_t len);
} minik_http_request_t;

typedef enum minik_http_phase {
    MINIK_HTTP_IDLE,    /* waiting for the first byte of a request */
    MINIK_HTTP_HEADERS, /* inside the request line / headers */
    MINIK_HTTP_BODY,    /* headers done, reading the body */
    MINIK_HTTP_ACTIVE,  /* a request is being answered (maybe a long watch) */
    MINIK_HTTP_CLOSING, /* no more requests; close after the pending output */
} minik_http_phase_t;

typedef struct minik_http_callbacks {
    /* Send bytes to the peer (copied or consumed before returning). */
    void (*write)(minik_http_conn_t *c, const char *data, size_t len, void *ud);
    /* A complete request; answer it now or later with minik_http_respond/stream_*. */
    void (*on_request)(minik_http_conn_t *c, minik_http_request_t *req, void *ud);
    /* The connection wants to be closed once `write`s so far are flushed. */
    void (*on_close)(minik_http_conn_t *c, void *ud);
    /* Called when a response finished or was aborted (for logging/metrics); may be NULL. */
    void (*on_response)(minik_http_conn_t *c, minik_http_request_t *req, int status, void *ud);
    /* May be NULL. Asked when a request's headers are complete: true dispatches it at once
     * and streams its body (exec stdin) instead of collecting it first, without the body
     * size limit. A response that ends before the body does closes the connection. */
    bool (*stream_body)(minik_http_conn_t *c, const minik_http_request_t *req, void *ud);
} minik_http_callbacks_t;

/* A new connection state machine; `cb` is borrowed and must outlive it. */
minik_http_conn_t *minik_http_conn_new(const minik_http_callbacks_t *cb, void *ud);
/* Free the state machine. A request still being answered is detached (req->conn = NULL)
 * and must then be released by its owner with minik_http_request_free. NULL is a no-op. */
void minik_http_conn_free(minik_http_conn_t *c);

/* Feed bytes from the peer. May call on_request / write / on_close synchronously. */
void minik_http_conn_feed(minik_http_conn_t *c, const char *data, size_t len);
/* The peer closed its side: a partial request is answered 400 (if nothing else is
 * pending), then on_close. */
void minik_http_conn_eof(minik_http_conn_t *c);

minik_http_phase_t minik_http_conn_phase(const minik_http_conn_t *c);
/* Stop reading requests and close as soon as the active response (if any) ends. */
void minik_http_conn_close(minik_http_conn_t *c);

/* Abandon whatever request is being read: answer `status` with a Status body (e.g. 408
 * when a client is too slow) and close. Only when no request is active. */
void minik_http_conn_reject(minik_http_conn_t *c, int status, const char *message);

/* Value of header `name` (lower-case) or NULL. */
const char *minik_http_request_header(const minik_http_request_t *r, const char *name);

/* Answer `r` with a complete response and a Content-Length. Ends the request: `r` is
 * freed (or, if the connection is gone, freed as well) and must not be used afterwards.
 * `extra_headers` (may be NULL) are complete "Name: value\r\n" lines. */
void minik_http_respond(minik_http_request_t *r, int status, const char *content_type,
                        const char *body, size_t len, const char *extra_headers);
/* minik_http_respond with a Status JSON body built from code and message. */
void minik_http_respond_status(minik_http_request_t *r, int code, const char *message);

/* Start a chunked response (watch). Returns false if the connection is gone. */
bool minik_http_stream_start(minik_http_request_t *r, int status, const char *content_type);
/* Send one chunk (len > 0). Returns false if the connection is gone. */
bool minik_http_stream_chunk(minik_http_request_t *r, const char *data, size_t len);
/* Finish the chunked response and free `r` (as minik_http_respond). */
void minik_http_stream_end(minik_http_request_t *r);

/* Release a request whose connection is gone (req->conn == NULL). */
void minik_http_request_free(minik_http_request_t *r);

/* Percent-decode `in` (len bytes) into a new string. Fails (returns NULL) on a bad escape
 * or a decoded NUL, so "%00" can never truncate a name. `plus_is_space` for queries. */
char *minik_http_unescape(const char *in, size_t len, bool plus_is_space);

/* The value of query parameter `key` (decoded; caller frees) or NULL if absent.
 * *bad is set when the value has a malformed escape. */
char *minik_http_query_param(const char *query, const char *key, bool *bad);

#endif
