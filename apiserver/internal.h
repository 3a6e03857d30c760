/* What the apiserver's files share; not a public interface. */
#ifndef MINIK_APISERVER_INTERNAL_H
#define MINIK_APISERVER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include "lib/lazy_openssl.h"
#include <uv.h>

#include "apiserver/apiserver.h"
#include "apiserver/netalloc.h"
#include "apiserver/auth.h"
#include "apiserver/http_conn.h"
#include "apiserver/http_server.h"
#include "apiserver/metrics.h"
#include "apiserver/router.h"
#include "lib/buf.h"
#include "proto/selector.h"
#include "store/store.h"

typedef struct api_watch api_watch_t;
typedef struct api_proxy api_proxy_t;
struct api_agent;
struct minik_client_uv;

struct minik_apiserver {
    uv_loop_t *loop;
    minik_store_t *store;
    minik_auth_t *auth;
    minik_http_server_t *http;
    SSL_CTX *tls;
    /* The cluster CA as served at /cacerts and hashed into join tokens ("K10<sha256>::");
     * NULL with --insecure-http. */
    char *ca_pem;
    size_t ca_pem_len;
    char ca_hash[65];
    minik_metrics_t *metrics;
    minik_netalloc_t *netalloc; /* pod CIDRs, ClusterIPs, NodePorts */
    api_watch_t *watches;       /* open watch streams (doubly linked) */
    size_t n_watches;
    char *data_dir;
    char *server_url; /* what admin.conf points at */
    /* The last change feed event, encoded as a watch line (shared by all watchers). */
    minik_buf_t event_cache;
    int64_t event_cache_rv;
    int event_cache_type;
    bool shutting_down;
    /* Node heartbeats: kept in memory only, handed to the node lifecycle when wired. */
    void (*heartbeat_fn)(const char *node, void *ud);
    void *heartbeat_ud;
    uint64_t heartbeats;
    /* Node agents' endpoints and secrets, from their heartbeats (proxy.c); never stored. */
    struct api_agent *agents;
    api_proxy_t *proxies;        /* requests relayed to agents (doubly linked) */
    struct minik_client_uv *cuv; /* curl multi for the relays, made on first use */
    bool store_closing;
    void (*done)(void *ud);
    void *done_ud;
};

/* One API request being served; freed when it is answered. */
typedef struct api_call {
    minik_apiserver_t *srv;
    minik_http_request_t *req;
    minik_route_t route;
    minik_identity_t id;
    const char *verb;       /* get list watch create update patch delete */
    bool pod_on_node_check; /* node token: the pod addressed must be bound to it */
    cJSON *body;            /* parsed request body (create/update/patch) */
    int attempts;           /* update retries after a conflict */
    bool orphan;            /* DELETE propagationPolicy=Orphan */
    bool dry_run;           /* ?dryRun=All: admit and answer, store nothing */
    char *precondition_rv;  /* DELETE preconditions.resourceVersion */
} api_call_t;

/* Answer and free the call. */
void minik_api_respond_json(api_call_t *c, int code, const cJSON *obj);
void minik_api_respond_error(api_call_t *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Answer with err (err->code, 500 when unset) and free both. */
void minik_api_respond_err(api_call_t *c, minik_error_t *err);
void minik_api_call_free(api_call_t *c);

/* labelSelector / fieldSelector of a list or watch. */
typedef struct minik_api_filter {
    minik_selector_t *labels;
    minik_field_selector_t *fields;
} minik_api_filter_t;

/* Parse the selectors of `query` into *f (zeroed by the caller; clear it even on
 * failure). Errors carry code 400. */
int minik_api_filter_parse(const char *query, minik_api_filter_t *f, minik_error_t **err);
/* A minik_store_filter_fn over a minik_api_filter_t. */
bool minik_api_filter_match(const cJSON *obj, void *f);
void minik_api_filter_clear(minik_api_filter_t *f);
/* The first equality of the field selector (path and value, borrowed from f), which the
 * store can test before parsing objects; both NULL if there is none. */
void minik_api_filter_pin(const minik_api_filter_t *f, const char **path, const char **value);
/* Parse a request body as JSON (400 for bad UTF-8/JSON, too deep, or not an object when
 * want_object). */
int minik_api_parse_body(const minik_http_request_t *req, bool want_object, cJSON **out,
                         minik_error_t **err);

/* handlers.c */
void minik_api_on_request(minik_http_request_t *req, void *ud);
void minik_api_on_response(minik_http_request_t *req, int status, void *ud);
/* Delete what `deleted` owned (ownerReferences), or orphan it; for a Namespace, delete
 * everything inside it. Runs in the background. */
void minik_api_cascade(minik_apiserver_t *srv, const cJSON *deleted, bool orphan);

/* watch.c */
void minik_api_watch(api_call_t *c);
/* End every watch stream (shutdown). */
void minik_api_watch_end_all(minik_apiserver_t *srv);

/* proxy.c: pods/log, pods/exec and nodes/proxy relayed to node agents. */
void minik_api_proxy(api_call_t *c);
/* Remember the endpoint/secret in a heartbeat body from `node` (already authorised). */
void minik_api_agent_note(minik_apiserver_t *srv, const char *node, const cJSON *hb);
void minik_api_agents_free(minik_apiserver_t *srv);
/* End every relay (shutdown). */
void minik_api_proxy_end_all(minik_apiserver_t *srv);
/* minik_http_server_options_t.stream_body: exec requests stream their body. */
bool minik_api_stream_body(const minik_http_request_t *req, void *ud);

/* discovery.c */
void minik_api_discovery(api_call_t *c);
void minik_api_version(api_call_t *c);

/* admission.c: metadata checks + proto validation and defaulting of an object about to
 * be written. Returns < 0 with err->code 400/422 (causes in *causes for 422). */
int minik_api_admit(api_call_t *c, cJSON *obj, bool status_only, cJSON **causes,
                    minik_error_t **err);

/* Object helpers. */
const char *minik_obj_str(const cJSON *obj, const char *section, const char *key);
cJSON *minik_obj_metadata(cJSON *obj); /* creating it if missing */

#endif
