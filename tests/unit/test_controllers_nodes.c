/* Node lifecycle (heartbeats, NotReady, taints, eviction, return) and the work queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/internal.h"
#include "controllers/workqueue.h"
#include "lib/xalloc.h"
#include "tests/unit/ctl_helpers.h"

#define WAIT_MS 20000

/* ---- work queue ----------------------------------------------------------------------- */

typedef struct wq_log {
    char seen[16][16];
    int n;
    minik_wq_t *q;
    bool hold_first;
} wq_log_t;

static void wq_record(const char *key, void *ud)
{
    wq_log_t *l = ud;
    if (l->n < 16)
        snprintf(l->seen[l->n], sizeof(l->seen[0]), "%s", key);
    l->n++;
    if (l->hold_first) {
        l->hold_first = false;
        minik_wq_hold(l->q, key);
        /* Added while held: not processed until released. */
        minik_wq_add(l->q, key);
    }
}

static void test_workqueue(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    wq_log_t l = {0};
    l.q = minik_wq_new(&loop, "test", wq_record, &l);
    /* De-duplicated: a, b, a → a once, b once, in order. */
    minik_wq_add(l.q, "a");
    minik_wq_add(l.q, "b");
    minik_wq_add(l.q, "a");
    assert_int_equal(l.n, 0); /* never inside add */
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.seen[0], "a");
    assert_string_equal(l.seen[1], "b");

    /* Held keys wait for release, then run once. */
    l.hold_first = true;
    minik_wq_add(l.q, "c");
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(l.n, 3);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(l.n, 3);
    minik_wq_release(l.q, "c");
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.seen[3], "c");

    /* Delayed: not before the timer, and the earlier of two requests wins. */
    minik_wq_add_after(l.q, "d", 60000);
    minik_wq_add_after(l.q, "d", 20);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(l.n, 4);
    uv_run(&loop, UV_RUN_ONCE); /* the delay timer */
    while (l.n < 5)
        uv_run(&loop, UV_RUN_ONCE);
    assert_string_equal(l.seen[4], "d");

    /* Backoff doubles per failure and resets on forget. */
    minik_wq_add_rate_limited(l.q, "e");
    assert_int_equal(minik_wq_backoff_ms(l.q, "e"), 5);
    minik_wq_add_rate_limited(l.q, "e");
    minik_wq_add_rate_limited(l.q, "e");
    assert_int_equal(minik_wq_backoff_ms(l.q, "e"), 20);
    for (int i = 0; i < 20; i++)
        minik_wq_add_rate_limited(l.q, "e");
    assert_int_equal(minik_wq_backoff_ms(l.q, "e"), 10000);
    minik_wq_forget(l.q, "e");
    assert_int_equal(minik_wq_backoff_ms(l.q, "e"), 0);

    minik_wq_free(l.q);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- node lifecycle ------------------------------------------------------------------- */

typedef struct beat {
    uv_timer_t t;
    ctl_fix_t *f;
    bool down[2];
    int ready_changes[2][2]; /* [node][ready] */
} beat_t;

static const char *const node_names[] = {"node-1", "node-2"};

static void on_beat(uv_timer_t *t)
{
    beat_t *b = t->data;
    for (int i = 0; i < 2; i++)
        if (!b->down[i])
            minik_nodes_heartbeat(minik_controllers_nodes(b->f->ctl), node_names[i],
                                  uv_now(t->loop));
}

static void on_ready_changed(const char *node, bool ready, void *ud)
{
    beat_t *b = ud;
    int i = strcmp(node, "node-1") == 0 ? 0 : 1;
    b->ready_changes[i][ready ? 1 : 0]++;
}

static int unreachable_taints(ctl_fix_t *f, const char *node)
{
    cJSON *n = cf_get(f, "Node", "", node);
    int count = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, minik_ctl_get(n, "spec.taints"))
    {
        if (strcmp(cf_str(t, "key"), MINIK_TAINT_UNREACHABLE) == 0)
            count++;
    }
    cJSON_Delete(n);
    return count;
}

static int pods_on(const ctl_fix_t *f, const char *node, bool ds)
{
    int n = 0;
    for (int i = 0; i < f->n_pods; i++) {
        bool is_ds = strncmp(f->pods[i].name, "agent-", 6) == 0;
        if (f->pods[i].active && strcmp(f->pods[i].node, node) == 0 && is_ds == ds)
            n++;
    }
    return n;
}

static bool tainted(ctl_fix_t *f, void *ud)
{
    return unreachable_taints(f, "node-1") == 2;
}

static bool evicted(ctl_fix_t *f, void *ud)
{
    return pods_on(f, "node-1", false) == 0 && pods_on(f, "node-2", false) == 4 &&
           cf_ready(f, NULL) == 4 + 2;
}

static bool back(ctl_fix_t *f, void *ud)
{
    cJSON *n = cf_get(f, "Node", "", "node-1");
    const char *ready = cf_cond(n, "Ready", "status");
    bool ok = unreachable_taints(f, "node-1") == 0 && ready && strcmp(ready, "True") == 0;
    cJSON_Delete(n);
    return ok;
}

static bool settled(ctl_fix_t *f, void *ud)
{
    return cf_ready(f, NULL) == 4 + 2;
}

static void test_node_lifecycle(void **state)
{
    beat_t b = {0};
    minik_controllers_opts_t opts = {
        .node_grace_ms = 300,
        .pod_eviction_ms = 1500,
        .node_ready_changed = on_ready_changed,
        .node_ready_ud = &b,
    };
    ctl_fix_t *f = cf_new(&opts);
    b.f = f;
    uv_timer_init(&f->loop, &b.t);
    b.t.data = &b;
    uv_timer_start(&b.t, on_beat, 0, 100);
    cf_add_node(f, "node-1", NULL, NULL);
    cf_add_node(f, "node-2", NULL, NULL);
    cf_create(f, cf_deployment("web", 4, "nginx:1"));
    cf_create(f, cf_daemonset("agent", "agent:1"));
    assert_true(cf_run_until(f, settled, NULL, WAIT_MS));
    assert_true(minik_nodes_is_ready(minik_controllers_nodes(f->ctl), "node-1"));
    assert_false(minik_nodes_is_ready(minik_controllers_nodes(f->ctl), "node-9"));
    assert_int_equal(pods_on(f, "node-1", false), 2);
    assert_int_equal(pods_on(f, "node-1", true), 1);

    /* node-1 goes quiet: NotReady and tainted after the grace period... */
    b.down[0] = true;
    f->node_down[0] = true;
    assert_true(cf_run_until(f, tainted, NULL, WAIT_MS));
    assert_false(minik_nodes_is_ready(minik_controllers_nodes(f->ctl), "node-1"));
    assert_true(minik_nodes_is_ready(minik_controllers_nodes(f->ctl), "node-2"));
    assert_int_equal(b.ready_changes[0][0], 1);
    cJSON *n = cf_get(f, "Node", "", "node-1");
    assert_string_equal(cf_cond(n, "Ready", "status"), "Unknown");
    assert_string_equal(cf_cond(n, "Ready", "reason"), "NodeStatusUnknown");
    int effects = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, minik_ctl_get(n, "spec.taints"))
    {
        effects |= strcmp(cf_str(t, "effect"), "NoSchedule") == 0 ? 1 : 0;
        effects |= strcmp(cf_str(t, "effect"), "NoExecute") == 0 ? 2 : 0;
    }
    assert_int_equal(effects, 3);
    cJSON_Delete(n);
    /* ...its pods are not evicted at once... */
    assert_int_equal(pods_on(f, "node-1", false), 2);
    /* ...but after the eviction timeout, and replaced on node-2. The DaemonSet pod
     * tolerates unreachable:NoExecute and stays. */
    bool ev_ok = cf_run_until(f, evicted, NULL, WAIT_MS);
    for (int i = 0; !ev_ok && i < f->n_pods; i++)
        fprintf(stderr, "pod %s node=%s active=%d ready=%d\n", f->pods[i].name, f->pods[i].node,
                f->pods[i].active, f->pods[i].ready);
    assert_true(ev_ok);
    assert_int_equal(pods_on(f, "node-1", true), 1);
    minik_controllers_stats_t st;
    minik_controllers_get_stats(f->ctl, &st);
    assert_int_equal(st.evictions, 2);

    /* It comes back: taints go, Ready again, and nothing is duplicated. */
    b.down[0] = false;
    f->node_down[0] = false;
    assert_true(cf_run_until(f, back, NULL, WAIT_MS));
    assert_true(minik_nodes_is_ready(minik_controllers_nodes(f->ctl), "node-1"));
    assert_int_equal(b.ready_changes[0][1], 2); /* first heartbeat, then the return */
    cf_run_for(f, 500);
    assert_int_equal(pods_on(f, "node-1", false) + pods_on(f, "node-2", false), 4);
    assert_int_equal(pods_on(f, "node-1", true), 1);
    assert_int_equal(pods_on(f, "node-2", true), 1);
    assert_int_equal(cf_count(f, "Pod", "default"), 6);

    uv_close((uv_handle_t *)&b.t, NULL);
    cf_free(f);
}

/* A deleted node's pods are removed (they cannot run anywhere). */
static bool node_pods_gone(ctl_fix_t *f, void *ud)
{
    return cf_count(f, "Pod", "default") == 0;
}

static void test_deleted_node_pods_removed(void **state)
{
    ctl_fix_t *f = cf_new(NULL);
    f->mode = HK_IGNORE;
    cf_add_node(f, "node-1", NULL, NULL);
    cJSON *pod = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
                             "\"p\",\"namespace\":\"default\"},\"spec\":{\"nodeName\":\"node-1\","
                             "\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}");
    cf_create(f, pod);
    cf_run_for(f, 100);
    assert_int_equal(cf_count(f, "Pod", "default"), 1);
    assert_int_equal(cf_delete(f, "Node", "", "node-1"), 0);
    assert_true(cf_run_until(f, node_pods_gone, NULL, WAIT_MS));
    cf_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workqueue),
        cmocka_unit_test(test_node_lifecycle),
        cmocka_unit_test(test_deleted_node_pods_removed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
