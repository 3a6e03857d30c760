/* Watches on an event loop: curl's multi interface driven by libuv (the pattern of curl's
 * docs/examples/multi-uv.c), so a process with one libuv loop — the node agent — can keep
 * several watch streams open without a thread and without blocking its loop.
 *
 *     minik_client_uv_t *u;  minik_client_uv_new(loop, &u, &err);
 *     minik_client_uv_watch_t *w = minik_client_uv_watch(u, client,
 *         "/api/v1/pods?watch=1&fieldSelector=spec.nodeName%3Dn1", on_event, on_done, ud);
 *     ...
 *     minik_client_uv_watch_cancel(w);     // on_done(…, MINIK_WATCH_CANCELLED) follows
 *     minik_client_uv_request(u, client, "PUT", path, NULL, status, on_reply, ud);
 *     minik_client_uv_close(u, closed, ud); // after the loop closed every handle
 *
 * Everything runs on the loop thread: event and done callbacks are called from inside the
 * loop and must not block. */
#ifndef MINIK_PROTO_CLIENT_UV_H
#define MINIK_PROTO_CLIENT_UV_H

#include <uv.h>

#include "lib/error.h"
#include "proto/client.h"

typedef struct minik_client_uv minik_client_uv_t;
typedef struct minik_client_uv_watch minik_client_uv_watch_t;

typedef enum minik_watch_end {
    MINIK_WATCH_ENDED = 0,     /* the server closed the stream cleanly (re-list, re-watch) */
    MINIK_WATCH_STOPPED = 1,   /* the event callback returned > 0 */
    MINIK_WATCH_CANCELLED = 2, /* minik_client_uv_watch_cancel() */
    MINIK_WATCH_FAILED = -1,   /* transport error, HTTP error (err->code), bad event */
} minik_watch_end_t;

/* Called once when a watch is over; err is set only for MINIK_WATCH_FAILED and is borrowed.
 * The watch handle is freed right after this returns. */
typedef void (*minik_watch_done_fn)(minik_watch_end_t how, const minik_error_t *err, void *ud);

/* A curl multi handle bound to `loop` (borrowed; must outlive the driver). */
int minik_client_uv_new(uv_loop_t *loop, minik_client_uv_t **out, minik_error_t **err);

/* Cancel the remaining watches (their done callbacks run with MINIK_WATCH_CANCELLED),
 * close the libuv handles, then free the driver and call done(ud) from a close callback. */
void minik_client_uv_close(minik_client_uv_t *u, void (*done)(void *ud), void *ud);

/* Start watching `path` (must carry watch=1) with c's URL, TLS and token. c must outlive
 * the watch. Events are delivered one at a time to on_event (see minik_watch_event_fn);
 * on_done is called exactly once at the end. Returns NULL only if curl cannot allocate
 * (then nothing is called). */
minik_client_uv_watch_t *minik_client_uv_watch(minik_client_uv_t *u, minik_client_t *c,
                                               const char *path, minik_watch_event_fn on_event,
                                               minik_watch_done_fn on_done, void *ud);

/* Stop a watch; its done callback runs (MINIK_WATCH_CANCELLED) before this returns. */
void minik_client_uv_watch_cancel(minik_client_uv_watch_t *w);

/* Number of watches and requests in progress (requests waiting their turn included). */
size_t minik_client_uv_active(const minik_client_uv_t *u);
/* Requests started and not finished (at most 64 plus urgent ones). */
size_t minik_client_uv_in_flight(const minik_client_uv_t *u);

/* Called once with the outcome of an asynchronous request. On a 2xx reply err is NULL and
 * reply is the parsed body (borrowed for the call; NULL for an empty body). Otherwise err
 * (borrowed) says why: err->code is the HTTP status with the server's Status message, or 0
 * for a transport failure ("cannot reach the minik server at URL: ...") or a driver closed
 * while the request was in flight. */
typedef void (*minik_client_uv_reply_fn)(const cJSON *reply, const minik_error_t *err, void *ud);

/* Send method path with an optional JSON body (borrowed; serialised now) as content_type
 * (default application/json) on the loop, within the client's request timeout. on_reply is
 * called exactly once, from the loop — never from inside this call. Returns < 0 (nothing
 * will be called) only if the transfer cannot be started. */
int minik_client_uv_request(minik_client_uv_t *u, minik_client_t *c, const char *method,
                            const char *path, const char *content_type, const cJSON *body,
                            minik_client_uv_reply_fn on_reply, void *ud, minik_error_t **err);
/* At most 64 requests are in flight per driver; the rest wait their turn in order (and
 * their timeout starts when they do). An urgent request (a heartbeat) starts at once. */
int minik_client_uv_request_urgent(minik_client_uv_t *u, minik_client_t *c, const char *method,
                                   const char *path, const char *content_type, const cJSON *body,
                                   minik_client_uv_reply_fn on_reply, void *ud,
                                   minik_error_t **err);

/* ---- caller-configured transfers (the API server's proxy to node agents) -------------- */

typedef struct minik_client_uv_watch minik_client_uv_xfer_t;

/* Called once when a transfer added with minik_client_uv_add ends by itself (not when
 * cancelled); `easy` is still valid for curl_easy_getinfo and is cleaned up right after. */
typedef void (*minik_client_uv_xfer_done_fn)(void *easy, int curl_code, void *ud);

/* Drive `easy` (a CURL *, set up by the caller with its own URL, callbacks and headers;
 * ownership passes to the driver, which sets CURLOPT_PRIVATE) on the loop. The caller's
 * callbacks run on the loop thread. Returns NULL (easy cleaned up, nothing called) if
 * curl refuses the handle. */
minik_client_uv_xfer_t *minik_client_uv_add(minik_client_uv_t *u, void *easy,
                                            minik_client_uv_xfer_done_fn done, void *ud);

/* Abort a transfer from minik_client_uv_add: its done callback is not called and the
 * easy handle is cleaned up. Not from inside one of that transfer's own curl callbacks
 * (return an error from the callback instead). */
void minik_client_uv_cancel(minik_client_uv_xfer_t *x);

/* Resume a transfer whose read or write callback returned CURL_READFUNC_PAUSE /
 * CURL_WRITEFUNC_PAUSE. */
void minik_client_uv_unpause(minik_client_uv_xfer_t *x);

#endif
