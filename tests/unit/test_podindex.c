/* The controllers' pod index: pods by controlling owner uid (and orphans by namespace),
 * kept current from change-feed events and rebuilt by a resync. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/internal.h"
#include "controllers/podindex.h"
#include "tests/unit/ctl_helpers.h"

/* A pod ns/name, controlled by `uid` (NULL: no owner), in phase `phase`. */
static cJSON *pod(const char *ns, const char *name, const char *uid, const char *phase)
{
    char buf[512];
    if (uid)
        snprintf(buf, sizeof(buf),
                 "{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\","
                 "\"ownerReferences\":[{\"kind\":\"ReplicaSet\",\"name\":\"rs\",\"uid\":\"%s\","
                 "\"controller\":true}]},\"status\":{\"phase\":\"%s\"}}",
                 ns, name, uid, phase);
    else
        snprintf(buf, sizeof(buf),
                 "{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\"},"
                 "\"status\":{\"phase\":\"%s\"}}",
                 ns, name, phase);
    cJSON *p = cJSON_Parse(buf);
    assert_non_null(p);
    return p;
}

static void observe(minik_podindex_t *idx, minik_store_event_type_t t, cJSON *p)
{
    minik_podindex_observe(idx, t, p);
    cJSON_Delete(p); /* the index keeps its own copy */
}

/* Does the array hold a pod named `name` (in phase `phase`, if not NULL)? */
static bool has(const cJSON *arr, const char *name, const char *phase)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, arr)
    {
        if (strcmp(minik_ctl_str(p, "metadata.name"), name) == 0)
            return !phase || strcmp(minik_ctl_str(p, "status.phase"), phase) == 0;
    }
    return false;
}

static int count_owned(minik_podindex_t *idx, const char *ns, const char *uid)
{
    cJSON *a = minik_podindex_owned(idx, ns, uid);
    int n = cJSON_GetArraySize(a);
    cJSON_Delete(a);
    return n;
}

/* The same pod bound to `node`. */
static cJSON *bound(const char *ns, const char *name, const char *uid, const char *node)
{
    cJSON *p = pod(ns, name, uid, "Running");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(p, "spec"), "nodeName", node);
    return p;
}

static int count_on(minik_podindex_t *idx, const char *node)
{
    cJSON *a = minik_podindex_on_node(idx, node);
    int n = cJSON_GetArraySize(a);
    cJSON_Delete(a);
    return n;
}

/* Pods by node (all namespaces, owned or not): binding adds, moving and deleting remove,
 * and get returns the latest copy. */
static void by_node_and_get(void **state)
{
    (void)state;
    minik_podindex_t idx = MINIK_PODINDEX_INIT;
    observe(&idx, MINIK_STORE_ADDED, pod("default", "a", "u1", "Pending"));
    assert_int_equal(count_on(&idx, "n1"), 0);
    observe(&idx, MINIK_STORE_MODIFIED, bound("default", "a", "u1", "n1"));
    observe(&idx, MINIK_STORE_ADDED, bound("team", "b", NULL, "n1"));
    observe(&idx, MINIK_STORE_ADDED, bound("default", "c", "u2", "n2"));
    assert_int_equal(count_on(&idx, "n1"), 2);
    assert_int_equal(count_on(&idx, "n2"), 1);
    cJSON *on1 = minik_podindex_on_node(&idx, "n1");
    assert_true(has(on1, "a", "Running") && has(on1, "b", "Running"));
    cJSON_Delete(on1);
    /* A same-named pod on another node (deleted and recreated between events). */
    observe(&idx, MINIK_STORE_MODIFIED, bound("default", "a", "u1", "n2"));
    assert_int_equal(count_on(&idx, "n1"), 1);
    assert_int_equal(count_on(&idx, "n2"), 2);
    observe(&idx, MINIK_STORE_DELETED, bound("team", "b", NULL, "n1"));
    assert_int_equal(count_on(&idx, "n1"), 0);
    assert_int_equal(count_on(&idx, NULL), 0);
    const cJSON *c = minik_podindex_get(&idx, "default", "c");
    assert_non_null(c);
    assert_string_equal(minik_ctl_str(c, "spec.nodeName"), "n2");
    assert_null(minik_podindex_get(&idx, "team", "b"));
    assert_null(minik_podindex_get(&idx, "other", "c"));
    minik_podindex_clear(&idx);
    assert_int_equal(count_on(&idx, "n2"), 0);
}

static cJSON *ready_pod(const char *ns, const char *name, const char *uid, bool ready)
{
    cJSON *p = pod(ns, name, uid, "Running");
    cJSON *cond = cJSON_CreateObject();
    cJSON_AddStringToObject(cond, "type", "Ready");
    cJSON_AddStringToObject(cond, "status", ready ? "True" : "False");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(cJSON_GetObjectItem(p, "status"), "conditions"),
                         cond);
    return p;
}

static void expect_counts(minik_podindex_t *idx, const char *ns, const char *uid, size_t pods,
                          size_t active, size_t ready, size_t finished)
{
    minik_podindex_counts_t c;
    minik_podindex_owned_counts(idx, ns, uid, &c);
    assert_int_equal(c.pods, pods);
    assert_int_equal(c.active, active);
    assert_int_equal(c.ready, ready);
    assert_int_equal(c.finished, finished);
    cJSON *a = minik_podindex_owned(idx, ns, uid);
    assert_int_equal(cJSON_GetArraySize(a), (int)pods);
    cJSON_Delete(a);
}

/* The per-owner counts a ReplicaSet reconcile reads: kept right through updates, deletes,
 * owner changes and per namespace. */
static void owned_counts(void **state)
{
    (void)state;
    minik_podindex_t idx = MINIK_PODINDEX_INIT;
    observe(&idx, MINIK_STORE_ADDED, ready_pod("default", "a", "u1", true));
    observe(&idx, MINIK_STORE_ADDED, ready_pod("default", "b", "u1", false));
    observe(&idx, MINIK_STORE_ADDED, pod("default", "c", "u1", "Succeeded"));
    cJSON *d = ready_pod("default", "d", "u1", true);
    cJSON_AddStringToObject(cJSON_GetObjectItem(d, "metadata"), "deletionTimestamp",
                            "2026-11-26T00:00:00Z");
    observe(&idx, MINIK_STORE_ADDED, d);
    observe(&idx, MINIK_STORE_ADDED, ready_pod("other", "e", "u1", true));
    expect_counts(&idx, "default", "u1", 4, 2, 1, 1);
    expect_counts(&idx, "other", "u1", 1, 1, 1, 0);
    observe(&idx, MINIK_STORE_MODIFIED, ready_pod("default", "b", "u1", true));
    expect_counts(&idx, "default", "u1", 4, 2, 2, 1);
    observe(&idx, MINIK_STORE_DELETED, ready_pod("default", "a", "u1", true));
    expect_counts(&idx, "default", "u1", 3, 1, 1, 1);
    /* Released to another owner: counted there, not here. */
    observe(&idx, MINIK_STORE_MODIFIED, ready_pod("default", "b", "u2", true));
    expect_counts(&idx, "default", "u1", 2, 0, 0, 1);
    expect_counts(&idx, "default", "u2", 1, 1, 1, 0);
    observe(&idx, MINIK_STORE_DELETED, pod("default", "c", "u1", "Succeeded"));
    observe(&idx, MINIK_STORE_DELETED, pod("default", "d", "u1", "Running"));
    expect_counts(&idx, "default", "u1", 0, 0, 0, 0);
    expect_counts(&idx, "default", NULL, 0, 0, 0, 0);
    minik_podindex_clear(&idx);
}

static void add_update_delete(void **state)
{
    (void)state;
    minik_podindex_t idx = MINIK_PODINDEX_INIT;
    observe(&idx, MINIK_STORE_ADDED, pod("default", "a", "u1", "Pending"));
    observe(&idx, MINIK_STORE_ADDED, pod("default", "b", "u1", "Pending"));
    observe(&idx, MINIK_STORE_ADDED, pod("default", "c", "u2", "Pending"));
    assert_int_equal(minik_podindex_len(&idx), 3);
    cJSON *a = minik_podindex_owned(&idx, "default", "u1");
    assert_int_equal(cJSON_GetArraySize(a), 2);
    assert_true(has(a, "a", "Pending") && has(a, "b", "Pending") && !has(a, "c", NULL));
    cJSON_Delete(a); /* references only: the index's pods survive */
    assert_int_equal(count_owned(&idx, "default", "u2"), 1);
    assert_int_equal(count_owned(&idx, "default", "nobody"), 0);
    assert_int_equal(count_owned(&idx, "default", NULL), 0);

    /* An update replaces the pod's content, not its membership. */
    observe(&idx, MINIK_STORE_MODIFIED, pod("default", "a", "u1", "Running"));
    a = minik_podindex_owned(&idx, "default", "u1");
    assert_int_equal(cJSON_GetArraySize(a), 2);
    assert_true(has(a, "a", "Running"));
    cJSON_Delete(a);
    assert_int_equal(minik_podindex_len(&idx), 3);

    observe(&idx, MINIK_STORE_DELETED, pod("default", "a", "u1", "Running"));
    observe(&idx, MINIK_STORE_DELETED, pod("default", "zzz", "u1", "Running")); /* unknown */
    a = minik_podindex_owned(&idx, "default", "u1");
    assert_int_equal(cJSON_GetArraySize(a), 1);
    assert_true(has(a, "b", NULL) && !has(a, "a", NULL));
    cJSON_Delete(a);
    observe(&idx, MINIK_STORE_DELETED, pod("default", "b", "u1", "Running"));
    assert_int_equal(count_owned(&idx, "default", "u1"), 0);
    assert_int_equal(minik_podindex_len(&idx), 1);
    minik_podindex_clear(&idx);
    assert_int_equal(minik_podindex_len(&idx), 0);
}

static void owner_change_and_orphans(void **state)
{
    (void)state;
    minik_podindex_t idx = MINIK_PODINDEX_INIT;
    observe(&idx, MINIK_STORE_ADDED, pod("default", "x", NULL, "Running"));
    observe(&idx, MINIK_STORE_ADDED, pod("other", "y", NULL, "Running"));
    cJSON *o = minik_podindex_orphans(&idx, "default");
    assert_int_equal(cJSON_GetArraySize(o), 1);
    assert_true(has(o, "x", NULL));
    cJSON_Delete(o);

    /* Adopted: leaves the orphans, joins its owner. */
    observe(&idx, MINIK_STORE_MODIFIED, pod("default", "x", "u1", "Running"));
    o = minik_podindex_orphans(&idx, "default");
    assert_int_equal(cJSON_GetArraySize(o), 0);
    cJSON_Delete(o);
    assert_int_equal(count_owned(&idx, "default", "u1"), 1);

    /* Re-owned by another controller, then released. */
    observe(&idx, MINIK_STORE_MODIFIED, pod("default", "x", "u2", "Running"));
    assert_int_equal(count_owned(&idx, "default", "u1"), 0);
    assert_int_equal(count_owned(&idx, "default", "u2"), 1);
    observe(&idx, MINIK_STORE_MODIFIED, pod("default", "x", NULL, "Running"));
    assert_int_equal(count_owned(&idx, "default", "u2"), 0);
    o = minik_podindex_orphans(&idx, "default");
    assert_int_equal(cJSON_GetArraySize(o), 1);
    cJSON_Delete(o);

    /* The namespace is part of the question: a uid referenced from another namespace
     * does not make the pod this owner's. */
    observe(&idx, MINIK_STORE_ADDED, pod("other", "z", "u3", "Running"));
    assert_int_equal(count_owned(&idx, "default", "u3"), 0);
    assert_int_equal(count_owned(&idx, "other", "u3"), 1);
    o = minik_podindex_orphans(&idx, "other");
    assert_int_equal(cJSON_GetArraySize(o), 1);
    assert_true(has(o, "y", NULL));
    cJSON_Delete(o);
    assert_int_equal(minik_podindex_len(&idx), 3);
    minik_podindex_clear(&idx);
}

static void resync_replaces_everything(void **state)
{
    (void)state;
    minik_podindex_t idx = MINIK_PODINDEX_INIT;
    observe(&idx, MINIK_STORE_ADDED, pod("default", "stale", "u1", "Running"));
    observe(&idx, MINIK_STORE_ADDED, pod("default", "kept", "u1", "Pending"));
    cJSON *list = cJSON_CreateArray();
    cJSON_AddItemToArray(list, pod("default", "kept", "u1", "Running"));
    cJSON_AddItemToArray(list, pod("default", "new", "u2", "Pending"));
    cJSON_AddItemToArray(list, pod("default", "orphan", NULL, "Pending"));
    minik_podindex_resync(&idx, list);
    cJSON_Delete(list);
    assert_int_equal(minik_podindex_len(&idx), 3);
    cJSON *a = minik_podindex_owned(&idx, "default", "u1");
    assert_int_equal(cJSON_GetArraySize(a), 1);
    assert_true(has(a, "kept", "Running") && !has(a, "stale", NULL));
    cJSON_Delete(a);
    assert_int_equal(count_owned(&idx, "default", "u2"), 1);
    cJSON *o = minik_podindex_orphans(&idx, "default");
    assert_int_equal(cJSON_GetArraySize(o), 1);
    cJSON_Delete(o);
    /* Events after a resync apply on top of it. */
    observe(&idx, MINIK_STORE_DELETED, pod("default", "kept", "u1", "Running"));
    assert_int_equal(count_owned(&idx, "default", "u1"), 0);
    minik_podindex_clear(&idx);
}

static void many_pods(void **state)
{
    (void)state;
    /* Enough to make the maps grow and rehash while buckets empty and refill. */
    minik_podindex_t idx = MINIK_PODINDEX_INIT;
    char name[32], uid[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(name, sizeof(name), "p%d", i);
        snprintf(uid, sizeof(uid), "u%d", i % 7);
        observe(&idx, MINIK_STORE_ADDED, pod("default", name, uid, "Pending"));
    }
    for (int i = 0; i < 3000; i += 2) {
        snprintf(name, sizeof(name), "p%d", i);
        observe(&idx, MINIK_STORE_DELETED, pod("default", name, "u0", "Pending"));
    }
    assert_int_equal(minik_podindex_len(&idx), 1500);
    int total = 0;
    for (int u = 0; u < 7; u++) {
        snprintf(uid, sizeof(uid), "u%d", u);
        total += count_owned(&idx, "default", uid);
    }
    assert_int_equal(total, 1500);
    minik_podindex_clear(&idx);
}

static bool three_ready(ctl_fix_t *f, void *ud)
{
    (void)ud;
    return cf_ready(f, NULL) == 3;
}

/* Controllers started over a store that already holds a ReplicaSet's pods find them through
 * the index's initial resync: a restarted server creates no second set of pods. */
static void restart_sees_existing_pods(void **state)
{
    (void)state;
    ctl_fix_t *f = cf_new(NULL);
    cf_add_node(f, "n1", NULL, NULL);
    cf_create(f, cf_deployment("web", 3, "nginx"));
    assert_true(cf_run_until(f, three_ready, NULL, 10000));
    cf_run_for(f, 300);
    assert_int_equal(cf_count(f, "Pod", "default"), 3);
    minik_controllers_free(f->ctl);
    minik_error_t *err = NULL;
    assert_int_equal(minik_controllers_new(f->store, &f->loop, NULL, &f->ctl, &err), 0);
    assert_int_equal(minik_controllers_start(f->ctl, &err), 0);
    cf_run_for(f, 1000);
    assert_int_equal(cf_count(f, "Pod", "default"), 3);
    assert_int_equal(cf_ready(f, NULL), 3);
    cf_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_update_delete),
        cmocka_unit_test(owner_change_and_orphans),
        cmocka_unit_test(resync_replaces_everything),
        cmocka_unit_test(many_pods),
        cmocka_unit_test(restart_sees_existing_pods),
        cmocka_unit_test(by_node_and_get),
        cmocka_unit_test(owned_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
