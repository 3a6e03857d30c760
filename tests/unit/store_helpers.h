/* Helpers for the store's unit tests (tests/unit/test_store*.c). */
#ifndef MINIK_TESTS_STORE_HELPERS_H
#define MINIK_TESTS_STORE_HELPERS_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "store/store.h"

/* A fresh directory under /tmp; th_rmdir removes it with everything inside. */
char *th_tmpdir(void);
void th_rmdir(char *dir);
/* "<dir>/state.db"; the caller frees it. */
char *th_db_path(const char *dir);

/* {"apiVersion":"v1","kind":kind,"metadata":{"name":name,"namespace":ns?,"labels":{"app":app?}}} */
cJSON *th_obj(const char *kind, const char *ns, const char *name, const char *app);
/* metadata.resourceVersion as an integer (-1 when absent). */
int64_t th_rv(const cJSON *obj);
const char *th_meta(const cJSON *obj, const char *key);

/* Events collected by th_record_cb. */
typedef struct th_event {
    minik_store_event_type_t type;
    int64_t rv;
    char name[64];
} th_event_t;

typedef struct th_recorder {
    th_event_t ev[256];
    int n;
    int total; /* callbacks, even beyond the first 256 */
} th_recorder_t;

void th_record_cb(const minik_store_event_t *ev, void *ud);

/* Run `sql` on the database file directly (no minik code involved); asserts success. */
void th_sql(const char *path, const char *sql);
int64_t th_sql_int(const char *path, const char *sql);

#endif
