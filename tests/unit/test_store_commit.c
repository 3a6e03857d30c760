/* Store: the asynchronous, group-committed API on a real libuv loop. */
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
    uv_loop_t loop;
    th_recorder_t watched;
    minik_store_watch_t *w;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = xcalloc(1, sizeof *f);
    f->dir = th_tmpdir();
    f->path = th_db_path(f->dir);
    minik_error_t *err = NULL;
    if (minik_store_open(f->path, NULL, &f->s, &err) < 0)
        fail_msg("open: %s", err->msg);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(minik_store_attach_loop(f->s, &f->loop, &err), 0);
    assert_int_equal(
        minik_store_watch(f->s, NULL, NULL, NULL, NULL, 0, th_record_cb, &f->watched, &f->w, &err),
        0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    /* Freeing without close_async is allowed once no write is pending: the loop still has
     * to run the handles' close callbacks. */
    minik_store_free(f->s);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f->path);
    th_rmdir(f->dir);
    free(f);
    return 0;
}

typedef struct ack {
    fixture_t *f;
    int status;
    int code;
    int64_t rv;
    int order;       /* position among all acknowledgements */
    int events_seen; /* watch events delivered before this acknowledgement */
    bool called;
    int submit_on_ack; /* submit this many more creates from the callback */
    struct ack *more;  /* their acks */
} ack_t;

static int ack_counter;

static void done_cb(int status, cJSON *result, minik_error_t *err, void *ud)
{
    ack_t *a = ud;
    assert_false(a->called);
    a->called = true;
    a->status = status;
    a->code = err ? err->code : 0;
    a->rv = result ? th_rv(result) : -1;
    a->order = ack_counter++;
    a->events_seen = a->f->watched.total;
    if (status == 0)
        assert_non_null(result);
    else
        assert_non_null(err);
    cJSON_Delete(result);
    minik_error_free(err);
    for (int i = 0; i < a->submit_on_ack; i++) {
        char name[32];
        snprintf(name, sizeof name, "more-%d", i);
        a->more[i].f = a->f;
        minik_store_submit(a->f->s, MINIK_STORE_OP_CREATE, th_obj("Pod", "default", name, NULL),
                           done_cb, &a->more[i]);
    }
}

static void submit(fixture_t *f, minik_store_op_t op, cJSON *obj, ack_t *a)
{
    a->f = f;
    minik_store_submit(f->s, op, obj, done_cb, a);
    assert_false(a->called); /* never called back before submit returns */
}

static void writes_of_one_iteration_share_one_transaction(void **state)
{
    fixture_t *f = *state;
    enum { N = 100 };
    ack_t acks[N];
    memset(acks, 0, sizeof acks);
    ack_counter = 0;
    minik_store_stats_t before, after;
    minik_store_get_stats(f->s, &before);
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "p%03d", i);
        submit(f, MINIK_STORE_OP_CREATE, th_obj("Pod", "default", name, NULL), &acks[i]);
    }
    minik_store_get_stats(f->s, &before);
    assert_int_equal(before.pending_ops, N);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    minik_store_get_stats(f->s, &after);
    assert_int_equal(after.transactions - before.transactions, 1);
    assert_int_equal(after.writes - before.writes, N);
    assert_int_equal(after.pending_ops, 0);
    for (int i = 0; i < N; i++) {
        assert_true(acks[i].called);
        assert_int_equal(acks[i].status, 0);
        /* Acknowledged in submission order, resourceVersions in the same order. */
        assert_int_equal(acks[i].order, i);
        assert_int_equal(acks[i].rv, i + 1);
        /* Watchers saw the whole batch (after the commit) before any writer heard back. */
        assert_int_equal(acks[i].events_seen, N);
    }
    assert_int_equal(f->watched.n, N < 256 ? N : 256);
    for (int i = 0; i < f->watched.n; i++)
        assert_int_equal(f->watched.ev[i].rv, i + 1);
    /* Committed for real: visible through the read connection and to a raw SQLite reader. */
    assert_int_equal(th_sql_int(f->path, "SELECT count(*) FROM objects"), N);
    assert_int_equal(minik_store_current_rv(f->s), N);
}

static void one_failing_write_does_not_fail_its_batch(void **state)
{
    fixture_t *f = *state;
    cleanup_cjson cJSON *a = th_obj("Pod", "default", "a", NULL);
    minik_error_t *err = NULL;
    assert_int_equal(minik_store_create(f->s, a, NULL, &err), 0); /* rv 1 */
    uv_run(&f->loop, UV_RUN_DEFAULT);
    f->watched = (th_recorder_t){0};

    ack_t acks[7];
    memset(acks, 0, sizeof acks);
    ack_counter = 0;
    cJSON *stale_b = th_obj("Pod", "default", "b", NULL);
    cJSON_AddStringToObject(cJSON_GetObjectItem(stale_b, "metadata"), "resourceVersion", "999");
    cJSON *noname = cJSON_Parse("{\"kind\":\"Pod\",\"metadata\":{}}");
    minik_store_stats_t before, after;
    minik_store_get_stats(f->s, &before);
    submit(f, MINIK_STORE_OP_CREATE, th_obj("Pod", "default", "b", NULL), &acks[0]);     /* ok, 2 */
    submit(f, MINIK_STORE_OP_CREATE, th_obj("Pod", "default", "a", NULL), &acks[1]);     /* 409 */
    submit(f, MINIK_STORE_OP_UPDATE, th_obj("Pod", "default", "ghost", NULL), &acks[2]); /* 404 */
    submit(f, MINIK_STORE_OP_UPDATE, stale_b, &acks[3]);                                 /* 409 */
    submit(f, MINIK_STORE_OP_DELETE, th_obj("Pod", "default", "nope", NULL), &acks[4]);  /* 404 */
    submit(f, MINIK_STORE_OP_CREATE, noname, &acks[5]);                                  /* 422 */
    submit(f, MINIK_STORE_OP_DELETE, th_obj("Pod", "default", "a", NULL), &acks[6]);     /* ok, 3 */
    uv_run(&f->loop, UV_RUN_DEFAULT);
    minik_store_get_stats(f->s, &after);
    assert_int_equal(after.transactions - before.transactions, 1);
    assert_int_equal(after.writes - before.writes, 2);

    int want_code[] = {0, 409, 404, 409, 404, 422, 0};
    for (int i = 0; i < 7; i++) {
        assert_true(acks[i].called);
        assert_int_equal(acks[i].code, want_code[i]);
        assert_int_equal(acks[i].status == 0, want_code[i] == 0);
    }
    assert_int_equal(acks[0].rv, 2);
    assert_int_equal(acks[6].rv, 3); /* failed writes took no resourceVersion */
    assert_int_equal(f->watched.n, 2);
    assert_int_equal(f->watched.ev[0].type, MINIK_STORE_ADDED);
    assert_int_equal(f->watched.ev[1].type, MINIK_STORE_DELETED);

    cleanup_cjson cJSON *b = NULL;
    cleanup_error minik_error_t *gerr = NULL;
    assert_int_equal(minik_store_get(f->s, "Pod", "default", "b", &b, &gerr), 0);
    cJSON *gone = NULL;
    assert_true(minik_store_get(f->s, "Pod", "default", "a", &gone, &gerr) < 0);
    assert_int_equal(gerr->code, 404);
}

static void writes_submitted_during_a_commit_form_the_next_batch(void **state)
{
    fixture_t *f = *state;
    ack_t first = {0}, more[20];
    memset(more, 0, sizeof more);
    first.submit_on_ack = 20;
    first.more = more;
    ack_counter = 0;
    minik_store_stats_t before, after;
    minik_store_get_stats(f->s, &before);
    submit(f, MINIK_STORE_OP_CREATE, th_obj("Pod", "default", "first", NULL), &first);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    minik_store_get_stats(f->s, &after);
    /* One transaction for the first write, one for the 20 its callback submitted. */
    assert_int_equal(after.transactions - before.transactions, 2);
    assert_int_equal(after.writes - before.writes, 21);
    for (int i = 0; i < 20; i++) {
        assert_true(more[i].called);
        assert_int_equal(more[i].status, 0);
        assert_int_equal(more[i].rv, i + 2);
    }
}

static void sync_writes_with_a_loop_notify_watchers_on_the_loop(void **state)
{
    fixture_t *f = *state;
    cleanup_cjson cJSON *o = th_obj("Pod", "default", "sync", NULL);
    minik_error_t *err = NULL;
    assert_int_equal(minik_store_create(f->s, o, NULL, &err), 0);
    /* Not from inside the write call: on the loop, like every other callback. */
    assert_int_equal(f->watched.n, 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(f->watched.n, 1);
    assert_string_equal(f->watched.ev[0].name, "sync");

    /* Sync and async writes interleaved still reach watchers in rv order. */
    ack_t a = {0};
    submit(f, MINIK_STORE_OP_CREATE, th_obj("Pod", "default", "async", NULL), &a);
    cleanup_cjson cJSON *o2 = th_obj("Pod", "default", "sync2", NULL);
    assert_int_equal(minik_store_create(f->s, o2, NULL, &err), 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(f->watched.n, 3);
    assert_true(f->watched.ev[1].rv < f->watched.ev[2].rv);
    assert_int_equal(a.status, 0);
}

static int closed_calls;
static void on_closed(void *ud)
{
    ack_t *acks = ud;
    /* Every queued write was acknowledged before the store reports it is closed. */
    for (int i = 0; i < 10; i++)
        assert_true(acks[i].called);
    closed_calls++;
}

static void close_async_finishes_queued_writes_then_refuses(void **state)
{
    fixture_t *f = *state;
    ack_t acks[10], late[1];
    memset(acks, 0, sizeof acks);
    memset(late, 0, sizeof late);
    acks[9].submit_on_ack = 1; /* submitted while closing: refused with 503 */
    acks[9].more = late;
    closed_calls = 0;
    for (int i = 0; i < 10; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", i);
        submit(f, MINIK_STORE_OP_CREATE, th_obj("Pod", "default", name, NULL), &acks[i]);
    }
    minik_store_close_async(f->s, on_closed, acks);
    assert_int_equal(closed_calls, 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(closed_calls, 1);
    for (int i = 0; i < 10; i++)
        assert_int_equal(acks[i].status, 0);
    assert_true(late[0].called);
    assert_int_equal(late[0].code, 503);
    assert_int_equal(th_sql_int(f->path, "SELECT count(*) FROM objects"), 10);
}

static void on_closed_count(void *ud)
{
    ack_t *late = ud;
    assert_true(late->called); /* answered before the store reports it is closed */
    closed_calls++;
}

static void submit_after_close_began_is_refused(void **state)
{
    fixture_t *f = *state;
    ack_t late = {0};
    closed_calls = 0;
    /* Nothing queued: the close starts at once; a write submitted now is refused. */
    minik_store_close_async(f->s, on_closed_count, &late);
    submit(f, MINIK_STORE_OP_CREATE, th_obj("Pod", "default", "late", NULL), &late);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_true(late.called);
    assert_int_equal(late.code, 503);
    assert_int_equal(closed_calls, 1);
    assert_int_equal(minik_store_current_rv(f->s), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(writes_of_one_iteration_share_one_transaction, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(one_failing_write_does_not_fail_its_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(writes_submitted_during_a_commit_form_the_next_batch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(sync_writes_with_a_loop_notify_watchers_on_the_loop, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(close_async_finishes_queued_writes_then_refuses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(submit_after_close_began_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
