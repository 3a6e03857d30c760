/* Node lifecycle (heartbeats, NotReady, taints, eviction, return) and the work queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Many delayed keys (enough to grow the key table several times), added in scrambled
 * order: each is processed exactly once, none before its time, in order of due time. */
#define MANY 10000

typedef struct many_log {
    uv_loop_t *loop;
    uint64_t t0; /* loop time when the keys were added */
    bool early;  /* a key ran before its delay */
    int n;
    int last_delay;
    bool out_of_order;
    int seen[MANY];
} many_log_t;

static int delay_of(int i)
{
    return (i * 37) % 40 + 1;
}

/* k1 is re-added with delay 1 after everything else (see below). */
static int effective_delay(int i)
{
    return i == 1 ? 1 : delay_of(i);
}

static void many_record(const char *key, void *ud)
{
    many_log_t *l = ud;
    int i = atoi(key + 1);
    assert_true(i >= 0 && i < MANY);
    /* cppcheck does not know the assertion returns only when it holds. */
    // cppcheck-suppress negativeIndex
    l->seen[i]++;
    if (uv_now(l->loop) < l->t0 + (uint64_t)effective_delay(i))
        l->early = true;
    if (effective_delay(i) < l->last_delay)
        l->out_of_order = true;
    l->last_delay = effective_delay(i);
    l->n++;
}

static void test_workqueue_many_delayed_keys(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    many_log_t *l = xcalloc(1, sizeof(*l));
    minik_wq_t *q = minik_wq_new(&loop, "many", many_record, l);
    l->loop = &loop;
    l->t0 = uv_now(&loop);
    for (int i = 0; i < MANY; i++) {
        char key[16];
        snprintf(key, sizeof(key), "k%d", i);
        minik_wq_add_after(q, key, (uint64_t)delay_of(i));
    }
    /* An earlier request for a key moves it forward: k1 (delay 38) now goes first. */
    minik_wq_add_after(q, "k1", 1);
    assert_int_equal(minik_wq_len(q), MANY);
    while (l->n < MANY)
        uv_run(&loop, UV_RUN_ONCE);
    assert_false(l->early);
    for (int i = 0; i < MANY; i++)
        assert_int_equal(l->seen[i], 1);
    assert_false(l->out_of_order);
    assert_int_equal(minik_wq_len(q), 0);
    minik_wq_free(q);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    free(l);
}

/* A batch of keys also ends after a time slice, so other handles on the loop (the API
 * server, the scheduler, a stop signal) get their turn whatever a key costs. */
static void slow_record(const char *key, void *ud)
{
    (*(int *)ud)++;
    usleep(4000);
}

static void test_workqueue_yields_after_a_slice(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    int n = 0;
    minik_wq_t *q = minik_wq_new(&loop, "slow", slow_record, &n);
    for (int i = 0; i < 40; i++) {
        char key[16];
        snprintf(key, sizeof(key), "k%d", i);
        minik_wq_add(q, key);
    }
    uv_run(&loop, UV_RUN_NOWAIT); /* one loop iteration: one batch */
    /* 4 ms a key, 20 ms a slice: about 5 keys, far from the 40 one batch could hold. */
    assert_true(n >= 1);
    assert_true(n < 20);
    while (n < 40)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(minik_wq_processed(q), 40);
    minik_wq_free(q);
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

/* A kubelet-style heartbeat: the Node's status posted with a new Ready.lastHeartbeatTime. */
typedef struct status_beat {
    uv_timer_t t;
    ctl_fix_t *f;
    int n;
    bool stop;
} status_beat_t;

static void on_status_beat(uv_timer_t *t)
{
    status_beat_t *b = t->data;
    if (b->stop)
        return;
    cJSON *node = cf_get(b->f, "Node", "", "node-1");
    char ts[32];
    snprintf(ts, sizeof(ts), "2026-01-01T00:%02d:%02dZ", (b->n / 60) % 60, b->n % 60);
    b->n++;
    cJSON *st = minik_ctl_obj(node, "status");
    minik_ctl_set_condition(st, "Ready", "True", "KubeletReady", NULL, 0, false);
    cJSON *cond = (cJSON *)minik_ctl_condition(node, "Ready");
    minik_ctl_set_str(cond, "lastHeartbeatTime", ts);
    /* A conflict (the controller wrote the Node) just skips this beat, like a kubelet. */
    (void)cf_try_update(b->f, node);
}

static bool ready_now(ctl_fix_t *f, void *ud)
{
    return minik_nodes_is_ready(minik_controllers_nodes(f->ctl), "node-1");
}

static bool tainted_1(ctl_fix_t *f, void *ud)
{
    return unreachable_taints(f, "node-1") == 2;
}

static void test_status_posts_are_heartbeats(void **state)
{
    minik_controllers_opts_t opts = {.node_grace_ms = 300, .pod_eviction_ms = 60000};
    ctl_fix_t *f = cf_new(&opts);
    status_beat_t b = {.f = f};
    cf_add_node(f, "node-1", NULL, NULL);
    uv_timer_init(&f->loop, &b.t);
    b.t.data = &b;
    uv_timer_start(&b.t, on_status_beat, 0, 100);
    assert_true(cf_run_until(f, ready_now, NULL, WAIT_MS));
    /* Several grace periods of status posts: still Ready, never tainted. */
    cf_run_for(f, 1000);
    assert_true(minik_nodes_is_ready(minik_controllers_nodes(f->ctl), "node-1"));
    assert_int_equal(unreachable_taints(f, "node-1"), 0);
    /* The posts stop: NotReady and tainted. */
    b.stop = true;
    assert_true(cf_run_until(f, tainted_1, NULL, WAIT_MS));
    assert_false(minik_nodes_is_ready(minik_controllers_nodes(f->ctl), "node-1"));
    uv_close((uv_handle_t *)&b.t, NULL);
    cf_free(f);
}

/* tolerationSeconds: which tolerations match the unreachable NoExecute taint and for how
 * long. */
static void test_toleration_ms(void **state)
{
    static const struct {
        const char *tolerations;
        int64_t want;
    } cases[] = {
        {"null", 9000},
        {"[]", 9000},
        {"[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
         "\"effect\":\"NoExecute\",\"tolerationSeconds\":30}]",
         30000},
        {"[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
         "\"effect\":\"NoExecute\"}]",
         -1},
        /* no effect: every effect, NoExecute included */
        {"[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
         "\"tolerationSeconds\":5}]",
         5000},
        /* another taint, or only NoSchedule: the default applies */
        {"[{\"key\":\"gpu\",\"operator\":\"Exists\",\"tolerationSeconds\":1}]", 9000},
        {"[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
         "\"effect\":\"NoSchedule\",\"tolerationSeconds\":1}]",
         9000},
        /* Equal with a value cannot match the value-less taint */
        {"[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Equal\","
         "\"value\":\"x\",\"effect\":\"NoExecute\",\"tolerationSeconds\":1}]",
         9000},
        /* several match: the shortest; one without seconds wins over all */
        {"[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
         "\"tolerationSeconds\":40},{\"operator\":\"Exists\",\"effect\":\"NoExecute\","
         "\"tolerationSeconds\":20}]",
         20000},
        {"[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
         "\"tolerationSeconds\":40},{\"operator\":\"Exists\"}]",
         -1},
        /* zero and negative: at once */
        {"[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
         "\"tolerationSeconds\":-3}]",
         0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *js = xasprintf("{\"spec\":{\"tolerations\":%s}}", cases[i].tolerations);
        cJSON *pod = cJSON_Parse(js);
        assert_non_null(pod);
        int64_t got = minik_nodes_unreachable_toleration_ms(pod, 9000);
        if (got != cases[i].want)
            fail_msg("%s: got %lld, want %lld", cases[i].tolerations, (long long)got,
                     (long long)cases[i].want);
        cJSON_Delete(pod);
        free(js);
    }
}

static void add_tol_pod(ctl_fix_t *f, const char *name, const char *tolerations)
{
    char *js = xasprintf("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
                         "\"namespace\":\"default\"},\"spec\":{\"nodeName\":\"node-1\","
                         "\"tolerations\":%s,\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}",
                         name, tolerations);
    cJSON *pod = cJSON_Parse(js);
    assert_non_null(pod);
    cf_create(f, pod);
    free(js);
}

static bool pod_gone(ctl_fix_t *f, void *ud)
{
    cJSON *p = cf_get(f, "Pod", "default", ud);
    cJSON_Delete(p);
    return p == NULL;
}

static bool pod_there(ctl_fix_t *f, const char *name)
{
    cJSON *p = cf_get(f, "Pod", "default", name);
    cJSON_Delete(p);
    return p != NULL;
}

/* A pod tolerating unreachable for 1 s goes 1 s after the taint, long before the default
 * timeout (60 s here) that applies to a pod without a matching toleration; one tolerating
 * it for ever stays. */
static void test_toleration_seconds(void **state)
{
    minik_controllers_opts_t opts = {.node_grace_ms = 300, .pod_eviction_ms = 60000};
    ctl_fix_t *f = cf_new(&opts);
    f->mode = HK_IGNORE;
    status_beat_t b = {.f = f};
    cf_add_node(f, "node-1", NULL, NULL);
    uv_timer_init(&f->loop, &b.t);
    b.t.data = &b;
    uv_timer_start(&b.t, on_status_beat, 0, 100);
    assert_true(cf_run_until(f, ready_now, NULL, WAIT_MS));
    add_tol_pod(f, "short",
                "[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
                "\"effect\":\"NoExecute\",\"tolerationSeconds\":1}]");
    add_tol_pod(f, "forever",
                "[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
                "\"effect\":\"NoExecute\"}]");
    add_tol_pod(f, "plain", "[]");
    cf_run_for(f, 100);
    b.stop = true;
    assert_true(cf_run_until(f, tainted_1, NULL, WAIT_MS));
    uint64_t tainted_at = uv_now(&f->loop);
    assert_true(pod_there(f, "short"));
    assert_true(cf_run_until(f, pod_gone, "short", WAIT_MS));
    /* Not before its second was up (the loop's clock; the taint came at most a tick
     * after NotReady). */
    assert_true(uv_now(&f->loop) - tainted_at >= 800);
    cf_run_for(f, 1000);
    assert_true(pod_there(f, "plain"));
    assert_true(pod_there(f, "forever"));
    minik_controllers_stats_t st;
    minik_controllers_get_stats(f->ctl, &st);
    assert_int_equal(st.evictions, 1);
    uv_close((uv_handle_t *)&b.t, NULL);
    cf_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workqueue),
        cmocka_unit_test(test_workqueue_many_delayed_keys),
        cmocka_unit_test(test_workqueue_yields_after_a_slice),
        cmocka_unit_test(test_node_lifecycle),
        cmocka_unit_test(test_deleted_node_pods_removed),
        cmocka_unit_test(test_status_posts_are_heartbeats),
        cmocka_unit_test(test_toleration_ms),
        cmocka_unit_test(test_toleration_seconds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
