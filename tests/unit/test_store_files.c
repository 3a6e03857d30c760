/* Store: the database file: integrity, schema versions, locking, backup/restore, idle I/O. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/xalloc.h"
#include "store/store.h"
#include "tests/unit/store_helpers.h"

typedef struct fixture {
    char *dir;
    char *path;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = xcalloc(1, sizeof *f);
    f->dir = th_tmpdir();
    f->path = th_db_path(f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    free(f->path);
    th_rmdir(f->dir);
    free(f);
    return 0;
}

static minik_store_t *open_ok(const char *path)
{
    minik_store_t *s = NULL;
    minik_error_t *err = NULL;
    if (minik_store_open(path, NULL, &s, &err) < 0)
        fail_msg("open %s: %s", path, err->msg);
    return s;
}

/* Fill a store with n ConfigMaps carrying ~1 KiB of data each. */
static void fill(minik_store_t *s, int n, const char *prefix)
{
    char big[1024];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s%04d", prefix, i);
        cleanup_cjson cJSON *o = th_obj("ConfigMap", "default", name, NULL);
        cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "data"), "blob", big);
        minik_error_t *err = NULL;
        if (minik_store_create(s, o, NULL, &err) < 0)
            fail_msg("create: %s", err->msg);
    }
}

static char *slurp(const char *path, size_t *len)
{
    char *data = NULL;
    minik_error_t *err = NULL;
    assert_int_equal(minik_file_read(path, 64 << 20, &data, len, &err), 0);
    return data;
}

static void database_is_in_wal_mode(void **state)
{
    fixture_t *f = *state;
    minik_store_t *s = open_ok(f->path);
    fill(s, 1, "one");
    /* Checked from a separate, plain SQLite connection: the mode is in the file. */
    assert_int_equal(
        th_sql_int(f->path, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"),
        1);
    cleanup_free char *wal = xasprintf("%s-wal", f->path);
    assert_int_equal(access(wal, F_OK), 0);
    minik_store_free(s);
}

static void garbage_file_is_refused_and_left_alone(void **state)
{
    fixture_t *f = *state;
    char garbage[8192];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (char)(i * 7 + 3);
    minik_error_t *werr = NULL;
    assert_int_equal(minik_file_write_atomic(f->path, garbage, sizeof garbage, 0600, &werr), 0);

    minik_store_t *s = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_true(minik_store_open(f->path, NULL, &s, &err) < 0);
    assert_null(s);
    assert_int_equal(err->code, 500);
    assert_non_null(strstr(err->msg, f->path));
    assert_non_null(strstr(err->msg, "is corrupt"));
    assert_non_null(strstr(err->msg, "minik restore"));
    /* Never reset: the bytes are exactly what they were. */
    size_t len = 0;
    cleanup_free char *after = slurp(f->path, &len);
    assert_int_equal(len, sizeof garbage);
    assert_memory_equal(after, garbage, sizeof garbage);
}

static void damaged_page_is_refused(void **state)
{
    fixture_t *f = *state;
    minik_store_t *s = open_ok(f->path);
    fill(s, 200, "cm");
    minik_store_free(s); /* checkpoints: everything is in the main file now */
    assert_int_equal(access(f->path, F_OK), 0);

    /* Scribble over the middle of a b-tree page, as a failing SD card might. */
    int fd = open(f->path, O_RDWR);
    assert_true(fd >= 0);
    char junk[4096 * 3];
    memset(junk, 0xA5, sizeof junk);
    /* Pages 3-5, headers included: b-tree pages of the objects and events tables. */
    assert_int_equal(pwrite(fd, junk, sizeof junk, 4096 * 2), (ssize_t)sizeof junk);
    close(fd);
    size_t before_len = 0;
    cleanup_free char *before = slurp(f->path, &before_len);

    cleanup_error minik_error_t *err = NULL;
    assert_true(minik_store_open(f->path, NULL, &s, &err) < 0);
    assert_non_null(strstr(err->msg, f->path));
    assert_non_null(strstr(err->msg, "is corrupt"));
    size_t after_len = 0;
    cleanup_free char *after = slurp(f->path, &after_len);
    assert_int_equal(after_len, before_len);
    assert_memory_equal(after, before, before_len);
}

static void newer_schema_is_refused(void **state)
{
    fixture_t *f = *state;
    minik_store_free(open_ok(f->path));
    th_sql(f->path, "PRAGMA user_version = 7");
    minik_store_t *s = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_true(minik_store_open(f->path, NULL, &s, &err) < 0);
    assert_non_null(strstr(err->msg, "database schema version 7 is newer than this minik "
                                     "supports (2); upgrade minik"));
    assert_non_null(strstr(err->msg, f->path));
    assert_int_equal(th_sql_int(f->path, "PRAGMA user_version"), 7); /* untouched */
}

static void foreign_sqlite_file_is_refused(void **state)
{
    fixture_t *f = *state;
    th_sql(f->path, "CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)");
    minik_store_t *s = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_true(minik_store_open(f->path, NULL, &s, &err) < 0);
    assert_non_null(strstr(err->msg, "is not a minik database"));
    assert_int_equal(th_sql_int(f->path, "SELECT count(*) FROM sqlite_schema WHERE name = "
                                         "'objects'"),
                     0);
}

/* Schema version 1, written by hand the way the first minik release laid it out. */
static const char v1_schema[] =
    "CREATE TABLE objects (kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,"
    "  rv INTEGER NOT NULL, uid TEXT NOT NULL, created TEXT NOT NULL, data TEXT NOT NULL,"
    "  PRIMARY KEY (kind, namespace, name)) WITHOUT ROWID;"
    "CREATE TABLE events (rv INTEGER PRIMARY KEY, type TEXT NOT NULL, kind TEXT NOT NULL,"
    "  namespace TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL);"
    "CREATE TABLE sequence (id INTEGER PRIMARY KEY CHECK (id = 1), rv INTEGER NOT NULL);"
    "INSERT INTO objects VALUES ('Pod', 'default', 'old', 3, 'u-1', '2025-01-01T00:00:00Z',"
    "  '{\"kind\":\"Pod\",\"metadata\":{\"name\":\"old\",\"namespace\":\"default\","
    "\"resourceVersion\":\"3\",\"uid\":\"u-1\",\"creationTimestamp\":\"2025-01-01T00:00:00Z\"}}');"
    "INSERT INTO events VALUES (2, 'ADDED', 'Pod', 'default', 'old',"
    "  '{\"kind\":\"Pod\",\"metadata\":{\"name\":\"old\",\"namespace\":\"default\","
    "\"resourceVersion\":\"2\"}}');"
    "INSERT INTO events VALUES (3, 'MODIFIED', 'Pod', 'default', 'old',"
    "  '{\"kind\":\"Pod\",\"metadata\":{\"name\":\"old\",\"namespace\":\"default\","
    "\"resourceVersion\":\"3\"}}');"
    "INSERT INTO sequence VALUES (1, 3);"
    "PRAGMA user_version = 1;";

static void older_schema_is_migrated_forward(void **state)
{
    fixture_t *f = *state;
    th_sql(f->path, v1_schema);

    /* Read-only opens cannot migrate, and say so. */
    minik_store_options_t ro = {.read_only = true};
    minik_store_t *s = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_true(minik_store_open(f->path, &ro, &s, &err) < 0);
    assert_non_null(strstr(err->msg, "schema version 1"));
    minik_error_clear(&err);

    s = open_ok(f->path);
    assert_int_equal(th_sql_int(f->path, "PRAGMA user_version"), 2);
    assert_int_equal(minik_store_current_rv(s), 3);
    cleanup_cjson cJSON *old = NULL;
    assert_int_equal(minik_store_get(s, "Pod", "default", "old", &old, &err), 0);
    assert_string_equal(th_meta(old, "uid"), "u-1");

    /* The feed kept its events; event 1 had been compacted, so the migration records
     * compact_rv 1: a watch from 1 replays 2 and 3. */
    th_recorder_t rec = {0};
    minik_store_watch_t *w = NULL;
    assert_int_equal(minik_store_watch(s, "Pod", NULL, NULL, NULL, 1, th_record_cb, &rec, &w, &err),
                     0);
    assert_int_equal(rec.n, 2);
    assert_int_equal(rec.ev[0].rv, 2);
    assert_int_equal(rec.ev[1].rv, 3);
    minik_store_unwatch(w);

    cleanup_cjson cJSON *n = th_obj("Pod", "default", "new", NULL);
    cleanup_cjson cJSON *created = NULL;
    assert_int_equal(minik_store_create(s, n, &created, &err), 0);
    assert_int_equal(th_rv(created), 4);
    minik_store_free(s);
    /* And it opens again at version 2 with the sequence intact. */
    s = open_ok(f->path);
    assert_int_equal(minik_store_current_rv(s), 4);
    minik_store_free(s);
}

static void failed_migration_leaves_the_old_version(void **state)
{
    fixture_t *f = *state;
    th_sql(f->path, v1_schema);
    /* Something in the way of step 1 -> 2 (a table named like the one it creates). */
    th_sql(f->path, "CREATE TABLE meta (x)");
    minik_store_t *s = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_true(minik_store_open(f->path, NULL, &s, &err) < 0);
    assert_non_null(strstr(err->msg, "migrating schema 1 -> 2"));
    assert_non_null(strstr(err->msg, "table meta already exists"));
    /* The step was one transaction: version 1 and its data are intact. */
    assert_int_equal(th_sql_int(f->path, "PRAGMA user_version"), 1);
    assert_int_equal(th_sql_int(f->path, "SELECT rv FROM sequence"), 3);
    assert_int_equal(th_sql_int(f->path, "SELECT count(*) FROM objects"), 1);
}

static void restoring_an_older_backup_migrates_it(void **state)
{
    fixture_t *f = *state;
    cleanup_free char *bak = xasprintf("%s/v1-backup.db", f->dir);
    th_sql(bak, v1_schema);
    minik_error_t *err = NULL;
    assert_int_equal(minik_store_restore(bak, f->path, &err), 0);
    minik_store_t *s = open_ok(f->path);
    assert_int_equal(th_sql_int(f->path, "PRAGMA user_version"), 2);
    assert_int_equal(minik_store_current_rv(s), 3);
    cleanup_cjson cJSON *old = NULL;
    assert_int_equal(minik_store_get(s, "Pod", "default", "old", &old, &err), 0);
    minik_store_free(s);
}

static void second_writer_is_locked_out_and_read_only_works(void **state)
{
    fixture_t *f = *state;
    minik_store_t *s = open_ok(f->path);
    fill(s, 3, "x");
    minik_store_t *s2 = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_true(minik_store_open(f->path, NULL, &s2, &err) < 0);
    assert_int_equal(err->code, 409);
    assert_non_null(strstr(err->msg, "is in use by another minik process"));
    minik_error_clear(&err);

    /* A read-only open (what `minik backup` does) works beside the writer. */
    minik_store_options_t ro = {.read_only = true};
    assert_int_equal(minik_store_open(f->path, &ro, &s2, &err), 0);
    cleanup_cjson cJSON *items = NULL;
    assert_int_equal(minik_store_list(s2, "ConfigMap", NULL, NULL, NULL, &items, NULL, &err), 0);
    assert_int_equal(cJSON_GetArraySize(items), 3);
    cleanup_cjson cJSON *o = th_obj("Pod", "default", "nope", NULL);
    assert_true(minik_store_create(s2, o, NULL, &err) < 0);
    assert_non_null(strstr(err->msg, "read-only"));
    minik_store_free(s2);
    minik_store_free(s);

    /* Once the writer is gone the lock is free again. */
    minik_store_free(open_ok(f->path));
}

static void backup_then_restore_keeps_every_object(void **state)
{
    fixture_t *f = *state;
    minik_store_t *s = open_ok(f->path);
    fill(s, 300, "cm");
    cleanup_free char *bak = xasprintf("%s/backup.db", f->dir);
    minik_error_t *err = NULL;
    /* Taken while the store is open and has uncheckpointed writes in its WAL. */
    assert_int_equal(minik_store_backup(s, bak, &err), 0);
    int64_t rv = minik_store_current_rv(s);
    fill(s, 5, "after-backup");
    /* Restoring over a running store's file is refused. */
    cleanup_error minik_error_t *rerr = NULL;
    assert_true(minik_store_restore(bak, f->path, &rerr) < 0);
    assert_non_null(strstr(rerr->msg, "stop the minik server first"));
    assert_non_null(strstr(rerr->msg, "in use"));
    minik_error_clear(&rerr);
    minik_store_free(s);

    /* The backup is one self-contained file. */
    cleanup_free char *bak_wal = xasprintf("%s-wal", bak);
    assert_true(access(bak_wal, F_OK) < 0);
    assert_int_equal(th_sql_int(bak, "SELECT count(*) FROM objects"), 300);

    assert_int_equal(minik_store_restore(bak, f->path, &rerr), 0);
    s = open_ok(f->path);
    assert_int_equal(minik_store_current_rv(s), rv);
    cleanup_cjson cJSON *items = NULL;
    assert_int_equal(minik_store_list(s, "ConfigMap", NULL, NULL, NULL, &items, NULL, &err), 0);
    assert_int_equal(cJSON_GetArraySize(items), 300);
    for (int i = 0; i < 300; i++) {
        char name[16];
        snprintf(name, sizeof name, "cm%04d", i);
        assert_string_equal(th_meta(cJSON_GetArrayItem(items, i), "name"), name);
    }
    cJSON *later = NULL;
    assert_true(minik_store_get(s, "ConfigMap", "default", "after-backup0000", &later, &rerr) < 0);
    assert_int_equal(rerr->code, 404);
    minik_store_free(s);
}

static void restore_refuses_a_bad_backup_and_keeps_the_database(void **state)
{
    fixture_t *f = *state;
    minik_store_t *s = open_ok(f->path);
    fill(s, 10, "keep");
    minik_store_free(s);

    cleanup_free char *bad = xasprintf("%s/bad.db", f->dir);
    minik_error_t *werr = NULL;
    const char junk[] = "this is not a database, it is a shopping list\n";
    assert_int_equal(minik_file_write_atomic(bad, junk, sizeof junk, 0600, &werr), 0);
    cleanup_error minik_error_t *err = NULL;
    assert_true(minik_store_restore(bad, f->path, &err) < 0);
    assert_non_null(strstr(err->msg, bad));
    assert_non_null(strstr(err->msg, "is corrupt"));
    minik_error_clear(&err);

    /* A backup from a newer minik is refused too. */
    cleanup_free char *newer = xasprintf("%s/newer.db", f->dir);
    minik_store_free(open_ok(newer));
    th_sql(newer, "PRAGMA user_version = 9");
    assert_true(minik_store_restore(newer, f->path, &err) < 0);
    assert_non_null(strstr(err->msg, "newer than this minik supports"));
    minik_error_clear(&err);

    cleanup_free char *missing = xasprintf("%s/missing.db", f->dir);
    assert_true(minik_store_restore(missing, f->path, &err) < 0);
    assert_int_equal(err->code, 404);

    s = open_ok(f->path);
    cleanup_cjson cJSON *items = NULL;
    minik_error_t *lerr = NULL;
    assert_int_equal(minik_store_list(s, "ConfigMap", NULL, NULL, NULL, &items, NULL, &lerr), 0);
    assert_int_equal(cJSON_GetArraySize(items), 10);
    minik_store_free(s);
}

static void big_done(int status, cJSON *result, minik_error_t *err, void *ud)
{
    int *code = ud;
    *code = status == 0 ? 200 : err->code;
    cJSON_Delete(result);
    minik_error_free(err);
}

static cJSON *blob(const char *name, size_t size)
{
    cJSON *o = th_obj("ConfigMap", "default", name, NULL);
    char *big = xmalloc(size + 1);
    memset(big, 'y', size);
    big[size] = '\0';
    cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "data"), "blob", big);
    free(big);
    return o;
}

static void full_database_fails_writes_with_507_and_stays_usable(void **state)
{
    fixture_t *f = *state;
    /* The retained change feed counts against the limit too; a short one lets deletes
     * free space quickly. */
    minik_store_options_t opts = {.max_bytes = 128 * 1024, .event_retention = 5};
    minik_store_t *s = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_int_equal(minik_store_open(f->path, &opts, &s, &err), 0);
    int n = 0;
    for (;; n++) {
        char name[32];
        snprintf(name, sizeof name, "cm%03d", n);
        cleanup_cjson cJSON *o = blob(name, 2000);
        if (minik_store_create(s, o, NULL, &err) < 0)
            break;
        assert_true(n < 1000);
    }
    assert_true(n > 5);
    assert_int_equal(err->code, 507);
    assert_non_null(strstr(err->msg, "is full"));
    assert_non_null(strstr(err->msg, f->path));
    minik_error_clear(&err);
    /* Nothing half-written: the sequence and the objects agree. */
    assert_int_equal(minik_store_current_rv(s), n);

    /* In a batch, the write that does not fit fails alone. */
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(minik_store_attach_loop(s, &loop, &err), 0);
    int big_code = 0, del_codes[8] = {0};
    minik_store_submit(s, MINIK_STORE_OP_CREATE, blob("huge", 200 * 1024), big_done, &big_code);
    for (int i = 0; i < 8; i++) {
        char name[32];
        snprintf(name, sizeof name, "cm%03d", i);
        minik_store_submit(s, MINIK_STORE_OP_DELETE, th_obj("ConfigMap", "default", name, NULL),
                           big_done, &del_codes[i]);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(big_code, 507);
    for (int i = 0; i < 8; i++)
        assert_int_equal(del_codes[i], 200);
    assert_int_equal(minik_store_current_rv(s), n + 8);

    /* Deleting made room: a new object fits again. */
    cleanup_cjson cJSON *again = blob("again", 2000);
    assert_int_equal(minik_store_create(s, again, NULL, &err), 0);
    minik_store_close_async(s, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    minik_store_free(s);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(th_sql_int(f->path, "SELECT count(*) FROM pragma_quick_check WHERE "
                                         "quick_check = 'ok'"),
                     1);
}

static int64_t io_field(const char *field)
{
    cleanup_free char *data = NULL;
    size_t len = 0;
    minik_error_t *err = NULL;
    assert_int_equal(minik_file_read("/proc/self/io", 4096, &data, &len, &err), 0);
    const char *p = strstr(data, field);
    assert_non_null(p);
    return strtoll(p + strlen(field), NULL, 10);
}

static void on_timer(uv_timer_t *t)
{
    /* Nothing: the loop just sits idle with the store attached until this fires. */
}

static void idle_store_writes_nothing(void **state)
{
    fixture_t *f = *state;
    minik_store_t *s = open_ok(f->path);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    minik_error_t *err = NULL;
    assert_int_equal(minik_store_attach_loop(s, &loop, &err), 0);
    th_recorder_t rec = {0};
    minik_store_watch_t *w = NULL;
    assert_int_equal(minik_store_watch(s, NULL, NULL, NULL, NULL, 0, th_record_cb, &rec, &w, &err),
                     0);
    fill(s, 20, "warm");
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(rec.n, 20);

    /* wchar counts every byte passed to write(2)/pwrite(2) by this process, so 0 means
     * no write of any kind (not even to the WAL's page cache). */
    int64_t wchar = io_field("wchar: ");
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    uv_timer_start(&t, on_timer, 300, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(io_field("wchar: ") - wchar, 0);

    uv_close((uv_handle_t *)&t, NULL);
    minik_store_unwatch(w);
    minik_store_free(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(database_is_in_wal_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(garbage_file_is_refused_and_left_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(damaged_page_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(newer_schema_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(foreign_sqlite_file_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(older_schema_is_migrated_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_migration_leaves_the_old_version, setup, teardown),
        cmocka_unit_test_setup_teardown(restoring_an_older_backup_migrates_it, setup, teardown),
        cmocka_unit_test_setup_teardown(second_writer_is_locked_out_and_read_only_works, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(backup_then_restore_keeps_every_object, setup, teardown),
        cmocka_unit_test_setup_teardown(restore_refuses_a_bad_backup_and_keeps_the_database, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(full_database_fails_writes_with_507_and_stays_usable, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(idle_store_writes_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
