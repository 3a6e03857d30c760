/* The list-then-watch cache (proto/informer.c) against a REAL minik API server on the same
 * loop: the first list, changes through the watch, resuming after the server ends a
 * stream, listing again after a 410 Gone, and closing with a request in flight. Objects
 * are written straight into the server's store (as another client's write would land). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/apiserver.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/client.h"
#include "proto/client_uv.h"
#include "proto/informer.h"
#include "proto/kubeconfig.h"
#include "store/store.h"

typedef struct fx {
    uv_loop_t loop;
    char dir[64];
    minik_apiserver_t *srv;
    minik_client_config_t cfg;
    minik_client_t *client;
    minik_client_uv_t *u;
    minik_informer_t *inf;
    int changes;
    bool inf_closed;
    uv_timer_t tick;
} fx_t;

static void start_server(fx_t *f, int64_t retention)
{
    minik_log_set_level(MINIK_LOG_ERROR);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    snprintf(f->dir, sizeof f->dir, "/tmp/minik-informer-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    minik_apiserver_options_t o = {
        .data_dir = f->dir, .host = "127.0.0.1", .port = 0, .event_retention = retention};
    minik_error_t *err = NULL;
    if (minik_apiserver_start(&f->loop, &o, &f->srv, &err) < 0)
        fail_msg("apiserver: %s", err->msg);
    cleanup_free char *conf = xasprintf("%s/admin.conf", f->dir);
    if (minik_kubeconfig_load(conf, NULL, &f->cfg, &err) < 0)
        fail_msg("kubeconfig: %s", err->msg);
    assert_int_equal(minik_client_new(&f->cfg, &f->client, &err), 0);
    assert_int_equal(minik_client_uv_new(&f->loop, &f->u, &err), 0);
    uv_timer_init(&f->loop, &f->tick);
}

static void on_change(minik_informer_t *inf, void *ud)
{
    fx_t *f = ud;
    f->changes++;
}

static void new_informer(fx_t *f, const char *path, int timeout_s)
{
    minik_informer_opts_t o = {.watch_timeout_s = timeout_s, .retry_ms = 100};
    minik_error_t *err = NULL;
    assert_int_equal(
        minik_informer_new(&f->loop, f->u, f->client, path, &o, on_change, f, &f->inf, &err), 0);
}

static void noop_tick(uv_timer_t *t)
{
    (void)t;
}

/* Run the loop until pred(f) or 10 s pass. */
static bool run_until(fx_t *f, bool (*pred)(fx_t *f))
{
    uv_timer_start(&f->tick, noop_tick, 10, 10);
    uint64_t end = uv_now(&f->loop) + 10000;
    bool ok = pred(f);
    while (!ok && uv_now(&f->loop) < end) {
        uv_run(&f->loop, UV_RUN_ONCE);
        ok = pred(f);
    }
    uv_timer_stop(&f->tick);
    return ok;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void cm_write(fx_t *f, const char *op, const char *ns, const char *name, const char *v)
{
    minik_store_t *s = minik_apiserver_store(f->srv);
    minik_error_t *err = NULL;
    int r;
    if (strcmp(op, "delete") == 0) {
        r = minik_store_delete(s, "ConfigMap", ns, name, NULL, NULL, &err);
    } else {
        cleanup_cjson cJSON *cm = cJSON_CreateObject();
        cJSON_AddStringToObject(cm, "apiVersion", "v1");
        cJSON_AddStringToObject(cm, "kind", "ConfigMap");
        cJSON *md = cJSON_AddObjectToObject(cm, "metadata");
        cJSON_AddStringToObject(md, "name", name);
        cJSON_AddStringToObject(md, "namespace", ns);
        cJSON_AddStringToObject(cJSON_AddObjectToObject(cm, "data"), "k", v);
        r = strcmp(op, "create") == 0 ? minik_store_create(s, cm, NULL, &err)
                                      : minik_store_update(s, cm, NULL, &err);
    }
    if (r < 0)
        fail_msg("%s %s/%s: %s", op, ns, name, err->msg);
}

/* "name=k name=k" of the cache, in name order. */
static char *summary(const fx_t *f)
{
    const cJSON *items = minik_informer_items(f->inf);
    int n = cJSON_GetArraySize(items);
    char **parts = xcalloc((size_t)n + 1, sizeof(*parts));
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        const cJSON *md = cJSON_GetObjectItem(it, "metadata");
        const cJSON *d = cJSON_GetObjectItem(it, "data");
        parts[i++] = xasprintf("%s=%s", cJSON_GetObjectItem(md, "name")->valuestring,
                               cJSON_GetObjectItem(d, "k")->valuestring);
    }
    qsort(parts, (size_t)n, sizeof(*parts), cmp_str);
    char *s = minik_strv_join(parts, " ");
    minik_strv_free(parts);
    return s;
}

static const char *want_summary;
static bool summary_is(fx_t *f)
{
    char *s = summary(f);
    bool ok = strcmp(s, want_summary) == 0;
    free(s);
    return ok;
}

static void expect(fx_t *f, const char *want)
{
    want_summary = want;
    if (!run_until(f, summary_is)) {
        char *s = summary(f);
        fail_msg("informer: want \"%s\", have \"%s\"", want, s);
    }
}

static void on_inf_closed(void *ud)
{
    fx_t *f = ud;
    f->inf_closed = true;
}

static void on_uv_closed(void *ud)
{
    fx_t *f = ud;
    f->u = NULL;
}

static void on_srv_down(void *ud)
{
    fx_t *f = ud;
    f->srv = NULL;
}

static void finish(fx_t *f)
{
    if (f->inf)
        minik_informer_close(f->inf, on_inf_closed, f);
    f->inf = NULL;
    uv_close((uv_handle_t *)&f->tick, NULL);
    minik_client_uv_close(f->u, on_uv_closed, f);
    minik_apiserver_shutdown(f->srv, on_srv_down, f);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_true(f->inf_closed);
    assert_null(f->u);
    assert_null(f->srv);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    minik_client_free(f->client);
    minik_client_config_clear(&f->cfg);
    assert_int_equal(minik_rm_rf(f->dir, NULL), 0);
}

static bool synced(fx_t *f)
{
    return minik_informer_synced(f->inf);
}

static void lists_then_follows_the_watch(void **state)
{
    fx_t f = {0};
    start_server(&f, 0);
    cm_write(&f, "create", "a", "one", "1");
    cm_write(&f, "create", "b", "two", "1");
    new_informer(&f, "/api/v1/configmaps", 300);
    assert_false(minik_informer_synced(f.inf));
    assert_int_equal(cJSON_GetArraySize(minik_informer_items(f.inf)), 0);
    minik_informer_start(f.inf);
    assert_true(run_until(&f, synced));
    expect(&f, "one=1 two=1");
    /* Changes arrive through the watch, not new lists. */
    cm_write(&f, "create", "a", "three", "1");
    cm_write(&f, "update", "a", "one", "2");
    cm_write(&f, "delete", "b", "two", NULL);
    expect(&f, "one=2 three=1");
    minik_informer_stats_t st;
    minik_informer_get_stats(f.inf, &st);
    assert_int_equal(st.lists, 1);
    assert_int_equal(st.watches, 1);
    assert_int_equal(st.events, 3);
    assert_int_equal(st.failures, 0);
    assert_true(f.changes >= 4); /* the list, then one per event */
    finish(&f);
}

static bool watched_twice(fx_t *f)
{
    minik_informer_stats_t st;
    minik_informer_get_stats(f->inf, &st);
    return st.watches >= 2;
}

static bool listed_twice(fx_t *f)
{
    minik_informer_stats_t st;
    minik_informer_get_stats(f->inf, &st);
    return st.lists >= 2;
}

static void resumes_after_a_timeout_and_relists_after_410(void **state)
{
    fx_t f = {0};
    start_server(&f, 4); /* a short change feed */
    cm_write(&f, "create", "a", "one", "1");
    new_informer(&f, "/api/v1/namespaces/a/configmaps", 1);
    minik_informer_start(f.inf);
    expect(&f, "one=1");
    /* The server ends the stream after timeoutSeconds; the informer resumes from where it
     * was, without listing, and misses nothing written meanwhile. */
    assert_true(run_until(&f, watched_twice));
    cm_write(&f, "create", "a", "two", "1");
    expect(&f, "one=1 two=1");
    minik_informer_stats_t st;
    minik_informer_get_stats(f.inf, &st);
    assert_int_equal(st.lists, 1);
    /* Writes elsewhere push the informer's resourceVersion out of the feed: the next
     * resume gets 410 Gone and lists again, and the cache is what the list says. */
    for (int i = 0; i < 10; i++) {
        char name[16];
        snprintf(name, sizeof name, "x%d", i);
        cm_write(&f, "create", "b", name, "1");
    }
    assert_true(run_until(&f, listed_twice));
    cm_write(&f, "update", "a", "two", "2");
    expect(&f, "one=1 two=2");
    minik_informer_get_stats(f.inf, &st);
    assert_int_equal(st.lists, 2);
    assert_int_equal(st.failures, 0);
    finish(&f);
}

static void closing_with_a_list_in_flight(void **state)
{
    fx_t f = {0};
    start_server(&f, 0);
    new_informer(&f, "/api/v1/configmaps", 300);
    minik_informer_start(f.inf);
    minik_informer_close(f.inf, on_inf_closed, &f);
    f.inf = NULL;
    int before = f.changes;
    uv_run(&f.loop, UV_RUN_NOWAIT);
    finish(&f);
    assert_int_equal(f.changes, before); /* nothing called back after close */
}

static void a_bad_path_is_refused(void **state)
{
    fx_t f = {0};
    minik_informer_t *inf = NULL;
    minik_error_t *err = NULL;
    assert_true(minik_informer_new(uv_default_loop(), NULL, NULL, "/api/v1/pods?watch=1", NULL,
                                   NULL, NULL, &inf, &err) < 0);
    assert_non_null(strstr(err->msg, "not a collection path"));
    minik_error_free(err);
    assert_null(inf);
    (void)f;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lists_then_follows_the_watch),
        cmocka_unit_test(resumes_after_a_timeout_and_relists_after_410),
        cmocka_unit_test(closing_with_a_list_in_flight),
        cmocka_unit_test(a_bad_path_is_refused),
    };
    return cmocka_run_group_tests_name("client_informer", tests, NULL, NULL);
}
