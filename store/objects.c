/* Objects: create / update / delete inside a transaction, the synchronous API, reads. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "lib/cleanup.h"
#include "lib/timestamp.h"
#include "lib/xalloc.h"
#include "store/store_internal.h"

const char *minik_store_event_type_name(minik_store_event_type_t t)
{
    static const char *const names[] = {
#define X(e, s) [e] = s,
        MINIK_STORE_EVENT_TYPES(X)
#undef X
    };
    if ((unsigned)t >= sizeof names / sizeof names[0])
        return "UNKNOWN";
    return names[t];
}

void store_event_free(store_event_t *ev)
{
    if (ev == NULL)
        return;
    free(ev->kind);
    free(ev->ns);
    cJSON_Delete(ev->object);
    free(ev->old_data);
    cJSON_Delete(ev->old_object);
    free(ev);
}

typedef struct ident {
    const char *kind;
    const char *ns;
    const char *name;
    const cJSON *rv; /* metadata.resourceVersion, NULL if absent */
} ident_t;

static int get_ident(const cJSON *obj, ident_t *id, minik_error_t **err)
{
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(obj, "kind");
    if (!cJSON_IsString(kind) || kind->valuestring[0] == '\0')
        return minik_error_set_code(err, 422, 0, "object has no kind");
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
    if (!cJSON_IsObject(meta) || !cJSON_IsString(name) || name->valuestring[0] == '\0')
        return minik_error_set_code(err, 422, 0, "%s object has no metadata.name",
                                    kind->valuestring);
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(meta, "namespace");
    if (ns != NULL && !cJSON_IsNull(ns) && !cJSON_IsString(ns))
        return minik_error_set_code(err, 422, 0, "%s \"%s\": metadata.namespace is not a string",
                                    kind->valuestring, name->valuestring);
    const cJSON *rv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
    id->kind = kind->valuestring;
    id->name = name->valuestring;
    id->ns = cJSON_IsString(ns) ? ns->valuestring : "";
    /* An empty resourceVersion means "unconditional", as in Kubernetes. */
    id->rv = (cJSON_IsString(rv) && rv->valuestring[0] == '\0') || cJSON_IsNull(rv) ? NULL : rv;
    return 0;
}

/* "Pod \"web\" in namespace \"default\"" or "Node \"n1\"" for messages. */
static char *describe(const ident_t *id)
{
    if (id->ns[0] == '\0')
        return xasprintf("%s \"%s\"", id->kind, id->name);
    return xasprintf("%s \"%s\" in namespace \"%s\"", id->kind, id->name, id->ns);
}

/* Does the client's resourceVersion precondition match the stored one? Accepts the
 * decimal string Kubernetes clients send (and a bare number, which some tools write). */
static bool rv_matches(const cJSON *want, int64_t stored)
{
    if (cJSON_IsNumber(want))
        return want->valuedouble == (double)stored;
    if (!cJSON_IsString(want))
        return false;
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, stored);
    return strcmp(want->valuestring, buf) == 0;
}

static void set_string(cJSON *obj, const char *key, const char *value)
{
    cJSON *v = cJSON_CreateString(value);
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v);
    else
        cJSON_AddItemToObject(obj, key, v);
}

static void set_rv(cJSON *obj, int64_t rv)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, rv);
    set_string(cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "resourceVersion", buf);
}

static void new_uid(char out[37])
{
    uint8_t b[16];
    /* getrandom(2) with flags 0 blocks only before the kernel's pool is initialised at
     * boot, and never returns short for 16 bytes. */
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        /* Not reachable on Linux >= 3.17; fall back to something unique per process. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        memcpy(b, &ts, sizeof ts < sizeof b ? sizeof ts : sizeof b);
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

static const char *string_field(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static int parse_stored(minik_store_t *s, sqlite3_stmt *st, int col, const ident_t *id, cJSON **out,
                        minik_error_t **err)
{
    const char *text = (const char *)sqlite3_column_text(st, col);
    int len = sqlite3_column_bytes(st, col);
    cJSON *obj = text ? cJSON_ParseWithLength(text, (size_t)len) : NULL;
    if (obj == NULL) {
        cleanup_free char *what = describe(id);
        return minik_error_set_code(err, 500, 0, "database \"%s\": stored %s is not valid JSON",
                                    s->path, what);
    }
    *out = obj;
    return 0;
}

static store_event_t *new_event(minik_store_event_type_t type, int64_t rv, const ident_t *id,
                                cJSON *object)
{
    store_event_t *ev = xcalloc(1, sizeof *ev);
    ev->type = type;
    ev->rv = rv;
    ev->kind = xstrdup(id->kind);
    ev->ns = xstrdup(id->ns);
    ev->object = object;
    return ev;
}

static int insert_event(minik_store_t *s, minik_store_event_type_t type, int64_t rv,
                        const ident_t *id, const char *data, minik_error_t **err)
{
    cleanup_reset sqlite3_stmt *st = s->st_event_insert;
    sqlite3_bind_int64(st, 1, rv);
    sqlite3_bind_text(st, 2, minik_store_event_type_name(type), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, id->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, id->ns, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, id->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, data, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return minik_store_sqlite_error(s->wdb, s->path, "appending to the change feed", err);
    return 0;
}

static void bind_key(sqlite3_stmt *st, const ident_t *id)
{
    sqlite3_bind_text(st, 1, id->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id->ns, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, id->name, -1, SQLITE_STATIC);
}

static int do_create(minik_store_t *s, const ident_t *id, const cJSON *obj, int64_t rv,
                     cJSON **result, minik_error_t **err)
{
    cleanup_cjson cJSON *copy = cJSON_Duplicate(obj, true);
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(copy, "metadata");
    char uid[37], created[32];
    const char *have_uid = string_field(meta, "uid");
    const char *have_created = string_field(meta, "creationTimestamp");
    if (have_uid == NULL) {
        new_uid(uid);
        set_string(meta, "uid", uid);
    }
    if (have_created == NULL) {
        minik_timestamp_format(time(NULL), created);
        set_string(meta, "creationTimestamp", created);
    }
    set_rv(copy, rv);
    cleanup_free char *data = cJSON_PrintUnformatted(copy);
    int r = store_check_room(s, strlen(data), err);
    if (r < 0)
        return r;

    cleanup_reset sqlite3_stmt *st = s->st_obj_insert;
    bind_key(st, id);
    sqlite3_bind_int64(st, 4, rv);
    sqlite3_bind_text(st, 5, string_field(meta, "uid"), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, string_field(meta, "creationTimestamp"), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, data, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        if (sqlite3_extended_errcode(s->wdb) == SQLITE_CONSTRAINT_PRIMARYKEY) {
            cleanup_free char *what = describe(id);
            return minik_error_set_code(err, 409, 0, "%s already exists", what);
        }
        return minik_store_sqlite_error(s->wdb, s->path, "inserting an object", err);
    }
    r = insert_event(s, MINIK_STORE_ADDED, rv, id, data, err);
    if (r < 0)
        return r;
    *result = steal_pointer(&copy);
    return 0;
}

/* Load the stored row for id into the cached statement (left positioned on the row). */
static int load_row(minik_store_t *s, sqlite3_stmt *st, const ident_t *id, minik_error_t **err)
{
    bind_key(st, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE) {
        cleanup_free char *what = describe(id);
        return minik_error_set_code(err, 404, 0, "%s not found", what);
    }
    return minik_store_sqlite_error(s->wdb, s->path, "reading an object", err);
}

static int conflict(const ident_t *id, int64_t stored, minik_error_t **err)
{
    cleanup_free char *what = describe(id);
    return minik_error_set_code(err, 409, 0,
                                "Operation cannot be fulfilled on %s: the object has been "
                                "modified (resourceVersion is %" PRId64
                                "); please apply your changes to the latest version and try "
                                "again",
                                what, stored);
}

static int do_update(minik_store_t *s, const ident_t *id, const cJSON *obj, int64_t rv,
                     cJSON **result, char **old_data, minik_error_t **err)
{
    cleanup_cjson cJSON *copy = NULL;
    cleanup_free char *old = NULL;
    {
        cleanup_reset sqlite3_stmt *st = s->st_obj_get;
        int r = load_row(s, st, id, err);
        if (r < 0)
            return r;
        int64_t stored_rv = sqlite3_column_int64(st, 0);
        if (id->rv && !rv_matches(id->rv, stored_rv))
            return conflict(id, stored_rv, err);
        copy = cJSON_Duplicate(obj, true);
        cJSON *meta = cJSON_GetObjectItemCaseSensitive(copy, "metadata");
        /* Identity and birth date belong to the stored object, whatever the client sent. */
        set_string(meta, "uid", (const char *)sqlite3_column_text(st, 1));
        set_string(meta, "creationTimestamp", (const char *)sqlite3_column_text(st, 2));
        /* Kept (unparsed) for filtered watches: they need to know whether the object
         * matched before, to turn MODIFIED into ADDED or DELETED. */
        const char *text = (const char *)sqlite3_column_text(st, 3);
        old = xstrdup(text ? text : "");
    }
    set_rv(copy, rv);
    cleanup_free char *data = cJSON_PrintUnformatted(copy);
    int r = store_check_room(s, strlen(data), err);
    if (r < 0)
        return r;
    cleanup_reset sqlite3_stmt *st = s->st_obj_update;
    bind_key(st, id);
    sqlite3_bind_int64(st, 4, rv);
    sqlite3_bind_text(st, 5, data, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return minik_store_sqlite_error(s->wdb, s->path, "updating an object", err);
    r = insert_event(s, MINIK_STORE_MODIFIED, rv, id, data, err);
    if (r < 0)
        return r;
    *result = steal_pointer(&copy);
    *old_data = steal_pointer(&old);
    return 0;
}

static int do_delete(minik_store_t *s, const ident_t *id, int64_t rv, cJSON **result,
                     minik_error_t **err)
{
    cleanup_cjson cJSON *old = NULL;
    {
        cleanup_reset sqlite3_stmt *st = s->st_obj_get;
        int r = load_row(s, st, id, err);
        if (r < 0)
            return r;
        int64_t stored_rv = sqlite3_column_int64(st, 0);
        if (id->rv && !rv_matches(id->rv, stored_rv))
            return conflict(id, stored_rv, err);
        r = parse_stored(s, st, 3, id, &old, err);
        if (r < 0)
            return r;
    }
    /* The delete event carries the object as it was, stamped with the delete's rv, so a
     * watcher resuming from it continues after the delete (as Kubernetes does). */
    set_rv(old, rv);
    cleanup_free char *data = cJSON_PrintUnformatted(old);
    cleanup_reset sqlite3_stmt *st = s->st_obj_delete;
    bind_key(st, id);
    if (sqlite3_step(st) != SQLITE_DONE)
        return minik_store_sqlite_error(s->wdb, s->path, "deleting an object", err);
    int r = insert_event(s, MINIK_STORE_DELETED, rv, id, data, err);
    if (r < 0)
        return r;
    *result = steal_pointer(&old);
    return 0;
}

int store_apply_op(minik_store_t *s, minik_store_op_t op, const cJSON *obj, int64_t rv,
                   cJSON **result, store_event_t **ev_out, minik_error_t **err)
{
    ident_t id;
    int r = get_ident(obj, &id, err);
    if (r < 0)
        return r;
    cJSON *res = NULL;
    cleanup_free char *old_data = NULL;
    minik_store_event_type_t type;
    switch (op) {
    case MINIK_STORE_OP_CREATE:
        type = MINIK_STORE_ADDED;
        r = do_create(s, &id, obj, rv, &res, err);
        break;
    case MINIK_STORE_OP_UPDATE:
        type = MINIK_STORE_MODIFIED;
        r = do_update(s, &id, obj, rv, &res, &old_data, err);
        break;
    case MINIK_STORE_OP_DELETE:
        type = MINIK_STORE_DELETED;
        r = do_delete(s, &id, rv, &res, err);
        break;
    default:
        return minik_error_set_code(err, 500, 0, "unknown store operation %d", (int)op);
    }
    if (r < 0)
        return r;
    *ev_out = new_event(type, rv, &id, cJSON_Duplicate(res, true));
    (*ev_out)->old_data = steal_pointer(&old_data);
    *result = res;
    return 0;
}

/* One synchronous write: its own transaction, committed (fsynced) before returning. */
static int sync_write(minik_store_t *s, minik_store_op_t op, const cJSON *obj, cJSON **out,
                      minik_error_t **err)
{
    if (s->read_only)
        return minik_error_set_code(err, 500, 0, "database \"%s\" is open read-only", s->path);
    cleanup_cjson cJSON *result = NULL;
    store_event_t *ev = NULL;
    pthread_mutex_lock(&s->wlock);
    int64_t rv = s->rv + 1, compact_rv = s->compact_rv;
    int r = store_begin(s, err);
    if (r == 0) {
        r = store_apply_op(s, op, obj, rv, &result, &ev, err);
        if (r == 0)
            r = store_finish_tx(s, rv, &compact_rv, err);
        if (r == 0)
            r = store_commit(s, err);
        if (r < 0)
            store_rollback(s);
    }
    if (r == 0) {
        __atomic_store_n(&s->rv, rv, __ATOMIC_RELEASE);
        __atomic_store_n(&s->compact_rv, compact_rv, __ATOMIC_RELEASE);
        s->writes++;
        store_feed_push(s, ev);
        ev = NULL;
    }
    pthread_mutex_unlock(&s->wlock);
    store_event_free(ev);
    if (r < 0)
        return r;
    store_feed_kick(s);
    if (out)
        *out = steal_pointer(&result);
    return 0;
}

int minik_store_create(minik_store_t *s, const cJSON *obj, cJSON **out, minik_error_t **err)
{
    return sync_write(s, MINIK_STORE_OP_CREATE, obj, out, err);
}

int minik_store_update(minik_store_t *s, const cJSON *obj, cJSON **out, minik_error_t **err)
{
    return sync_write(s, MINIK_STORE_OP_UPDATE, obj, out, err);
}

/* {kind, metadata: {namespace, name, resourceVersion?}}: what DELETE ops carry. */
static cJSON *delete_ident(const char *kind, const char *ns, const char *name,
                           const char *precondition_rv)
{
    cJSON *obj = cJSON_CreateObject();
    cJSON_AddStringToObject(obj, "kind", kind ? kind : "");
    cJSON *meta = cJSON_AddObjectToObject(obj, "metadata");
    cJSON_AddStringToObject(meta, "namespace", ns ? ns : "");
    cJSON_AddStringToObject(meta, "name", name ? name : "");
    if (precondition_rv)
        cJSON_AddStringToObject(meta, "resourceVersion", precondition_rv);
    return obj;
}

int minik_store_delete(minik_store_t *s, const char *kind, const char *ns, const char *name,
                       const char *precondition_rv, cJSON **out, minik_error_t **err)
{
    cleanup_cjson cJSON *id = delete_ident(kind, ns, name, precondition_rv);
    return sync_write(s, MINIK_STORE_OP_DELETE, id, out, err);
}

int minik_store_get(minik_store_t *s, const char *kind, const char *ns, const char *name,
                    cJSON **out, minik_error_t **err)
{
    ident_t id = {.kind = kind ? kind : "", .ns = ns ? ns : "", .name = name ? name : ""};
    cleanup_reset sqlite3_stmt *st = s->st_read_get;
    bind_key(st, &id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        cleanup_free char *what = describe(&id);
        return minik_error_set_code(err, 404, 0, "%s not found", what);
    }
    if (rc != SQLITE_ROW)
        return minik_store_sqlite_error(s->rdb, s->path, "reading an object", err);
    return parse_stored(s, st, 0, &id, out, err);
}

static int list_rows(minik_store_t *s, const char *kind, const char *ns, const char *pin_path,
                     const char *pin_value, const minik_store_list_opts_t *o,
                     minik_store_filter_fn filter, void *ud, cJSON *items, int64_t *list_rv,
                     minik_error_t **err)
{
    cleanup_stmt sqlite3_stmt *rvst = NULL;
    if (sqlite3_prepare_v2(s->rdb, STORE_SQL_CURRENT_RV, -1, &rvst, NULL) != SQLITE_OK ||
        sqlite3_step(rvst) != SQLITE_ROW)
        return minik_store_sqlite_error(s->rdb, s->path, "listing objects", err);
    if (list_rv)
        *list_rv = sqlite3_column_int64(rvst, 0);

    /* A pinned field is compared by SQLite's JSON functions on the stored text, so rows of
     * other values are never parsed into cJSON (an agent's pod list on a big cluster). */
    cleanup_free char *jpath = pin_path ? xasprintf("$.%s", pin_path) : NULL;
    const char *contains = o && o->contains && *o->contains ? o->contains : NULL;
    cleanup_free char *sql = xasprintf(
        "SELECT data, name, namespace FROM objects WHERE kind = ?1%s%s%s%s ORDER BY namespace, "
        "name",
        ns ? " AND namespace = ?2" : "", jpath ? " AND json_extract(data, ?3) = ?4" : "",
        contains ? " AND instr(data, ?5) > 0" : "",
        o && o->no_controller ? " AND NOT EXISTS (SELECT 1 FROM json_each(data, "
                                "'$.metadata.ownerReferences') WHERE json_extract(value, "
                                "'$.controller') = 1)"
                              : "");
    cleanup_stmt sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->rdb, sql, -1, &st, NULL) != SQLITE_OK)
        return minik_store_sqlite_error(s->rdb, s->path, "listing objects", err);
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    if (ns)
        sqlite3_bind_text(st, 2, ns, -1, SQLITE_STATIC);
    if (jpath) {
        sqlite3_bind_text(st, 3, jpath, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, pin_value, -1, SQLITE_STATIC);
    }
    if (contains)
        sqlite3_bind_text(st, 5, contains, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ident_t id = {.kind = kind,
                      .ns = ns ? ns : (const char *)sqlite3_column_text(st, 2),
                      .name = (const char *)sqlite3_column_text(st, 1)};
        cJSON *obj = NULL;
        int r = parse_stored(s, st, 0, &id, &obj, err);
        if (r < 0)
            return r;
        if (filter && !filter(obj, ud)) {
            cJSON_Delete(obj);
            continue;
        }
        cJSON_AddItemToArray(items, obj);
    }
    if (rc != SQLITE_DONE)
        return minik_store_sqlite_error(s->rdb, s->path, "listing objects", err);
    return 0;
}

int minik_store_list(minik_store_t *s, const char *kind, const char *ns,
                     minik_store_filter_fn filter, void *ud, cJSON **items, int64_t *list_rv,
                     minik_error_t **err)
{
    return minik_store_list_pinned(s, kind, ns, NULL, NULL, filter, ud, items, list_rv, err);
}

static int list_with(minik_store_t *s, const char *kind, const char *ns, const char *pin_path,
                     const char *pin_value, const minik_store_list_opts_t *o,
                     minik_store_filter_fn filter, void *ud, cJSON **items, int64_t *list_rv,
                     minik_error_t **err);

int minik_store_list_opts(minik_store_t *s, const char *kind, const char *ns,
                          const minik_store_list_opts_t *o, minik_store_filter_fn filter, void *ud,
                          cJSON **items, int64_t *list_rv, minik_error_t **err)
{
    return list_with(s, kind, ns, NULL, NULL, o, filter, ud, items, list_rv, err);
}

int minik_store_list_pinned(minik_store_t *s, const char *kind, const char *ns,
                            const char *pin_path, const char *pin_value,
                            minik_store_filter_fn filter, void *ud, cJSON **items, int64_t *list_rv,
                            minik_error_t **err)
{
    return list_with(s, kind, ns, pin_path, pin_value, NULL, filter, ud, items, list_rv, err);
}

static int list_with(minik_store_t *s, const char *kind, const char *ns, const char *pin_path,
                     const char *pin_value, const minik_store_list_opts_t *o,
                     minik_store_filter_fn filter, void *ud, cJSON **items, int64_t *list_rv,
                     minik_error_t **err)
{
    /* json_extract yields NULL for a missing field, which a selector compares as "": only
     * a non-empty value can be pinned in SQL. */
    if (!pin_path || !pin_value || !*pin_value || !minik_store_pin_path_ok(pin_path))
        pin_path = pin_value = NULL;
    if (kind == NULL || kind[0] == '\0')
        return minik_error_set_code(err, 422, 0, "list: no kind given");
    /* One read transaction: the rv and the rows come from the same snapshot, so a watch
     * from *list_rv misses nothing and repeats nothing. */
    if (sqlite3_exec(s->rdb, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return minik_store_sqlite_error(s->rdb, s->path, "listing objects", err);
    cleanup_cjson cJSON *arr = cJSON_CreateArray();
    int r = list_rows(s, kind, ns, pin_path, pin_value, o, filter, ud, arr, list_rv, err);
    /* Ending a read transaction cannot lose anything. */
    sqlite3_exec(s->rdb, "COMMIT", NULL, NULL, NULL);
    if (r < 0)
        return r;
    *items = steal_pointer(&arr);
    return 0;
}

int minik_store_count_by_kind(minik_store_t *s, void (*cb)(const char *kind, int64_t n, void *ud),
                              void *ud, minik_error_t **err)
{
    cleanup_stmt sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->rdb, "SELECT kind, count(*) FROM objects GROUP BY kind ORDER BY kind",
                           -1, &st, NULL) != SQLITE_OK)
        return minik_store_sqlite_error(s->rdb, s->path, "counting objects", err);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        cb((const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1), ud);
    if (rc != SQLITE_DONE)
        return minik_store_sqlite_error(s->rdb, s->path, "counting objects", err);
    return 0;
}
