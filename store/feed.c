/* The change feed: replay from SQLite, then live fan-out from memory.
 *
 * Live events are never re-read from SQLite: a committed write's event (with its parsed
 * object) is queued once and handed to every matching watcher, so 1,000 watchers cost
 * 1,000 callbacks, not 1,000 queries. Only a watch that starts in the past reads the
 * `events` table, once, for its replay. */
#include <inttypes.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "store/store_internal.h"

void store_feed_push(minik_store_t *s, store_event_t *events)
{
    if (events == NULL)
        return;
    store_event_t *last = events;
    while (last->next)
        last = last->next;
    pthread_mutex_lock(&s->plock);
    if (s->pending_tail)
        s->pending_tail->next = events;
    else
        s->pending_head = events;
    s->pending_tail = last;
    pthread_mutex_unlock(&s->plock);
}

static store_event_t *pop_pending(minik_store_t *s)
{
    pthread_mutex_lock(&s->plock);
    store_event_t *ev = s->pending_head;
    if (ev) {
        s->pending_head = ev->next;
        if (s->pending_head == NULL)
            s->pending_tail = NULL;
        ev->next = NULL;
    }
    pthread_mutex_unlock(&s->plock);
    return ev;
}

/* ---- the delivery index ------------------------------------------------------------ */

/* "path\x1fvalue": the unit separator cannot occur in a pinnable path. */
static char *bucket_key(const char *path, const char *value)
{
    return xasprintf("%s\x1f%s", path, value);
}

static store_pin_bucket_t *find_bucket(const minik_store_t *s, const char *path, const char *value)
{
    if (s->pin_buckets.len == 0)
        return NULL;
    cleanup_free char *key = bucket_key(path, value);
    return minik_strmap_get(&s->pin_buckets, key);
}

static store_pin_path_t *find_path(minik_store_t *s, const char *path)
{
    for (size_t i = 0; i < s->n_pin_paths; i++)
        if (strcmp(s->pin_paths[i].path, path) == 0)
            return &s->pin_paths[i];
    return NULL;
}

static void chain_append(minik_store_watch_t **head, minik_store_watch_t **tail,
                         minik_store_watch_t *w)
{
    w->dnext = NULL;
    w->dprev = *tail;
    if (*tail)
        (*tail)->dnext = w;
    else
        *head = w;
    *tail = w;
}

static void chain_unlink(minik_store_watch_t **head, minik_store_watch_t **tail,
                         minik_store_watch_t *w)
{
    if (w->dprev)
        w->dprev->dnext = w->dnext;
    else
        *head = w->dnext;
    if (w->dnext)
        w->dnext->dprev = w->dprev;
    else
        *tail = w->dprev;
    w->dprev = w->dnext = NULL;
}

static void index_add(minik_store_t *s, minik_store_watch_t *w)
{
    if (!w->pin_path) {
        chain_append(&s->unpinned_head, &s->unpinned_tail, w);
        return;
    }
    cleanup_free char *key = bucket_key(w->pin_path, w->pin_value);
    store_pin_bucket_t *b = minik_strmap_get(&s->pin_buckets, key);
    if (!b) {
        b = xcalloc(1, sizeof(*b));
        minik_strmap_put(&s->pin_buckets, key, b);
    }
    chain_append(&b->head, &b->tail, w);
    w->bucket = b;
    store_pin_path_t *p = find_path(s, w->pin_path);
    if (!p) {
        s->pin_paths = xrealloc(s->pin_paths, (s->n_pin_paths + 1) * sizeof(*s->pin_paths));
        p = &s->pin_paths[s->n_pin_paths++];
        p->path = xstrdup(w->pin_path);
        p->watches = 0;
    }
    p->watches++;
}

/* Only when no delivery is running (unlink_watch is deferred during one), so the chains
 * and buckets a delivery walks stay valid. */
static void index_remove(minik_store_t *s, minik_store_watch_t *w)
{
    if (!w->bucket) {
        chain_unlink(&s->unpinned_head, &s->unpinned_tail, w);
        return;
    }
    store_pin_bucket_t *b = w->bucket;
    chain_unlink(&b->head, &b->tail, w);
    w->bucket = NULL;
    if (!b->head) {
        cleanup_free char *key = bucket_key(w->pin_path, w->pin_value);
        minik_strmap_del(&s->pin_buckets, key);
        free(b);
    }
    store_pin_path_t *p = find_path(s, w->pin_path);
    if (p && --p->watches == 0) {
        free(p->path);
        *p = s->pin_paths[--s->n_pin_paths];
    }
}

static void unlink_watch(minik_store_t *s, minik_store_watch_t *w)
{
    index_remove(s, w);
    if (w->prev)
        w->prev->next = w->next;
    else
        s->watches_head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        s->watches_tail = w->prev;
    free(w->kind);
    free(w->ns);
    free(w->pin_path);
    free(w->pin_value);
    free(w);
}

/* Free watches unwatched while a delivery was running (their list links had to stay
 * valid for the loop walking the list). */
static void reap(minik_store_t *s)
{
    if (s->delivering > 0 || !s->reaped_needed)
        return;
    s->reaped_needed = false;
    minik_store_watch_t *w = s->watches_head;
    while (w) {
        minik_store_watch_t *next = w->next;
        if (w->dead)
            unlink_watch(s, w);
        w = next;
    }
}

static bool wants(const minik_store_watch_t *w, const char *kind, const char *ns)
{
    if (w->kind && strcmp(w->kind, kind) != 0)
        return false;
    if (w->ns && strcmp(w->ns, ns) != 0)
        return false;
    return true;
}

/* A filtered watch sees the set of objects that match its filter, as a Kubernetes
 * watch with a label selector does: an update that makes an object match is ADDED for
 * it, one that makes it stop matching is DELETED (carrying the new object), an update of
 * an object that matched neither before nor after is not its business. Returns false
 * when the watch should not see the event. */
static bool filtered_type(minik_store_watch_t *w, store_event_t *ev, minik_store_event_type_t *type)
{
    bool now = w->filter(ev->object, w->filter_ud);
    if (ev->type != MINIK_STORE_MODIFIED || ev->old_data == NULL)
        return now;
    if (ev->old_object == NULL)
        ev->old_object = cJSON_Parse(ev->old_data);
    /* Unparseable old text cannot happen for rows this store wrote; treat as unchanged. */
    bool before = ev->old_object ? w->filter(ev->old_object, w->filter_ud) : now;
    if (now && !before)
        *type = MINIK_STORE_ADDED;
    else if (!now && before)
        *type = MINIK_STORE_DELETED;
    return now || before;
}

/* The string at dotted `path` in obj: "" when absent, NULL when it is not a string (then
 * the pin decides nothing and the watch's filter runs). */
static const char *field_at(const cJSON *obj, const char *path)
{
    const cJSON *cur = obj;
    char key[64];
    for (const char *p = path; cur && *p;) {
        size_t n = strcspn(p, ".");
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        cur = cJSON_GetObjectItemCaseSensitive(cur, key);
        p += n + (p[n] == '.');
    }
    if (!cur)
        return "";
    return cJSON_IsString(cur) ? cur->valuestring : NULL;
}

/* One event's values of the (one) pinned path in use, computed once for every watch. */
typedef struct pin_cache {
    const char *path;
    const char *now, *before;
    bool has_before;
} pin_cache_t;

/* Fill the cache with the event's values at `path` (the old object is parsed on demand);
 * a no-op when it already holds that path. */
static void pin_values(store_event_t *ev, const char *path, pin_cache_t *pc)
{
    if (pc->path && strcmp(pc->path, path) == 0)
        return;
    pc->path = path;
    pc->now = field_at(ev->object, path);
    pc->has_before = ev->type == MINIK_STORE_MODIFIED && ev->old_data != NULL;
    if (pc->has_before && ev->old_object == NULL)
        ev->old_object = cJSON_Parse(ev->old_data);
    pc->before = pc->has_before && ev->old_object ? field_at(ev->old_object, path) : NULL;
}

/* Can the pin tell that the watch's filter rejects the event, old and new object alike? */
static bool pinned_out(minik_store_watch_t *w, store_event_t *ev, pin_cache_t *pc)
{
    if (!w->pin_path)
        return false;
    pin_values(ev, w->pin_path, pc);
    if (!pc->now || strcmp(pc->now, w->pin_value) == 0)
        return false;
    if (pc->has_before && (!pc->before || strcmp(pc->before, w->pin_value) == 0))
        return false;
    return true;
}

bool minik_store_pin_path_ok(const char *path)
{
    /* Plain member names only: anything else (brackets, quotes, empty segments) would be a
     * JSON path error in SQL; such a selector is simply not pinned. */
    size_t seg = 0;
    for (const char *p = path; *p; p++) {
        if (*p == '.') {
            if (seg == 0)
                return false;
            seg = 0;
        } else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                   (*p >= '0' && *p <= '9') || *p == '_') {
            seg++;
        } else {
            return false;
        }
    }
    return seg > 0;
}

static void deliver_to(minik_store_watch_t *w, store_event_t *ev, pin_cache_t *pc)
{
    if (w->dead || ev->rv <= w->after_rv || !wants(w, ev->kind, ev->ns) || pinned_out(w, ev, pc))
        return;
    minik_store_event_t e = {.type = ev->type, .rv = ev->rv, .object = ev->object};
    if (w->filter && !filtered_type(w, ev, &e.type))
        return;
    w->cb(&e, w->ud);
}

static void deliver_chain(minik_store_watch_t *head, store_event_t *ev, pin_cache_t *pc)
{
    /* Watches added by a callback are appended at the tail and skip this event (their
     * after_rv is >= ev->rv); unwatched ones are only marked dead. */
    for (minik_store_watch_t *w = head; w; w = w->dnext)
        deliver_to(w, ev, pc);
}

/* The watches pinned on `path` that may want the event: those pinned on its value before
 * or after the change. A value that is not a string leaves the decision to each watch's
 * filter, so then every watch on the path is a candidate (never for valid objects). */
static void deliver_pinned(minik_store_t *s, const char *path, store_event_t *ev, pin_cache_t *pc)
{
    pin_values(ev, path, pc);
    const char *now = pc->now, *before = pc->before;
    bool has_before = pc->has_before;
    if (!now || (has_before && !before)) {
        for (minik_store_watch_t *w = s->watches_head; w; w = w->next)
            if (w->pin_path && strcmp(w->pin_path, path) == 0)
                deliver_to(w, ev, pc);
        return;
    }
    store_pin_bucket_t *b = find_bucket(s, path, now);
    if (b)
        deliver_chain(b->head, ev, pc);
    if (has_before && strcmp(before, now) != 0 && (b = find_bucket(s, path, before)) != NULL)
        deliver_chain(b->head, ev, pc);
}

void store_feed_deliver(minik_store_t *s)
{
    if (s->delivering > 0)
        return; /* the outer delivery drains whatever this call would have */
    s->delivering++;
    store_event_t *ev;
    while ((ev = pop_pending(s)) != NULL) {
        s->delivered_rv = ev->rv;
        pin_cache_t pc = {0};
        deliver_chain(s->unpinned_head, ev, &pc);
        /* Paths are only removed outside deliveries (unlink_watch is deferred), so the
         * strings stay put even if a callback's new watch grows the array; paths it adds
         * come last, and their watches skip this event anyway. */
        for (size_t i = 0, n = s->n_pin_paths; i < n; i++)
            deliver_pinned(s, s->pin_paths[i].path, ev, &pc);
        store_event_free(ev);
    }
    s->delivering--;
    reap(s);
}

void store_feed_kick(minik_store_t *s)
{
    if (s->uv && !s->uv->closing)
        store_commit_arm(s);
    else
        store_feed_deliver(s);
}

static void free_bucket(const char *key, void *value, void *ud)
{
    free(value);
}

void store_feed_free_all(minik_store_t *s)
{
    store_event_t *ev;
    while ((ev = pop_pending(s)) != NULL)
        store_event_free(ev);
    minik_store_watch_t *w = s->watches_head;
    while (w) {
        minik_store_watch_t *next = w->next;
        free(w->kind);
        free(w->ns);
        free(w->pin_path);
        free(w->pin_value);
        free(w);
        w = next;
    }
    s->watches_head = s->watches_tail = NULL;
    s->watch_count = 0;
    s->unpinned_head = s->unpinned_tail = NULL;
    minik_strmap_foreach(&s->pin_buckets, free_bucket, NULL);
    minik_strmap_clear(&s->pin_buckets);
    for (size_t i = 0; i < s->n_pin_paths; i++)
        free(s->pin_paths[i].path);
    free(s->pin_paths);
    s->pin_paths = NULL;
    s->n_pin_paths = 0;
}

typedef struct replay_item {
    minik_store_event_type_t type;
    int64_t rv;
    cJSON *object;
} replay_item_t;

static int parse_type(const char *t, minik_store_event_type_t *out)
{
#define X(e, str)                                                                                  \
    if (t && strcmp(t, str) == 0) {                                                                \
        *out = e;                                                                                  \
        return 0;                                                                                  \
    }
    MINIK_STORE_EVENT_TYPES(X)
#undef X
    return -1;
}

/* Read the events (from_rv, upto] of the watch into memory in one read transaction that
 * also checks they are still all there (410 otherwise). Reading everything before calling
 * back keeps callbacks free to use the store (even the read connection). */
static int load_replay(minik_store_t *s, const minik_store_watch_t *w, int64_t from_rv,
                       int64_t upto, replay_item_t **items, size_t *n, minik_error_t **err)
{
    cleanup_stmt sqlite3_stmt *cst = NULL;
    if (sqlite3_prepare_v2(s->rdb, "SELECT value FROM meta WHERE key = 'compact_rv'", -1, &cst,
                           NULL) != SQLITE_OK ||
        sqlite3_step(cst) != SQLITE_ROW)
        return minik_store_sqlite_error(s->rdb, s->path, "starting a watch", err);
    int64_t compact_rv = sqlite3_column_int64(cst, 0);
    if (from_rv < compact_rv)
        return minik_error_set_code(err, 410, 0,
                                    "too old resource version: %" PRId64
                                    " (the change feed starts after %" PRId64 ")",
                                    from_rv, compact_rv);
    if (from_rv >= upto)
        return 0;

    /* A pinned watch leaves events of other values in the table, unparsed (5,000 agents
     * each resuming their pod watch would otherwise parse the whole recent history). A
     * missing field reads as NULL in SQL but as "" to a selector: only non-empty values. */
    bool pin = w->pin_path && w->pin_value && *w->pin_value && minik_store_pin_path_ok(w->pin_path);
    cleanup_free char *jpath = pin ? xasprintf("$.%s", w->pin_path) : NULL;
    cleanup_free char *sql =
        xasprintf("SELECT rv, type, data FROM events WHERE rv > ?1 AND rv <= ?2%s%s%s ORDER BY rv",
                  w->kind ? " AND kind = ?3" : "", w->ns ? " AND namespace = ?4" : "",
                  pin ? " AND json_extract(data, ?5) = ?6" : "");
    cleanup_stmt sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->rdb, sql, -1, &st, NULL) != SQLITE_OK)
        return minik_store_sqlite_error(s->rdb, s->path, "replaying the change feed", err);
    sqlite3_bind_int64(st, 1, from_rv);
    sqlite3_bind_int64(st, 2, upto);
    if (w->kind)
        sqlite3_bind_text(st, 3, w->kind, -1, SQLITE_STATIC);
    if (w->ns)
        sqlite3_bind_text(st, 4, w->ns, -1, SQLITE_STATIC);
    if (pin) {
        sqlite3_bind_text(st, 5, jpath, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, w->pin_value, -1, SQLITE_STATIC);
    }
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        replay_item_t it = {.rv = sqlite3_column_int64(st, 0)};
        const char *data = (const char *)sqlite3_column_text(st, 2);
        if (parse_type((const char *)sqlite3_column_text(st, 1), &it.type) < 0 || data == NULL ||
            (it.object = cJSON_Parse(data)) == NULL)
            return minik_error_set_code(
                err, 500, 0, "database \"%s\": change feed event %" PRId64 " is malformed", s->path,
                it.rv);
        if (w->filter && !w->filter(it.object, w->filter_ud)) {
            cJSON_Delete(it.object);
            continue;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *items = xrealloc(*items, cap * sizeof **items);
        }
        (*items)[(*n)++] = it;
    }
    if (rc != SQLITE_DONE)
        return minik_store_sqlite_error(s->rdb, s->path, "replaying the change feed", err);
    return 0;
}

static int replay(minik_store_t *s, minik_store_watch_t *w, int64_t from_rv, int64_t upto,
                  minik_error_t **err)
{
    replay_item_t *items = NULL;
    size_t n = 0;
    if (sqlite3_exec(s->rdb, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return minik_store_sqlite_error(s->rdb, s->path, "starting a watch", err);
    int r = load_replay(s, w, from_rv, upto, &items, &n, err);
    sqlite3_exec(s->rdb, "COMMIT", NULL, NULL, NULL); /* ends a read: nothing to lose */
    for (size_t i = 0; i < n; i++) {
        if (r == 0 && !w->dead) {
            minik_store_event_t e = {
                .type = items[i].type, .rv = items[i].rv, .object = items[i].object};
            w->cb(&e, w->ud);
        }
        cJSON_Delete(items[i].object);
    }
    free(items);
    return r;
}

int minik_store_watch(minik_store_t *s, const char *kind, const char *ns,
                      minik_store_filter_fn filter, void *filter_ud, int64_t from_rv,
                      minik_store_watch_cb cb, void *ud, minik_store_watch_t **out,
                      minik_error_t **err)
{
    return minik_store_watch_pinned(s, kind, ns, NULL, NULL, filter, filter_ud, from_rv, cb, ud,
                                    out, err);
}

int minik_store_watch_pinned(minik_store_t *s, const char *kind, const char *ns,
                             const char *pin_path, const char *pin_value,
                             minik_store_filter_fn filter, void *filter_ud, int64_t from_rv,
                             minik_store_watch_cb cb, void *ud, minik_store_watch_t **out,
                             minik_error_t **err)
{
    if (from_rv < 0)
        return minik_error_set_code(err, 422, 0, "watch: negative resourceVersion %" PRId64,
                                    from_rv);
    minik_store_watch_t *w = xcalloc(1, sizeof *w);
    w->store = s;
    w->kind = kind ? xstrdup(kind) : NULL;
    w->ns = ns ? xstrdup(ns) : NULL;
    w->filter = filter;
    w->filter_ud = filter_ud;
    if (pin_path && pin_value) {
        w->pin_path = xstrdup(pin_path);
        w->pin_value = xstrdup(pin_value);
    }
    w->cb = cb;
    w->ud = ud;

    /* Events up to delivered_rv are replayed from the table; later ones (committed but
     * still queued) reach the watch live. from_rv == 0 means "after the last commit". */
    int64_t upto = s->delivered_rv;
    int64_t start = from_rv > 0 ? from_rv : minik_store_current_rv(s);
    w->after_rv = start > upto ? start : upto;

    w->prev = s->watches_tail;
    if (s->watches_tail)
        s->watches_tail->next = w;
    else
        s->watches_head = w;
    s->watches_tail = w;
    s->watch_count++;
    index_add(s, w);
    *out = w;

    int r = 0;
    if (from_rv > 0) {
        s->delivering++;
        r = replay(s, w, from_rv, upto, err);
        s->delivering--;
    }
    if (r < 0) {
        *out = NULL;
        if (!w->dead) {
            w->dead = true;
            s->watch_count--;
        }
        s->reaped_needed = true;
        reap(s);
        return r;
    }
    if (w->dead)
        *out = NULL; /* the callback unwatched it during the replay */
    reap(s);
    /* Writes made by replay callbacks were queued while delivery was held off. */
    if (s->delivering == 0)
        store_feed_kick(s);
    return 0;
}

void minik_store_unwatch(minik_store_watch_t *w)
{
    if (w == NULL || w->dead)
        return;
    minik_store_t *s = w->store;
    w->dead = true;
    s->watch_count--;
    if (s->delivering > 0) {
        s->reaped_needed = true;
        return;
    }
    unlink_watch(s, w);
}

size_t minik_store_watch_count(const minik_store_t *s)
{
    return s->watch_count;
}
