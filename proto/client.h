/* The minik API client: HTTP(S) to the API server over libcurl.
 *
 * Two ways to use it:
 * - Blocking (the CLI): minik_client_request() / minik_client_json() run one request on a
 *   reused easy handle (keep-alive across the objects of one `apply`).
 * - Streaming watch: minik_watch_decoder_t turns the bytes of a `?watch=1` response into one
 *   parsed event at a time. minik_client_watch() drives it with a blocking transfer; an
 *   event-loop user (the node agent) gets a configured easy handle from
 *   minik_client_watch_easy() and adds it to its own curl multi handle driven by libuv
 *   (curl's docs/examples/multi-uv.c pattern), feeding the same decoder.
 *
 * Errors: a transport failure (refused, DNS, timeout, TLS verification) returns < 0 with
 * err->code 0 and a message naming the server URL. An HTTP status >= 400 from
 * minik_client_json() returns < 0 with err->code = the HTTP status and err->msg = the
 * server's Status message (or the raw body when it is not a Status). */
#ifndef MINIK_PROTO_CLIENT_H
#define MINIK_PROTO_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "lib/error.h"

typedef struct minik_client_config {
    char *server;      /* "https://127.0.0.1:6443" or "http://..." (no trailing slash) */
    char *ca_pem;      /* CA bundle (PEM) to verify the server with; NULL: system store */
    size_t ca_pem_len; /* bytes in ca_pem */
    char *token;       /* bearer token; NULL: no Authorization header */
    char *namespace;   /* the context's namespace; NULL: "default" */
    char *source;      /* where the config came from (for messages); may be NULL */
    bool insecure_skip_tls_verify;
    long timeout_ms; /* whole-request timeout for non-watch requests; 0: 60 s */
} minik_client_config_t;

/* Free the strings of a config (not the struct); safe on a zeroed struct. */
void minik_client_config_clear(minik_client_config_t *cfg);

typedef struct minik_client minik_client_t;

/* Make a client for cfg. The client copies what it needs; cfg stays the caller's. */
int minik_client_new(const minik_client_config_t *cfg, minik_client_t **out, minik_error_t **err);
void minik_client_free(minik_client_t *c);
const char *minik_client_server(const minik_client_t *c);
void minik_cleanup_clientp(minik_client_t **c);
#define cleanup_client __attribute__((cleanup(minik_cleanup_clientp)))

typedef struct minik_client_response {
    long status; /* HTTP status */
    char *body;  /* NUL-terminated; owned (minik_client_response_clear) */
    size_t body_len;
    char *content_type; /* may be NULL */
} minik_client_response_t;

void minik_client_response_clear(minik_client_response_t *r);

/* Run one request. `path` starts with '/' and may carry a query string. body may be NULL
 * (no body); content_type applies to the body. Returns 0 with resp filled for ANY HTTP
 * status; < 0 only when no HTTP response was obtained. */
int minik_client_request(minik_client_t *c, const char *method, const char *path,
                         const char *content_type, const char *body, size_t body_len,
                         minik_client_response_t *resp, minik_error_t **err);

/* A request with an optional JSON body (sent as content_type, default application/json),
 * expecting a JSON reply. On 2xx stores the parsed reply in *out (if out is not NULL;
 * an empty body gives NULL). On >= 400 fails with err->code = status and the Status
 * message. */
int minik_client_json(minik_client_t *c, const char *method, const char *path,
                      const char *content_type, const cJSON *body, cJSON **out,
                      minik_error_t **err);

/* The message a server error response carries: Status.message when the body is a Status
 * object, else the trimmed body, else "HTTP <status>". The caller owns the result. */
char *minik_client_status_message(long status, const char *body, size_t len);

/* A curl easy handle (CURL *) for a long streaming request the caller drives itself (logs
 * -f, exec with stdin): the client's URL + path and TLS settings, no overall timeout.
 * *headers receives a new list with the client's Authorization header (append more, set
 * CURLOPT_HTTPHEADER, free with curl_slist_free_all after the transfer). NULL if curl
 * cannot allocate. */
void *minik_client_stream_easy(minik_client_t *c, const char *path, void **headers);

/* ---- paths ----------------------------------------------------------------------------- */

/* Build an API path such as /apis/apps/v1/namespaces/NS/deployments/NAME/scale.
 * api_version is "v1" (core group, /api/v1) or "group/version" (/apis/...). ns is used
 * only when namespaced is true; NULL ns on a namespaced kind means all namespaces. name and
 * subresource may be NULL. query (without '?') may be NULL. Segments are
 * percent-escaped. The caller owns the result. */
char *minik_client_path(const char *api_version, const char *plural, bool namespaced,
                        const char *ns, const char *name, const char *subresource,
                        const char *query);

/* Percent-escape a query parameter value (RFC 3986 unreserved kept). Caller owns it. */
char *minik_client_escape(const char *s);

/* ---- watch ----------------------------------------------------------------------------- */

/* Called once per complete event line. type is "ADDED", "MODIFIED", "DELETED", "BOOKMARK"
 * or "ERROR"; object is borrowed for the duration of the call. Return 0 to continue, any
 * other value to stop the watch (it becomes the feed/watch return value when negative,
 * or stops cleanly when positive). */
typedef int (*minik_watch_event_fn)(const char *type, const cJSON *object, void *userdata);

/* Splits a watch stream into newline-delimited JSON events. Bytes may arrive in arbitrary
 * pieces; a line longer than max_line is an error (a hostile server cannot exhaust
 * memory). */
typedef struct minik_watch_decoder minik_watch_decoder_t;

minik_watch_decoder_t *minik_watch_decoder_new(minik_watch_event_fn cb, void *userdata,
                                               size_t max_line);
void minik_watch_decoder_free(minik_watch_decoder_t *d);
/* Feed bytes. Returns 0 to continue, > 0 when the callback asked to stop, < 0 on a
 * malformed event (err set; a line that is not a JSON object with a string "type" and an
 * object "object", or a line too long) or a negative callback value. */
int minik_watch_decoder_feed(minik_watch_decoder_t *d, const char *data, size_t len,
                             minik_error_t **err);
/* A failure recorded while the decoder was fed from minik_client_watch_easy()'s write
 * callback: moves it to *err and returns -1, or returns 0 when there was none. */
int minik_watch_decoder_take_error(minik_watch_decoder_t *d, minik_error_t **err);
/* The stream ended: a trailing partial line is an error ("truncated watch event"). */
int minik_watch_decoder_finish(minik_watch_decoder_t *d, minik_error_t **err);

/* Blocking watch of `path` (which must carry watch=1). Returns 0 when the server ends the
 * stream or the callback returns > 0; < 0 on transport errors, HTTP errors (err->code =
 * status, Status message), malformed events or a negative callback value. */
int minik_client_watch(minik_client_t *c, const char *path, minik_watch_event_fn cb, void *userdata,
                       minik_error_t **err);

/* Limit later minik_client_watch() calls to timeout_ms in total (0: no limit, the
 * default: watches are long-lived). */
void minik_client_set_watch_timeout(minik_client_t *c, long timeout_ms);

/* For an event loop: a new CURL easy handle (returned as void * so this header does not
 * pull in curl.h) set up for a watch GET of `path` with the client's URL, TLS and token,
 * writing into `decoder`. The caller adds it to its curl multi handle, and frees it with
 * curl_easy_cleanup after removing it. The decoder must outlive the transfer. */
void *minik_client_watch_easy(minik_client_t *c, const char *path, minik_watch_decoder_t *decoder);

#endif
