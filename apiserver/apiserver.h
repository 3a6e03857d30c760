/* The minik API server: Kubernetes-style REST over HTTP/1.1 (TLS by default), backed by
 * the store, on one libuv loop. See docs/api.md for routes, auth, TLS, limits, errors.
 *
 * On first start it creates, under data_dir: state.db (the store), tls/ (CA and server
 * certificate), the "default" namespace, an admin token and admin.conf (0600), a
 * kubeconfig that minik and stock kubectl can use. */
#ifndef MINIK_APISERVER_APISERVER_H
#define MINIK_APISERVER_APISERVER_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "lib/error.h"

typedef struct minik_apiserver minik_apiserver_t;

typedef struct minik_apiserver_options {
    const char *data_dir;
    const char *host;      /* numeric listen address */
    int port;              /* 0 picks a free port */
    bool insecure_http;    /* plain HTTP; refused unless host is loopback */
    char *const *tls_sans; /* extra certificate names, NULL-terminated (may be NULL) */
    uint64_t idle_ms, header_ms, body_ms; /* 0 = defaults (60 s, 10 s, 30 s) */
    int64_t event_retention;              /* change-feed events kept; 0 = store default */
} minik_apiserver_options_t;

/* Open the store, prepare auth/TLS material and start listening on `loop`. */
int minik_apiserver_start(uv_loop_t *loop, const minik_apiserver_options_t *opts,
                          minik_apiserver_t **out, minik_error_t **err);

/* The store the server opened, for components on the same loop (controllers, scheduler).
 * Valid until minik_apiserver_shutdown; stop using it before calling that. */
struct minik_store;
struct minik_store *minik_apiserver_store(minik_apiserver_t *s);

/* The port listened on and the URL clients should use. */
int minik_apiserver_port(const minik_apiserver_t *s);
const char *minik_apiserver_url(const minik_apiserver_t *s);

/* Graceful stop: refuse new connections, end watch streams, let requests in flight
 * (including their store writes) finish, close the store; then free everything and
 * call done(ud). */
void minik_apiserver_shutdown(minik_apiserver_t *s, void (*done)(void *ud), void *ud);

/* Hand node heartbeats (POST /apis/minik.io/v1/nodes/NAME/heartbeat) to fn, on the loop:
 * the node lifecycle's minik_nodes_heartbeat, in memory. NULL fn only counts them. */
void minik_apiserver_set_heartbeat_fn(minik_apiserver_t *s, void (*fn)(const char *node, void *ud),
                                      void *ud);

/* The names the serving certificate needs beyond hostname/localhost/loopback: the
 * --tls-san extras, the listen address, and for a wildcard listen address (0.0.0.0, ::)
 * every address of this machine except link-local ones, so agents elsewhere can verify
 * the server by IP, as k3s does. NULL-terminated; free with minik_strv_free. */
char **minik_apiserver_cert_names(const minik_apiserver_options_t *opts);

/* Is `host` a loopback address (127.0.0.0/8, ::1)? */
bool minik_apiserver_is_loopback(const char *host);

#endif
