/* Deployment and ReplicaSet controllers over a real store and a real libuv loop, with the
 * hollow kubelet of ctl_helpers.c standing in for nodes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/internal.h"
#include "controllers/rollout.h"
#include "lib/xalloc.h"
#include "tests/unit/ctl_helpers.h"

#define WAIT_MS 20000

static ctl_fix_t *fix_with_nodes(void)
{
    ctl_fix_t *f = cf_new(NULL);
    cf_add_node(f, "node-1", NULL, NULL);
    cf_add_node(f, "node-2", NULL, NULL);
    return f;
}

/* The Deployment has rolled out `want` replicas of its current template. */
static bool rolled_out(ctl_fix_t *f, void *ud)
{
    const char *name = ud;
    cJSON *d = cf_get(f, "Deployment", "default", name);
    if (!d)
        return false;
    char *msg = NULL;
    int r = minik_rollout_status(d, &msg);
    free(msg);
    int64_t want = cf_int(d, "spec.replicas", 1);
    bool ok = r == 1 && cf_int(d, "status.replicas", -1) == want &&
              cf_int(d, "status.availableReplicas", -1) == want && cf_active(f, NULL) == want;
    cJSON_Delete(d);
    return ok;
}

static cJSON *only_rs(ctl_fix_t *f, int *n)
{
    cJSON *rs = cf_list(f, "ReplicaSet", "default");
    *n = cJSON_GetArraySize(rs);
    return rs;
}

static void set_image(ctl_fix_t *f, const char *name, const char *image)
{
    cJSON *d = cf_get(f, "Deployment", "default", name);
    cJSON *c = cJSON_GetArrayItem((cJSON *)minik_ctl_get(d, "spec.template.spec.containers"), 0);
    minik_ctl_set_str(c, "image", image);
    cJSON *md = minik_ctl_obj(d, "metadata");
    minik_ctl_set_int(md, "generation", cf_int(d, "metadata.generation", 1) + 1);
    cf_update(f, d);
}

static void test_deployment_creates_rs_and_pods(void **state)
{
    ctl_fix_t *f = fix_with_nodes();
    cf_create(f, cf_deployment("web", 3, "nginx:1"));
    assert_true(cf_run_until(f, rolled_out, "web", WAIT_MS));
    int n;
    cJSON *rss = only_rs(f, &n);
    assert_int_equal(n, 1);
    const cJSON *rs = cJSON_GetArrayItem(rss, 0);
    const char *hash = cf_str(rs, "metadata.labels.pod-template-hash");
    assert_non_null(hash);
    char *want_name = xasprintf("web-%s", hash);
    assert_string_equal(cf_str(rs, "metadata.name"), want_name);
    free(want_name);
    assert_string_equal(cf_str(rs, "metadata.annotations." MINIK_ANN_REVISION), "1");
    assert_string_equal(cf_str(rs, "spec.selector.matchLabels.pod-template-hash"), hash);
    assert_int_equal(cf_int(rs, "spec.replicas", 0), 3);
    assert_int_equal(cf_active(f, hash), 3);
    cJSON *pods = cf_list(f, "Pod", "default");
    assert_int_equal(cJSON_GetArraySize(pods), 3);
    const cJSON *p;
    cJSON_ArrayForEach(p, pods)
    {
        assert_string_equal(cf_str(p, "metadata.labels.pod-template-hash"), hash);
        assert_string_equal(cf_str(p, "metadata.labels.app"), "web");
        const cJSON *ref = minik_ctl_controller_ref(p);
        assert_string_equal(cf_str(ref, "kind"), "ReplicaSet");
        assert_string_equal(cf_str(ref, "uid"), cf_str(rs, "metadata.uid"));
    }
    cJSON *d = cf_get(f, "Deployment", "default", "web");
    assert_int_equal(cf_int(d, "status.updatedReplicas", -1), 3);
    assert_int_equal(cf_int(d, "status.readyReplicas", -1), 3);
    assert_int_equal(cf_int(d, "status.unavailableReplicas", -1), 0);
    assert_int_equal(cf_int(d, "status.observedGeneration", -1), 1);
    assert_string_equal(cf_cond(d, "Available", "status"), "True");
    assert_string_equal(cf_cond(d, "Progressing", "reason"), "NewReplicaSetAvailable");
    assert_string_equal(cf_str(d, "metadata.annotations." MINIK_ANN_REVISION), "1");
    cJSON_Delete(d);
    cJSON_Delete(pods);
    cJSON_Delete(rss);
    cf_free(f);
}

static void scale(ctl_fix_t *f, const char *name, int replicas)
{
    cJSON *d = cf_get(f, "Deployment", "default", name);
    minik_ctl_set_int(minik_ctl_obj(d, "spec"), "replicas", replicas);
    minik_ctl_set_int(minik_ctl_obj(d, "metadata"), "generation",
                      cf_int(d, "metadata.generation", 1) + 1);
    cf_update(f, d);
}

static void test_deployment_scale(void **state)
{
    ctl_fix_t *f = fix_with_nodes();
    cf_create(f, cf_deployment("web", 2, "nginx:1"));
    assert_true(cf_run_until(f, rolled_out, "web", WAIT_MS));
    scale(f, "web", 5);
    assert_true(cf_run_until(f, rolled_out, "web", WAIT_MS));
    assert_int_equal(cf_count(f, "Pod", "default"), 5);
    scale(f, "web", 1);
    assert_true(cf_run_until(f, rolled_out, "web", WAIT_MS));
    assert_int_equal(cf_count(f, "Pod", "default"), 1);
    /* Scaling is not a new revision. */
    assert_int_equal(cf_count(f, "ReplicaSet", "default"), 1);
    scale(f, "web", 0);
    assert_true(cf_run_until(f, rolled_out, "web", WAIT_MS));
    assert_int_equal(cf_count(f, "Pod", "default"), 0);
    cf_free(f);
}

static bool pods_stored(ctl_fix_t *f, void *ud)
{
    return cf_count(f, "Pod", "default") >= *(int *)ud;
}

/* A large scale-up goes out in rounds of at most 500 creates (Kubernetes' burstReplicas),
 * each round acknowledged before the next, so other writers (the scheduler's binds) are
 * not queued behind every create. */
static void test_replicaset_creates_in_bursts(void **state)
{
    ctl_fix_t *f = fix_with_nodes();
    f->mode = HK_IGNORE;
    f->bind = false;
    int want = 1300;
    cf_create(f, cf_deployment("big", want, "nginx:1"));
    assert_true(cf_run_until(f, pods_stored, &want, 60000));
    cf_run_for(f, 200);
    assert_int_equal(cf_count(f, "Pod", "default"), want);
    minik_controllers_stats_t st;
    minik_controllers_get_stats(f->ctl, &st);
    assert_true(st.writes >= (uint64_t)want);
    /* 500 creates plus the odd status write of the ReplicaSet or Deployment. */
    assert_true(st.max_writes_in_flight >= 500);
    assert_true(st.max_writes_in_flight <= 510);
    cf_free(f);
}

static bool one_more_pod(ctl_fix_t *f, void *ud)
{
    return f->pods_created > *(int *)ud;
}

/* A pod deleted behind the controller's back is replaced. */
static void test_replicaset_replaces_deleted_pod(void **state)
{
    ctl_fix_t *f = fix_with_nodes();
    cf_create(f, cf_deployment("web", 2, "nginx:1"));
    assert_true(cf_run_until(f, rolled_out, "web", WAIT_MS));
    cJSON *pods = cf_list(f, "Pod", "default");
    const char *victim = cf_str(cJSON_GetArrayItem(pods, 0), "metadata.name");
    assert_int_equal(cf_delete(f, "Pod", "default", victim), 0);
    int created = f->pods_created;
    assert_true(cf_run_until(f, one_more_pod, &created, WAIT_MS));
    assert_true(cf_run_until(f, rolled_out, "web", WAIT_MS));
    assert_int_equal(f->pods_created, created + 1);
    assert_null(cf_get(f, "Pod", "default", victim));
    cJSON_Delete(pods);
    cf_free(f);
}

typedef struct rolling_watch {
    int replicas, max_unavailable, max_surge;
    bool armed;
    int min_ready, max_active;
} rolling_watch_t;

static void rolling_hook(ctl_fix_t *f, void *ud)
{
    rolling_watch_t *w = ud;
    if (!w->armed)
        return;
    int ready = cf_ready(f, NULL), active = cf_active(f, NULL);
    if (ready < w->min_ready)
        w->min_ready = ready;
    if (active > w->max_active)
        w->max_active = active;
}

static void rolling_update_case(int replicas, const char *surge, const char *unavail,
                                int want_surge, int want_unavail)
{
    ctl_fix_t *f = fix_with_nodes();
    cJSON *d = cf_deployment("web", replicas, "nginx:1");
    cJSON *st = minik_ctl_obj(minik_ctl_obj(d, "spec"), "strategy");
    cJSON_AddStringToObject(st, "type", "RollingUpdate");
    cJSON *ru = cJSON_AddObjectToObject(st, "rollingUpdate");
    if (surge[strlen(surge) - 1] == '%')
        cJSON_AddStringToObject(ru, "maxSurge", surge);
    else
        cJSON_AddNumberToObject(ru, "maxSurge", atoi(surge));
    if (unavail[strlen(unavail) - 1] == '%')
        cJSON_AddStringToObject(ru, "maxUnavailable", unavail);
    else
        cJSON_AddNumberToObject(ru, "maxUnavailable", atoi(unavail));
    cf_create(f, d);
    assert_true(cf_run_until(f, rolled_out, "web", WAIT_MS));
    cJSON *rss = cf_list(f, "ReplicaSet", "default");
    char *old_hash =
        xstrdup(cf_str(cJSON_GetArrayItem(rss, 0), "metadata.labels.pod-template-hash"));
    cJSON_Delete(rss);

    /* From here on, every pod event checks the rollout's two promises. */
    rolling_watch_t w = {.replicas = replicas, .min_ready = replicas, .armed = true};
    f->hook = rolling_hook;
    f->hook_ud = &w;
    set_image(f, "web", "nginx:2");
    assert_true(cf_run_until(f, rolled_out, "web", WAIT_MS));
    f->hook = NULL;
    assert_true(w.min_ready >= replicas - want_unavail);
    assert_true(w.max_active <= replicas + want_surge);
    /* The rollout really did use its budget. */
    assert_true(w.min_ready < replicas || w.max_active > replicas);

    assert_int_equal(cf_active(f, old_hash), 0);
    cJSON *dd = cf_get(f, "Deployment", "default", "web");
    assert_string_equal(cf_str(dd, "metadata.annotations." MINIK_ANN_REVISION), "2");
    assert_int_equal(cf_int(dd, "status.updatedReplicas", -1), replicas);
    cJSON_Delete(dd);
    char *rs_name = xasprintf("web-%s", old_hash);
    cJSON *old = cf_get(f, "ReplicaSet", "default", rs_name);
    assert_non_null(old); /* kept as history */
    assert_int_equal(cf_int(old, "spec.replicas", -1), 0);
    cJSON_Delete(old);
    free(rs_name);
    free(old_hash);
    cf_free(f);
}

static void test_rolling_update_ints(void **state)
{
    rolling_update_case(4, "1", "1", 1, 1);
}

/* 25% of 6 is 1.5: surge rounds up to 2, unavailable rounds down to 1. */
static void test_rolling_update_percentages(void **state)
{
    rolling_update_case(6, "25%", "25%", 2, 1);
}

/* maxUnavailable 0: never below the full count. */
static void test_rolling_update_zero_unavailable(void **state)
{
    rolling_update_case(3, "1", "0", 1, 0);
}

typedef struct recreate_watch {
    char old_hash[32];
    bool overlap;
} recreate_watch_t;

static void recreate_hook(ctl_fix_t *f, void *ud)
{
    recreate_watch_t *w = ud;
    int old = cf_active(f, w->old_hash);
    int all = cf_active(f, NULL);
    if (old > 0 && all > old)
        w->overlap = true;
}

static void test_recreate(void **state)
{
    ctl_fix_t *f = fix_with_nodes();
    cJSON *d = cf_deployment("web", 3, "nginx:1");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(minik_ctl_obj(d, "spec"), "strategy"), "type",
                            "Recreate");
    cf_create(f, d);
    assert_true(cf_run_until(f, rolled_out, "web", WAIT_MS));
    recreate_watch_t w = {0};
    cJSON *rss = cf_list(f, "ReplicaSet", "default");
    snprintf(w.old_hash, sizeof(w.old_hash), "%s",
             cf_str(cJSON_GetArrayItem(rss, 0), "metadata.labels.pod-template-hash"));
    cJSON_Delete(rss);
    f->hook = recreate_hook;
    f->hook_ud = &w;
    set_image(f, "web", "nginx:2");
    assert_true(cf_run_until(f, rolled_out, "web", WAIT_MS));
    f->hook = NULL;
    assert_false(w.overlap);
    assert_int_equal(cf_active(f, w.old_hash), 0);
    assert_int_equal(cf_active(f, NULL), 3);
    cf_free(f);
}

static char *current_image(ctl_fix_t *f)
{
    cJSON *d = cf_get(f, "Deployment", "default", "web");
    char *img = xstrdup(
        cf_str(cJSON_GetArrayItem((cJSON *)minik_ctl_get(d, "spec.template.spec.containers"), 0),
               "image"));
    cJSON_Delete(d);
    return img;
}

static void undo(ctl_fix_t *f, int64_t to)
{
    cJSON *d = cf_get(f, "Deployment", "default", "web");
    cJSON *rss = cf_list(f, "ReplicaSet", "default");
    cJSON *nd = NULL;
    bool skipped = false;
    minik_error_t *err = NULL;
    assert_int_equal(minik_rollout_undo(d, rss, to, &nd, &skipped, &err), 0);
    assert_false(skipped);
    minik_ctl_set_int(minik_ctl_obj(nd, "metadata"), "generation",
                      cf_int(d, "metadata.generation", 1) + 1);
    cf_update(f, nd);
    cJSON_Delete(d);
    cJSON_Delete(rss);
}

static void test_undo_restores_previous_template(void **state)
{
    ctl_fix_t *f = fix_with_nodes();
    cf_create(f, cf_deployment("web", 2, "nginx:1"));
    assert_true(cf_run_until(f, rolled_out, "web", WAIT_MS));
    set_image(f, "web", "nginx:2");
    assert_true(cf_run_until(f, rolled_out, "web", WAIT_MS));
    cJSON *rss = cf_list(f, "ReplicaSet", "default");
    assert_int_equal(cJSON_GetArraySize(rss), 2);
    cJSON_Delete(rss);

    undo(f, 0);
    char *img = current_image(f);
    assert_string_equal(img, "nginx:1");
    free(img);
    assert_true(cf_run_until(f, rolled_out, "web", WAIT_MS));
    /* The old ReplicaSet is reused (no third one) and becomes revision 3. */
    rss = cf_list(f, "ReplicaSet", "default");
    assert_int_equal(cJSON_GetArraySize(rss), 2);
    cJSON_Delete(rss);
    cJSON *d = cf_get(f, "Deployment", "default", "web");
    assert_string_equal(cf_str(d, "metadata.annotations." MINIK_ANN_REVISION), "3");
    cJSON_Delete(d);

    /* --to-revision 2 goes to nginx:2 again; an unknown revision is an error. */
    undo(f, 2);
    img = current_image(f);
    assert_string_equal(img, "nginx:2");
    free(img);
    assert_true(cf_run_until(f, rolled_out, "web", WAIT_MS));
    d = cf_get(f, "Deployment", "default", "web");
    rss = cf_list(f, "ReplicaSet", "default");
    cJSON *nd = NULL;
    bool skipped = false;
    minik_error_t *err = NULL;
    assert_int_equal(minik_rollout_undo(d, rss, 9, &nd, &skipped, &err), -1);
    assert_string_equal(err->msg, "unable to find specified revision 9 in history");
    minik_error_free(err);
    err = NULL;
    assert_int_equal(minik_rollout_undo(d, rss, 4, &nd, &skipped, &err), 0);
    assert_true(skipped);
    assert_null(nd);
    cJSON_Delete(rss);
    cJSON_Delete(d);
    cf_free(f);
}

static void test_history_limit_prunes(void **state)
{
    ctl_fix_t *f = fix_with_nodes();
    cJSON *d = cf_deployment("web", 1, "nginx:1");
    cJSON_AddNumberToObject(minik_ctl_obj(d, "spec"), "revisionHistoryLimit", 1);
    cf_create(f, d);
    assert_true(cf_run_until(f, rolled_out, "web", WAIT_MS));
    const char *images[] = {"nginx:2", "nginx:3", "nginx:4"};
    for (size_t i = 0; i < 3; i++) {
        set_image(f, "web", images[i]);
        assert_true(cf_run_until(f, rolled_out, "web", WAIT_MS));
    }
    cf_run_for(f, 200);
    /* The current revision and one old one. */
    cJSON *rss = cf_list(f, "ReplicaSet", "default");
    assert_int_equal(cJSON_GetArraySize(rss), 2);
    const cJSON *rs;
    int64_t revs = 0;
    cJSON_ArrayForEach(rs, rss)
    {
        revs += cf_int(rs, "metadata.annotations." MINIK_ANN_REVISION, 0);
    }
    assert_int_equal(revs, 3 + 4);
    cJSON_Delete(rss);
    cf_free(f);
}

static bool deadline_exceeded(ctl_fix_t *f, void *ud)
{
    cJSON *d = cf_get(f, "Deployment", "default", "web");
    const char *r = d ? cf_cond(d, "Progressing", "reason") : NULL;
    bool ok = r && strcmp(r, "ProgressDeadlineExceeded") == 0;
    cJSON_Delete(d);
    return ok;
}

static void test_progress_deadline(void **state)
{
    ctl_fix_t *f = fix_with_nodes();
    f->mode = HK_NOT_READY; /* pods start but never become ready */
    cJSON *d = cf_deployment("web", 2, "nginx:1");
    cJSON_AddNumberToObject(minik_ctl_obj(d, "spec"), "progressDeadlineSeconds", 1);
    cf_create(f, d);
    assert_true(cf_run_until(f, deadline_exceeded, NULL, WAIT_MS));
    cJSON *dd = cf_get(f, "Deployment", "default", "web");
    assert_string_equal(cf_cond(dd, "Progressing", "status"), "False");
    assert_string_equal(cf_cond(dd, "Available", "status"), "False");
    assert_int_equal(cf_int(dd, "status.unavailableReplicas", -1), 2);
    char *msg = NULL;
    assert_int_equal(minik_rollout_status(dd, &msg), -1);
    assert_string_equal(msg, "deployment \"web\" exceeded its progress deadline");
    free(msg);
    cJSON_Delete(dd);
    cf_free(f);
}

/* minReadySeconds: ready pods count as available only after it. */
static void test_min_ready_seconds(void **state)
{
    ctl_fix_t *f = fix_with_nodes();
    cJSON *d = cf_deployment("web", 2, "nginx:1");
    cJSON_AddNumberToObject(minik_ctl_obj(d, "spec"), "minReadySeconds", 2);
    cf_create(f, d);
    cf_run_for(f, 500);
    cJSON *dd = cf_get(f, "Deployment", "default", "web");
    assert_int_equal(cf_int(dd, "status.readyReplicas", -1), 2);
    assert_int_equal(cf_int(dd, "status.availableReplicas", -1), 0);
    cJSON_Delete(dd);
    assert_true(cf_run_until(f, rolled_out, "web", WAIT_MS));
    cf_free(f);
}

static void test_rollout_restart_and_status_texts(void **state)
{
    ctl_fix_t *f = fix_with_nodes();
    cf_create(f, cf_deployment("web", 2, "nginx:1"));
    assert_true(cf_run_until(f, rolled_out, "web", WAIT_MS));
    cJSON *d = cf_get(f, "Deployment", "default", "web");
    char *msg = NULL;
    assert_int_equal(minik_rollout_status(d, &msg), 1);
    assert_string_equal(msg, "deployment \"web\" successfully rolled out");
    free(msg);
    cJSON *r = minik_rollout_restart(d, 1700000000);
    assert_string_equal(cf_str(r, "spec.template.metadata.annotations." MINIK_ANN_RESTARTED_AT),
                        "2023-11-14T22:13:20Z");
    minik_ctl_set_int(minik_ctl_obj(r, "metadata"), "generation", 2);
    cf_update(f, r);
    cJSON_Delete(d);
    d = cf_get(f, "Deployment", "default", "web");
    assert_int_equal(minik_rollout_status(d, &msg), 0);
    assert_string_equal(msg, "Waiting for deployment spec update to be observed...");
    free(msg);
    cJSON_Delete(d);
    assert_true(cf_run_until(f, rolled_out, "web", WAIT_MS));
    /* Every pod was replaced. */
    assert_int_equal(cf_count(f, "ReplicaSet", "default"), 2);
    assert_int_equal(f->pods_created, 4);
    cf_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deployment_creates_rs_and_pods),
        cmocka_unit_test(test_deployment_scale),
        cmocka_unit_test(test_replicaset_replaces_deleted_pod),
        cmocka_unit_test(test_replicaset_creates_in_bursts),
        cmocka_unit_test(test_rolling_update_ints),
        cmocka_unit_test(test_rolling_update_percentages),
        cmocka_unit_test(test_rolling_update_zero_unavailable),
        cmocka_unit_test(test_recreate),
        cmocka_unit_test(test_undo_restores_previous_template),
        cmocka_unit_test(test_history_limit_prunes),
        cmocka_unit_test(test_progress_deadline),
        cmocka_unit_test(test_min_ready_seconds),
        cmocka_unit_test(test_rollout_restart_and_status_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
