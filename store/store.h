/* The desired-state store: Kubernetes-shaped JSON objects in one SQLite file.
 *
 * Contract (DESIGN.md §3 "Store"):
 * - Objects are cJSON trees with apiVersion, kind, metadata.{name,namespace}. Keys are
 *   (kind, namespace, name); cluster-scoped kinds use namespace "" (or NULL).
 * - Every successful write takes the next value of ONE monotonically increasing sequence
 *   and stores it as metadata.resourceVersion (a decimal string, as Kubernetes does).
 *   create also fills metadata.uid (random UUID v4) and metadata.creationTimestamp
 *   (RFC 3339, UTC) when absent. Nothing else in the object is interpreted: validation,
 *   defaulting, generation, ownerReferences and cascading belong to the API server.
 * - A write that was acknowledged (sync call returned 0, or async callback got status 0)
 *   is durable: SQLite WAL with synchronous=FULL; it survives kill -9 and power loss.
 * - Errors carry an HTTP status in err->code so the API maps them without translation:
 *   404 not found, 409 already exists / resourceVersion conflict, 410 watch start too old,
 *   422 object lacks kind/name, 507 database full (options.max_bytes or disk), 500 anything
 *   else (I/O, corruption).
 * - Every write appends a change event (type, resourceVersion, object) to the change feed.
 *   Watchers start from any retained resourceVersion and receive events in order.
 *
 * Threading: a store is used from one thread (the loop thread). The async API moves
 * fsync-bound work off the loop with uv_queue_work and calls back on the loop thread. */
#ifndef MINIK_STORE_H
#define MINIK_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "lib/error.h"

typedef struct minik_store minik_store_t;
typedef struct minik_store_watch minik_store_watch_t;

#define MINIK_STORE_EVENT_TYPES(X)                                                                 \
    X(MINIK_STORE_ADDED, "ADDED")                                                                  \
    X(MINIK_STORE_MODIFIED, "MODIFIED")                                                            \
    X(MINIK_STORE_DELETED, "DELETED")

typedef enum minik_store_event_type {
#define X(e, s) e,
    MINIK_STORE_EVENT_TYPES(X)
#undef X
} minik_store_event_type_t;

const char *minik_store_event_type_name(minik_store_event_type_t t);

typedef struct minik_store_options {
    /* Events kept in the change feed before compaction (default 10000). Watches that
     * start from a resourceVersion older than what is retained get 410. */
    int64_t event_retention;
    /* Open read-only (backup inspection, `minik get` on a stopped server's file). */
    bool read_only;
    /* Cap on the data in the file in bytes (0 = no cap), so a runaway client cannot fill
     * a small SD card. A create/update that would go past it fails with 507; deletes still
     * work. The retained change feed counts too: space comes back as deletes push old
     * events out of the retention. An extension of the original interface. */
    int64_t max_bytes;
} minik_store_options_t;

/* Open (creating if missing) the database at `path`. Runs an integrity check (a corrupt
 * file is refused with a clear message, never reset), applies forward schema migrations,
 * refuses a schema newer than this binary knows. opts may be NULL for defaults. */
int minik_store_open(const char *path, const minik_store_options_t *opts, minik_store_t **out,
                     minik_error_t **err);
/* Close the database; cancels (without calling back) any watch still registered.
 * Pending async writes must have completed first (see minik_store_close_async).
 * With a loop attached and no close_async before, the loop must run once more afterwards
 * so the store's handles can finish closing. minik_store_free(NULL) is a no-op. */
void minik_store_free(minik_store_t *s);

/* The resourceVersion of the latest committed write (0 for an empty store). */
int64_t minik_store_current_rv(const minik_store_t *s);

/* ---- synchronous API: each call is one durable transaction -------------------------- */

/* Insert `obj` (borrowed). 409 if (kind, ns, name) exists. *out (may be NULL) receives a
 * copy of the stored object, with resourceVersion/uid/creationTimestamp filled in. */
int minik_store_create(minik_store_t *s, const cJSON *obj, cJSON **out, minik_error_t **err);

/* Fetch one object; 404 if absent. *out is owned by the caller. */
int minik_store_get(minik_store_t *s, const char *kind, const char *ns, const char *name,
                    cJSON **out, minik_error_t **err);

/* Predicate for list/watch filtering (label/field selectors live in proto/). */
typedef bool (*minik_store_filter_fn)(const cJSON *obj, void *ud);

/* List objects of `kind` in namespace `ns` (NULL = all namespaces) that pass `filter`
 * (NULL = all), ordered by namespace then name. *items is a new cJSON array owned by the
 * caller; *list_rv (may be NULL) is the store's resourceVersion the list is consistent
 * with, for a following watch. */
int minik_store_list(minik_store_t *s, const char *kind, const char *ns,
                     minik_store_filter_fn filter, void *ud, cJSON **items, int64_t *list_rv,
                     minik_error_t **err);

/* The same, keeping only objects whose string field at dotted `pin_path` equals a
 * non-empty `pin_value` (tested on the stored JSON before anything is parsed); `filter`
 * still decides for those. A NULL or empty pin lists like minik_store_list. */
int minik_store_list_pinned(minik_store_t *s, const char *kind, const char *ns,
                            const char *pin_path, const char *pin_value,
                            minik_store_filter_fn filter, void *ud, cJSON **items, int64_t *list_rv,
                            minik_error_t **err);

/* Pre-filters tested by SQLite on the stored JSON, so rows they rule out are never parsed:
 * `contains` (text the stored JSON must contain, e.g. an owner's uid — a necessary
 * condition for the filter) and `no_controller` (no ownerReference with controller: true,
 * as an orphan for adoption). `filter` still decides for the rows that pass. */
typedef struct minik_store_list_opts {
    const char *contains;
    bool no_controller;
} minik_store_list_opts_t;

int minik_store_list_opts(minik_store_t *s, const char *kind, const char *ns,
                          const minik_store_list_opts_t *o, minik_store_filter_fn filter, void *ud,
                          cJSON **items, int64_t *list_rv, minik_error_t **err);

/* Replace an existing object (borrowed). When obj carries metadata.resourceVersion it
 * must equal the stored one, else 409 (optimistic concurrency); without it the update is
 * unconditional. uid and creationTimestamp are preserved from the stored object. 404 if
 * absent. *out (may be NULL) receives the stored copy. */
int minik_store_update(minik_store_t *s, const cJSON *obj, cJSON **out, minik_error_t **err);

/* Delete an object. If precondition_rv is not NULL it must equal the stored
 * resourceVersion (409 otherwise). *out (may be NULL) receives the deleted object with
 * the resourceVersion of the delete event. 404 if absent. */
int minik_store_delete(minik_store_t *s, const char *kind, const char *ns, const char *name,
                       const char *precondition_rv, cJSON **out, minik_error_t **err);

/* ---- asynchronous, group-committed API ---------------------------------------------- */

/* Attach a libuv loop. Afterwards writes submitted with minik_store_submit during one loop
 * iteration are committed together in one transaction with one fsync on the thread pool,
 * and each is acknowledged only after that commit. Watch callbacks then run on the loop. */
int minik_store_attach_loop(minik_store_t *s, uv_loop_t *loop, minik_error_t **err);

typedef enum minik_store_op {
    MINIK_STORE_OP_CREATE,
    MINIK_STORE_OP_UPDATE,
    MINIK_STORE_OP_DELETE,
} minik_store_op_t;

/* Completion of an async write. `status` is 0 or negative; on success `result` is the
 * stored (or deleted) object, on failure `err` says why (err->code as above). The callback
 * takes ownership of both (either may be NULL). */
typedef void (*minik_store_done_cb)(int status, cJSON *result, minik_error_t *err, void *ud);

/* Queue a write. For CREATE/UPDATE `obj` is the object (ownership is taken); for DELETE
 * `obj` identifies it ({kind, metadata:{namespace,name,resourceVersion?}}, ownership taken;
 * a resourceVersion there is the delete precondition). `done` is always called exactly
 * once, on the loop thread, never before this function returns. */
void minik_store_submit(minik_store_t *s, minik_store_op_t op, cJSON *obj, minik_store_done_cb done,
                        void *ud);

/* Finish queued writes, then call `closed(ud)` on the loop; after that the store may be
 * freed. Used for graceful shutdown (SIGTERM finishes in-flight writes). */
void minik_store_close_async(minik_store_t *s, void (*closed)(void *ud), void *ud);

/* ---- change feed -------------------------------------------------------------------- */

/* One change, valid only during the callback. */
typedef struct minik_store_event {
    minik_store_event_type_t type;
    int64_t rv;
    const cJSON *object;
} minik_store_event_t;

typedef void (*minik_store_watch_cb)(const minik_store_event_t *ev, void *ud);

/* Watch `kind` (NULL = every kind) in `ns` (NULL = all) that pass `filter`, starting
 * after resourceVersion `from_rv` (0 = only changes from now on). Events already in the
 * feed after from_rv are replayed first, in order, before live ones; 410 if from_rv is
 * older than the oldest retained event. Without an attached loop, callbacks run
 * synchronously after each committed write.
 * With a filter, live events follow the filtered set: an update that makes an object
 * match arrives as ADDED, one that makes it stop matching as DELETED (with the new
 * object); replayed events are filtered on their object only.
 * The replay runs inside this call (before it returns); *out is set before it starts, so
 * a callback may unwatch through it; if it does, the replay stops and *out is NULL on
 * return. Callbacks may write, watch and unwatch; every watcher still sees events in rv
 * order. */
int minik_store_watch(minik_store_t *s, const char *kind, const char *ns,
                      minik_store_filter_fn filter, void *filter_ud, int64_t from_rv,
                      minik_store_watch_cb cb, void *ud, minik_store_watch_t **out,
                      minik_error_t **err);
/* minik_store_watch for a watch whose filter only passes objects whose string field at
 * dotted `pin_path` equals `pin_value` (a fieldSelector such as spec.nodeName=node-1).
 * Live delivery then finds the watch through an index by pinned value, so an event reaches
 * only the watches pinned on its value (old or new) plus the unpinned ones: with 5,000
 * agents each watching its node's pods, an event costs a hash lookup, not 5,000 compares.
 * The filter still decides for the events that pass, and the replay of history skips the
 * events of other values in SQL, unparsed. Both strings are copied. */
int minik_store_watch_pinned(minik_store_t *s, const char *kind, const char *ns,
                             const char *pin_path, const char *pin_value,
                             minik_store_filter_fn filter, void *filter_ud, int64_t from_rv,
                             minik_store_watch_cb cb, void *ud, minik_store_watch_t **out,
                             minik_error_t **err);

/* Stop a watch; no callback runs after this returns. NULL is a no-op. */
void minik_store_unwatch(minik_store_watch_t *w);
/* Number of registered watches (for /metrics). */
size_t minik_store_watch_count(const minik_store_t *s);

/* ---- maintenance -------------------------------------------------------------------- */

/* Copy the live database to `dest` with SQLite's online backup API (consistent while
 * writes continue). `dest` is written to a temp file and renamed into place. */
int minik_store_backup(minik_store_t *s, const char *dest, minik_error_t **err);
/* Replace the database at `db_path` (which must not be open) by the backup at `src`,
 * after checking the backup's integrity and schema version. */
int minik_store_restore(const char *src, const char *db_path, minik_error_t **err);

/* Counters for /metrics and tests (an extension of the original interface). */
typedef struct minik_store_stats {
    uint64_t transactions; /* committed write transactions (one fsync each) */
    uint64_t writes;       /* successful writes (each took one resourceVersion) */
    int64_t compact_rv;    /* the feed holds events after this rv only */
    size_t pending_ops;    /* async writes queued and not yet dispatched */
} minik_store_stats_t;
void minik_store_get_stats(minik_store_t *s, minik_store_stats_t *out);

/* Count objects per kind (for /metrics): calls cb(kind, count, ud) once per kind. */
int minik_store_count_by_kind(minik_store_t *s, void (*cb)(const char *kind, int64_t n, void *ud),
                              void *ud, minik_error_t **err);

#endif
