/* DaemonSets, Jobs and the garbage collector over a real store and loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/internal.h"
#include "lib/xalloc.h"
#include "tests/unit/ctl_helpers.h"

#define WAIT_MS 20000

/* ---- DaemonSet ------------------------------------------------------------------------ */

typedef struct ds_want {
    int pods;
    const char *hash; /* NULL: any */
} ds_want_t;

static bool ds_pods(ctl_fix_t *f, void *ud)
{
    ds_want_t *w = ud;
    cJSON *ds = cf_get(f, "DaemonSet", "default", "agent");
    bool ok = ds && cf_active(f, w->hash) == w->pods && cf_active(f, NULL) == w->pods &&
              cf_int(ds, "status.numberAvailable", -1) == w->pods &&
              cf_int(ds, "status.desiredNumberScheduled", -1) == w->pods;
    cJSON_Delete(ds);
    return ok;
}

static bool pod_on(const ctl_fix_t *f, const char *node)
{
    for (int i = 0; i < f->n_pods; i++)
        if (f->pods[i].active && strcmp(f->pods[i].node, node) == 0)
            return true;
    return false;
}

static void test_daemonset_follows_nodes(void **state)
{
    ctl_fix_t *f = cf_new(NULL);
    f->bind = false; /* DaemonSet pods come bound to their node */
    cf_add_node(f, "node-1", "role=edge", NULL);
    cf_add_node(f, "node-2", "role=edge", NULL);
    cJSON *ds = cf_daemonset("agent", "agent:1");
    cJSON_AddStringToObject(
        cJSON_AddObjectToObject((cJSON *)minik_ctl_get(ds, "spec.template.spec"), "nodeSelector"),
        "role", "edge");
    cf_create(f, ds);
    ds_want_t w = {2, NULL};
    assert_true(cf_run_until(f, ds_pods, &w, WAIT_MS));
    assert_true(pod_on(f, "node-1") && pod_on(f, "node-2"));

    /* A node that joins gets a pod; one that does not match the selector, or carries an
     * untolerated NoSchedule taint, does not. */
    cf_add_node(f, "node-3", "role=edge", NULL);
    cf_add_node(f, "node-4", "role=db", NULL);
    cf_add_node(f, "node-5", "role=edge", "dedicated");
    w.pods = 3;
    assert_true(cf_run_until(f, ds_pods, &w, WAIT_MS));
    assert_true(pod_on(f, "node-3"));
    assert_false(pod_on(f, "node-4"));
    assert_false(pod_on(f, "node-5"));
    cJSON *got = cf_get(f, "DaemonSet", "default", "agent");
    assert_int_equal(cf_int(got, "status.currentNumberScheduled", -1), 3);
    assert_int_equal(cf_int(got, "status.numberMisscheduled", -1), 0);
    cJSON_Delete(got);

    /* A node that leaves takes its pod with it. */
    assert_int_equal(cf_delete(f, "Node", "", "node-2"), 0);
    w.pods = 2;
    assert_true(cf_run_until(f, ds_pods, &w, WAIT_MS));
    assert_false(pod_on(f, "node-2"));
    /* A node relabelled out of the selector loses its pod. */
    cJSON *n1 = cf_get(f, "Node", "", "node-1");
    minik_ctl_set_str((cJSON *)minik_ctl_get(n1, "metadata.labels"), "role", "db");
    cf_update(f, n1);
    w.pods = 1;
    assert_true(cf_run_until(f, ds_pods, &w, WAIT_MS));
    assert_false(pod_on(f, "node-1"));
    assert_true(pod_on(f, "node-3"));
    cf_free(f);
}

typedef struct ds_roll {
    int max_down, nodes;
} ds_roll_t;

static void ds_hook(ctl_fix_t *f, void *ud)
{
    ds_roll_t *r = ud;
    int down = r->nodes - cf_ready(f, NULL);
    if (down > r->max_down)
        r->max_down = down;
}

static void test_daemonset_rolling_update(void **state)
{
    ctl_fix_t *f = cf_new(NULL);
    f->bind = false;
    cf_add_node(f, "node-1", NULL, NULL);
    cf_add_node(f, "node-2", NULL, NULL);
    cf_add_node(f, "node-3", NULL, NULL);
    cf_add_node(f, "node-4", NULL, NULL);
    cJSON *ds = cf_daemonset("agent", "agent:1");
    cJSON *us = cJSON_AddObjectToObject(minik_ctl_obj(ds, "spec"), "updateStrategy");
    cJSON_AddStringToObject(us, "type", "RollingUpdate");
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(us, "rollingUpdate"), "maxUnavailable", 2);
    cf_create(f, ds);
    ds_want_t w = {4, NULL};
    assert_true(cf_run_until(f, ds_pods, &w, WAIT_MS));
    cJSON *cur = cf_get(f, "DaemonSet", "default", "agent");
    minik_ctl_set_str(
        cJSON_GetArrayItem((cJSON *)minik_ctl_get(cur, "spec.template.spec.containers"), 0),
        "image", "agent:2");
    char *hash = minik_ctl_template_hash(minik_ctl_get(cur, "spec.template"));
    ds_roll_t r = {0, 4};
    f->hook = ds_hook;
    f->hook_ud = &r;
    cf_update(f, cur);
    w.hash = hash;
    assert_true(cf_run_until(f, ds_pods, &w, WAIT_MS));
    f->hook = NULL;
    assert_true(r.max_down <= 2);
    assert_true(r.max_down >= 1);
    cJSON *got = cf_get(f, "DaemonSet", "default", "agent");
    assert_int_equal(cf_int(got, "status.updatedNumberScheduled", -1), 4);
    cJSON_Delete(got);
    free(hash);
    cf_free(f);
}

/* ---- Job ------------------------------------------------------------------------------ */

static bool job_cond(ctl_fix_t *f, void *ud)
{
    cJSON *j = cf_get(f, "Job", "default", "batch");
    const char *s = j ? cf_cond(j, ud, "status") : NULL;
    bool ok = s && strcmp(s, "True") == 0;
    cJSON_Delete(j);
    return ok;
}

typedef struct max_active {
    int max;
} max_active_t;

static void active_hook(ctl_fix_t *f, void *ud)
{
    max_active_t *m = ud;
    if (cf_active(f, NULL) > m->max)
        m->max = cf_active(f, NULL);
}

static void test_job_completes(void **state)
{
    ctl_fix_t *f = cf_new(NULL);
    cf_add_node(f, "node-1", NULL, NULL);
    f->mode = HK_SUCCEED;
    max_active_t m = {0};
    f->hook = active_hook;
    f->hook_ud = &m;
    cf_create(f, cf_job("batch", 5, 2, 6));
    assert_true(cf_run_until(f, job_cond, "Complete", WAIT_MS));
    f->hook = NULL;
    cJSON *j = cf_get(f, "Job", "default", "batch");
    assert_int_equal(cf_int(j, "status.succeeded", -1), 5);
    assert_int_equal(cf_int(j, "status.failed", -1), 0);
    assert_int_equal(cf_int(j, "status.active", -1), 0);
    assert_non_null(cf_str(j, "status.startTime"));
    assert_non_null(cf_str(j, "status.completionTime"));
    assert_null(minik_ctl_condition(j, "Failed"));
    cJSON_Delete(j);
    assert_true(m.max <= 2 && m.max >= 1);
    assert_int_equal(f->pods_created, 5);
    /* Finished pods stay (for their logs), and no more are made. */
    cf_run_for(f, 200);
    assert_int_equal(cf_count(f, "Pod", "default"), 5);
    cf_free(f);
}

static void test_job_backoff_limit(void **state)
{
    ctl_fix_t *f = cf_new(NULL);
    cf_add_node(f, "node-1", NULL, NULL);
    f->mode = HK_FAIL;
    cf_create(f, cf_job("batch", 1, 1, 2));
    assert_true(cf_run_until(f, job_cond, "Failed", WAIT_MS));
    cJSON *j = cf_get(f, "Job", "default", "batch");
    assert_string_equal(cf_cond(j, "Failed", "reason"), "BackoffLimitExceeded");
    assert_int_equal(cf_int(j, "status.failed", -1), 3);
    assert_int_equal(cf_int(j, "status.succeeded", -1), 0);
    cJSON_Delete(j);
    cf_run_for(f, 200);
    /* backoffLimit 2: the first try and two retries, then nothing more. */
    assert_int_equal(f->pods_created, 3);
    cf_free(f);
}

static void test_job_active_deadline(void **state)
{
    ctl_fix_t *f = cf_new(NULL);
    cf_add_node(f, "node-1", NULL, NULL);
    f->mode = HK_READY; /* runs for ever */
    cJSON *job = cf_job("batch", 1, 1, 6);
    cJSON_AddNumberToObject(minik_ctl_obj(job, "spec"), "activeDeadlineSeconds", 1);
    cf_create(f, job);
    assert_true(cf_run_until(f, job_cond, "Failed", WAIT_MS));
    cJSON *j = cf_get(f, "Job", "default", "batch");
    assert_string_equal(cf_cond(j, "Failed", "reason"), "DeadlineExceeded");
    assert_int_equal(cf_int(j, "status.active", -1), 0);
    cJSON_Delete(j);
    /* Its running pod was stopped. */
    cf_run_for(f, 200);
    assert_int_equal(cf_active(f, NULL), 0);
    assert_int_equal(cf_count(f, "Pod", "default"), 0);
    cf_free(f);
}

static bool job_gone(ctl_fix_t *f, void *ud)
{
    cJSON *j = cf_get(f, "Job", "default", "batch");
    bool gone = !j && cf_count(f, "Pod", "default") == 0;
    cJSON_Delete(j);
    return gone;
}

static void test_job_ttl_after_finished(void **state)
{
    ctl_fix_t *f = cf_new(NULL);
    cf_add_node(f, "node-1", NULL, NULL);
    f->mode = HK_SUCCEED;
    cJSON *job = cf_job("batch", 2, 2, 6);
    cJSON_AddNumberToObject(minik_ctl_obj(job, "spec"), "ttlSecondsAfterFinished", 1);
    cf_create(f, job);
    assert_true(cf_run_until(f, job_cond, "Complete", WAIT_MS));
    /* Still there right after finishing, then deleted with its pods. */
    assert_int_equal(cf_count(f, "Job", "default"), 1);
    assert_true(cf_run_until(f, job_gone, NULL, WAIT_MS));
    cf_free(f);
}

/* ---- garbage collection --------------------------------------------------------------- */

static bool no_pods(ctl_fix_t *f, void *ud)
{
    return cf_count(f, "Pod", "default") == 0 && cf_count(f, "ReplicaSet", "default") == 0;
}

static bool rolled(ctl_fix_t *f, void *ud)
{
    return cf_ready(f, NULL) == *(int *)ud && cf_count(f, "Pod", "default") == *(int *)ud;
}

static void test_gc_cascade(void **state)
{
    ctl_fix_t *f = cf_new(NULL);
    cf_add_node(f, "node-1", NULL, NULL);
    cf_create(f, cf_deployment("web", 3, "nginx:1"));
    int three = 3;
    assert_true(cf_run_until(f, rolled, &three, WAIT_MS));
    /* Deleted straight in the store (no API server cascade): the collector removes the
     * ReplicaSet, then its pods. */
    assert_int_equal(cf_delete(f, "Deployment", "default", "web"), 0);
    assert_true(cf_run_until(f, no_pods, NULL, WAIT_MS));
    minik_controllers_stats_t st;
    minik_controllers_get_stats(f->ctl, &st);
    assert_true(st.collected >= 4);
    cf_free(f);
}

static void strip_refs(ctl_fix_t *f, const char *kind, const char *ns)
{
    cJSON *items = cf_list(f, kind, ns);
    cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        cJSON *c = cJSON_Duplicate(it, 1);
        cJSON_DeleteItemFromObjectCaseSensitive(minik_ctl_obj(c, "metadata"), "ownerReferences");
        cf_update(f, c);
    }
    cJSON_Delete(items);
}

static void test_gc_orphan(void **state)
{
    ctl_fix_t *f = cf_new(NULL);
    cf_add_node(f, "node-1", NULL, NULL);
    cf_create(f, cf_deployment("web", 2, "nginx:1"));
    int two = 2;
    assert_true(cf_run_until(f, rolled, &two, WAIT_MS));
    /* What the API server does for propagationPolicy=Orphan: delete the owner, then drop
     * the reference from each dependent, before the loop runs again. */
    assert_int_equal(cf_delete(f, "Deployment", "default", "web"), 0);
    strip_refs(f, "ReplicaSet", "default");
    cf_run_for(f, 500);
    assert_int_equal(cf_count(f, "ReplicaSet", "default"), 1);
    assert_int_equal(cf_count(f, "Pod", "default"), 2);
    /* The orphaned ReplicaSet still manages its pods... */
    cJSON *rss = cf_list(f, "ReplicaSet", "default");
    const char *rs = cf_str(cJSON_GetArrayItem(rss, 0), "metadata.name");
    /* ...and deleting it now cascades to them. */
    assert_int_equal(cf_delete(f, "ReplicaSet", "default", rs), 0);
    cJSON_Delete(rss);
    assert_true(cf_run_until(f, no_pods, NULL, WAIT_MS));
    cf_free(f);
}

/* An owner deleted while the controllers were down: found at start. */
static void test_gc_at_start(void **state)
{
    ctl_fix_t *f = cf_new(NULL);
    cJSON *pod = cJSON_Parse(
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"stray\","
        "\"namespace\":\"default\",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\","
        "\"kind\":\"ReplicaSet\",\"name\":\"gone\",\"uid\":\"1234\",\"controller\":true}]},"
        "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}");
    cJSON *keep = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
                              "\"bare\",\"namespace\":\"default\"},\"spec\":{\"containers\":"
                              "[{\"name\":\"c\",\"image\":\"x\"}]}}");
    /* Write them with the controllers stopped, then start new ones. */
    minik_controllers_free(f->ctl);
    cf_create(f, pod);
    cf_create(f, keep);
    minik_error_t *err = NULL;
    assert_int_equal(minik_controllers_new(f->store, &f->loop, NULL, &f->ctl, &err), 0);
    assert_int_equal(minik_controllers_start(f->ctl, &err), 0);
    cf_run_for(f, 500);
    cJSON *got = cf_get(f, "Pod", "default", "stray");
    assert_null(got);
    got = cf_get(f, "Pod", "default", "bare");
    assert_non_null(got);
    cJSON_Delete(got);
    cf_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daemonset_follows_nodes),
        cmocka_unit_test(test_daemonset_rolling_update),
        cmocka_unit_test(test_job_completes),
        cmocka_unit_test(test_job_backoff_limit),
        cmocka_unit_test(test_job_active_deadline),
        cmocka_unit_test(test_job_ttl_after_finished),
        cmocka_unit_test(test_gc_cascade),
        cmocka_unit_test(test_gc_orphan),
        cmocka_unit_test(test_gc_at_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
