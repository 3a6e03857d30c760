/* Request dispatch and the REST verbs on objects: get, list, create, update, patch,
 * delete, and the status / scale / binding subresources. Writes go through the store's
 * group-committed async API, so a response is sent only once its write is durable. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "lib/lazy_openssl.h"

#include "apiserver/internal.h"
#include "apiserver/patch.h"
#include "apiserver/status.h"
#include "apiserver/table.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/jointoken.h"

#define MAX_UPDATE_ATTEMPTS 8

/* ---- small helpers --------------------------------------------------------------------- */

const char *minik_obj_str(const cJSON *obj, const char *section, const char *key)
{
    const cJSON *s = section ? cJSON_GetObjectItemCaseSensitive(obj, section) : obj;
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, key));
}

cJSON *minik_obj_metadata(cJSON *obj)
{
    cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    if (!cJSON_IsObject(md)) {
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "metadata");
        md = cJSON_AddObjectToObject(obj, "metadata");
    }
    return md;
}

static void set_str(cJSON *obj, const char *key, const char *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddStringToObject(obj, key, v);
}

void minik_api_call_free(api_call_t *c)
{
    if (!c)
        return;
    minik_route_clear(&c->route);
    cJSON_Delete(c->body);
    free(c->precondition_rv);
    free(c);
}

void minik_api_respond_json(api_call_t *c, int code, const cJSON *obj)
{
    char *s = cJSON_PrintUnformatted(obj);
    minik_http_respond(c->req, code, "application/json", s, strlen(s), NULL);
    free(s);
    minik_api_call_free(c);
}

static void respond_status(api_call_t *c, int code, const char *msg, cJSON *causes)
{
    const char *kind = c->route.res ? c->route.res->name : NULL;
    cJSON *st = minik_status_new(code, NULL, msg, kind, c->route.name, causes);
    minik_api_respond_json(c, code, st);
    cJSON_Delete(st);
}

void minik_api_respond_error(api_call_t *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    respond_status(c, code, msg ? msg : "error", NULL);
    free(msg);
}

void minik_api_respond_err(api_call_t *c, minik_error_t *err)
{
    int code = err && err->code >= 400 && err->code < 600 ? err->code : 500;
    if (code >= 500)
        minik_log_error("request failed", "path", c->req->path, "error", err ? err->msg : "", NULL);
    const char *msg = err ? err->msg : "internal error";
    if (code == 409 && c->verb && strcmp(c->verb, "create") == 0) {
        /* A create can only conflict with an object that already exists. */
        const char *kind = c->route.res ? c->route.res->name : NULL;
        cJSON *st = minik_status_new(409, "AlreadyExists", msg, kind,
                                     minik_obj_str(c->body, "metadata", "name"), NULL);
        minik_api_respond_json(c, 409, st);
        cJSON_Delete(st);
    } else {
        respond_status(c, code, msg, NULL);
    }
    minik_error_free(err);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void minik_api_on_response(minik_http_request_t *req, int status, void *ud)
{
    minik_apiserver_t *srv = ud;
    double secs = req->start_ns ? (double)(now_ns() - req->start_ns) / 1e9 : 0;
    minik_metrics_observe(srv->metrics, req->metric_verb, req->metric_resource, status, secs);
}

/* ---- body decoding ------------------------------------------------------------------- */

/* Maximum nesting of a request body; deeper documents are refused before anything
 * recursive (patching, validation, printing) touches them. */
#define MAX_BODY_DEPTH 64

static bool depth_ok(const cJSON *j, int depth)
{
    if (depth > MAX_BODY_DEPTH)
        return false;
    for (const cJSON *c = j->child; c; c = c->next)
        if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && !depth_ok(c, depth + 1))
            return false;
    return true;
}

/* Parse the request body as JSON. Returns < 0 with err->code 400. */
int minik_api_parse_body(const minik_http_request_t *req, bool want_object, cJSON **out,
                         minik_error_t **err)
{
    const char *data = req->body.data ? req->body.data : "";
    size_t len = req->body.len;
    if (len == 0)
        return minik_error_set_code(err, 400, 0, "request body is empty");
    if (memchr(data, '\0', len) || !minik_str_utf8_valid(data, len))
        return minik_error_set_code(err, 400, 0, "request body is not valid UTF-8 JSON");
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(data, len, &end, false);
    if (!j) {
        size_t off = end ? (size_t)(end - data) : 0;
        return minik_error_set_code(err, 400, 0,
                                    "request body is not valid JSON (error near byte %zu)", off);
    }
    /* Trailing garbage after the document is an error, whitespace is not. */
    for (const char *p = end; p && p < data + len; p++)
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') {
            cJSON_Delete(j);
            return minik_error_set_code(err, 400, 0, "unexpected data after the JSON document");
        }
    if (!depth_ok(j, 1)) {
        cJSON_Delete(j);
        return minik_error_set_code(err, 400, 0, "request body nests deeper than %d levels",
                                    MAX_BODY_DEPTH);
    }
    if (want_object && !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return minik_error_set_code(err, 400, 0, "request body must be a JSON object");
    }
    *out = j;
    return 0;
}

/* ---- GET / list ------------------------------------------------------------------------ */

static bool filter_fn(const cJSON *obj, void *ud)
{
    minik_api_filter_t *f = ud;
    if (f->labels) {
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
        if (!minik_selector_matches(f->labels, cJSON_GetObjectItemCaseSensitive(md, "labels")))
            return false;
    }
    if (f->fields && !minik_field_selector_matches(f->fields, obj))
        return false;
    return true;
}

int minik_api_filter_parse(const char *query, minik_api_filter_t *f, minik_error_t **err)
{
    bool bad = false;
    cleanup_free char *ls = minik_http_query_param(query, "labelSelector", &bad);
    cleanup_free char *fs = minik_http_query_param(query, "fieldSelector", &bad);
    if (bad)
        return minik_error_set_code(err, 400, 0, "malformed percent-encoding in query");
    if (ls && *ls && minik_selector_parse(ls, &f->labels, err) < 0) {
        (*err)->code = 400;
        return -1;
    }
    if (fs && *fs && minik_field_selector_parse(fs, &f->fields, err) < 0) {
        (*err)->code = 400;
        return -1;
    }
    return 0;
}

bool minik_api_filter_match(const cJSON *obj, void *f)
{
    return filter_fn(obj, f);
}

void minik_api_filter_pin(const minik_api_filter_t *f, const char **path, const char **value)
{
    *path = *value = NULL;
    for (size_t i = 0; f->fields && i < f->fields->n_reqs; i++) {
        if (!f->fields->reqs[i].negate) {
            *path = f->fields->reqs[i].path;
            *value = f->fields->reqs[i].value;
            return;
        }
    }
}

void minik_api_filter_clear(minik_api_filter_t *f)
{
    minik_selector_free(f->labels);
    minik_field_selector_free(f->fields);
}

static char *list_kind(const minik_resource_t *r)
{
    return xasprintf("%sList", r->kind);
}

static void handle_list(api_call_t *c)
{
    minik_apiserver_t *srv = c->srv;
    minik_api_filter_t f = {0};
    minik_error_t *err = NULL;
    if (minik_api_filter_parse(c->req->query, &f, &err) < 0) {
        minik_api_filter_clear(&f);
        minik_api_respond_err(c, err);
        return;
    }
    cJSON *items = NULL;
    int64_t rv = 0;
    bool any = f.labels || f.fields;
    const char *pin_path, *pin_value;
    minik_api_filter_pin(&f, &pin_path, &pin_value);
    int r = minik_store_list_pinned(srv->store, c->route.res->kind, c->route.ns, pin_path,
                                    pin_value, any ? filter_fn : NULL, &f, &items, &rv, &err);
    minik_api_filter_clear(&f);
    if (r < 0) {
        minik_api_respond_err(c, err);
        return;
    }
    char rvs_t[32];
    snprintf(rvs_t, sizeof(rvs_t), "%lld", (long long)rv);
    if (minik_api_table_wanted(minik_http_request_header(c->req, "accept"))) {
        cleanup_cjson cJSON *t =
            minik_api_table_new(c->route.res->kind, items, rvs_t, time(NULL), true);
        cJSON_Delete(items);
        minik_api_respond_json(c, 200, t);
        return;
    }
    cleanup_cjson cJSON *list = cJSON_CreateObject();
    cleanup_free char *kind = list_kind(c->route.res);
    cJSON_AddStringToObject(list, "kind", kind);
    cJSON_AddStringToObject(list, "apiVersion", minik_resource_api_version(c->route.res));
    cJSON *md = cJSON_AddObjectToObject(list, "metadata");
    char rvs[32];
    snprintf(rvs, sizeof(rvs), "%lld", (long long)rv);
    cJSON_AddStringToObject(md, "resourceVersion", rvs);
    cJSON_AddItemToObject(list, "items", items);
    minik_api_respond_json(c, 200, list);
}

static bool pod_on_node(const cJSON *pod, const char *node)
{
    const char *n = minik_obj_str(pod, "spec", "nodeName");
    return n && strcmp(n, node) == 0;
}

static int get_current(api_call_t *c, cJSON **out, minik_error_t **err)
{
    int r = minik_store_get(c->srv->store, c->route.res->kind, c->route.ns ? c->route.ns : "",
                            c->route.name, out, err);
    if (r < 0) {
        if ((*err)->code == 404) {
            minik_error_clear(err);
            return minik_error_set_code(err, 404, 0, "%s \"%s\" not found", c->route.res->name,
                                        c->route.name);
        }
        return r;
    }
    if (c->pod_on_node_check && !pod_on_node(*out, c->id.node)) {
        cJSON_Delete(*out);
        *out = NULL;
        return minik_error_set_code(err, 403, 0,
                                    "node \"%s\" may not access pod \"%s\": it is not bound to it",
                                    c->id.node, c->route.name);
    }
    return 0;
}

static cJSON *scale_of(const cJSON *obj);

static void handle_get(api_call_t *c)
{
    cJSON *obj = NULL;
    minik_error_t *err = NULL;
    if (get_current(c, &obj, &err) < 0) {
        minik_api_respond_err(c, err);
        return;
    }
    if (c->route.sub && strcmp(c->route.sub, "scale") == 0) {
        cJSON *sc = scale_of(obj);
        cJSON_Delete(obj);
        obj = sc;
    } else if (!c->route.sub &&
               minik_api_table_wanted(minik_http_request_header(c->req, "accept"))) {
        cJSON *one = cJSON_CreateArray();
        cJSON_AddItemToArray(one, obj);
        obj = minik_api_table_new(
            c->route.res->kind, one,
            minik_obj_str(cJSON_GetArrayItem(one, 0), "metadata", "resourceVersion"), time(NULL),
            true);
        cJSON_Delete(one);
    }
    minik_api_respond_json(c, 200, obj);
    cJSON_Delete(obj);
}

/* ---- writes ------------------------------------------------------------------------------ */

static void write_done(int status, cJSON *result, minik_error_t *err, void *ud)
{
    api_call_t *c = ud;
    if (status < 0) {
        cJSON_Delete(result);
        minik_api_respond_err(c, err);
        return;
    }
    minik_error_free(err);
    int code = strcmp(c->verb, "create") == 0 ? 201 : 200;
    if (c->route.sub && strcmp(c->route.sub, "binding") == 0) {
        /* Kubernetes answers a binding with a Success Status. */
        cJSON *st =
            minik_status_success("pods", c->route.name, minik_obj_str(result, "metadata", "uid"));
        cJSON_AddNumberToObject(st, "code", 201);
        cJSON_Delete(result);
        minik_api_respond_json(c, 201, st);
        cJSON_Delete(st);
        return;
    }
    if (c->route.sub && strcmp(c->route.sub, "scale") == 0) {
        cJSON *sc = scale_of(result);
        cJSON_Delete(result);
        result = sc;
    }
    minik_api_respond_json(c, code, result);
    cJSON_Delete(result);
}

/* Addresses for Nodes (pod CIDR) and Services (ClusterIP, NodePorts), in place; other
 * kinds pass. `cur` is the stored object on an update. */
static int netalloc(api_call_t *c, cJSON *obj, const cJSON *cur, minik_error_t **err)
{
    const char *kind = c->route.res->kind;
    if (c->route.sub)
        return 0; /* status and other subresources never change addresses */
    if (strcmp(kind, "Service") == 0)
        return minik_netalloc_service(c->srv->netalloc, obj, cur, err);
    if (strcmp(kind, "Node") != 0)
        return 0;
    /* A Node keeps its pod CIDR: an agent re-registering without one must not lose it. */
    const cJSON *had =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cur, "spec"), "podCIDR");
    if (cJSON_IsString(had)) {
        cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
        if (!cJSON_IsObject(spec)) {
            cJSON_DeleteItemFromObjectCaseSensitive(obj, "spec");
            spec = cJSON_AddObjectToObject(obj, "spec");
        }
        const char *want = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "podCIDR"));
        if (want && *want && strcmp(want, had->valuestring) != 0)
            return minik_error_set_code(
                err, 422, 0, "spec.podCIDR: Invalid value: \"%s\": field is immutable", want);
        set_str(spec, "podCIDR", had->valuestring);
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "podCIDRs");
        cJSON *list = cJSON_AddArrayToObject(spec, "podCIDRs");
        cJSON_AddItemToArray(list, cJSON_CreateString(had->valuestring));
        return 0;
    }
    return minik_netalloc_node(c->srv->netalloc, obj, err);
}

/* A create that did not land gives its addresses back. */
static void create_done(int status, cJSON *result, minik_error_t *err, void *ud)
{
    api_call_t *c = ud;
    if (status < 0 && c->body)
        minik_netalloc_release(c->srv->netalloc, c->body);
    write_done(status, result, err, ud);
}

static const char *gen_chars = "bcdfghjklmnpqrstvwxz2456789";

static void handle_create(api_call_t *c)
{
    minik_apiserver_t *srv = c->srv;
    minik_error_t *err = NULL;
    cJSON *obj = c->body;
    const minik_resource_t *res = c->route.res;
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "kind"));
    const char *av = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "apiVersion"));
    if ((kind && strcmp(kind, res->kind) != 0) ||
        (av && strcmp(av, minik_resource_api_version(res)) != 0)) {
        minik_api_respond_error(c, 400,
                                "the object's apiVersion/kind %s/%s does not match the "
                                "request path (%s %s)",
                                av ? av : "", kind ? kind : "", minik_resource_api_version(res),
                                res->kind);
        return;
    }
    set_str(obj, "kind", res->kind);
    set_str(obj, "apiVersion", minik_resource_api_version(res));
    cJSON *md = minik_obj_metadata(obj);
    const char *ns = minik_obj_str(obj, "metadata", "namespace");
    if (res->namespaced) {
        if (ns && *ns && strcmp(ns, c->route.ns) != 0) {
            minik_api_respond_error(c, 400,
                                    "the namespace of the provided object (%s) does not match "
                                    "the namespace sent on the request (%s)",
                                    ns, c->route.ns);
            return;
        }
        set_str(md, "namespace", c->route.ns);
        cJSON *nsobj = NULL;
        if (minik_store_get(srv->store, "Namespace", "", c->route.ns, &nsobj, &err) < 0) {
            if (err->code == 404) {
                minik_error_free(err);
                minik_api_respond_error(c, 404, "namespaces \"%s\" not found", c->route.ns);
            } else {
                minik_api_respond_err(c, err);
            }
            return;
        }
        cJSON_Delete(nsobj);
    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(md, "namespace");
    }
    const char *name = minik_obj_str(obj, "metadata", "name");
    const char *gen = minik_obj_str(obj, "metadata", "generateName");
    if ((!name || !*name) && gen && *gen) {
        unsigned char rnd[5];
        if (RAND_bytes(rnd, sizeof(rnd)) != 1)
            abort();
        char suffix[6];
        for (int i = 0; i < 5; i++)
            suffix[i] = gen_chars[rnd[i] % strlen(gen_chars)];
        suffix[5] = '\0';
        cleanup_free char *n = xasprintf("%s%s", gen, suffix);
        set_str(md, "name", n);
    }
    /* The server owns these fields on create. */
    cJSON_DeleteItemFromObjectCaseSensitive(md, "resourceVersion");
    cJSON_DeleteItemFromObjectCaseSensitive(md, "uid");
    cJSON_DeleteItemFromObjectCaseSensitive(md, "creationTimestamp");
    cJSON_DeleteItemFromObjectCaseSensitive(md, "deletionTimestamp");
    cJSON_DeleteItemFromObjectCaseSensitive(md, "generation");
    cJSON_AddNumberToObject(md, "generation", 1);
    if (strcmp(res->kind, "Namespace") == 0 && !cJSON_GetObjectItemCaseSensitive(obj, "status")) {
        cJSON *st = cJSON_AddObjectToObject(obj, "status");
        cJSON_AddStringToObject(st, "phase", "Active");
    }
    /* A node token creating its Node: the name in the body is what it binds to. */
    if (c->id.role == MINIK_ROLE_NODE && strcmp(res->kind, "Node") == 0) {
        const char *nn = minik_obj_str(obj, "metadata", "name");
        if (!nn || (c->id.node[0] && strcmp(nn, c->id.node) != 0)) {
            minik_api_respond_error(c, 403, "a node token may only create its own Node");
            return;
        }
        if (!c->id.node[0] && minik_auth_bind_node(srv->auth, c->id.id, nn, &err) < 0) {
            minik_api_respond_err(c, err);
            return;
        }
    }
    cJSON *causes = NULL;
    if (minik_api_admit(c, obj, false, &causes, &err) < 0) {
        respond_status(c, err->code, err->msg, causes);
        minik_error_free(err);
        return;
    }
    if (c->dry_run) {
        /* Everything a create checks has been checked except a name clash. */
        cJSON *existing = NULL;
        if (minik_store_get(srv->store, res->kind, c->route.ns ? c->route.ns : "",
                            minik_obj_str(obj, "metadata", "name"), &existing, &err) == 0) {
            cJSON_Delete(existing);
            err = NULL;
            minik_error_set_code(&err, 409, 0, "%s \"%s\" already exists", res->name,
                                 minik_obj_str(obj, "metadata", "name"));
            minik_api_respond_err(c, err);
            return;
        }
        minik_error_clear(&err);
        minik_api_respond_json(c, 201, obj);
        return;
    }
    if (netalloc(c, obj, NULL, &err) < 0) {
        respond_status(c, err->code, err->msg, NULL);
        minik_error_free(err);
        return;
    }
    /* Keep the body: a 409 names the object from it. */
    minik_store_submit(srv->store, MINIK_STORE_OP_CREATE, cJSON_Duplicate(obj, 1), create_done, c);
}

/* Build the object to store from the current one. Returns < 0 with err->code. */
typedef int (*mutate_fn)(api_call_t *c, const cJSON *cur, cJSON **out, minik_error_t **err);

static void update_attempt(api_call_t *c);
static mutate_fn call_mutate(api_call_t *c);

static void update_done(int status, cJSON *result, minik_error_t *err, void *ud)
{
    api_call_t *c = ud;
    /* A conflict we caused ourselves (the object changed between our read and our write,
     * and the client gave no resourceVersion) is retried from a fresh read. */
    if (status < 0 && err && err->code == 409 && c->attempts > 0 &&
        c->attempts < MAX_UPDATE_ATTEMPTS && c->req->conn && !c->srv->store_closing) {
        minik_error_free(err);
        cJSON_Delete(result);
        update_attempt(c);
        return;
    }
    write_done(status, result, err, ud);
}

static bool spec_changed(const cJSON *a, const cJSON *b)
{
    const cJSON *sa = cJSON_GetObjectItemCaseSensitive(a, "spec");
    const cJSON *sb = cJSON_GetObjectItemCaseSensitive(b, "spec");
    if (!sa && !sb)
        return false;
    if (!sa || !sb)
        return true;
    return !cJSON_Compare(sa, sb, 1);
}

static void update_attempt(api_call_t *c)
{
    minik_error_t *err = NULL;
    cJSON *cur = NULL;
    if (get_current(c, &cur, &err) < 0) {
        minik_api_respond_err(c, err);
        return;
    }
    cJSON *next = NULL;
    if (call_mutate(c)(c, cur, &next, &err) < 0) {
        cJSON_Delete(cur);
        minik_api_respond_err(c, err);
        return;
    }
    const minik_resource_t *res = c->route.res;
    set_str(next, "kind", res->kind);
    set_str(next, "apiVersion", minik_resource_api_version(res));
    cJSON *md = minik_obj_metadata(next);
    const char *name = minik_obj_str(next, "metadata", "name");
    if (name && strcmp(name, c->route.name) != 0) {
        minik_api_respond_error(c, 400,
                                "the name of the object (%s) does not match the name on the URL "
                                "(%s)",
                                name, c->route.name);
        cJSON_Delete(cur);
        cJSON_Delete(next);
        return;
    }
    set_str(md, "name", c->route.name);
    const char *ns = minik_obj_str(next, "metadata", "namespace");
    if (res->namespaced) {
        if (ns && *ns && strcmp(ns, c->route.ns) != 0) {
            minik_api_respond_error(c, 400,
                                    "the namespace of the object (%s) does not match the "
                                    "namespace on the URL (%s)",
                                    ns, c->route.ns);
            cJSON_Delete(cur);
            cJSON_Delete(next);
            return;
        }
        set_str(md, "namespace", c->route.ns);
    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(md, "namespace");
    }
    /* Optimistic concurrency: a resourceVersion the client sent must match the stored
     * one (the store checks it atomically); without one we pin the version we read and
     * retry on a conflict. */
    const char *cur_rv = minik_obj_str(cur, "metadata", "resourceVersion");
    const char *want_rv = minik_obj_str(next, "metadata", "resourceVersion");
    if (want_rv && *want_rv) {
        c->attempts = 0; /* never retry a client's precondition */
    } else {
        c->attempts++;
        set_str(md, "resourceVersion", cur_rv ? cur_rv : "");
    }
    /* metadata.generation counts spec changes; clients cannot set it. */
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cur, "metadata"), "generation");
    double gen = cJSON_IsNumber(g) ? g->valuedouble : 1;
    if (spec_changed(cur, next))
        gen += 1;
    cJSON_DeleteItemFromObjectCaseSensitive(md, "generation");
    cJSON_AddNumberToObject(md, "generation", gen);
    /* Identity fields come from the stored object. */
    const char *uid = minik_obj_str(cur, "metadata", "uid");
    const char *ts = minik_obj_str(cur, "metadata", "creationTimestamp");
    if (uid)
        set_str(md, "uid", uid);
    if (ts)
        set_str(md, "creationTimestamp", ts);
    cJSON *causes = NULL;
    bool status_only = c->route.sub && strcmp(c->route.sub, "status") == 0;
    if (minik_api_admit(c, next, status_only, &causes, &err) < 0) {
        cJSON_Delete(cur);
        cJSON_Delete(next);
        respond_status(c, err->code, err->msg, causes);
        minik_error_free(err);
        return;
    }
    /* An update that changes nothing is not written, as in Kubernetes: the object keeps
     * its resourceVersion and watchers see no event (re-applying a manifest is free). */
    const char *next_rv = minik_obj_str(next, "metadata", "resourceVersion");
    if (next_rv && cur_rv && strcmp(next_rv, cur_rv) == 0 && cJSON_Compare(cur, next, 1)) {
        cJSON_Delete(next);
        write_done(0, cur, NULL, c);
        return;
    }
    if (c->dry_run) {
        if (next_rv && cur_rv && strcmp(next_rv, cur_rv) != 0) {
            cJSON_Delete(cur);
            cJSON_Delete(next);
            minik_api_respond_error(c, 409,
                                    "the object has been modified; please apply your changes to "
                                    "the latest version and try again");
            return;
        }
        cJSON_Delete(cur);
        write_done(0, next, NULL, c);
        return;
    }
    if (netalloc(c, next, cur, &err) < 0) {
        cJSON_Delete(cur);
        cJSON_Delete(next);
        respond_status(c, err->code, err->msg, NULL);
        minik_error_free(err);
        return;
    }
    cJSON_Delete(cur);
    minik_store_submit(c->srv->store, MINIK_STORE_OP_UPDATE, next, update_done, c);
}

static bool has_status_subresource(const minik_resource_t *r)
{
    return minik_resource_has_subresource(r, "status");
}

/* Replace the status of `dst` by that of `src` (or remove it). */
static void copy_status(cJSON *dst, const cJSON *src)
{
    cJSON_DeleteItemFromObjectCaseSensitive(dst, "status");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(src, "status");
    if (st)
        cJSON_AddItemToObject(dst, "status", cJSON_Duplicate(st, 1));
}

/* The body after applying the request's PATCH to `target`. */
static int apply_patch(api_call_t *c, const cJSON *target, cJSON **out, minik_error_t **err)
{
    const char *ct = minik_http_request_header(c->req, "content-type");
    if (!ct)
        return minik_error_set_code(err, 415, 0, "PATCH needs a Content-Type");
    if (minik_str_has_prefix(ct, "application/json-patch+json"))
        return minik_patch_json(target, c->body, out, err);
    if (minik_str_has_prefix(ct, "application/strategic-merge-patch+json"))
        return minik_patch_strategic(target, c->body, out, err);
    if (minik_str_has_prefix(ct, "application/merge-patch+json")) {
        if (!cJSON_IsObject(c->body))
            return minik_error_set_code(err, 400, 0, "a merge patch must be a JSON object");
        return minik_patch_merge(target, c->body, out, err);
    }
    return minik_error_set_code(err, 415, 0,
                                "unsupported patch type %s (use application/merge-patch+json, "
                                "application/strategic-merge-patch+json or "
                                "application/json-patch+json)",
                                ct);
}

static int mutate_put(api_call_t *c, const cJSON *cur, cJSON **out, minik_error_t **err)
{
    cJSON *next = cJSON_Duplicate(c->body, 1);
    if (has_status_subresource(c->route.res))
        copy_status(next, cur); /* status changes only through /status */
    *out = next;
    return 0;
}

/* Does the PATCH body name metadata.resourceVersion itself? */
static bool patch_sets_rv(const api_call_t *c)
{
    if (cJSON_IsObject(c->body))
        return minik_obj_str(c->body, "metadata", "resourceVersion") != NULL;
    const cJSON *op;
    cJSON_ArrayForEach(op, c->body)
    {
        const char *path = minik_obj_str(op, NULL, "path");
        if (path && strcmp(path, "/metadata/resourceVersion") == 0)
            return true;
    }
    return false;
}

static int mutate_patch(api_call_t *c, const cJSON *cur, cJSON **out, minik_error_t **err)
{
    cJSON *next = NULL;
    int r = apply_patch(c, cur, &next, err);
    if (r < 0)
        return r;
    if (!cJSON_IsObject(next)) {
        cJSON_Delete(next);
        return minik_error_set_code(err, 422, 0, "the patched object is not a JSON object");
    }
    if (has_status_subresource(c->route.res))
        copy_status(next, cur);
    /* A resourceVersion the patch itself sets is a precondition, as in Kubernetes; the one
     * inherited from the object we read is not (update_attempt pins and retries it). */
    if (!patch_sets_rv(c))
        cJSON_DeleteItemFromObjectCaseSensitive(minik_obj_metadata(next), "resourceVersion");
    *out = next;
    return 0;
}

static int mutate_status(api_call_t *c, const cJSON *cur, cJSON **out, minik_error_t **err)
{
    cJSON *src = NULL;
    if (strcmp(c->verb, "patch") == 0) {
        int r = apply_patch(c, cur, &src, err);
        if (r < 0)
            return r;
    } else {
        src = cJSON_Duplicate(c->body, 1);
    }
    cJSON *next = cJSON_Duplicate(cur, 1);
    copy_status(next, src);
    /* A client's resourceVersion (PUT) is kept as the precondition. */
    const char *rv = minik_obj_str(src, "metadata", "resourceVersion");
    cJSON *md = minik_obj_metadata(next);
    cJSON_DeleteItemFromObjectCaseSensitive(md, "resourceVersion");
    if (rv && strcmp(c->verb, "update") == 0)
        cJSON_AddStringToObject(md, "resourceVersion", rv);
    cJSON_Delete(src);
    *out = next;
    return 0;
}

/* autoscaling/v1 Scale view of a Deployment or ReplicaSet. */
static cJSON *scale_of(const cJSON *obj)
{
    cJSON *sc = cJSON_CreateObject();
    cJSON_AddStringToObject(sc, "kind", "Scale");
    cJSON_AddStringToObject(sc, "apiVersion", "autoscaling/v1");
    cJSON *md = cJSON_AddObjectToObject(sc, "metadata");
    static const char *keys[] = {"name", "namespace", "uid", "resourceVersion",
                                 "creationTimestamp"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *v = minik_obj_str(obj, "metadata", keys[i]);
        if (v)
            cJSON_AddStringToObject(md, keys[i], v);
    }
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    const cJSON *rep = cJSON_GetObjectItemCaseSensitive(spec, "replicas");
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(sc, "spec"), "replicas",
                            cJSON_IsNumber(rep) ? rep->valuedouble : 1);
    cJSON *st = cJSON_AddObjectToObject(sc, "status");
    const cJSON *srep = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(obj, "status"), "replicas");
    cJSON_AddNumberToObject(st, "replicas", cJSON_IsNumber(srep) ? srep->valuedouble : 0);
    const cJSON *ml = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(spec, "selector"), "matchLabels");
    if (cJSON_IsObject(ml)) {
        cleanup_buf minik_buf_t sel = MINIK_BUF_INIT;
        for (const cJSON *l = ml->child; l; l = l->next)
            if (cJSON_IsString(l))
                minik_buf_appendf(&sel, "%s%s=%s", sel.len ? "," : "", l->string, l->valuestring);
        cJSON_AddStringToObject(st, "selector", sel.data ? sel.data : "");
    }
    return sc;
}

static int mutate_scale(api_call_t *c, const cJSON *cur, cJSON **out, minik_error_t **err)
{
    cleanup_cjson cJSON *sc = scale_of(cur);
    cleanup_cjson cJSON *want = NULL;
    if (strcmp(c->verb, "patch") == 0) {
        int r = apply_patch(c, sc, &want, err);
        if (r < 0)
            return r;
    } else {
        want = cJSON_Duplicate(c->body, 1);
    }
    const cJSON *rep = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(want, "spec"), "replicas");
    if (!cJSON_IsNumber(rep) || rep->valuedouble < 0 || rep->valuedouble > 1e6 ||
        rep->valuedouble != (double)(int)rep->valuedouble) {
        cJSON *causes = NULL;
        (void)causes;
        return minik_error_set_code(err, 422, 0, "spec.replicas: must be a non-negative integer");
    }
    cJSON *next = cJSON_Duplicate(cur, 1);
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(next, "spec");
    if (!cJSON_IsObject(spec)) {
        cJSON_DeleteItemFromObjectCaseSensitive(next, "spec");
        spec = cJSON_AddObjectToObject(next, "spec");
    }
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "replicas");
    cJSON_AddNumberToObject(spec, "replicas", rep->valuedouble);
    const char *rv = minik_obj_str(want, "metadata", "resourceVersion");
    cJSON *md = minik_obj_metadata(next);
    cJSON_DeleteItemFromObjectCaseSensitive(md, "resourceVersion");
    if (rv && strcmp(c->verb, "update") == 0)
        cJSON_AddStringToObject(md, "resourceVersion", rv);
    *out = next;
    return 0;
}

static int mutate_binding(api_call_t *c, const cJSON *cur, cJSON **out, minik_error_t **err)
{
    const cJSON *target = cJSON_GetObjectItemCaseSensitive(c->body, "target");
    const char *node = minik_obj_str(target, NULL, "name");
    const char *kind = minik_obj_str(target, NULL, "kind");
    if (!node || !*node || (kind && *kind && strcmp(kind, "Node") != 0))
        return minik_error_set_code(err, 422, 0, "target.name: a Binding needs a Node name");
    const char *bound = minik_obj_str(cur, "spec", "nodeName");
    if (bound && *bound)
        return minik_error_set_code(err, 409, 0, "pod %s is already assigned to node \"%s\"",
                                    c->route.name, bound);
    cJSON *next = cJSON_Duplicate(cur, 1);
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(next, "spec");
    if (!cJSON_IsObject(spec)) {
        cJSON_DeleteItemFromObjectCaseSensitive(next, "spec");
        spec = cJSON_AddObjectToObject(next, "spec");
    }
    set_str(spec, "nodeName", node);
    cJSON_DeleteItemFromObjectCaseSensitive(minik_obj_metadata(next), "resourceVersion");
    *out = next;
    return 0;
}

static mutate_fn call_mutate(api_call_t *c)
{
    const char *sub = c->route.sub;
    if (sub && strcmp(sub, "status") == 0)
        return mutate_status;
    if (sub && strcmp(sub, "scale") == 0)
        return mutate_scale;
    if (sub && strcmp(sub, "binding") == 0)
        return mutate_binding;
    return strcmp(c->verb, "patch") == 0 ? mutate_patch : mutate_put;
}

/* ---- delete and cascading ---------------------------------------------------------------- */

typedef struct cascade_ctx {
    minik_apiserver_t *srv;
} cascade_ctx_t;

static void cascade_done(int status, cJSON *result, minik_error_t *err, void *ud)
{
    minik_apiserver_t *srv = ud;
    if (status == 0 && result)
        minik_api_cascade(srv, result, false);
    else if (err && err->code != 404)
        minik_log_warn("cascading delete failed", "error", err->msg, NULL);
    cJSON_Delete(result);
    minik_error_free(err);
}

static bool owned_by(const cJSON *obj, const char *uid)
{
    const cJSON *refs = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "ownerReferences");
    const cJSON *ref;
    cJSON_ArrayForEach(ref, refs)
    {
        const char *u = minik_obj_str(ref, NULL, "uid");
        if (u && strcmp(u, uid) == 0)
            return true;
    }
    return false;
}

static bool owned_filter(const cJSON *obj, void *ud)
{
    return owned_by(obj, ud);
}

void minik_api_cascade(minik_apiserver_t *srv, const cJSON *deleted, bool orphan)
{
    if (srv->store_closing)
        return;
    const char *uid = minik_obj_str(deleted, "metadata", "uid");
    const char *kind = minik_obj_str(deleted, NULL, "kind");
    const char *ns = minik_obj_str(deleted, "metadata", "namespace");
    const char *name = minik_obj_str(deleted, "metadata", "name");
    if (!uid || !kind)
        return;
    bool is_ns = strcmp(kind, "Namespace") == 0;
    for (const minik_resource_t *r = minik_resources; r->name; r++) {
        if (!r->namespaced && !is_ns)
            continue;
        if (is_ns && !r->namespaced)
            continue;
        cJSON *items = NULL;
        minik_error_t *err = NULL;
        const char *scope = is_ns ? name : (ns && *ns ? ns : NULL);
        if (minik_store_list(srv->store, r->kind, scope, is_ns ? NULL : owned_filter, (void *)uid,
                             &items, NULL, &err) < 0) {
            minik_log_warn("cascade: list failed", "error", err->msg, NULL);
            minik_error_free(err);
            continue;
        }
        cJSON *it;
        cJSON_ArrayForEach(it, items)
        {
            if (orphan && !is_ns) {
                /* Drop the reference so the dependent outlives its owner. */
                cJSON *obj = cJSON_Duplicate(it, 1);
                cJSON *refs =
                    cJSON_GetObjectItemCaseSensitive(minik_obj_metadata(obj), "ownerReferences");
                for (int i = cJSON_GetArraySize(refs) - 1; i >= 0; i--) {
                    const char *u = minik_obj_str(cJSON_GetArrayItem(refs, i), NULL, "uid");
                    if (u && strcmp(u, uid) == 0)
                        cJSON_DeleteItemFromArray(refs, i);
                }
                if (cJSON_GetArraySize(refs) == 0)
                    cJSON_DeleteItemFromObjectCaseSensitive(minik_obj_metadata(obj),
                                                            "ownerReferences");
                minik_store_submit(srv->store, MINIK_STORE_OP_UPDATE, obj, cascade_done, srv);
                continue;
            }
            cJSON *id = cJSON_CreateObject();
            cJSON_AddStringToObject(id, "kind", r->kind);
            cJSON *md = cJSON_AddObjectToObject(id, "metadata");
            cJSON_AddStringToObject(md, "namespace", minik_obj_str(it, "metadata", "namespace"));
            cJSON_AddStringToObject(md, "name", minik_obj_str(it, "metadata", "name"));
            minik_store_submit(srv->store, MINIK_STORE_OP_DELETE, id, cascade_done, srv);
        }
        cJSON_Delete(items);
    }
}

static void delete_done(int status, cJSON *result, minik_error_t *err, void *ud)
{
    api_call_t *c = ud;
    if (status == 0 && result) {
        minik_api_cascade(c->srv, result, c->orphan);
        minik_netalloc_release(c->srv->netalloc, result);
    }
    write_done(status, result, err, ud);
}

static void handle_delete(api_call_t *c)
{
    bool bad = false;
    cleanup_free char *policy = minik_http_query_param(c->req->query, "propagationPolicy", &bad);
    cleanup_free char *orphan_q = minik_http_query_param(c->req->query, "orphanDependents", &bad);
    const char *p = policy;
    if (c->body) {
        const char *bp = minik_obj_str(c->body, NULL, "propagationPolicy");
        if (bp)
            p = bp;
        const char *prv = minik_obj_str(c->body, "preconditions", "resourceVersion");
        if (prv)
            c->precondition_rv = xstrdup(prv);
        const cJSON *od = cJSON_GetObjectItemCaseSensitive(c->body, "orphanDependents");
        if (cJSON_IsTrue(od))
            c->orphan = true;
    }
    if (p && strcmp(p, "Orphan") != 0 && strcmp(p, "Background") != 0 &&
        strcmp(p, "Foreground") != 0) {
        minik_api_respond_error(c, 400,
                                "propagationPolicy must be Orphan, Background or "
                                "Foreground");
        return;
    }
    if ((p && strcmp(p, "Orphan") == 0) || (orphan_q && strcmp(orphan_q, "true") == 0))
        c->orphan = true;
    if (c->dry_run) {
        cJSON *cur = NULL;
        minik_error_t *err = NULL;
        if (get_current(c, &cur, &err) < 0) {
            minik_api_respond_err(c, err);
            return;
        }
        const char *rv = minik_obj_str(cur, "metadata", "resourceVersion");
        if (c->precondition_rv && (!rv || strcmp(rv, c->precondition_rv) != 0)) {
            cJSON_Delete(cur);
            minik_api_respond_error(c, 409, "precondition failed: resourceVersion %s",
                                    c->precondition_rv);
            return;
        }
        minik_api_respond_json(c, 200, cur);
        cJSON_Delete(cur);
        return;
    }
    cJSON *id = cJSON_CreateObject();
    cJSON_AddStringToObject(id, "kind", c->route.res->kind);
    cJSON *md = cJSON_AddObjectToObject(id, "metadata");
    cJSON_AddStringToObject(md, "namespace", c->route.ns ? c->route.ns : "");
    cJSON_AddStringToObject(md, "name", c->route.name);
    if (c->precondition_rv)
        cJSON_AddStringToObject(md, "resourceVersion", c->precondition_rv);
    minik_store_submit(c->srv->store, MINIK_STORE_OP_DELETE, id, delete_done, c);
}

/* ---- dispatch ------------------------------------------------------------------------------ */

static const char *verb_of(const minik_http_request_t *req, const minik_route_t *route, bool watch)
{
    const char *m = req->method;
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
        return route->name ? "get" : watch ? "watch" : "list";
    if (strcmp(m, "POST") == 0)
        return "create";
    if (strcmp(m, "PUT") == 0)
        return "update";
    if (strcmp(m, "PATCH") == 0)
        return "patch";
    if (strcmp(m, "DELETE") == 0)
        return route->name ? "delete" : "deletecollection";
    return NULL;
}

static bool is_watch(const char *query, bool *bad)
{
    cleanup_free char *w = minik_http_query_param(query, "watch", bad);
    return w && (strcmp(w, "1") == 0 || strcmp(w, "true") == 0);
}

static void handle_metrics(api_call_t *c);

/* /apis/minik.io/v1/tokens, admins only: POST makes a node-join token, shown once (only
 * its hash is kept), optionally with {"ttlSeconds": N, "description": "..."}; GET lists
 * them (never a secret or hash); DELETE .../tokens/{id} revokes one. */
static void handle_tokens(api_call_t *c)
{
    if (c->id.role != MINIK_ROLE_ADMIN) {
        minik_api_respond_error(c, 403, "only admins may manage tokens");
        return;
    }
    minik_error_t *err = NULL;
    const char *m = c->req->method;
    if (strcmp(m, "GET") == 0 && !c->route.name) {
        cleanup_cjson cJSON *items = NULL;
        if (minik_auth_list(c->srv->auth, &items, &err) < 0) {
            minik_api_respond_err(c, err);
            return;
        }
        cleanup_cjson cJSON *out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "apiVersion", "minik.io/v1");
        cJSON_AddStringToObject(out, "kind", "TokenList");
        cJSON_AddItemToObject(out, "items", steal_pointer(&items));
        minik_api_respond_json(c, 200, out);
        return;
    }
    if (strcmp(m, "DELETE") == 0 && c->route.name) {
        if (minik_auth_delete(c->srv->auth, c->route.name, &err) < 0) {
            minik_api_respond_err(c, err);
            return;
        }
        cleanup_cjson cJSON *out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "apiVersion", "v1");
        cJSON_AddStringToObject(out, "kind", "Status");
        cJSON_AddStringToObject(out, "status", "Success");
        minik_api_respond_json(c, 200, out);
        return;
    }
    if (strcmp(m, "POST") != 0 || c->route.name) {
        minik_api_respond_error(c, 405,
                                "tokens: POST creates, GET lists, DELETE .../tokens/ID revokes");
        return;
    }
    int64_t ttl = 0;
    const char *desc = NULL;
    cleanup_cjson cJSON *body = NULL;
    if (c->req->body.len > 0) {
        body = cJSON_ParseWithLength(c->req->body.data, c->req->body.len);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(body, "ttlSeconds");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(body, "description");
        if (!cJSON_IsObject(body) ||
            (t && (!cJSON_IsNumber(t) || t->valuedouble < 0 || t->valuedouble > 1e10)) ||
            (d && (!cJSON_IsString(d) || strlen(d->valuestring) > 255))) {
            minik_api_respond_error(c, 400,
                                    "token request: want {\"ttlSeconds\": N >= 0, "
                                    "\"description\": \"at most 255 characters\"}");
            return;
        }
        ttl = t ? (int64_t)t->valuedouble : 0;
        desc = d ? d->valuestring : NULL;
    }
    char *token = NULL;
    if (minik_auth_create_join(c->srv->auth, ttl, desc, &token, &err) < 0) {
        minik_api_respond_err(c, err);
        return;
    }
    cleanup_cjson cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "apiVersion", "minik.io/v1");
    cJSON_AddStringToObject(out, "kind", "Token");
    cJSON_AddStringToObject(out, "role", "node");
    /* With TLS the token carries the CA's hash so a joining agent can check the server
     * before it sends the secret; over plain HTTP there is no CA to pin. */
    if (c->srv->ca_pem) {
        cleanup_free char *join = minik_join_token_format(c->srv->ca_hash, token);
        cJSON_AddStringToObject(out, "token", join);
    } else {
        cJSON_AddStringToObject(out, "token", token);
    }
    free(token);
    minik_api_respond_json(c, 201, out);
}

/* POST /apis/minik.io/v1/nodes/{name}/heartbeat: a node agent's liveness, which never
 * touches the store (an idle cluster writes nothing to disk). A node token may only
 * heartbeat for the node it is bound to. */
static void handle_heartbeat(api_call_t *c)
{
    if (strcmp(c->req->method, "POST") != 0) {
        minik_api_respond_error(c, 405, "heartbeats are sent with POST");
        return;
    }
    if (c->id.role != MINIK_ROLE_ADMIN && strcmp(c->id.node, c->route.name) != 0) {
        minik_api_respond_error(c, 403, "a node may only heartbeat for itself");
        return;
    }
    c->srv->heartbeats++;
    /* The agent's endpoint and secret ride on its heartbeats: kept in memory for the
     * pods/log|exec relay, never in the Node object where API clients could read them. */
    if (c->req->body.len) {
        cleanup_cjson cJSON *hb = cJSON_ParseWithLength(c->req->body.data, c->req->body.len);
        if (hb)
            minik_api_agent_note(c->srv, c->route.name, hb);
    }
    if (c->srv->heartbeat_fn)
        c->srv->heartbeat_fn(c->route.name, c->srv->heartbeat_ud);
    cleanup_cjson cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "apiVersion", "v1");
    cJSON_AddStringToObject(out, "kind", "Status");
    cJSON_AddStringToObject(out, "status", "Success");
    minik_api_respond_json(c, 200, out);
}

/* POST /apis/minik.io/v1/nodes/{name}/credential, authorised by a join token: the join
 * token is exchanged for a per-node credential, returned once, and spent. */
static void handle_credential(api_call_t *c)
{
    if (strcmp(c->req->method, "POST") != 0) {
        minik_api_respond_error(c, 405, "a node credential is requested with POST");
        return;
    }
    minik_error_t *err = NULL;
    char *token = NULL;
    if (minik_auth_exchange(c->srv->auth, c->id.id, c->route.name, &token, &err) < 0) {
        minik_api_respond_err(c, err);
        return;
    }
    cleanup_cjson cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "apiVersion", "minik.io/v1");
    cJSON_AddStringToObject(out, "kind", "NodeCredential");
    cJSON_AddStringToObject(out, "node", c->route.name);
    cJSON_AddStringToObject(out, "token", token);
    free(token);
    minik_api_respond_json(c, 201, out);
}

static void dispatch_resource(api_call_t *c)
{
    const char *v = c->verb;
    const char *sub = c->route.sub;
    minik_error_t *err = NULL;
    bool needs_body =
        strcmp(v, "create") == 0 || strcmp(v, "update") == 0 || strcmp(v, "patch") == 0;
    if (needs_body || (strcmp(v, "delete") == 0 && c->req->body.len > 0)) {
        if (minik_api_parse_body(c->req, strcmp(v, "patch") != 0, &c->body, &err) < 0) {
            minik_api_respond_err(c, err);
            return;
        }
    }
    bool bad = false;
    cleanup_free char *dry = minik_http_query_param(c->req->query, "dryRun", &bad);
    if (dry && strcmp(dry, "All") != 0) {
        minik_api_respond_error(c, 400, "dryRun must be \"All\", not \"%s\"", dry);
        return;
    }
    c->dry_run = dry != NULL;
    if (sub && strcmp(sub, "binding") == 0) {
        if (strcmp(v, "create") != 0) {
            minik_api_respond_error(c, 405, "pods/binding only accepts POST");
            return;
        }
        c->verb = "update"; /* a binding updates the pod; answer 201 like Kubernetes */
        update_attempt(c);
        return;
    }
    if (strcmp(v, "get") == 0) {
        handle_get(c);
    } else if (strcmp(v, "list") == 0) {
        handle_list(c);
    } else if (strcmp(v, "watch") == 0) {
        minik_api_watch(c);
    } else if (strcmp(v, "create") == 0) {
        if (c->route.name || sub) {
            minik_api_respond_error(c, 405, "POST goes to the collection, not to an object");
            return;
        }
        handle_create(c);
    } else if (strcmp(v, "update") == 0 || strcmp(v, "patch") == 0) {
        if (!c->route.name) {
            minik_api_respond_error(c, 405, "%s needs an object name", c->req->method);
            return;
        }
        update_attempt(c);
    } else if (strcmp(v, "delete") == 0) {
        if (sub) {
            minik_api_respond_error(c, 405, "DELETE is not supported on %s", sub);
            return;
        }
        handle_delete(c);
    } else {
        minik_api_respond_error(c, 405, "%s is not supported on %s", c->req->method, c->req->path);
    }
}

void minik_api_on_request(minik_http_request_t *req, void *ud)
{
    minik_apiserver_t *srv = ud;
    api_call_t *c = xcalloc(1, sizeof(*c));
    c->srv = srv;
    c->req = req;
    minik_error_t *err = NULL;
    if (minik_route_parse(req->path, &c->route, &err) < 0) {
        req->metric_verb = "unknown";
        minik_api_respond_err(c, err);
        return;
    }
    switch (c->route.type) {
    case MINIK_ROUTE_HEALTHZ:
        req->metric_resource = "healthz";
        minik_http_respond(req, 200, "text/plain", "ok", 2, NULL);
        minik_api_call_free(c);
        return;
    case MINIK_ROUTE_READYZ:
        req->metric_resource = "readyz";
        if (srv->shutting_down)
            minik_http_respond(req, 503, "text/plain", "shutting down", 13, NULL);
        else
            minik_http_respond(req, 200, "text/plain", "ok", 2, NULL);
        minik_api_call_free(c);
        return;
    case MINIK_ROUTE_CACERTS:
        /* The CA certificate is public; a joining agent fetches it before trusting the
         * server, and checks it against the hash in its join token. */
        req->metric_resource = "cacerts";
        if (srv->ca_pem)
            minik_http_respond(req, 200, "application/x-pem-file", srv->ca_pem, srv->ca_pem_len,
                               NULL);
        else
            minik_http_respond(req, 404, "text/plain", "no CA: plain HTTP", 17, NULL);
        minik_api_call_free(c);
        return;
    case MINIK_ROUTE_VERSION:
        req->metric_resource = "version";
        minik_api_version(c);
        return;
    default:
        break;
    }
    bool bad = false;
    bool watch = is_watch(req->query, &bad);
    c->verb = verb_of(req, &c->route, watch);
    req->metric_verb = c->verb;
    req->metric_resource = c->route.res ? c->route.res->name : "discovery";
    if (minik_auth_authenticate(srv->auth, minik_http_request_header(req, "authorization"), &c->id,
                                &err) < 0) {
        minik_api_respond_err(c, err);
        return;
    }
    if (!c->verb) {
        minik_api_respond_error(c, 405, "method %s is not allowed", req->method);
        return;
    }
    if (bad) {
        minik_api_respond_error(c, 400, "malformed percent-encoding in query");
        return;
    }
    if (c->route.type == MINIK_ROUTE_METRICS) {
        req->metric_resource = "metrics";
        if (c->id.role != MINIK_ROLE_ADMIN) {
            minik_api_respond_error(c, 403, "metrics are for admins");
            return;
        }
        handle_metrics(c);
        return;
    }
    if (c->route.type == MINIK_ROUTE_TOKENS) {
        req->metric_resource = "tokens";
        handle_tokens(c);
        return;
    }
    if (c->route.type == MINIK_ROUTE_HEARTBEAT) {
        req->metric_resource = "heartbeat";
        handle_heartbeat(c);
        return;
    }
    if (c->route.type == MINIK_ROUTE_CREDENTIAL) {
        req->metric_resource = "credential";
        handle_credential(c);
        return;
    }
    if (c->route.type != MINIK_ROUTE_RESOURCE) {
        if (strcmp(c->verb, "get") != 0 && strcmp(c->verb, "list") != 0) {
            minik_api_respond_error(c, 405, "discovery documents are read-only");
            return;
        }
        minik_api_discovery(c);
        return;
    }
    if (c->route.sub && (strcmp(c->route.sub, "log") == 0 || strcmp(c->route.sub, "exec") == 0 ||
                         strcmp(c->route.sub, "proxy") == 0)) {
        minik_api_proxy(c);
        return;
    }
    cleanup_free char *fs = minik_http_query_param(req->query, "fieldSelector", &bad);
    const char *why = NULL;
    switch (minik_authz_check(&c->id, c->verb, &c->route, fs, &why)) {
    case MINIK_AUTHZ_DENY:
        minik_api_respond_error(c, 403, "%s %s is forbidden: %s", c->verb, c->route.res->name,
                                why ? why : "not allowed");
        return;
    case MINIK_AUTHZ_IF_POD_ON_NODE:
        c->pod_on_node_check = true;
        break;
    case MINIK_AUTHZ_BIND_NODE:
        if (c->route.name && !c->id.node[0]) {
            if (minik_auth_bind_node(srv->auth, c->id.id, c->route.name, &err) < 0) {
                minik_api_respond_err(c, err);
                return;
            }
            snprintf(c->id.node, sizeof(c->id.node), "%s", c->route.name);
        }
        break;
    case MINIK_AUTHZ_ALLOW:
        break;
    }
    dispatch_resource(c);
}

/* ---- /metrics ---------------------------------------------------------------------------- */

static void count_cb(const char *kind, int64_t n, void *ud)
{
    minik_buf_appendf(ud, "minik_apiserver_objects{kind=\"%s\"} %lld\n", kind, (long long)n);
}

static void handle_metrics(api_call_t *c)
{
    minik_apiserver_t *srv = c->srv;
    cleanup_buf minik_buf_t out = MINIK_BUF_INIT;
    minik_metrics_render(srv->metrics, &out);
    minik_buf_append_str(&out, "# HELP minik_apiserver_objects Objects stored, by kind.\n"
                               "# TYPE minik_apiserver_objects gauge\n");
    minik_error_t *err = NULL;
    if (minik_store_count_by_kind(srv->store, count_cb, &out, &err) < 0) {
        minik_api_respond_err(c, err);
        return;
    }
    minik_buf_appendf(&out,
                      "# HELP minik_apiserver_watches Open watch streams.\n"
                      "# TYPE minik_apiserver_watches gauge\nminik_apiserver_watches %zu\n"
                      "# HELP minik_apiserver_connections Open client connections.\n"
                      "# TYPE minik_apiserver_connections gauge\nminik_apiserver_connections %zu\n"
                      "# HELP minik_node_heartbeats_total Node heartbeats received.\n"
                      "# TYPE minik_node_heartbeats_total counter\nminik_node_heartbeats_total "
                      "%llu\n",
                      srv->n_watches, srv->http ? minik_http_server_connections(srv->http) : 0,
                      (unsigned long long)srv->heartbeats);
    minik_http_respond(c->req, 200, "text/plain; version=0.0.4", out.data, out.len, NULL);
    minik_api_call_free(c);
}
