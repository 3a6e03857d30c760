/* Store benchmarks (driven by tests/bench/bench_store.sh). Each mode prints key=value
 * lines; the script turns them into the markdown table.
 *
 *   store_bench sync  DIR N        N durable creates, one at a time (one fsync each)
 *   store_bench raw   DIR N        the etcd-style peer: a plain SQLite insert per write in
 *                                  WAL mode with synchronous=FULL, same payload
 *   store_bench pair  DIR N        sync and raw alternating in blocks of 25 (same disk
 *                                  conditions for both); prints both rates
 *   store_bench async DIR N C      N creates through the group-committed API, C in flight
 *   store_bench list  DIR N        list N objects (median of 5 lists)
 *   store_bench watch DIR W N      N writes delivered to W watchers: latency from the
 *                                  commit (the durable create returning) to each callback
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "store/store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static cJSON *object(const char *prefix, long i)
{
    char name[64];
    snprintf(name, sizeof name, "%s-%06ld", prefix, i);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "apiVersion", "v1");
    cJSON_AddStringToObject(o, "kind", "ConfigMap");
    cJSON *m = cJSON_AddObjectToObject(o, "metadata");
    cJSON_AddStringToObject(m, "name", name);
    cJSON_AddStringToObject(m, "namespace", i % 2 ? "default" : "prod");
    cJSON *l = cJSON_AddObjectToObject(m, "labels");
    cJSON_AddStringToObject(l, "app", "web");
    cJSON *d = cJSON_AddObjectToObject(o, "data");
    cJSON_AddStringToObject(d, "app.properties",
                            "color=blue\nreplicas=3\nlog.level=info\nfeature.flags=a,b,c\n"
                            "endpoint=http://db.prod.svc:5432\ntimeout=30s\n");
    return o;
}

static minik_store_t *open_store(const char *dir)
{
    cleanup_free char *path = xasprintf("%s/state.db", dir);
    minik_store_t *s = NULL;
    cleanup_error minik_error_t *err = NULL;
    if (minik_store_open(path, NULL, &s, &err) < 0) {
        fprintf(stderr, "store_bench: %s\n", err->msg);
        exit(1);
    }
    return s;
}

static void die(const char *what, const minik_error_t *err)
{
    fprintf(stderr, "store_bench: %s: %s\n", what, err ? err->msg : "?");
    exit(1);
}

static int bench_sync(const char *dir, long n)
{
    minik_store_t *s = open_store(dir);
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        cleanup_cjson cJSON *o = object("sync", i);
        cleanup_error minik_error_t *err = NULL;
        if (minik_store_create(s, o, NULL, &err) < 0)
            die("create", err);
    }
    double dt = now_s() - t0;
    printf("creates_per_s=%.0f\n", (double)n / dt);
    minik_store_free(s);
    return 0;
}

typedef struct raw {
    sqlite3 *db;
    sqlite3_stmt *st;
} raw_t;

static void raw_open(const char *dir, raw_t *r)
{
    cleanup_free char *path = xasprintf("%s/raw.db", dir);
    if (sqlite3_open(path, &r->db) != SQLITE_OK ||
        sqlite3_exec(r->db,
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                     "CREATE TABLE kv (kind TEXT, namespace TEXT, name TEXT, data TEXT,"
                     " PRIMARY KEY (kind, namespace, name)) WITHOUT ROWID",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(r->db, "INSERT INTO kv VALUES ('ConfigMap', ?, ?, ?)", -1, &r->st,
                           NULL) != SQLITE_OK) {
        fprintf(stderr, "store_bench: raw: %s\n", sqlite3_errmsg(r->db));
        exit(1);
    }
}

/* One durable insert in autocommit mode: its own transaction and fsync. */
static void raw_insert(raw_t *r, long i)
{
    /* The same work a store write does outside SQLite: serialise the object. */
    cleanup_cjson cJSON *o = object("raw", i);
    cleanup_free char *data = cJSON_PrintUnformatted(o);
    const cJSON *m = cJSON_GetObjectItem(o, "metadata");
    sqlite3_bind_text(r->st, 1, cJSON_GetObjectItem(m, "namespace")->valuestring, -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(r->st, 2, cJSON_GetObjectItem(m, "name")->valuestring, -1, SQLITE_STATIC);
    sqlite3_bind_text(r->st, 3, data, -1, SQLITE_STATIC);
    if (sqlite3_step(r->st) != SQLITE_DONE) {
        fprintf(stderr, "store_bench: raw insert: %s\n", sqlite3_errmsg(r->db));
        exit(1);
    }
    sqlite3_reset(r->st);
}

static void raw_close(raw_t *r)
{
    sqlite3_finalize(r->st);
    sqlite3_close(r->db);
}

static int bench_raw(const char *dir, long n)
{
    raw_t r;
    raw_open(dir, &r);
    double t0 = now_s();
    for (long i = 0; i < n; i++)
        raw_insert(&r, i);
    double dt = now_s() - t0;
    printf("creates_per_s=%.0f\n", (double)n / dt);
    raw_close(&r);
    return 0;
}

/* minik sync creates and raw inserts alternating in blocks of 25 on the same disk, so
 * both see the same background load (this machine's disk is shared). */
static int bench_pair(const char *dir, long n)
{
    minik_store_t *s = open_store(dir);
    raw_t r;
    raw_open(dir, &r);
    double t_store = 0, t_raw = 0;
    for (long i = 0; i < n; i += 25) {
        double t0 = now_s();
        for (long k = i; k < i + 25 && k < n; k++) {
            cleanup_cjson cJSON *o = object("sync", k);
            cleanup_error minik_error_t *err = NULL;
            if (minik_store_create(s, o, NULL, &err) < 0)
                die("create", err);
        }
        double t1 = now_s();
        for (long k = i; k < i + 25 && k < n; k++)
            raw_insert(&r, k);
        t_store += t1 - t0;
        t_raw += now_s() - t1;
    }
    printf("creates_per_s=%.0f\n", (double)n / t_store);
    printf("raw_creates_per_s=%.0f\n", (double)n / t_raw);
    raw_close(&r);
    minik_store_free(s);
    return 0;
}

typedef struct async_run {
    minik_store_t *s;
    long n, submitted, done;
    int failed;
} async_run_t;

static void submit_next(async_run_t *r);

static void on_done(int status, cJSON *result, minik_error_t *err, void *ud)
{
    async_run_t *r = ud;
    if (status < 0) {
        fprintf(stderr, "store_bench: async create: %s\n", err->msg);
        r->failed = 1;
    }
    cJSON_Delete(result);
    minik_error_free(err);
    r->done++;
    if (!r->failed && r->submitted < r->n)
        submit_next(r);
}

static void submit_next(async_run_t *r)
{
    minik_store_submit(r->s, MINIK_STORE_OP_CREATE, object("async", r->submitted++), on_done, r);
}

static void on_closed(void *ud)
{
}

/* Create n objects with `conc` writes in flight; returns elapsed seconds. */
static double run_async(minik_store_t *s, uv_loop_t *loop, long n, long conc)
{
    async_run_t r = {.s = s, .n = n};
    double t0 = now_s();
    for (long i = 0; i < conc && i < n; i++)
        submit_next(&r);
    uv_run(loop, UV_RUN_DEFAULT);
    double dt = now_s() - t0;
    if (r.failed || r.done != n)
        die("async run incomplete", NULL);
    return dt;
}

static int bench_async(const char *dir, long n, long conc)
{
    minik_store_t *s = open_store(dir);
    uv_loop_t loop;
    uv_loop_init(&loop);
    cleanup_error minik_error_t *err = NULL;
    if (minik_store_attach_loop(s, &loop, &err) < 0)
        die("attach", err);
    minik_store_stats_t before, after;
    minik_store_get_stats(s, &before);
    double dt = run_async(s, &loop, n, conc);
    minik_store_get_stats(s, &after);
    printf("creates_per_s=%.0f\n", (double)n / dt);
    printf("transactions=%" PRIu64 "\n", after.transactions - before.transactions);
    printf("writes_per_transaction=%.1f\n", (double)(after.writes - before.writes) /
                                                (double)(after.transactions - before.transactions));
    minik_store_close_async(s, on_closed, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    minik_store_free(s);
    uv_loop_close(&loop);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int bench_list(const char *dir, long n)
{
    minik_store_t *s = open_store(dir);
    uv_loop_t loop;
    uv_loop_init(&loop);
    cleanup_error minik_error_t *err = NULL;
    if (minik_store_attach_loop(s, &loop, &err) < 0)
        die("attach", err);
    run_async(s, &loop, n, 100);
    double ms[5];
    for (int i = 0; i < 5; i++) {
        cleanup_cjson cJSON *items = NULL;
        double t0 = now_s();
        if (minik_store_list(s, "ConfigMap", NULL, NULL, NULL, &items, NULL, &err) < 0)
            die("list", err);
        ms[i] = (now_s() - t0) * 1000;
        if (cJSON_GetArraySize(items) != n)
            die("list returned the wrong number of objects", NULL);
    }
    qsort(ms, 5, sizeof ms[0], cmp_double);
    printf("list_ms=%.1f\n", ms[2]);
    minik_store_close_async(s, on_closed, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    minik_store_free(s);
    uv_loop_close(&loop);
    return 0;
}

typedef struct lat {
    double t0;
    double *samples;
    long n, cap;
} lat_t;

static void on_event(const minik_store_event_t *ev, void *ud)
{
    lat_t *l = ud;
    if (l->n < l->cap)
        l->samples[l->n++] = now_s() - l->t0;
}

static int bench_watch(const char *dir, long watchers, long n)
{
    minik_store_t *s = open_store(dir);
    uv_loop_t loop;
    uv_loop_init(&loop);
    cleanup_error minik_error_t *err = NULL;
    if (minik_store_attach_loop(s, &loop, &err) < 0)
        die("attach", err);
    lat_t l = {.cap = watchers * n};
    l.samples = xcalloc((size_t)l.cap, sizeof *l.samples);
    minik_store_watch_t **ws = xcalloc((size_t)watchers, sizeof *ws);
    for (long i = 0; i < watchers; i++)
        if (minik_store_watch(s, "ConfigMap", NULL, NULL, NULL, 0, on_event, &l, &ws[i], &err) < 0)
            die("watch", err);
    for (long i = 0; i < n; i++) {
        cleanup_cjson cJSON *o = object("watch", i);
        if (minik_store_create(s, o, NULL, &err) < 0)
            die("create", err);
        l.t0 = now_s(); /* committed and fsynced: the clock starts here */
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    if (l.n != l.cap)
        die("some watchers missed events", NULL);
    qsort(l.samples, (size_t)l.n, sizeof *l.samples, cmp_double);
    printf("p50_us=%.0f\n", l.samples[l.n / 2] * 1e6);
    printf("p99_us=%.0f\n", l.samples[(long)((double)l.n * 0.99)] * 1e6);
    for (long i = 0; i < watchers; i++)
        minik_store_unwatch(ws[i]);
    free(ws);
    free(l.samples);
    minik_store_close_async(s, on_closed, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    minik_store_free(s);
    uv_loop_close(&loop);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr,
                "usage: store_bench sync|raw|pair|list DIR N | async DIR N C | watch DIR W N\n");
        return 2;
    }
    const char *mode = argv[1], *dir = argv[2];
    long a = atol(argv[3]), b = argc > 4 ? atol(argv[4]) : 0;
    if (strcmp(mode, "sync") == 0)
        return bench_sync(dir, a);
    if (strcmp(mode, "raw") == 0)
        return bench_raw(dir, a);
    if (strcmp(mode, "pair") == 0)
        return bench_pair(dir, a);
    if (strcmp(mode, "async") == 0 && b > 0)
        return bench_async(dir, a, b);
    if (strcmp(mode, "list") == 0)
        return bench_list(dir, a);
    if (strcmp(mode, "watch") == 0 && b > 0)
        return bench_watch(dir, a, b);
    fprintf(stderr, "store_bench: bad arguments\n");
    return 2;
}
