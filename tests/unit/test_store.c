/* Store: CRUD, optimistic concurrency, list, change feed (real SQLite files in /tmp). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "store/store.h"
#include "tests/unit/store_helpers.h"

typedef struct fixture {
    char *dir;
    char *path;
    minik_store_t *s;
} fixture_t;

static int setup_opts(void **state, int64_t retention)
{
    fixture_t *f = xcalloc(1, sizeof *f);
    f->dir = th_tmpdir();
    f->path = th_db_path(f->dir);
    minik_store_options_t opts = {.event_retention = retention};
    minik_error_t *err = NULL;
    if (minik_store_open(f->path, &opts, &f->s, &err) < 0)
        fail_msg("open: %s", err->msg);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_opts(state, 0);
}

static int setup_small_feed(void **state)
{
    return setup_opts(state, 5);
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    minik_store_free(f->s);
    free(f->path);
    th_rmdir(f->dir);
    free(f);
    return 0;
}

static cJSON *create_ok(minik_store_t *s, const char *kind, const char *ns, const char *name,
                        const char *app)
{
    cleanup_cjson cJSON *o = th_obj(kind, ns, name, app);
    cJSON *out = NULL;
    minik_error_t *err = NULL;
    int r = minik_store_create(s, o, &out, &err);
    if (r < 0)
        fail_msg("create %s/%s: %s", kind, name, err->msg);
    return out;
}

static void create_fills_metadata_and_get_returns_it(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(minik_store_current_rv(f->s), 0);
    cleanup_cjson cJSON *created = create_ok(f->s, "Pod", "default", "web", "web");
    assert_int_equal(th_rv(created), 1);
    assert_int_equal(minik_store_current_rv(f->s), 1);
    const char *uid = th_meta(created, "uid");
    assert_non_null(uid);
    assert_int_equal(strlen(uid), 36);
    assert_int_equal(uid[14], '4'); /* UUID version 4 */
    const char *ts = th_meta(created, "creationTimestamp");
    assert_non_null(ts);
    assert_int_equal(strlen(ts), 20); /* 2026-11-26T15:04:25Z */
    assert_int_equal(ts[10], 'T');
    assert_int_equal(ts[19], 'Z');

    cleanup_cjson cJSON *got = NULL;
    minik_error_t *err = NULL;
    assert_int_equal(minik_store_get(f->s, "Pod", "default", "web", &got, &err), 0);
    assert_true(cJSON_Compare(created, got, true));
    /* Everything else in the object is kept as given. */
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(got, "spec");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(spec, "replicas")->valueint, 1);

    /* Two objects never share a uid. */
    cleanup_cjson cJSON *other = create_ok(f->s, "Pod", "default", "web2", NULL);
    assert_string_not_equal(th_meta(other, "uid"), uid);
    assert_int_equal(th_rv(other), 2);
}

static void create_existing_is_409_and_get_missing_is_404(void **state)
{
    fixture_t *f = *state;
    cleanup_cjson cJSON *a = create_ok(f->s, "Pod", "default", "web", NULL);
    cleanup_cjson cJSON *dup = th_obj("Pod", "default", "web", NULL);
    cleanup_error minik_error_t *err = NULL;
    assert_true(minik_store_create(f->s, dup, NULL, &err) < 0);
    assert_int_equal(err->code, 409);
    assert_string_equal(err->msg, "Pod \"web\" in namespace \"default\" already exists");
    minik_error_clear(&err);
    /* The same name in another namespace or of another kind is a different object. */
    cleanup_cjson cJSON *b = create_ok(f->s, "Pod", "other", "web", NULL);
    cleanup_cjson cJSON *c = create_ok(f->s, "Service", "default", "web", NULL);
    assert_int_equal(th_rv(c), 3); /* the failed create took no resourceVersion */

    cJSON *got = NULL;
    assert_true(minik_store_get(f->s, "Pod", "default", "nope", &got, &err) < 0);
    assert_null(got);
    assert_int_equal(err->code, 404);
    assert_string_equal(err->msg, "Pod \"nope\" in namespace \"default\" not found");
    minik_error_clear(&err);
    assert_true(minik_store_get(f->s, "Node", NULL, "n1", &got, &err) < 0);
    assert_string_equal(err->msg, "Node \"n1\" not found");
}

static void objects_without_kind_or_name_are_422(void **state)
{
    fixture_t *f = *state;
    cleanup_error minik_error_t *err = NULL;
    cleanup_cjson cJSON *nokind = cJSON_Parse("{\"metadata\":{\"name\":\"x\"}}");
    assert_true(minik_store_create(f->s, nokind, NULL, &err) < 0);
    assert_int_equal(err->code, 422);
    assert_string_equal(err->msg, "object has no kind");
    minik_error_clear(&err);
    cleanup_cjson cJSON *noname = cJSON_Parse("{\"kind\":\"Pod\",\"metadata\":{}}");
    assert_true(minik_store_create(f->s, noname, NULL, &err) < 0);
    assert_int_equal(err->code, 422);
    assert_string_equal(err->msg, "Pod object has no metadata.name");
    minik_error_clear(&err);
    cleanup_cjson cJSON *badns =
        cJSON_Parse("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"namespace\":3}}");
    assert_true(minik_store_update(f->s, badns, NULL, &err) < 0);
    assert_int_equal(err->code, 422);
    assert_int_equal(minik_store_current_rv(f->s), 0);
}

static void update_is_compare_and_swap_on_resource_version(void **state)
{
    fixture_t *f = *state;
    cleanup_cjson cJSON *v1 = create_ok(f->s, "Deployment", "default", "web", "web");
    cleanup_error minik_error_t *err = NULL;

    /* A client that read v1 updates it: new rv, same uid and creationTimestamp, even if
     * the client tried to change them. */
    cleanup_cjson cJSON *edit = cJSON_Duplicate(v1, true);
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(edit, "metadata");
    cJSON_ReplaceItemInObject(meta, "uid", cJSON_CreateString("forged"));
    cJSON_DeleteItemFromObject(meta, "creationTimestamp");
    cJSON_ReplaceItemInObject(cJSON_GetObjectItemCaseSensitive(edit, "spec"), "replicas",
                              cJSON_CreateNumber(3));
    cleanup_cjson cJSON *v2 = NULL;
    assert_int_equal(minik_store_update(f->s, edit, &v2, &err), 0);
    assert_int_equal(th_rv(v2), 2);
    assert_string_equal(th_meta(v2, "uid"), th_meta(v1, "uid"));
    assert_string_equal(th_meta(v2, "creationTimestamp"), th_meta(v1, "creationTimestamp"));

    /* A second client still holding v1 loses: 409, and the stored object is unchanged. */
    cleanup_cjson cJSON *stale = cJSON_Duplicate(v1, true);
    assert_true(minik_store_update(f->s, stale, NULL, &err) < 0);
    assert_int_equal(err->code, 409);
    assert_non_null(strstr(err->msg, "the object has been modified"));
    minik_error_clear(&err);
    cleanup_cjson cJSON *now = NULL;
    assert_int_equal(minik_store_get(f->s, "Deployment", "default", "web", &now, &err), 0);
    assert_int_equal(th_rv(now), 2);
    assert_int_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(now, "spec"), "replicas")->valueint,
        3);

    /* Without a resourceVersion the update is unconditional. */
    cleanup_cjson cJSON *blind = th_obj("Deployment", "default", "web", "blind");
    cleanup_cjson cJSON *v3 = NULL;
    assert_int_equal(minik_store_update(f->s, blind, &v3, &err), 0);
    assert_int_equal(th_rv(v3), 3);
    assert_string_equal(th_meta(v3, "uid"), th_meta(v1, "uid"));

    /* Updating what does not exist is 404. */
    cleanup_cjson cJSON *ghost = th_obj("Deployment", "default", "ghost", NULL);
    assert_true(minik_store_update(f->s, ghost, NULL, &err) < 0);
    assert_int_equal(err->code, 404);
    assert_int_equal(minik_store_current_rv(f->s), 3);
}

static void delete_with_precondition_and_404(void **state)
{
    fixture_t *f = *state;
    cleanup_cjson cJSON *v1 = create_ok(f->s, "ConfigMap", "default", "cfg", NULL);
    cleanup_error minik_error_t *err = NULL;
    assert_true(minik_store_delete(f->s, "ConfigMap", "default", "cfg", "999", NULL, &err) < 0);
    assert_int_equal(err->code, 409);
    minik_error_clear(&err);

    cleanup_cjson cJSON *gone = NULL;
    assert_int_equal(minik_store_delete(f->s, "ConfigMap", "default", "cfg", "1", &gone, &err), 0);
    /* The deleted object, stamped with the rv of the delete. */
    assert_int_equal(th_rv(gone), 2);
    assert_string_equal(th_meta(gone, "uid"), th_meta(v1, "uid"));
    assert_int_equal(minik_store_current_rv(f->s), 2);

    cJSON *got = NULL;
    assert_true(minik_store_get(f->s, "ConfigMap", "default", "cfg", &got, &err) < 0);
    assert_int_equal(err->code, 404);
    minik_error_clear(&err);
    assert_true(minik_store_delete(f->s, "ConfigMap", "default", "cfg", NULL, NULL, &err) < 0);
    assert_int_equal(err->code, 404);
    minik_error_clear(&err);

    /* The name can be reused; the new object is a new object. */
    cleanup_cjson cJSON *again = create_ok(f->s, "ConfigMap", "default", "cfg", NULL);
    assert_int_equal(th_rv(again), 3);
    assert_string_not_equal(th_meta(again, "uid"), th_meta(v1, "uid"));
}

static void resource_version_is_one_sequence_and_survives_reopen(void **state)
{
    fixture_t *f = *state;
    int64_t last = 0;
    const char *kinds[] = {"Pod", "Service", "Node", "Pod"};
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "o%d", i);
        cleanup_cjson cJSON *o = create_ok(f->s, kinds[i], i == 2 ? NULL : "ns", name, NULL);
        assert_true(th_rv(o) > last);
        last = th_rv(o);
    }
    assert_int_equal(last, 4);
    minik_store_free(f->s);
    f->s = NULL;
    minik_error_t *err = NULL;
    assert_int_equal(minik_store_open(f->path, NULL, &f->s, &err), 0);
    assert_int_equal(minik_store_current_rv(f->s), 4);
    cleanup_cjson cJSON *o = create_ok(f->s, "Pod", "ns", "after-reopen", NULL);
    assert_int_equal(th_rv(o), 5);
}

static bool app_is(const cJSON *obj, void *ud)
{
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "labels");
    const cJSON *app = cJSON_GetObjectItemCaseSensitive(l, "app");
    return cJSON_IsString(app) && strcmp(app->valuestring, ud) == 0;
}

static void list_names(const cJSON *items, char *out, size_t len)
{
    out[0] = '\0';
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        const char *ns = th_meta(it, "namespace");
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s/%s", used ? " " : "", ns ? ns : "",
                 th_meta(it, "name"));
    }
}

static void list_orders_by_namespace_then_name_and_filters(void **state)
{
    fixture_t *f = *state;
    const char *pods[][3] = {{"b", "zeta", "web"},
                             {"a", "mid", "db"},
                             {"b", "alpha", "db"},
                             {"a", "zz", "web"},
                             {"a", "aa", "web"}};
    for (size_t i = 0; i < 5; i++) {
        cleanup_cjson cJSON *o = create_ok(f->s, "Pod", pods[i][0], pods[i][1], pods[i][2]);
    }
    cleanup_cjson cJSON *svc = create_ok(f->s, "Service", "a", "svc", "web");
    cleanup_error minik_error_t *err = NULL;
    char names[256];

    cleanup_cjson cJSON *all = NULL;
    int64_t list_rv = 0;
    assert_int_equal(minik_store_list(f->s, "Pod", NULL, NULL, NULL, &all, &list_rv, &err), 0);
    list_names(all, names, sizeof names);
    assert_string_equal(names, "a/aa a/mid a/zz b/alpha b/zeta");
    assert_int_equal(list_rv, 6);

    cleanup_cjson cJSON *in_a = NULL;
    assert_int_equal(minik_store_list(f->s, "Pod", "a", NULL, NULL, &in_a, NULL, &err), 0);
    list_names(in_a, names, sizeof names);
    assert_string_equal(names, "a/aa a/mid a/zz");

    cleanup_cjson cJSON *web = NULL;
    assert_int_equal(minik_store_list(f->s, "Pod", NULL, app_is, "web", &web, NULL, &err), 0);
    list_names(web, names, sizeof names);
    assert_string_equal(names, "a/aa a/zz b/zeta");

    cleanup_cjson cJSON *none = NULL;
    assert_int_equal(minik_store_list(f->s, "Secret", NULL, NULL, NULL, &none, NULL, &err), 0);
    assert_int_equal(cJSON_GetArraySize(none), 0);

    cJSON *bad = NULL;
    assert_true(minik_store_list(f->s, NULL, NULL, NULL, NULL, &bad, NULL, &err) < 0);
    assert_int_equal(err->code, 422);
}

static void count_kind(const char *kind, int64_t n, void *ud)
{
    char *out = ud;
    size_t used = strlen(out);
    snprintf(out + used, 128 - used, "%s=%lld;", kind, (long long)n);
}

static void count_by_kind_counts_objects(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        cleanup_cjson cJSON *o = create_ok(f->s, "Pod", "default", name, NULL);
    }
    cleanup_cjson cJSON *n = create_ok(f->s, "Node", NULL, "n1", NULL);
    char out[128] = "";
    minik_error_t *err = NULL;
    assert_int_equal(minik_store_count_by_kind(f->s, count_kind, out, &err), 0);
    assert_string_equal(out, "Node=1;Pod=3;");
}

static void watch_replays_from_rv_then_goes_live(void **state)
{
    fixture_t *f = *state;
    cleanup_error minik_error_t *err = NULL;
    cleanup_cjson cJSON *a = create_ok(f->s, "Pod", "default", "a", NULL);                  /* 1 */
    cleanup_cjson cJSON *b = create_ok(f->s, "Pod", "default", "b", NULL);                  /* 2 */
    cleanup_cjson cJSON *n = create_ok(f->s, "Node", NULL, "n1", NULL);                     /* 3 */
    assert_int_equal(minik_store_update(f->s, a, NULL, &err), 0);                           /* 4 */
    assert_int_equal(minik_store_delete(f->s, "Pod", "default", "b", NULL, NULL, &err), 0); /* 5 */

    th_recorder_t pods = {0}, everything = {0}, now = {0}, other_ns = {0};
    minik_store_watch_t *w1 = NULL, *w2 = NULL, *w3 = NULL, *w4 = NULL;
    assert_int_equal(
        minik_store_watch(f->s, "Pod", NULL, NULL, NULL, 1, th_record_cb, &pods, &w1, &err), 0);
    assert_int_equal(
        minik_store_watch(f->s, NULL, NULL, NULL, NULL, 2, th_record_cb, &everything, &w2, &err),
        0);
    assert_int_equal(
        minik_store_watch(f->s, "Pod", "default", NULL, NULL, 0, th_record_cb, &now, &w3, &err), 0);
    assert_int_equal(
        minik_store_watch(f->s, "Pod", "other", NULL, NULL, 1, th_record_cb, &other_ns, &w4, &err),
        0);
    assert_int_equal(minik_store_watch_count(f->s), 4);

    /* Replay: the Pod events after rv 1, in order, with their types. */
    assert_int_equal(pods.n, 3);
    assert_int_equal(pods.ev[0].rv, 2);
    assert_int_equal(pods.ev[0].type, MINIK_STORE_ADDED);
    assert_string_equal(pods.ev[0].name, "b");
    assert_int_equal(pods.ev[1].rv, 4);
    assert_int_equal(pods.ev[1].type, MINIK_STORE_MODIFIED);
    assert_int_equal(pods.ev[2].rv, 5);
    assert_int_equal(pods.ev[2].type, MINIK_STORE_DELETED);
    assert_string_equal(pods.ev[2].name, "b");
    /* Every kind after rv 2. */
    assert_int_equal(everything.n, 3);
    assert_int_equal(everything.ev[0].rv, 3);
    assert_string_equal(everything.ev[0].name, "n1");
    /* from_rv 0: nothing from the past. */
    assert_int_equal(now.n, 0);
    assert_int_equal(other_ns.n, 0);

    /* Live events follow, without a gap or a repeat. */
    cleanup_cjson cJSON *c = create_ok(f->s, "Pod", "default", "c", NULL); /* 6 */
    cleanup_cjson cJSON *d = create_ok(f->s, "Pod", "other", "d", NULL);   /* 7 */
    assert_int_equal(pods.n, 5);
    assert_int_equal(pods.ev[3].rv, 6);
    assert_int_equal(pods.ev[4].rv, 7);
    assert_int_equal(everything.n, 5);
    assert_int_equal(now.n, 1);
    assert_string_equal(now.ev[0].name, "c");
    assert_int_equal(other_ns.n, 1);
    assert_string_equal(other_ns.ev[0].name, "d");

    minik_store_unwatch(w1);
    minik_store_unwatch(w2);
    minik_store_unwatch(w3);
    minik_store_unwatch(w4);
    assert_int_equal(minik_store_watch_count(f->s), 0);
    cleanup_cjson cJSON *e = create_ok(f->s, "Pod", "default", "e", NULL);
    assert_int_equal(pods.n, 5); /* no callback after unwatch */
}

static void watch_filter_applies_to_replay_and_live(void **state)
{
    fixture_t *f = *state;
    cleanup_cjson cJSON *a = create_ok(f->s, "Pod", "default", "a", "web"); /* 1 */
    cleanup_cjson cJSON *b = create_ok(f->s, "Pod", "default", "b", "db");  /* 2 */
    th_recorder_t live = {0}, replay = {0};
    minik_store_watch_t *w = NULL;
    minik_error_t *err = NULL;
    assert_int_equal(
        minik_store_watch(f->s, "Pod", NULL, app_is, "web", 0, th_record_cb, &live, &w, &err), 0);
    cleanup_cjson cJSON *c = create_ok(f->s, "Pod", "default", "c", "db");  /* 3 */
    cleanup_cjson cJSON *d = create_ok(f->s, "Pod", "default", "d", "web"); /* 4 */
    assert_int_equal(live.n, 1);
    assert_string_equal(live.ev[0].name, "d");
    minik_store_unwatch(w);

    /* Replay from rv 1 covers b, c, d; the filter keeps d. */
    assert_int_equal(
        minik_store_watch(f->s, "Pod", NULL, app_is, "web", 1, th_record_cb, &replay, &w, &err), 0);
    assert_int_equal(replay.n, 1);
    assert_string_equal(replay.ev[0].name, "d");
    assert_int_equal(replay.ev[0].rv, 4);
    minik_store_unwatch(w);
}

static void relabel(minik_store_t *s, const char *name, const char *app)
{
    cleanup_cjson cJSON *o = th_obj("Pod", "default", name, app);
    minik_error_t *err = NULL;
    if (minik_store_update(s, o, NULL, &err) < 0)
        fail_msg("update: %s", err->msg);
}

static void filtered_watch_sees_objects_enter_and_leave_its_selection(void **state)
{
    fixture_t *f = *state;
    th_recorder_t rec = {0};
    minik_store_watch_t *w = NULL;
    minik_error_t *err = NULL;
    assert_int_equal(
        minik_store_watch(f->s, "Pod", NULL, app_is, "web", 0, th_record_cb, &rec, &w, &err), 0);
    cleanup_cjson cJSON *a = create_ok(f->s, "Pod", "default", "a", "web"); /* 1 ADDED */
    relabel(f->s, "a", "web");                                              /* 2 MODIFIED */
    relabel(f->s, "a", "db");                                               /* 3 leaves */
    relabel(f->s, "a", "db");                                               /* 4 not seen */
    relabel(f->s, "a", "web");                                              /* 5 enters */
    assert_int_equal(minik_store_delete(f->s, "Pod", "default", "a", NULL, NULL, &err), 0); /* 6 */
    assert_int_equal(rec.n, 5);
    minik_store_event_type_t want[] = {MINIK_STORE_ADDED, MINIK_STORE_MODIFIED, MINIK_STORE_DELETED,
                                       MINIK_STORE_ADDED, MINIK_STORE_DELETED};
    int64_t want_rv[] = {1, 2, 3, 5, 6};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(rec.ev[i].type, want[i]);
        assert_int_equal(rec.ev[i].rv, want_rv[i]);
    }
    minik_store_unwatch(w);
}

typedef struct counted {
    int calls;
} counted_t;

static bool app_is_web_counted(const cJSON *obj, void *ud)
{
    ((counted_t *)ud)->calls++;
    return app_is(obj, "web");
}

/* A pinned watch: events whose pinned field differs before and after are never shown to
 * the filter; those that match (or leave) still go through it, with the same outcome. */
static void pinned_watch_skips_the_filter_for_other_values(void **state)
{
    fixture_t *f = *state;
    th_recorder_t rec = {0};
    counted_t cnt = {0};
    minik_store_watch_t *w = NULL;
    minik_error_t *err = NULL;
    assert_int_equal(minik_store_watch_pinned(f->s, "Pod", NULL, "metadata.labels.app", "web",
                                              app_is_web_counted, &cnt, 0, th_record_cb, &rec, &w,
                                              &err),
                     0);
    cleanup_cjson cJSON *a = create_ok(f->s, "Pod", "default", "a", "db"); /* 1 skipped */
    cleanup_cjson cJSON *b = create_ok(f->s, "Pod", "default", "b", NULL); /* 2 skipped */
    assert_int_equal(cnt.calls, 0);
    cleanup_cjson cJSON *c = create_ok(f->s, "Pod", "default", "c", "web"); /* 3 ADDED */
    assert_int_equal(cnt.calls, 1);
    relabel(f->s, "a", "db"); /* 4 db -> db: skipped */
    assert_int_equal(cnt.calls, 1);
    relabel(f->s, "a", "web"); /* 5 enters: ADDED */
    relabel(f->s, "c", "db");  /* 6 leaves: DELETED */
    assert_true(cnt.calls > 1);
    assert_int_equal(rec.n, 3);
    assert_int_equal(rec.ev[0].rv, 3);
    assert_int_equal(rec.ev[1].rv, 5);
    assert_int_equal(rec.ev[1].type, MINIK_STORE_ADDED);
    assert_int_equal(rec.ev[2].rv, 6);
    assert_int_equal(rec.ev[2].type, MINIK_STORE_DELETED);
    minik_store_unwatch(w);
}

/* Pinned watches are found by value: an event reaches the watches pinned on its old and
 * new values and the unpinned ones, no other; a watch unwatched by an earlier callback of
 * the same event gets nothing, one created by a callback starts with the next event. */
#define N_PINNED 40

typedef struct pin_fx {
    minik_store_t *s;
    char values[N_PINNED][8];
    th_recorder_t rec[N_PINNED];
    minik_store_watch_t *w[N_PINNED];
    th_recorder_t late_rec;
    minik_store_watch_t *late;
    bool unwatch_next; /* watch 3's callback unwatches watch 4 (same value "v3") */
} pin_fx_t;

static pin_fx_t *the_pin_fx;

static void pin_fx_cb3(const minik_store_event_t *ev, void *ud)
{
    th_record_cb(ev, ud);
    pin_fx_t *p = the_pin_fx;
    if (p->unwatch_next) {
        p->unwatch_next = false;
        minik_store_unwatch(p->w[4]);
        p->w[4] = NULL;
        minik_error_t *err = NULL;
        assert_int_equal(minik_store_watch_pinned(p->s, "Pod", NULL, "metadata.labels.app", "v3",
                                                  app_is, p->values[3], 0, th_record_cb,
                                                  &p->late_rec, &p->late, &err),
                         0);
    }
}

static void pinned_watches_are_found_by_value(void **state)
{
    fixture_t *f = *state;
    pin_fx_t *p = xcalloc(1, sizeof(*p));
    the_pin_fx = p;
    p->s = f->s;
    minik_error_t *err = NULL;
    for (int i = 0; i < N_PINNED; i++) {
        /* Watches 3 and 4 share the value v3. */
        snprintf(p->values[i], sizeof(p->values[i]), "v%d", i == 4 ? 3 : i);
        assert_int_equal(minik_store_watch_pinned(f->s, "Pod", NULL, "metadata.labels.app",
                                                  p->values[i], app_is, p->values[i], 0,
                                                  i == 3 ? pin_fx_cb3 : th_record_cb, &p->rec[i],
                                                  &p->w[i], &err),
                         0);
    }
    th_recorder_t all = {0};
    minik_store_watch_t *unpinned = NULL;
    assert_int_equal(
        minik_store_watch(f->s, "Pod", NULL, NULL, NULL, 0, th_record_cb, &all, &unpinned, &err),
        0);

    cleanup_cjson cJSON *a = create_ok(f->s, "Pod", "default", "a", "v7"); /* rv 1 */
    relabel(f->s, "a", "v9");                                              /* rv 2 */
    assert_int_equal(all.n, 2);
    for (int i = 0; i < N_PINNED; i++) {
        int want = i == 7 ? 2 : i == 9 ? 1 : 0;
        assert_int_equal(p->rec[i].n, want);
    }
    assert_int_equal(p->rec[7].ev[0].type, MINIK_STORE_ADDED);
    assert_int_equal(p->rec[7].ev[1].type, MINIK_STORE_DELETED); /* left v7 */
    assert_int_equal(p->rec[9].ev[0].type, MINIK_STORE_ADDED);   /* entered v9 */
    assert_int_equal(p->rec[9].ev[0].rv, 2);

    /* v3: watch 3 runs first (creation order), unwatches 4 and starts a late watch. */
    p->unwatch_next = true;
    cleanup_cjson cJSON *b = create_ok(f->s, "Pod", "default", "b", "v3"); /* rv 3 */
    assert_int_equal(p->rec[3].n, 1);
    assert_int_equal(p->rec[4].n, 0);
    assert_int_equal(p->late_rec.n, 0);
    relabel(f->s, "b", "v3"); /* rv 4: still v3 */
    assert_int_equal(p->rec[3].n, 2);
    assert_int_equal(p->rec[4].n, 0);
    assert_int_equal(p->late_rec.n, 1);
    assert_int_equal(p->late_rec.ev[0].rv, 4);
    assert_int_equal(all.n, 4);

    /* Everything unwatched: the index is empty and usable again. */
    for (int i = 0; i < N_PINNED; i++)
        minik_store_unwatch(p->w[i]);
    minik_store_unwatch(p->late);
    minik_store_unwatch(unpinned);
    assert_int_equal(minik_store_watch_count(f->s), 0);
    th_recorder_t again = {0};
    minik_store_watch_t *w = NULL;
    assert_int_equal(minik_store_watch_pinned(f->s, "Pod", NULL, "metadata.labels.app", "v9",
                                              app_is, "v9", 0, th_record_cb, &again, &w, &err),
                     0);
    relabel(f->s, "a", "v9"); /* rv 5 */
    assert_int_equal(again.n, 1);
    minik_store_unwatch(w);
    free(p);
}

/* A pinned list and a pinned replay leave rows of other values out (in SQL); an empty pin
 * value lists everything. */
static void pinned_list_and_replay(void **state)
{
    fixture_t *f = *state;
    cleanup_cjson cJSON *a = create_ok(f->s, "Pod", "default", "a", "web"); /* 1 */
    cleanup_cjson cJSON *b = create_ok(f->s, "Pod", "default", "b", "db");  /* 2 */
    cleanup_cjson cJSON *c = create_ok(f->s, "Pod", "other", "c", "web");   /* 3 */
    cleanup_cjson cJSON *items = NULL;
    minik_error_t *err = NULL;
    char names[64];
    assert_int_equal(minik_store_list_pinned(f->s, "Pod", NULL, "metadata.labels.app", "web", NULL,
                                             NULL, &items, NULL, &err),
                     0);
    list_names(items, names, sizeof names);
    assert_string_equal(names, "default/a other/c");
    cJSON_Delete(items);
    items = NULL;
    assert_int_equal(minik_store_list_pinned(f->s, "Pod", "default", "metadata.labels.app", "web",
                                             NULL, NULL, &items, NULL, &err),
                     0);
    list_names(items, names, sizeof names);
    assert_string_equal(names, "default/a");
    cJSON_Delete(items);
    items = NULL;
    assert_int_equal(minik_store_list_pinned(f->s, "Pod", NULL, "metadata.labels.app", "", NULL,
                                             NULL, &items, NULL, &err),
                     0);
    assert_int_equal(cJSON_GetArraySize(items), 3);
    /* A path SQL could not take is not pinned (the filter alone decides): no error. */
    static const char *const bad[] = {"metadata..app", "a[0", "x\"y", ".a", "a."};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cJSON_Delete(items);
        items = NULL;
        assert_int_equal(minik_store_list_pinned(f->s, "Pod", NULL, bad[i], "web", NULL, NULL,
                                                 &items, NULL, &err),
                         0);
        assert_int_equal(cJSON_GetArraySize(items), 3);
    }

    th_recorder_t rec = {0};
    minik_store_watch_t *w = NULL;
    assert_int_equal(minik_store_watch_pinned(f->s, "Pod", NULL, "metadata.labels.app", "db", NULL,
                                              NULL, 0, th_record_cb, &rec, &w, &err),
                     0);
    minik_store_unwatch(w);
    assert_int_equal(rec.n, 0); /* from 0: no replay */
    assert_int_equal(minik_store_watch_pinned(f->s, "Pod", NULL, "metadata.labels.app", "db", NULL,
                                              NULL, 0 + 1, th_record_cb, &rec, &w, &err),
                     0);
    assert_int_equal(rec.n, 1);
    assert_string_equal(rec.ev[0].name, "b");
    cleanup_cjson cJSON *d = create_ok(f->s, "Pod", "default", "d", "web"); /* not db */
    cleanup_cjson cJSON *e = create_ok(f->s, "Pod", "default", "e", "db");
    assert_int_equal(rec.n, 2);
    assert_string_equal(rec.ev[1].name, "e");
    minik_store_unwatch(w);
}

static void create_owned(minik_store_t *s, const char *name, const char *refs)
{
    cleanup_cjson cJSON *o = th_obj("Pod", "default", name, NULL);
    if (refs)
        cJSON_AddItemToObject(cJSON_GetObjectItem(o, "metadata"), "ownerReferences",
                              cJSON_Parse(refs));
    cleanup_cjson cJSON *out = NULL;
    minik_error_t *err = NULL;
    if (minik_store_create(s, o, &out, &err) < 0)
        fail_msg("create %s: %s", name, err->msg);
}

/* SQL pre-filters: text the object must contain; no controller reference. */
static void list_opts_prefilter_in_sql(void **state)
{
    fixture_t *f = *state;
    create_owned(f->s, "owned",
                 "[{\"kind\":\"ReplicaSet\",\"name\":\"r\",\"uid\":\"u-1\","
                 "\"controller\":true}]");
    create_owned(f->s, "other",
                 "[{\"kind\":\"ReplicaSet\",\"name\":\"q\",\"uid\":\"u-2\","
                 "\"controller\":true}]");
    create_owned(f->s, "weak", "[{\"kind\":\"ConfigMap\",\"name\":\"c\",\"uid\":\"u-1\"}]");
    create_owned(f->s, "orphan", NULL);
    char names[128];
    minik_error_t *err = NULL;
    cJSON *items = NULL;
    minik_store_list_opts_t o = {.contains = "u-1"};
    assert_int_equal(
        minik_store_list_opts(f->s, "Pod", "default", &o, NULL, NULL, &items, NULL, &err), 0);
    list_names(items, names, sizeof names);
    assert_string_equal(names, "default/owned default/weak");
    cJSON_Delete(items);
    minik_store_list_opts_t orphans = {.no_controller = true};
    assert_int_equal(
        minik_store_list_opts(f->s, "Pod", NULL, &orphans, NULL, NULL, &items, NULL, &err), 0);
    list_names(items, names, sizeof names);
    assert_string_equal(names, "default/orphan default/weak");
    cJSON_Delete(items);
    assert_int_equal(minik_store_list_opts(f->s, "Pod", NULL, NULL, NULL, NULL, &items, NULL, &err),
                     0);
    assert_int_equal(cJSON_GetArraySize(items), 4);
    cJSON_Delete(items);
}

static void watch_from_compacted_rv_is_410(void **state)
{
    fixture_t *f = *state; /* retention 5 */
    for (int i = 0; i < 20; i++) {
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        cleanup_cjson cJSON *o = create_ok(f->s, "Pod", "default", name, NULL);
    }
    th_recorder_t rec = {0};
    minik_store_watch_t *w = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_true(minik_store_watch(f->s, "Pod", NULL, NULL, NULL, 1, th_record_cb, &rec, &w, &err) <
                0);
    assert_int_equal(err->code, 410);
    assert_non_null(strstr(err->msg, "too old resource version: 1"));
    assert_null(w);
    assert_int_equal(rec.n, 0);
    assert_int_equal(minik_store_watch_count(f->s), 0);
    minik_error_clear(&err);

    /* The last `retention` events are kept; older ones are gone from the table. */
    assert_int_equal(
        minik_store_watch(f->s, "Pod", NULL, NULL, NULL, 15, th_record_cb, &rec, &w, &err), 0);
    assert_int_equal(rec.n, 5);
    assert_int_equal(rec.ev[0].rv, 16);
    assert_int_equal(rec.ev[4].rv, 20);
    minik_store_unwatch(w);
    minik_store_stats_t st;
    minik_store_get_stats(f->s, &st);
    assert_true(st.compact_rv >= 1 && st.compact_rv <= 15);
    int64_t rows = th_sql_int(f->path, "SELECT count(*) FROM events");
    assert_true(rows >= 5 && rows <= 20 - 1);

    /* The compaction point survives a restart: still 410. */
    minik_store_free(f->s);
    f->s = NULL;
    assert_int_equal(minik_store_open(f->path, NULL, &f->s, &err), 0);
    assert_int_equal(minik_store_current_rv(f->s), 20);
    assert_true(minik_store_watch(f->s, "Pod", NULL, NULL, NULL, 1, th_record_cb, &rec, &w, &err) <
                0);
    assert_int_equal(err->code, 410);
    minik_error_clear(&err);
    cleanup_cjson cJSON *next = create_ok(f->s, "Pod", "default", "next", NULL);
    assert_int_equal(th_rv(next), 21);
}

static void many_watchers_get_every_live_event_in_order(void **state)
{
    fixture_t *f = *state;
    enum { N = 1000 };
    th_recorder_t *recs = xcalloc(N, sizeof *recs);
    minik_store_watch_t **ws = xcalloc(N, sizeof *ws);
    minik_error_t *err = NULL;
    for (int i = 0; i < N; i++)
        assert_int_equal(minik_store_watch(f->s, i % 2 ? "Pod" : NULL, NULL, NULL, NULL, 0,
                                           th_record_cb, &recs[i], &ws[i], &err),
                         0);
    assert_int_equal(minik_store_watch_count(f->s), N);
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        cleanup_cjson cJSON *o = create_ok(f->s, "Pod", "default", name, NULL);
    }
    cleanup_cjson cJSON *n = create_ok(f->s, "Node", NULL, "n1", NULL);
    for (int i = 0; i < N; i++) {
        assert_int_equal(recs[i].n, i % 2 ? 3 : 4);
        for (int k = 0; k < recs[i].n; k++)
            assert_int_equal(recs[i].ev[k].rv, k + 1);
    }
    for (int i = 0; i < N; i++)
        minik_store_unwatch(ws[i]);
    assert_int_equal(minik_store_watch_count(f->s), 0);
    free(recs);
    free(ws);
}

typedef struct unwatcher {
    th_recorder_t rec;
    minik_store_watch_t *self;    /* written through minik_store_watch's out pointer */
    minik_store_watch_t **victim; /* another watch to cancel on the first event */
    int stop_after;               /* unwatch itself after this many events (0: never) */
} unwatcher_t;

static void unwatch_cb(const minik_store_event_t *ev, void *ud)
{
    unwatcher_t *u = ud;
    th_record_cb(ev, &u->rec);
    if (u->victim && *u->victim) {
        minik_store_unwatch(*u->victim);
        *u->victim = NULL;
    }
    if (u->stop_after && u->rec.n == u->stop_after && u->self) {
        minik_store_unwatch(u->self);
        u->self = NULL;
    }
}

static void unwatch_inside_a_callback(void **state)
{
    fixture_t *f = *state;
    minik_error_t *err = NULL;
    unwatcher_t a = {.stop_after = 1}, b = {0}, c = {0};
    assert_int_equal(
        minik_store_watch(f->s, NULL, NULL, NULL, NULL, 0, unwatch_cb, &a, &a.self, &err), 0);
    assert_int_equal(
        minik_store_watch(f->s, NULL, NULL, NULL, NULL, 0, unwatch_cb, &b, &b.self, &err), 0);
    assert_int_equal(
        minik_store_watch(f->s, NULL, NULL, NULL, NULL, 0, unwatch_cb, &c, &c.self, &err), 0);
    b.victim = &c.self; /* b, called before c, cancels c: c must never be called */

    cleanup_cjson cJSON *o1 = create_ok(f->s, "Pod", "default", "p1", NULL);
    cleanup_cjson cJSON *o2 = create_ok(f->s, "Pod", "default", "p2", NULL);
    cleanup_cjson cJSON *o3 = create_ok(f->s, "Pod", "default", "p3", NULL);
    assert_int_equal(a.rec.n, 1); /* it unwatched itself after its first event */
    assert_null(a.self);
    assert_int_equal(b.rec.n, 3);
    assert_int_equal(c.rec.n, 0);
    assert_null(c.self);
    assert_int_equal(minik_store_watch_count(f->s), 1);

    /* Unwatching during the replay: events 2 and 3 are due, the callback stops after the
     * first, the replay stops there and *out comes back NULL. */
    unwatcher_t r = {.stop_after = 1};
    assert_int_equal(
        minik_store_watch(f->s, "Pod", NULL, NULL, NULL, 1, unwatch_cb, &r, &r.self, &err), 0);
    assert_int_equal(r.rec.n, 1);
    assert_int_equal(r.rec.ev[0].rv, 2);
    assert_null(r.self);
    assert_int_equal(minik_store_watch_count(f->s), 1);
    cleanup_cjson cJSON *o4 = create_ok(f->s, "Pod", "default", "p4", NULL);
    assert_int_equal(r.rec.n, 1);
    assert_int_equal(b.rec.n, 4);
    minik_store_unwatch(b.self);
    assert_int_equal(minik_store_watch_count(f->s), 0);
}

typedef struct reentrant {
    minik_store_t *s;
    th_recorder_t rec;
    th_recorder_t late; /* the watch started from inside the callback */
    minik_store_watch_t *late_w;
} reentrant_t;

static void reentrant_cb(const minik_store_event_t *ev, void *ud)
{
    reentrant_t *x = ud;
    th_record_cb(ev, &x->rec);
    if (strcmp(th_meta(ev->object, "name"), "trigger") != 0)
        return;
    /* A controller reacting to an event: it writes, and starts another watch from the rv
     * it is looking at. */
    cleanup_cjson cJSON *echo = th_obj("Pod", "default", "echo", NULL);
    minik_error_t *err = NULL;
    assert_int_equal(minik_store_create(x->s, echo, NULL, &err), 0);
    assert_int_equal(minik_store_watch(x->s, NULL, NULL, NULL, NULL, ev->rv, th_record_cb, &x->late,
                                       &x->late_w, &err),
                     0);
}

static void callbacks_may_write_and_watch(void **state)
{
    fixture_t *f = *state;
    reentrant_t x = {.s = f->s};
    th_recorder_t other = {0};
    minik_store_watch_t *w = NULL, *w2 = NULL;
    minik_error_t *err = NULL;
    assert_int_equal(minik_store_watch(f->s, NULL, NULL, NULL, NULL, 0, reentrant_cb, &x, &w, &err),
                     0);
    assert_int_equal(
        minik_store_watch(f->s, NULL, NULL, NULL, NULL, 0, th_record_cb, &other, &w2, &err), 0);
    cleanup_cjson cJSON *t = create_ok(f->s, "Pod", "default", "trigger", NULL);
    /* Every watcher sees trigger (1) before echo (2), even the one after the writer. */
    assert_int_equal(x.rec.n, 2);
    assert_int_equal(x.rec.ev[0].rv, 1);
    assert_int_equal(x.rec.ev[1].rv, 2);
    assert_int_equal(other.n, 2);
    assert_string_equal(other.ev[0].name, "trigger");
    assert_string_equal(other.ev[1].name, "echo");
    /* The late watch (from rv 1) got echo exactly once. */
    assert_int_equal(x.late.n, 1);
    assert_string_equal(x.late.ev[0].name, "echo");
    minik_store_unwatch(w);
    minik_store_unwatch(w2);
    minik_store_unwatch(x.late_w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_fills_metadata_and_get_returns_it, setup, teardown),
        cmocka_unit_test_setup_teardown(create_existing_is_409_and_get_missing_is_404, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(objects_without_kind_or_name_are_422, setup, teardown),
        cmocka_unit_test_setup_teardown(update_is_compare_and_swap_on_resource_version, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(delete_with_precondition_and_404, setup, teardown),
        cmocka_unit_test_setup_teardown(resource_version_is_one_sequence_and_survives_reopen, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(list_orders_by_namespace_then_name_and_filters, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(count_by_kind_counts_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(watch_replays_from_rv_then_goes_live, setup, teardown),
        cmocka_unit_test_setup_teardown(watch_filter_applies_to_replay_and_live, setup, teardown),
        cmocka_unit_test_setup_teardown(pinned_watch_skips_the_filter_for_other_values, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(pinned_list_and_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(pinned_watches_are_found_by_value, setup, teardown),
        cmocka_unit_test_setup_teardown(list_opts_prefilter_in_sql, setup, teardown),
        cmocka_unit_test_setup_teardown(filtered_watch_sees_objects_enter_and_leave_its_selection,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(watch_from_compacted_rv_is_410, setup_small_feed, teardown),
        cmocka_unit_test_setup_teardown(many_watchers_get_every_live_event_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unwatch_inside_a_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(callbacks_may_write_and_watch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
