/* Backup and restore with SQLite's online backup API. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "store/store_internal.h"

static int fsync_path(const char *path, bool dir, minik_error_t **err)
{
    cleanup_close int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
    if (fd < 0)
        return minik_error_set_code(err, 500, errno, "open \"%s\"", path);
    if (fsync(fd) < 0)
        return minik_error_set_code(err, 500, errno, "fsync \"%s\"", path);
    return 0;
}

static int fsync_parent(const char *path, minik_error_t **err)
{
    cleanup_free char *copy = xstrdup(path);
    return fsync_path(dirname(copy), true, err);
}

/* Copy the database behind `src` into a new single-file database at `dest_tmp`
 * (rollback-journal mode, so the copy needs no -wal file beside it) and fsync it. */
static int copy_db(sqlite3 *src, const char *src_name, const char *dest_tmp, minik_error_t **err)
{
    unlink(dest_tmp); /* a leftover of an interrupted run; ENOENT is the normal case */
    sqlite3 *dst = NULL;
    int rc = sqlite3_open_v2(dest_tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    int r = 0;
    if (rc != SQLITE_OK) {
        r = minik_store_sqlite_error(dst, dest_tmp, "creating the copy", err);
        goto out;
    }
    /* One step of all pages: a single read transaction on the source, hence a consistent
     * snapshot even while the server keeps writing through its own connection. */
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (b == NULL) {
        r = minik_store_sqlite_error(dst, dest_tmp, "starting the backup", err);
        goto out;
    }
    do {
        rc = sqlite3_backup_step(b, -1);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            sqlite3_sleep(10);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        r = minik_store_sqlite_error(sqlite3_errcode(dst) != SQLITE_OK ? dst : src,
                                     sqlite3_errcode(dst) != SQLITE_OK ? dest_tmp : src_name,
                                     "copying the database", err);
        goto out;
    }
    if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK) {
        r = minik_store_sqlite_error(dst, dest_tmp, "finishing the copy", err);
        goto out;
    }
out:
    if (sqlite3_close(dst) != SQLITE_OK && r == 0)
        r = minik_error_set_code(err, 500, 0, "closing \"%s\" failed", dest_tmp);
    if (r == 0)
        r = fsync_path(dest_tmp, false, err);
    if (r < 0)
        unlink(dest_tmp);
    return r;
}

int minik_store_backup(minik_store_t *s, const char *dest, minik_error_t **err)
{
    cleanup_free char *tmp = xasprintf("%s.tmp-%d", dest, (int)getpid());
    int r = copy_db(s->rdb, s->path, tmp, err);
    if (r < 0)
        return minik_error_wrap(err, "backup to \"%s\"", dest);
    if (rename(tmp, dest) < 0) {
        int e = errno;
        unlink(tmp);
        return minik_error_set_code(err, 500, e, "backup: rename \"%s\" to \"%s\"", tmp, dest);
    }
    return fsync_parent(dest, err);
}

static int restore_locked(const char *src, const char *db_path, minik_error_t **err)
{
    if (access(src, R_OK) < 0)
        return minik_error_set_code(err, 404, errno, "restore: backup \"%s\"", src);
    int64_t version = 0;
    int r = store_check_file(src, &version, err);
    if (r < 0)
        return minik_error_wrap(err, "restore: backup \"%s\" is unusable", src);

    sqlite3 *sdb = NULL;
    if (sqlite3_open_v2(src, &sdb, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        r = minik_store_sqlite_error(sdb, src, "restore: opening the backup", err);
        sqlite3_close(sdb);
        return r;
    }
    cleanup_free char *tmp = xasprintf("%s.restore-%d", db_path, (int)getpid());
    r = copy_db(sdb, src, tmp, err);
    sqlite3_close(sdb);
    if (r < 0)
        return minik_error_wrap(err, "restore from \"%s\"", src);

    /* The old database's WAL and shared-memory index must not be applied to the new file:
     * SQLite would replay the old frames over the restored pages. */
    const char *suffixes[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        cleanup_free char *side = xasprintf("%s%s", db_path, suffixes[i]);
        if (unlink(side) < 0 && errno != ENOENT) {
            int e = errno;
            unlink(tmp);
            return minik_error_set_code(err, 500, e, "restore: remove \"%s\"", side);
        }
    }
    if (rename(tmp, db_path) < 0) {
        int e = errno;
        unlink(tmp);
        return minik_error_set_code(err, 500, e, "restore: rename \"%s\" to \"%s\"", tmp, db_path);
    }
    return fsync_parent(db_path, err);
}

int minik_store_restore(const char *src, const char *db_path, minik_error_t **err)
{
    /* Holding the store's lock keeps a server from starting on the half-replaced file,
     * and fails if one is running now. */
    cleanup_close int lock_fd = -1;
    int r = store_take_lock(db_path, &lock_fd, err);
    if (r < 0)
        return minik_error_wrap(err, "restore refused (stop the minik server first)");
    return restore_locked(src, db_path, err);
}
