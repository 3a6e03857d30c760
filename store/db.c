/* Opening the database: lock, integrity check, WAL, schema migrations, closing. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/store_internal.h"

/* How long a connection waits for another connection's lock (the backup CLI, the other
 * connection of this store during a checkpoint) before reporting SQLITE_BUSY. */
#define BUSY_TIMEOUT_MS 5000

/* Schema history. Each step runs in its own transaction together with the user_version
 * bump, so a crash mid-migration leaves the previous version intact.
 * 1: objects keyed by (kind, namespace, name), the change feed, a one-row sequence.
 * 2: the sequence moves into a key/value `meta` table that also records how far the feed
 *    has been compacted (so a 410 survives restarts); events get a (kind, rv) index for
 *    replaying one kind. */
static const char *const migrations[MINIK_STORE_SCHEMA_VERSION] = {
    "CREATE TABLE objects (kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,"
    "  rv INTEGER NOT NULL, uid TEXT NOT NULL, created TEXT NOT NULL, data TEXT NOT NULL,"
    "  PRIMARY KEY (kind, namespace, name)) WITHOUT ROWID;"
    "CREATE TABLE events (rv INTEGER PRIMARY KEY, type TEXT NOT NULL, kind TEXT NOT NULL,"
    "  namespace TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL);"
    "CREATE TABLE sequence (id INTEGER PRIMARY KEY CHECK (id = 1), rv INTEGER NOT NULL);"
    "INSERT INTO sequence VALUES (1, 0);",

    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO meta SELECT 'rv', rv FROM sequence;"
    "INSERT INTO meta VALUES ('compact_rv',"
    "  (SELECT coalesce(min(rv) - 1, (SELECT rv FROM sequence)) FROM events));"
    "DROP TABLE sequence;"
    "CREATE INDEX events_kind ON events (kind, rv);",
};

void minik_cleanup_stmtp(sqlite3_stmt **st)
{
    sqlite3_finalize(*st);
    *st = NULL;
}

void minik_cleanup_resetp(sqlite3_stmt **st)
{
    if (*st) {
        sqlite3_reset(*st);
        sqlite3_clear_bindings(*st);
    }
    *st = NULL;
}

int minik_store_sqlite_error(sqlite3 *db, const char *path, const char *what, minik_error_t **err)
{
    int rc = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
    const char *msg = db ? sqlite3_errmsg(db) : "out of memory";
    int primary = rc & 0xff;
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
        return minik_error_set_code(err, 500, 0,
                                    "database \"%s\" is corrupt (%s) while %s; refusing to use "
                                    "it: restore a backup with `minik restore` or move it away",
                                    path, msg, what);
    if (primary == SQLITE_FULL)
        return minik_error_set_code(err, 507, 0,
                                    "%s: database \"%s\" is full (%s): delete objects or free "
                                    "disk space",
                                    what, path, msg);
    int errnum = 0;
    if (primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN)
        errnum = db ? sqlite3_system_errno(db) : 0;
    if (errnum > 0)
        return minik_error_set_code(err, 500, errnum, "%s: database \"%s\": %s", what, path, msg);
    return minik_error_set_code(err, 500, 0, "%s: database \"%s\": %s", what, path, msg);
}

static int exec(sqlite3 *db, const char *path, const char *sql, minik_error_t **err)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return minik_store_sqlite_error(db, path, sql, err);
    return 0;
}

static int query_int(sqlite3 *db, const char *path, const char *sql, int64_t *out,
                     minik_error_t **err)
{
    cleanup_stmt sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return minik_store_sqlite_error(db, path, sql, err);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        return 0;
    }
    if (rc == SQLITE_DONE)
        return minik_error_set_code(err, 500, 0, "%s: database \"%s\": no result", sql, path);
    return minik_store_sqlite_error(db, path, sql, err);
}

static int open_conn(const char *path, bool read_only, sqlite3 **out, minik_error_t **err)
{
    sqlite3 *db = NULL;
    int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        int r = minik_store_sqlite_error(db, path, "open", err);
        sqlite3_close(db);
        return r;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    *out = db;
    return 0;
}

/* PRAGMA quick_check: the structural checks of integrity_check without the (slow) index
 * content cross-check. Anything but "ok" refuses the file; it is never reset, because the
 * user's only copy of the cluster state may be recoverable by hand. */
static int check_integrity(sqlite3 *db, const char *path, minik_error_t **err)
{
    cleanup_stmt sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK)
        return minik_store_sqlite_error(db, path, "checking integrity", err);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return minik_store_sqlite_error(db, path, "checking integrity", err);
    const char *res = (const char *)sqlite3_column_text(st, 0);
    if (res == NULL || strcmp(res, "ok") != 0)
        return minik_error_set_code(err, 500, 0,
                                    "database \"%s\" is corrupt (integrity check: %s); refusing "
                                    "to use it: restore a backup with `minik restore` or move "
                                    "it away",
                                    path, res ? res : "no result");
    return 0;
}

/* Refuse schemas this binary cannot read, and files that are SQLite but not minik's. */
static int check_schema(sqlite3 *db, const char *path, int64_t *version, minik_error_t **err)
{
    int r = query_int(db, path, "PRAGMA user_version", version, err);
    if (r < 0)
        return r;
    if (*version > MINIK_STORE_SCHEMA_VERSION)
        return minik_error_set_code(err, 500, 0,
                                    "database \"%s\": database schema version %lld is newer "
                                    "than this minik supports (%d); upgrade minik",
                                    path, (long long)*version, MINIK_STORE_SCHEMA_VERSION);
    if (*version == 0) {
        int64_t tables = 0;
        r = query_int(db, path, "SELECT count(*) FROM sqlite_schema", &tables, err);
        if (r < 0)
            return r;
        if (tables > 0)
            return minik_error_set_code(err, 500, 0,
                                        "database \"%s\" is not a minik database (it has "
                                        "tables but no minik schema version)",
                                        path);
    }
    return 0;
}

int store_check_file(const char *path, int64_t *schema_version, minik_error_t **err)
{
    sqlite3 *db = NULL;
    int r = open_conn(path, true, &db, err);
    if (r < 0)
        return r;
    int64_t version = 0;
    r = check_integrity(db, path, err);
    if (r == 0)
        r = check_schema(db, path, &version, err);
    if (r == 0 && version == 0)
        r = minik_error_set_code(err, 500, 0, "\"%s\" is not a minik database (empty)", path);
    sqlite3_close(db);
    if (r == 0 && schema_version)
        *schema_version = version;
    return r;
}

static int migrate(sqlite3 *db, const char *path, int64_t from, minik_error_t **err)
{
    for (int64_t v = from; v < MINIK_STORE_SCHEMA_VERSION; v++) {
        int r = exec(db, path, "BEGIN IMMEDIATE", err);
        if (r < 0)
            return r;
        cleanup_free char *bump = xasprintf("PRAGMA user_version = %lld", (long long)v + 1);
        r = exec(db, path, migrations[v], err);
        if (r == 0)
            r = exec(db, path, bump, err);
        if (r == 0)
            r = exec(db, path, "COMMIT", err);
        if (r < 0) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL); /* best effort; the error is r */
            return minik_error_wrap(err, "migrating schema %lld -> %lld", (long long)v,
                                    (long long)v + 1);
        }
    }
    return 0;
}

/* An advisory lock beside the database: one process at a time writes it, and
 * `minik restore` can tell that a server is running. flock is released by the kernel when
 * the process dies, so kill -9 leaves nothing stale. */
static int take_lock(const char *path, int *out_fd, minik_error_t **err)
{
    cleanup_free char *lock_path = xasprintf("%s.lock", path);
    cleanup_close int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return minik_error_set_code(err, 500, errno, "open lock file \"%s\"", lock_path);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            return minik_error_set_code(err, 409, 0,
                                        "database \"%s\" is in use by another minik process "
                                        "(lock \"%s\" is held)",
                                        path, lock_path);
        return minik_error_set_code(err, 500, errno, "lock \"%s\"", lock_path);
    }
    *out_fd = steal_fd(&fd);
    return 0;
}

int store_take_lock(const char *path, int *out_fd, minik_error_t **err)
{
    return take_lock(path, out_fd, err);
}

static int prepare(minik_store_t *s, sqlite3 *db, const char *sql, sqlite3_stmt **st,
                   minik_error_t **err)
{
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return minik_store_sqlite_error(db, s->path, sql, err);
    return 0;
}

static int prepare_all(minik_store_t *s, minik_error_t **err)
{
    int r =
        prepare(s, s->rdb, "SELECT data FROM objects WHERE kind = ? AND namespace = ? AND name = ?",
                &s->st_read_get, err);
    if (r < 0 || s->read_only)
        return r;
    struct {
        const char *sql;
        sqlite3_stmt **st;
    } w[] = {
        {"SELECT rv, uid, created, data FROM objects WHERE kind = ? AND namespace = ? AND name = ?",
         &s->st_obj_get},
        {"INSERT INTO objects (kind, namespace, name, rv, uid, created, data) "
         "VALUES (?, ?, ?, ?, ?, ?, ?)",
         &s->st_obj_insert},
        {"UPDATE objects SET rv = ?4, data = ?5 WHERE kind = ?1 AND namespace = ?2 AND name = ?3",
         &s->st_obj_update},
        {"DELETE FROM objects WHERE kind = ? AND namespace = ? AND name = ?", &s->st_obj_delete},
        {"INSERT INTO events (rv, type, kind, namespace, name, data) VALUES (?, ?, ?, ?, ?, ?)",
         &s->st_event_insert},
        {"UPDATE meta SET value = ?2 WHERE key = ?1", &s->st_meta_set},
        {"DELETE FROM events WHERE rv <= ?", &s->st_compact},
        {"SELECT (SELECT page_count FROM pragma_page_count) -"
         " (SELECT freelist_count FROM pragma_freelist_count)",
         &s->st_used_pages},
    };
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        r = prepare(s, s->wdb, w[i].sql, w[i].st, err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int open_store(minik_store_t *s, minik_error_t **err)
{
    int r;
    if (!s->read_only) {
        r = take_lock(s->path, &s->lock_fd, err);
        if (r < 0)
            return r;
    } else if (access(s->path, F_OK) < 0) {
        return minik_error_set_code(err, 404, errno, "open database \"%s\"", s->path);
    }

    sqlite3 *first = NULL;
    r = open_conn(s->path, s->read_only, &first, err);
    if (r < 0)
        return r;
    if (s->read_only)
        s->rdb = first;
    else
        s->wdb = first;

    r = check_integrity(first, s->path, err);
    if (r < 0)
        return r;
    int64_t version = 0;
    r = check_schema(first, s->path, &version, err);
    if (r < 0)
        return r;

    if (s->read_only) {
        if (version < MINIK_STORE_SCHEMA_VERSION)
            return minik_error_set_code(err, 500, 0,
                                        "database \"%s\" has schema version %lld; open it "
                                        "read-write once to migrate it to %d",
                                        s->path, (long long)version, MINIK_STORE_SCHEMA_VERSION);
    } else {
        /* WAL: readers never block the writer, and a commit is one append + one fsync.
         * synchronous=FULL fsyncs the WAL at every commit, so an acknowledged write
         * survives power loss, not just a crash of the process. */
        {
            cleanup_stmt sqlite3_stmt *st = NULL;
            if (sqlite3_prepare_v2(s->wdb, "PRAGMA journal_mode = WAL", -1, &st, NULL) !=
                    SQLITE_OK ||
                sqlite3_step(st) != SQLITE_ROW)
                return minik_store_sqlite_error(s->wdb, s->path, "enabling WAL", err);
            const char *mode = (const char *)sqlite3_column_text(st, 0);
            if (mode == NULL || strcmp(mode, "wal") != 0)
                return minik_error_set_code(err, 500, 0,
                                            "database \"%s\": cannot enable WAL (journal mode "
                                            "stays \"%s\")",
                                            s->path, mode ? mode : "?");
        }
        r = exec(s->wdb, s->path, "PRAGMA synchronous = FULL", err);
        if (r < 0)
            return r;
        /* The acknowledgement guarantee rests on this; never run without it. */
        int64_t sync_level = 0;
        r = query_int(s->wdb, s->path, "PRAGMA synchronous", &sync_level, err);
        if (r < 0)
            return r;
        if (sync_level != 2)
            return minik_error_set_code(err, 500, 0,
                                        "database \"%s\": synchronous=FULL did not take effect "
                                        "(level %lld)",
                                        s->path, (long long)sync_level);
        r = migrate(s->wdb, s->path, version, err);
        if (r < 0)
            return r;
        r = query_int(s->wdb, s->path, "PRAGMA page_size", &s->page_size, err);
        if (r < 0)
            return r;
        if (s->max_bytes > 0) {
            /* The hard limit sits above the one creates and updates are held to (see
             * store_check_room), so that deletes, which append an event while freeing the
             * object's pages, still work in a full database. */
            int64_t headroom = s->max_bytes / 8 > 256 * 1024 ? s->max_bytes / 8 : 256 * 1024;
            cleanup_free char *sql =
                xasprintf("PRAGMA max_page_count = %lld",
                          (long long)((s->max_bytes + headroom) / s->page_size));
            r = exec(s->wdb, s->path, sql, err);
            if (r < 0)
                return r;
        }
        r = open_conn(s->path, false, &s->rdb, err);
        if (r < 0)
            return r;
        r = exec(s->rdb, s->path, "PRAGMA query_only = 1", err);
        if (r < 0)
            return r;
    }

    r = query_int(s->rdb, s->path, STORE_SQL_CURRENT_RV, &s->rv, err);
    if (r < 0)
        return r;
    r = query_int(s->rdb, s->path, "SELECT value FROM meta WHERE key = 'compact_rv'",
                  &s->compact_rv, err);
    if (r < 0)
        return r;
    s->delivered_rv = s->rv;
    return prepare_all(s, err);
}

int minik_store_open(const char *path, const minik_store_options_t *opts, minik_store_t **out,
                     minik_error_t **err)
{
    minik_store_t *s = xcalloc(1, sizeof *s);
    s->path = xstrdup(path);
    s->lock_fd = -1;
    s->read_only = opts && opts->read_only;
    s->retention = opts && opts->event_retention > 0 ? opts->event_retention : 10000;
    s->max_bytes = opts && opts->max_bytes > 0 ? opts->max_bytes : 0;
    pthread_mutex_init(&s->wlock, NULL);
    pthread_mutex_init(&s->plock, NULL);
    int r = open_store(s, err);
    if (r < 0) {
        minik_store_free(s);
        return r;
    }
    *out = s;
    return 0;
}

void minik_store_free(minik_store_t *s)
{
    if (s == NULL)
        return;
    store_commit_detach(s);
    store_feed_free_all(s);
    sqlite3_stmt **stmts[] = {&s->st_obj_get,    &s->st_obj_insert,   &s->st_obj_update,
                              &s->st_obj_delete, &s->st_event_insert, &s->st_meta_set,
                              &s->st_compact,    &s->st_used_pages,   &s->st_read_get};
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++)
        sqlite3_finalize(*stmts[i]);
    /* Closing the last connection checkpoints the WAL into the main file and removes it.
     * Close fails only with a statement left unfinalized: a bug worth a loud line. */
    int rc_read = sqlite3_close(s->rdb), rc_write = sqlite3_close(s->wdb);
    if (rc_read != SQLITE_OK || rc_write != SQLITE_OK)
        minik_log_warn("store: database left open (unfinalized statement)", "path", s->path, NULL);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    pthread_mutex_destroy(&s->wlock);
    pthread_mutex_destroy(&s->plock);
    free(s->path);
    free(s);
}

int64_t minik_store_current_rv(const minik_store_t *s)
{
    return __atomic_load_n(&s->rv, __ATOMIC_ACQUIRE);
}

void minik_store_get_stats(minik_store_t *s, minik_store_stats_t *out)
{
    pthread_mutex_lock(&s->wlock);
    out->transactions = s->transactions;
    out->writes = s->writes;
    pthread_mutex_unlock(&s->wlock);
    out->compact_rv = __atomic_load_n(&s->compact_rv, __ATOMIC_ACQUIRE);
    out->pending_ops = s->queue_len;
}

int store_check_room(minik_store_t *s, size_t data_len, minik_error_t **err)
{
    if (s->max_bytes <= 0)
        return 0;
    cleanup_reset sqlite3_stmt *st = s->st_used_pages;
    if (sqlite3_step(st) != SQLITE_ROW)
        return minik_store_sqlite_error(s->wdb, s->path, "checking the size limit", err);
    int64_t used = sqlite3_column_int64(st, 0) * s->page_size;
    /* The object is written twice (its row and its change event), plus page overhead. */
    int64_t need = 2 * (int64_t)data_len + 2 * s->page_size;
    if (used + need > s->max_bytes)
        return minik_error_set_code(err, 507, 0,
                                    "database \"%s\" is full (%lld of %lld bytes used): delete "
                                    "objects or raise the limit",
                                    s->path, (long long)used, (long long)s->max_bytes);
    return 0;
}

int store_begin(minik_store_t *s, minik_error_t **err)
{
    if (s->read_only)
        return minik_error_set_code(err, 500, 0, "database \"%s\" is open read-only", s->path);
    return exec(s->wdb, s->path, "BEGIN IMMEDIATE", err);
}

int store_commit(minik_store_t *s, minik_error_t **err)
{
    int r = exec(s->wdb, s->path, "COMMIT", err);
    if (r < 0)
        return r;
    s->transactions++;
    return 0;
}

void store_rollback(minik_store_t *s)
{
    /* Fails only when no transaction is open (SQLite already rolled back after an I/O
     * error); either way the transaction is gone, which is what the caller wants. */
    sqlite3_exec(s->wdb, "ROLLBACK", NULL, NULL, NULL);
}

static int set_meta(minik_store_t *s, const char *key, int64_t value, minik_error_t **err)
{
    cleanup_reset sqlite3_stmt *st = s->st_meta_set;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, value);
    if (sqlite3_step(st) != SQLITE_DONE)
        return minik_store_sqlite_error(s->wdb, s->path, "updating meta", err);
    return 0;
}

int store_finish_tx(minik_store_t *s, int64_t new_rv, int64_t *new_compact_rv, minik_error_t **err)
{
    *new_compact_rv = s->compact_rv;
    /* Compact in slices of 1/16 of the retention so the delete rides along with every
     * 16th-of-retention write instead of touching the feed's first page at every write. */
    int64_t slack = s->retention / 16;
    if (new_rv - s->compact_rv <= s->retention + slack)
        return 0;
    int64_t upto = new_rv - s->retention;
    cleanup_reset sqlite3_stmt *st = s->st_compact;
    sqlite3_bind_int64(st, 1, upto);
    if (sqlite3_step(st) != SQLITE_DONE)
        return minik_store_sqlite_error(s->wdb, s->path, "compacting the change feed", err);
    int r = set_meta(s, "compact_rv", upto, err);
    if (r == 0)
        r = set_meta(s, "rv", new_rv, err);
    if (r < 0)
        return r;
    *new_compact_rv = upto;
    return 0;
}
