#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/error.h"
#include "lib/file.h"
#include "lib/xalloc.h"
#include "tests/unit/store_helpers.h"

char *th_tmpdir(void)
{
    char *d = xstrdup("/tmp/minik-store-test-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

void th_rmdir(char *dir)
{
    minik_error_t *err = NULL;
    assert_int_equal(minik_rm_rf(dir, &err), 0);
    free(dir);
}

char *th_db_path(const char *dir)
{
    return xasprintf("%s/state.db", dir);
}

cJSON *th_obj(const char *kind, const char *ns, const char *name, const char *app)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "apiVersion", "v1");
    cJSON_AddStringToObject(o, "kind", kind);
    cJSON *m = cJSON_AddObjectToObject(o, "metadata");
    cJSON_AddStringToObject(m, "name", name);
    if (ns)
        cJSON_AddStringToObject(m, "namespace", ns);
    if (app) {
        cJSON *l = cJSON_AddObjectToObject(m, "labels");
        cJSON_AddStringToObject(l, "app", app);
    }
    cJSON *spec = cJSON_AddObjectToObject(o, "spec");
    cJSON_AddNumberToObject(spec, "replicas", 1);
    return o;
}

const char *th_meta(const cJSON *obj, const char *key)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int64_t th_rv(const cJSON *obj)
{
    const char *rv = th_meta(obj, "resourceVersion");
    return rv ? strtoll(rv, NULL, 10) : -1;
}

void th_record_cb(const minik_store_event_t *ev, void *ud)
{
    th_recorder_t *r = ud;
    r->total++;
    if (r->n >= (int)(sizeof r->ev / sizeof r->ev[0]))
        return;
    th_event_t *e = &r->ev[r->n++];
    e->type = ev->type;
    e->rv = ev->rv;
    const char *name = th_meta(ev->object, "name");
    snprintf(e->name, sizeof e->name, "%s", name ? name : "?");
    /* Every event's object carries its own rv, as a watcher resuming from it needs. */
    assert_int_equal(th_rv(ev->object), ev->rv);
}

void th_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("sql %s: %s", sql, msg ? msg : "?");
    sqlite3_close(db);
}

int64_t th_sql_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}
