/* List-then-watch cache (see informer.h). */
#include "proto/informer.h"

#include <errno.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* A list request in flight; outlives the informer if it is closed meanwhile. */
typedef struct list_req {
    minik_informer_t *inf; /* NULL once the informer closed */
} list_req_t;

struct minik_informer {
    uv_loop_t *loop;
    minik_client_uv_t *cuv;
    minik_client_t *client;
    char *path;
    minik_informer_opts_t opts;
    minik_informer_changed_fn changed;
    void *ud;
    cJSON *items;
    char *rv; /* resume the watch from here; NULL: list first */
    bool synced, closing, failing;
    bool error_event; /* the stream ended with an ERROR other than 410 */
    list_req_t *listing;
    minik_client_uv_watch_t *watch;
    uv_timer_t retry;
    void (*closed)(void *);
    void *closed_ud;
    minik_informer_stats_t stats;
};

static const char *meta(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "metadata"), k));
}

static bool same_object(const cJSON *a, const cJSON *b)
{
    const char *na = meta(a, "namespace"), *nb = meta(b, "namespace");
    return minik_str_eq(meta(a, "name"), meta(b, "name")) &&
           minik_str_eq(na ? na : "", nb ? nb : "");
}

static void start_list(minik_informer_t *inf);
static void start_watch(minik_informer_t *inf);

static void retry_cb(uv_timer_t *t)
{
    minik_informer_t *inf = t->data;
    if (inf->rv)
        start_watch(inf);
    else
        start_list(inf);
}

static void retry_later(minik_informer_t *inf, uint64_t ms)
{
    if (!inf->closing)
        uv_timer_start(&inf->retry, retry_cb, ms, 0);
}

static void failed(minik_informer_t *inf, const char *what, const minik_error_t *err)
{
    inf->stats.failures++;
    /* Once per failure streak: a server that refuses (403) keeps refusing. */
    if (!inf->failing)
        minik_log_warn("informer: cannot read; retrying", "path", inf->path, "step", what, "error",
                       err ? err->msg : "cannot start the request", NULL);
    inf->failing = true;
    retry_later(inf, inf->opts.retry_ms);
}

static void on_list(const cJSON *reply, const minik_error_t *err, void *ud)
{
    list_req_t *req = ud;
    minik_informer_t *inf = req->inf;
    free(req);
    if (!inf)
        return;
    inf->listing = NULL;
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(reply, "items");
    if (err || !cJSON_IsArray(items)) {
        failed(inf, "list", err);
        return;
    }
    inf->failing = false;
    inf->stats.lists++;
    cJSON_Delete(inf->items);
    inf->items = cJSON_Duplicate(items, 1);
    free(inf->rv);
    const char *rv = meta(reply, "resourceVersion");
    inf->rv = xstrdup(rv && *rv ? rv : "0");
    inf->synced = true;
    start_watch(inf);
    if (inf->changed)
        inf->changed(inf, inf->ud);
}

static void start_list(minik_informer_t *inf)
{
    if (inf->closing || inf->listing)
        return;
    list_req_t *req = xcalloc(1, sizeof(*req));
    req->inf = inf;
    minik_error_t *err = NULL;
    if (minik_client_uv_request(inf->cuv, inf->client, "GET", inf->path, NULL, NULL, on_list, req,
                                &err) < 0) {
        free(req);
        failed(inf, "list", err);
        minik_error_free(err);
        return;
    }
    inf->listing = req;
}

/* Apply one event to the cache; true if it changed anything. */
static bool apply_event(minik_informer_t *inf, const char *type, const cJSON *obj)
{
    cJSON *it = inf->items->child;
    int i = 0;
    for (; it; it = it->next, i++)
        if (same_object(it, obj))
            break;
    if (strcmp(type, "DELETED") == 0) {
        if (!it)
            return false;
        cJSON_DeleteItemFromArray(inf->items, i);
        return true;
    }
    if (strcmp(type, "ADDED") != 0 && strcmp(type, "MODIFIED") != 0)
        return false;
    if (it)
        cJSON_ReplaceItemInArray(inf->items, i, cJSON_Duplicate(obj, 1));
    else
        cJSON_AddItemToArray(inf->items, cJSON_Duplicate(obj, 1));
    return true;
}

static int on_event(const char *type, const cJSON *object, void *ud)
{
    minik_informer_t *inf = ud;
    if (strcmp(type, "ERROR") == 0) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(object, "code");
        if (cJSON_IsNumber(code) && code->valueint == 410) {
            free(inf->rv);
            inf->rv = NULL; /* the feed moved on: list again */
        } else
            inf->error_event = true;
        return 1;
    }
    const char *rv = meta(object, "resourceVersion");
    if (rv && *rv) {
        free(inf->rv);
        inf->rv = xstrdup(rv);
    }
    if (apply_event(inf, type, object)) {
        inf->stats.events++;
        if (inf->changed)
            inf->changed(inf, inf->ud);
    }
    return 0;
}

static void on_watch_done(minik_watch_end_t how, const minik_error_t *err, void *ud)
{
    minik_informer_t *inf = ud;
    inf->watch = NULL;
    if (inf->closing || how == MINIK_WATCH_CANCELLED)
        return;
    if (how == MINIK_WATCH_FAILED) {
        if (err && err->code == 410) {
            free(inf->rv);
            inf->rv = NULL;
            retry_later(inf, 0);
            return;
        }
        failed(inf, "watch", err);
        return;
    }
    if (inf->error_event) {
        inf->error_event = false;
        failed(inf, "watch", NULL);
        return;
    }
    /* Ended (timeoutSeconds) or stopped by a 410: resume, or list again. */
    inf->failing = false;
    retry_later(inf, 0);
}

static void start_watch(minik_informer_t *inf)
{
    if (inf->closing || inf->watch)
        return;
    cleanup_free char *path = xasprintf("%s?watch=1&resourceVersion=%s&timeoutSeconds=%d",
                                        inf->path, inf->rv, inf->opts.watch_timeout_s);
    inf->stats.watches++;
    inf->watch = minik_client_uv_watch(inf->cuv, inf->client, path, on_event, on_watch_done, inf);
    if (!inf->watch)
        failed(inf, "watch", NULL);
}

int minik_informer_new(uv_loop_t *loop, minik_client_uv_t *cuv, minik_client_t *c, const char *path,
                       const minik_informer_opts_t *opts, minik_informer_changed_fn changed,
                       void *ud, minik_informer_t **out, minik_error_t **err)
{
    if (!path || path[0] != '/' || strchr(path, '?'))
        return minik_error_set(err, EINVAL, "informer: \"%s\" is not a collection path",
                               path ? path : "(null)");
    minik_informer_t *inf = xcalloc(1, sizeof(*inf));
    inf->loop = loop;
    inf->cuv = cuv;
    inf->client = c;
    inf->path = xstrdup(path);
    if (opts)
        inf->opts = *opts;
    if (inf->opts.watch_timeout_s <= 0)
        inf->opts.watch_timeout_s = 300;
    if (!inf->opts.retry_ms)
        inf->opts.retry_ms = 1000;
    inf->changed = changed;
    inf->ud = ud;
    inf->items = cJSON_CreateArray();
    uv_timer_init(loop, &inf->retry);
    inf->retry.data = inf;
    *out = inf;
    return 0;
}

void minik_informer_start(minik_informer_t *inf)
{
    start_list(inf);
}

const cJSON *minik_informer_items(const minik_informer_t *inf)
{
    return inf->items;
}

bool minik_informer_synced(const minik_informer_t *inf)
{
    return inf->synced;
}

void minik_informer_get_stats(const minik_informer_t *inf, minik_informer_stats_t *out)
{
    *out = inf->stats;
}

static void retry_closed(uv_handle_t *h)
{
    minik_informer_t *inf = h->data;
    void (*closed)(void *) = inf->closed;
    void *ud = inf->closed_ud;
    cJSON_Delete(inf->items);
    free(inf->rv);
    free(inf->path);
    free(inf);
    if (closed)
        closed(ud);
}

void minik_informer_close(minik_informer_t *inf, void (*closed)(void *ud), void *ud)
{
    if (!inf)
        return;
    inf->closing = true;
    inf->closed = closed;
    inf->closed_ud = ud;
    if (inf->listing)
        inf->listing->inf = NULL;
    inf->listing = NULL;
    if (inf->watch)
        minik_client_uv_watch_cancel(inf->watch);
    uv_close((uv_handle_t *)&inf->retry, retry_closed);
}
