/* The libuv TCP listener that carries http_conn state machines, optionally through TLS.
 *
 * Timeouts (slowloris protection): a connection waiting for a request is closed after
 * idle_ms; a request whose line+headers are not complete header_ms after its first byte
 * (or a TLS handshake not done by then) gets 408 and is closed, however slowly the bytes
 * dribble in; a body not complete body_ms after its headers likewise. Active requests
 * (a long watch) have no deadline. A peer that does not read its responses (write queue
 * above 64 MiB) is disconnected. */
#ifndef MINIK_APISERVER_HTTP_SERVER_H
#define MINIK_APISERVER_HTTP_SERVER_H

#include <openssl/ssl.h>
#include <uv.h>

#include "apiserver/http_conn.h"
#include "lib/error.h"

typedef struct minik_http_server minik_http_server_t;

typedef struct minik_http_server_options {
    const char *host; /* numeric IPv4/IPv6 address */
    int port;
    SSL_CTX *tls;       /* borrowed; NULL serves plain HTTP */
    uint64_t idle_ms;   /* default 60000 */
    uint64_t header_ms; /* default 10000 */
    uint64_t body_ms;   /* default 30000 */
    /* The application: answer req with minik_http_respond / stream_* (now or later). */
    void (*on_request)(minik_http_request_t *req, void *ud);
    /* Completed responses (metrics); may be NULL. */
    void (*on_response)(minik_http_request_t *req, int status, void *ud);
    /* May be NULL: whether to dispatch req at its headers and stream its body (see
     * minik_http_callbacks_t.stream_body). */
    bool (*stream_body)(const minik_http_request_t *req, void *ud);
    void *ud;
} minik_http_server_options_t;

/* Bind and listen. opts is copied. The server is owned by the caller and lives on `loop`. */
int minik_http_server_start(uv_loop_t *loop, const minik_http_server_options_t *opts,
                            minik_http_server_t **out, minik_error_t **err);

/* The port actually bound (useful with port 0). */
int minik_http_server_port(const minik_http_server_t *s);

/* Stop accepting, close idle connections, let active requests finish (the application
 * ends its watches), then call `done(ud)` once every connection is closed. The server
 * is freed by that point; do not use it afterwards. */
void minik_http_server_shutdown(minik_http_server_t *s, void (*done)(void *ud), void *ud);

/* Number of open connections. */
size_t minik_http_server_connections(const minik_http_server_t *s);

#endif
