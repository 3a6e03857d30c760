/* The scheduler loop over a REAL store (SQLite file in a temp dir) on a real libuv loop:
 * binding, the unschedulable condition, retries when the cluster changes, spreading,
 * readiness, cordoning, bind conflicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/xalloc.h"
#include "scheduler/scheduler.h"
#include "store/store.h"
#include "tests/unit/sched_fixtures.h"

typedef struct fx {
    char *dir;
    minik_store_t *store;
    uv_loop_t loop;
    minik_scheduler_t *sched;
    bool ready[8]; /* readiness by node index for the callback ("n<i>") */
    int ready_calls;
} fx_t;

static bool ready_cb(const char *name, const cJSON *node, void *ud)
{
    fx_t *f = ud;
    f->ready_calls++;
    int i = name[1] - '0';
    return i >= 0 && i < 8 ? f->ready[i] : false;
}

static int setup(void **state)
{
    fx_t *f = xcalloc(1, sizeof(*f));
    char tmpl[] = "/tmp/minik-sched-XXXXXX";
    f->dir = xstrdup(mkdtemp(tmpl));
    cleanup_free char *path = xasprintf("%s/state.db", f->dir);
    minik_error_t *err = NULL;
    if (minik_store_open(path, NULL, &f->store, &err) < 0)
        fail_msg("open: %s", err->msg);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(minik_store_attach_loop(f->store, &f->loop, &err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    minik_scheduler_free(f->sched);
    uv_run(&f->loop, UV_RUN_DEFAULT); /* in-flight writes finish, handles close */
    minik_store_free(f->store);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    minik_rm_rf(f->dir, NULL);
    free(f->dir);
    free(f);
    return 0;
}

static void start(fx_t *f, const minik_scheduler_opts_t *opts)
{
    minik_error_t *err = NULL;
    if (minik_scheduler_new(f->store, &f->loop, opts, &f->sched, &err) < 0 ||
        minik_scheduler_start(f->sched, &err) < 0)
        fail_msg("scheduler: %s", err->msg);
}

/* Run the loop until nothing is left to do: no queued pods, no writes in flight. */
static void settle(fx_t *f)
{
    for (int i = 0; i < 100000; i++) {
        minik_scheduler_stats_t st;
        minik_scheduler_get_stats(f->sched, &st);
        if (st.pending == 0 && st.binding == 0 && uv_run(&f->loop, UV_RUN_NOWAIT) == 0)
            return;
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    fail_msg("scheduler did not settle");
}

static void create(fx_t *f, const char *json)
{
    cJSON *o = sched_json(json);
    minik_error_t *err = NULL;
    if (minik_store_create(f->store, o, NULL, &err) < 0)
        fail_msg("create: %s", err->msg);
    cJSON_Delete(o);
}

static void update(fx_t *f, const char *json)
{
    cJSON *o = sched_json(json);
    minik_error_t *err = NULL;
    if (minik_store_update(f->store, o, NULL, &err) < 0)
        fail_msg("update: %s", err->msg);
    cJSON_Delete(o);
}

static void del(fx_t *f, const char *kind, const char *ns, const char *name)
{
    minik_error_t *err = NULL;
    if (minik_store_delete(f->store, kind, ns, name, NULL, NULL, &err) < 0)
        fail_msg("delete: %s", err->msg);
}

static char node_json[1024];
static const char *node(const char *name, const char *cpu, const char *spec, bool ready_cond)
{
    snprintf(node_json, sizeof(node_json),
             "{'apiVersion':'v1','kind':'Node','metadata':{'name':'%s'},'spec':{%s},'status':{"
             "'allocatable':{'cpu':'%s','memory':'8Gi','pods':'110'},'conditions':[{'type':"
             "'Ready','status':'%s'}]}}",
             name, spec ? spec : "", cpu, ready_cond ? "True" : "False");
    return node_json;
}

static char pod_json[1024];
static const char *pod(const char *name, const char *cpu, const char *meta, const char *spec)
{
    snprintf(pod_json, sizeof(pod_json),
             "{'apiVersion':'v1','kind':'Pod','metadata':{'name':'%s','namespace':'default'%s%s},"
             "'spec':{%s%s'containers':[{'name':'c','image':'busybox','resources':{'requests':{"
             "'cpu':'%s'}}}]}}",
             name, meta ? "," : "", meta ? meta : "", spec ? spec : "", spec ? "," : "", cpu);
    return pod_json;
}

static cJSON *get_pod(fx_t *f, const char *name)
{
    cJSON *o = NULL;
    minik_error_t *err = NULL;
    if (minik_store_get(f->store, "Pod", "default", name, &o, &err) < 0)
        fail_msg("get %s: %s", name, err->msg);
    return o;
}

/* spec.nodeName of the stored pod ("" when unbound); static buffer. */
static const char *node_of(fx_t *f, const char *name)
{
    static char buf[128];
    cleanup_cjson cJSON *o = get_pod(f, name);
    const char *n = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "spec"), "nodeName"));
    snprintf(buf, sizeof(buf), "%s", n ? n : "");
    return buf;
}

/* "status/reason/message" of the PodScheduled condition ("" if none); static buffer. */
static const char *scheduled_cond(fx_t *f, const char *name)
{
    static char buf[512];
    cleanup_cjson cJSON *o = get_pod(f, name);
    buf[0] = '\0';
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(
                              cJSON_GetObjectItemCaseSensitive(o, "status"), "conditions"))
    {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "type")),
                   "PodScheduled") != 0)
            continue;
        const char *r = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "reason"));
        const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "message"));
        snprintf(buf, sizeof(buf), "%s/%s/%s",
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "status")), r ? r : "",
                 m ? m : "");
    }
    return buf;
}

static void pods_before_and_after_nodes_get_bound(void **state)
{
    fx_t *f = *state;
    create(f, pod("early", "100m", NULL, NULL));
    start(f, NULL);
    settle(f);
    assert_string_equal(node_of(f, "early"), "");
    assert_string_equal(scheduled_cond(f, "early"),
                        "False/Unschedulable/no nodes available to schedule pods");

    create(f, node("n1", "2", NULL, true));
    settle(f);
    assert_string_equal(node_of(f, "early"), "n1");
    assert_string_equal(scheduled_cond(f, "early"), "True//");

    create(f, pod("late", "100m", NULL, NULL));
    settle(f);
    assert_string_equal(node_of(f, "late"), "n1");
    /* Event-driven, not polling: with nothing to do, the scheduler keeps no handle
     * active (no timer, no idle), so the loop would block or exit. */
    assert_int_equal(uv_loop_alive(&f->loop), 0);
    minik_scheduler_stats_t st;
    minik_scheduler_get_stats(f->sched, &st);
    assert_int_equal(st.bound, 2);
    assert_int_equal(st.nodes, 1);
    assert_int_equal(st.waiting, 0);
}

static void unschedulable_gets_condition_then_binds_when_a_node_fits(void **state)
{
    fx_t *f = *state;
    create(f, node("n1", "1", NULL, true));
    create(f,
           node("n2", "2", "'taints':[{'key':'gpu','value':'true','effect':'NoSchedule'}]", true));
    start(f, NULL);
    create(f, pod("big", "1500m", NULL, NULL));
    settle(f);
    assert_string_equal(node_of(f, "big"), "");
    assert_string_equal(scheduled_cond(f, "big"),
                        "False/Unschedulable/0/2 nodes are available: 1 Insufficient cpu, 1 "
                        "node(s) had untolerated taint {gpu: true}.");
    /* A status write of our own must not make the pod loop: it stays parked. */
    minik_scheduler_stats_t st;
    minik_scheduler_get_stats(f->sched, &st);
    assert_int_equal(st.unschedulable, 1);
    assert_int_equal(st.waiting, 1);
    assert_int_equal(uv_loop_alive(&f->loop), 0);

    create(f, node("n3", "4", NULL, true));
    settle(f);
    assert_string_equal(node_of(f, "big"), "n3");
    assert_string_equal(scheduled_cond(f, "big"), "True//");
}

static void spreads_an_owner_across_three_nodes(void **state)
{
    fx_t *f = *state;
    create(f, node("n1", "4", NULL, true));
    create(f, node("n2", "4", NULL, true));
    create(f, node("n3", "4", NULL, true));
    start(f, NULL);
    for (int i = 0; i < 6; i++) {
        char name[16];
        snprintf(name, sizeof(name), "web-%d", i);
        create(f,
               pod(name, "100m", "'ownerReferences':[{'uid':'rs-web','controller':true}]", NULL));
    }
    settle(f);
    int count[4] = {0};
    for (int i = 0; i < 6; i++) {
        char name[16];
        snprintf(name, sizeof(name), "web-%d", i);
        const char *n = node_of(f, name);
        assert_int_equal(strlen(n), 2);
        count[n[1] - '0']++;
    }
    assert_int_equal(count[1], 2);
    assert_int_equal(count[2], 2);
    assert_int_equal(count[3], 2);
}

static void spreads_an_owner_across_zones(void **state)
{
    fx_t *f = *state;
    const char *zone_a = "{'topology.kubernetes.io/zone':'a'}";
    char json[1024];
    /* node(): no labels; add the zone label by hand. */
    snprintf(json, sizeof(json),
             "{'apiVersion':'v1','kind':'Node','metadata':{'name':'%s','labels':%s},'status':{"
             "'allocatable':{'cpu':'4','memory':'8Gi','pods':'110'},'conditions':[{'type':"
             "'Ready','status':'True'}]}}",
             "a1", zone_a);
    create(f, json);
    snprintf(json, sizeof(json),
             "{'apiVersion':'v1','kind':'Node','metadata':{'name':'%s','labels':%s},'status':{"
             "'allocatable':{'cpu':'4','memory':'8Gi','pods':'110'},'conditions':[{'type':"
             "'Ready','status':'True'}]}}",
             "a2", zone_a);
    create(f, json);
    snprintf(json, sizeof(json),
             "{'apiVersion':'v1','kind':'Node','metadata':{'name':'%s','labels':%s},'status':{"
             "'allocatable':{'cpu':'4','memory':'8Gi','pods':'110'},'conditions':[{'type':"
             "'Ready','status':'True'}]}}",
             "b1", "{'topology.kubernetes.io/zone':'b'}");
    create(f, json);
    start(f, NULL);
    create(f, pod("w0", "100m", "'ownerReferences':[{'uid':'rs-web','controller':true}]", NULL));
    settle(f);
    create(f, pod("w1", "100m", "'ownerReferences':[{'uid':'rs-web','controller':true}]", NULL));
    settle(f);
    /* w0 took a1 (first by name); per node a2 and b1 tie, but zone b has no replica. */
    assert_string_equal(node_of(f, "w0"), "a1");
    assert_string_equal(node_of(f, "w1"), "b1");
}

static char zoned_json[1024];
static const char *zoned_node(const char *name, const char *zone)
{
    snprintf(zoned_json, sizeof(zoned_json),
             "{'apiVersion':'v1','kind':'Node','metadata':{'name':'%s','labels':{"
             "'topology.kubernetes.io/zone':'%s'}},'status':{'allocatable':{'cpu':'4','memory':"
             "'8Gi','pods':'110'},'conditions':[{'type':'Ready','status':'True'}]}}",
             name, zone);
    return zoned_json;
}

#define OWNED_BY_WEB "'ownerReferences':[{'uid':'rs-web','controller':true}]"

/* The per-zone owner counts follow a node whose zone label changes: after x1 moves from
 * zone a to zone b, zone b holds a replica and zone c none, so the next replica goes to
 * x3. (Counts left under zone a would make x2 and x3 tie, and x2 win on its name.) */
static void owner_zone_counts_follow_a_relabelled_node(void **state)
{
    fx_t *f = *state;
    create(f, zoned_node("x1", "a"));
    create(f, zoned_node("x2", "b"));
    create(f, zoned_node("x3", "c"));
    start(f, NULL);
    create(f, pod("w0", "100m", OWNED_BY_WEB, NULL));
    settle(f);
    assert_string_equal(node_of(f, "w0"), "x1");
    update(f, zoned_node("x1", "b"));
    settle(f);
    create(f, pod("w1", "100m", OWNED_BY_WEB, NULL));
    settle(f);
    assert_string_equal(node_of(f, "w1"), "x3");
}

static char bound_json[1024];
static const char *bound_pod(const char *ns, const char *name, const char *node_name,
                             const char *meta)
{
    snprintf(bound_json, sizeof(bound_json),
             "{'apiVersion':'v1','kind':'Pod','metadata':{'name':'%s','namespace':'%s'%s},"
             "'spec':{'nodeName':'%s','containers':[{'name':'c','image':'busybox'}]}}",
             name, ns, meta, node_name);
    return bound_json;
}

/* Replicas count per owner only within their namespace: a pod elsewhere that names the
 * same owner uid is not a sibling. x1 (zone a) carries such a pod and x2 (zone b) an
 * identical unowned one, so everything ties and the replica goes to x1 on its name; had
 * the other namespace's pod counted, zone a would look taken and x2 would win. A deleted
 * replica stops counting the same way. */
static void owner_zone_counts_are_per_namespace_and_forget_deleted_pods(void **state)
{
    fx_t *f = *state;
    create(f, zoned_node("x1", "a"));
    create(f, zoned_node("x2", "b"));
    create(f, bound_pod("team", "other", "x1", "," OWNED_BY_WEB));
    create(f, bound_pod("default", "filler", "x2", ""));
    start(f, NULL);
    create(f, pod("w0", "100m", OWNED_BY_WEB, NULL));
    settle(f);
    assert_string_equal(node_of(f, "w0"), "x1");
    del(f, "Pod", "default", "w0");
    settle(f);
    create(f, pod("w1", "100m", OWNED_BY_WEB, NULL));
    settle(f);
    assert_string_equal(node_of(f, "w1"), "x1");
}

static void deleted_pod_frees_room(void **state)
{
    fx_t *f = *state;
    create(f, node("n1", "1", NULL, true));
    start(f, NULL);
    create(f, pod("first", "800m", NULL, NULL));
    settle(f);
    create(f, pod("second", "800m", NULL, NULL));
    settle(f);
    assert_string_equal(node_of(f, "first"), "n1");
    assert_string_equal(node_of(f, "second"), "");
    assert_string_equal(scheduled_cond(f, "second"),
                        "False/Unschedulable/0/1 nodes are available: 1 Insufficient cpu.");
    del(f, "Pod", "default", "first");
    settle(f);
    assert_string_equal(node_of(f, "second"), "n1");
}

static void readiness_comes_from_the_callback(void **state)
{
    fx_t *f = *state;
    /* The stored condition says Ready, the heartbeat owner says otherwise: it wins. */
    create(f, node("n1", "2", NULL, true));
    minik_scheduler_opts_t opts = {.node_ready = ready_cb, .node_ready_ud = f};
    start(f, &opts);
    create(f, pod("p", "100m", NULL, NULL));
    settle(f);
    assert_string_equal(
        scheduled_cond(f, "p"),
        "False/Unschedulable/0/1 nodes are available: 1 node(s) had untolerated taint "
        "{node.kubernetes.io/not-ready: }.");
    f->ready[1] = true;
    minik_scheduler_node_ready_changed(f->sched, "n1");
    settle(f);
    assert_string_equal(node_of(f, "p"), "n1");
    assert_true(f->ready_calls >= 2);
}

static void condition_decides_without_callback(void **state)
{
    fx_t *f = *state;
    create(f, node("n1", "2", NULL, false));
    start(f, NULL);
    create(f, pod("p", "100m", NULL, NULL));
    settle(f);
    assert_string_equal(node_of(f, "p"), "");
    update(f, node("n1", "2", NULL, true));
    settle(f);
    assert_string_equal(node_of(f, "p"), "n1");
}

static void cordon_and_uncordon(void **state)
{
    fx_t *f = *state;
    create(f, node("n1", "2", "'unschedulable':true", true));
    start(f, NULL);
    create(f, pod("p", "100m", NULL, NULL));
    settle(f);
    assert_string_equal(scheduled_cond(f, "p"),
                        "False/Unschedulable/0/1 nodes are available: 1 node(s) were "
                        "unschedulable.");
    update(f, node("n1", "2", NULL, true));
    settle(f);
    assert_string_equal(node_of(f, "p"), "n1");
}

static void pods_not_ours_are_left_alone(void **state)
{
    fx_t *f = *state;
    create(f, node("n1", "2", NULL, true));
    start(f, NULL);
    create(f, pod("other", "100m", NULL, "'schedulerName':'someone-else'"));
    create(f, pod("going", "100m", "'deletionTimestamp':'2026-01-01T00:00:00Z'", NULL));
    create(f, pod("pinned", "100m", NULL, "'nodeName':'n9'"));
    settle(f);
    assert_string_equal(node_of(f, "other"), "");
    assert_string_equal(scheduled_cond(f, "other"), "");
    assert_string_equal(node_of(f, "going"), "");
    assert_string_equal(node_of(f, "pinned"), "n9");
    minik_scheduler_stats_t st;
    minik_scheduler_get_stats(f->sched, &st);
    assert_int_equal(st.attempts, 0);
}

static void existing_bound_pods_count_after_restart(void **state)
{
    fx_t *f = *state;
    create(f, node("n1", "1", NULL, true));
    create(f, node("n2", "1", NULL, true));
    /* Bound before this scheduler started (by an earlier run). */
    create(f, pod("old", "800m", NULL, "'nodeName':'n1'"));
    start(f, NULL);
    create(f, pod("new", "800m", NULL, NULL));
    settle(f);
    assert_string_equal(node_of(f, "new"), "n2");
}

static void pods_follow_their_node_out_and_back(void **state)
{
    fx_t *f = *state;
    create(f, node("n1", "1", NULL, true));
    create(f, pod("ghostly", "800m", NULL, "'nodeName':'n2'")); /* bound to an unknown node */
    start(f, NULL);
    create(f, pod("a", "800m", NULL, NULL));
    settle(f);
    assert_string_equal(node_of(f, "a"), "n1");
    /* n2 appears: its pod counts there, so a second pod does not fit on it. */
    create(f, node("n2", "1", NULL, true));
    create(f, pod("b", "800m", NULL, NULL));
    settle(f);
    assert_string_equal(node_of(f, "b"), "");
    /* n1 goes away and comes back: its pod "a" is still accounted there afterwards. */
    del(f, "Node", "", "n1");
    settle(f);
    create(f, node("n1", "1", NULL, true));
    settle(f);
    assert_string_equal(node_of(f, "b"), "");
    assert_string_equal(scheduled_cond(f, "b"),
                        "False/Unschedulable/0/2 nodes are available: 2 Insufficient cpu.");
    minik_scheduler_stats_t st;
    minik_scheduler_get_stats(f->sched, &st);
    assert_int_equal(st.nodes, 2);
}

static void bind_conflict_is_retried(void **state)
{
    fx_t *f = *state;
    create(f, node("n1", "2", NULL, true));
    create(f, pod("p", "100m", NULL, NULL));
    start(f, NULL);
    /* Change the pod after the scheduler listed it: its first bind carries a stale
     * resourceVersion, gets 409, and the pod is placed again from the fresh copy. */
    update(f, pod("p", "100m", "'labels':{'v':'2'}", NULL));
    settle(f);
    assert_string_equal(node_of(f, "p"), "n1");
    cleanup_cjson cJSON *o = get_pod(f, "p");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                            cJSON_GetObjectItemCaseSensitive(
                                cJSON_GetObjectItemCaseSensitive(o, "metadata"), "labels"),
                            "v")),
                        "2");
    minik_scheduler_stats_t st;
    minik_scheduler_get_stats(f->sched, &st);
    assert_int_equal(st.bound, 1);
    assert_int_equal(st.bind_errors, 1);
}

static void condition_written_despite_a_concurrent_status_update(void **state)
{
    fx_t *f = *state;
    create(f, node("n1", "1", NULL, true));
    create(f, pod("big", "2", NULL, NULL));
    start(f, NULL);
    /* Another writer (say, an agent) updates the pod's status after the scheduler listed
     * it: the condition write conflicts, and the scheduler must write it again. */
    cJSON *o = get_pod(f, "big");
    cJSON_AddObjectToObject(o, "status");
    cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(o, "status"), "phase", "Pending");
    minik_error_t *err = NULL;
    if (minik_store_update(f->store, o, NULL, &err) < 0)
        fail_msg("update: %s", err->msg);
    cJSON_Delete(o);
    settle(f);
    assert_string_equal(scheduled_cond(f, "big"),
                        "False/Unschedulable/0/1 nodes are available: 1 Insufficient cpu.");
    minik_scheduler_stats_t st;
    minik_scheduler_get_stats(f->sched, &st);
    assert_int_equal(st.unschedulable, 2);
    assert_int_equal(st.waiting, 1);
}

static void binpack_policy_through_the_loop(void **state)
{
    fx_t *f = *state;
    create(f, node("n1", "2", NULL, true));
    create(f, node("n2", "2", NULL, true));
    minik_scheduler_opts_t opts = {.policy = MINIK_SCHED_POLICY_BINPACK};
    start(f, &opts);
    create(f, pod("a", "900m", NULL, NULL));
    create(f, pod("b", "900m", NULL, NULL));
    create(f, pod("c", "900m", NULL, NULL));
    settle(f);
    /* a and b fill n1 (1.8 of 2 cores); c no longer fits there. */
    assert_string_equal(node_of(f, "a"), "n1");
    assert_string_equal(node_of(f, "b"), "n1");
    assert_string_equal(node_of(f, "c"), "n2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(pods_before_and_after_nodes_get_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(unschedulable_gets_condition_then_binds_when_a_node_fits,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(spreads_an_owner_across_three_nodes, setup, teardown),
        cmocka_unit_test_setup_teardown(spreads_an_owner_across_zones, setup, teardown),
        cmocka_unit_test_setup_teardown(owner_zone_counts_follow_a_relabelled_node, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(owner_zone_counts_are_per_namespace_and_forget_deleted_pods,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(deleted_pod_frees_room, setup, teardown),
        cmocka_unit_test_setup_teardown(readiness_comes_from_the_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(condition_decides_without_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(cordon_and_uncordon, setup, teardown),
        cmocka_unit_test_setup_teardown(pods_not_ours_are_left_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(existing_bound_pods_count_after_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(pods_follow_their_node_out_and_back, setup, teardown),
        cmocka_unit_test_setup_teardown(bind_conflict_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(condition_written_despite_a_concurrent_status_update, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(binpack_policy_through_the_loop, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
