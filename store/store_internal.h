/* Internals shared by the store's source files (not part of the store's interface).
 *
 * Two SQLite connections to one WAL file:
 * - `wdb`, the write connection, guarded by `wlock`. The loop thread uses it for the
 *   synchronous API; a thread-pool worker uses it for a group-committed batch. Holding
 *   `wlock` from BEGIN to COMMIT is what assigns resourceVersions in commit order.
 * - `rdb`, the read connection, used only on the loop thread (get, list, watch replay).
 *   In WAL mode it sees only committed data and never blocks the writer, so reads stay
 *   cheap while a batch is being fsynced.
 *
 * Committed events go to `pending` (in resourceVersion order, under `plock`, appended
 * before `wlock` is released) and are fanned out to watchers on the loop thread. */
#ifndef MINIK_STORE_INTERNAL_H
#define MINIK_STORE_INTERNAL_H

#include <pthread.h>
#include "lib/lazy_sqlite.h"
#include "lib/strmap.h"

#include "store/store.h"

/* The schema version this binary writes; see db.c for the history. */
#define MINIK_STORE_SCHEMA_VERSION 2

/* The last committed resourceVersion, in SQL. The newest event always survives compaction
 * (the retention is >= 1), so it carries the sequence; meta.rv is written only when the feed
 * is compacted. That keeps a write to two pages (object + event) instead of three. */
#define STORE_SQL_CURRENT_RV                                                                       \
    "SELECT max((SELECT value FROM meta WHERE key = 'rv'),"                                        \
    " coalesce((SELECT max(rv) FROM events), 0))"

void minik_cleanup_stmtp(sqlite3_stmt **st);
/* A prepared statement finalized at scope exit. */
#define cleanup_stmt __attribute__((cleanup(minik_cleanup_stmtp)))
void minik_cleanup_resetp(sqlite3_stmt **st);
/* A cached statement (owned by the store) reset and unbound at scope exit. */
#define cleanup_reset __attribute__((cleanup(minik_cleanup_resetp)))

/* Error from the last SQLite call on `db`, with the database path and `what` for context.
 * SQLITE_CORRUPT/NOTADB say so plainly. err->code is 500. */
int minik_store_sqlite_error(sqlite3 *db, const char *path, const char *what, minik_error_t **err);

/* One committed change waiting to be fanned out. */
typedef struct store_event {
    struct store_event *next;
    minik_store_event_type_t type;
    int64_t rv;
    char *kind;
    char *ns;
    cJSON *object; /* owned */
    /* MODIFIED only: the object before the update, as stored (JSON text), parsed on first
     * use by a filtered watch. */
    char *old_data;
    cJSON *old_object;
} store_event_t;

void store_event_free(store_event_t *ev);

/* Can `path` ("spec.nodeName") be pinned in SQL as $.path? Dotted plain member names. */
bool minik_store_pin_path_ok(const char *path);

struct minik_store_watch {
    minik_store_t *store;
    struct minik_store_watch *prev, *next;
    char *kind; /* NULL = any */
    char *ns;   /* NULL = any */
    minik_store_filter_fn filter;
    void *filter_ud;
    minik_store_watch_cb cb;
    void *ud;
    int64_t after_rv;           /* events with rv <= after_rv were replayed or predate the watch */
    char *pin_path, *pin_value; /* minik_store_watch_pinned; NULL: none */
    bool dead;                  /* unwatched during a delivery; freed when the delivery unwinds */
    /* Delivery chain: the store's unpinned list, or the pin bucket of its path and value. */
    struct minik_store_watch *dprev, *dnext;
    struct store_pin_bucket *bucket;
};

/* The watches pinned on one (path, value), in creation order. */
typedef struct store_pin_bucket {
    minik_store_watch_t *head, *tail;
} store_pin_bucket_t;

/* A pinned path in use, with how many live watches use it. */
typedef struct store_pin_path {
    char *path;
    size_t watches;
} store_pin_path_t;

/* A queued async write. */
typedef struct store_op {
    struct store_op *next;
    minik_store_op_t op;
    cJSON *obj; /* owned */
    minik_store_done_cb done;
    void *ud;
    /* Outcome, filled by the worker. */
    int status;
    cJSON *result;
    minik_error_t *err;
} store_op_t;

/* libuv handles live in their own block: it is freed by the last close callback, so the
 * store itself can be freed while the loop still has to run those callbacks. */
typedef struct store_uv {
    minik_store_t *store; /* NULL once the store is gone */
    uv_loop_t *loop;
    uv_check_t check; /* dispatches the batch gathered during this iteration */
    uv_idle_t idle;   /* keeps poll from blocking while a dispatch is due */
    uv_work_t work;
    int open_handles;
    bool closing;
} store_uv_t;

struct minik_store {
    char *path;
    bool read_only;
    int64_t retention;
    int64_t max_bytes;
    int lock_fd;

    sqlite3 *wdb;
    sqlite3 *rdb;
    pthread_mutex_t wlock;

    /* Cached statements on wdb (used under wlock). */
    sqlite3_stmt *st_obj_get;
    sqlite3_stmt *st_obj_insert;
    sqlite3_stmt *st_obj_update;
    sqlite3_stmt *st_obj_delete;
    sqlite3_stmt *st_event_insert;
    sqlite3_stmt *st_meta_set;
    sqlite3_stmt *st_compact;
    sqlite3_stmt *st_used_pages;
    int64_t page_size;
    /* Cached statements on rdb (loop thread). */
    sqlite3_stmt *st_read_get;

    /* Last committed rv and the highest rv removed from the feed; written under wlock
     * after a commit, read from the loop thread with atomic loads. */
    int64_t rv;
    int64_t compact_rv;
    /* Counters for tests and /metrics (under wlock). */
    uint64_t transactions;
    uint64_t writes;

    /* Fan-out. */
    pthread_mutex_t plock;
    store_event_t *pending_head, *pending_tail;
    int64_t delivered_rv; /* loop thread only */
    int delivering;       /* nesting depth of fan-out / replay on the loop thread */
    bool reaped_needed;   /* a watch was unwatched during a delivery */
    minik_store_watch_t *watches_head, *watches_tail; /* every watch, creation order */
    size_t watch_count;
    /* Delivery index (feed.c): unpinned watches in a list, pinned ones in buckets keyed
     * "path\x1fvalue", and the distinct pinned paths. */
    minik_store_watch_t *unpinned_head, *unpinned_tail;
    minik_strmap_t pin_buckets;
    store_pin_path_t *pin_paths;
    size_t n_pin_paths;

    /* Group commit (loop thread, except `batch` while the worker owns it). */
    store_uv_t *uv;
    store_op_t *queue_head, *queue_tail;
    size_t queue_len;
    store_op_t *batch; /* in flight on the thread pool */
    bool dispatch_armed;
    bool closing;
    void (*closed_cb)(void *ud);
    void *closed_ud;
};

/* objects.c: apply one write inside an open transaction on wdb (caller holds wlock),
 * giving it resourceVersion `rv`. On success fills *result (the stored or deleted object,
 * owned by the caller) and *ev_out (its change event). On failure the caller rolls the
 * statement's effects back (savepoint or transaction). */
int store_apply_op(minik_store_t *s, minik_store_op_t op, const cJSON *obj, int64_t rv,
                   cJSON **result, store_event_t **ev_out, minik_error_t **err);
/* Run ops[0..n) as one transaction with one fsync: each op in its own savepoint, so one
 * failing op (409, 404, 422) leaves the others in the batch intact. Fills each op's
 * outcome; on success of the commit appends the events to the fan-out queue before the
 * write lock is released (so the queue stays in rv order). Takes wlock. */
void store_run_batch(minik_store_t *s, store_op_t *ops);

/* db.c: with options.max_bytes, refuse (507) a create/update of data_len bytes that would
 * take the database past the limit. */
int store_check_room(minik_store_t *s, size_t data_len, minik_error_t **err);
/* db.c: BEGIN IMMEDIATE / COMMIT / ROLLBACK on wdb. */
int store_begin(minik_store_t *s, minik_error_t **err);
int store_commit(minik_store_t *s, minik_error_t **err);
void store_rollback(minik_store_t *s);
/* Close a write transaction at new_rv: compact the feed if it outgrew the retention
 * (recording the compaction point and rv in meta); *new_compact_rv is the compaction
 * point to publish after the commit. */
int store_finish_tx(minik_store_t *s, int64_t new_rv, int64_t *new_compact_rv, minik_error_t **err);
/* Opening helpers shared with backup.c. */
int store_check_file(const char *path, int64_t *schema_version, minik_error_t **err);
int store_take_lock(const char *path, int *out_fd, minik_error_t **err);

/* feed.c */
/* Append committed events (a list, in rv order) to the fan-out queue. */
void store_feed_push(minik_store_t *s, store_event_t *events);
/* Fan queued events out to watchers (loop thread). Re-entrant calls return at once; the
 * outer call drains what they queued. */
void store_feed_deliver(minik_store_t *s);
/* After a synchronous write: deliver now (no loop) or on the loop's next turn. */
void store_feed_kick(minik_store_t *s);
void store_feed_free_all(minik_store_t *s);

/* commit.c */
void store_commit_detach(minik_store_t *s);
/* Have the loop's check phase deliver queued events (and dispatch queued writes). */
void store_commit_arm(minik_store_t *s);

#endif
