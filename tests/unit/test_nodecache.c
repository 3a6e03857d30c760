/* The controllers' node cache: the Nodes in name order, kept current from change-feed
 * events, rebuilt by a resync (a restarted server), with each node's scheduler view
 * decoded once per change; and the DaemonSet controller reading it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/internal.h"
#include "controllers/nodecache.h"
#include "tests/unit/ctl_helpers.h"

#define WAIT_MS 10000

/* A Node `name` with label zone=`zone` and, if taint_effect is set, a taint k=v:effect. */
static cJSON *node(const char *name, const char *zone, const char *taint_effect)
{
    char buf[512];
    snprintf(buf, sizeof(buf),
             "{\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\",\"labels\":{\"zone\":\"%s\"}},"
             "\"spec\":{\"taints\":[%s%s%s]},\"status\":{\"allocatable\":{\"pods\":\"110\"}}}",
             name, zone, taint_effect ? "{\"key\":\"k\",\"value\":\"v\",\"effect\":\"" : "",
             taint_effect ? taint_effect : "", taint_effect ? "\"}" : "");
    cJSON *n = cJSON_Parse(buf);
    assert_non_null(n);
    return n;
}

static void observe(minik_nodecache_t *nc, minik_store_event_type_t t, cJSON *n)
{
    minik_nodecache_observe(nc, t, n);
    cJSON_Delete(n); /* the cache keeps its own copy */
}

static const char *zone_of(minik_nodecache_t *nc, const char *name)
{
    minik_nodecache_entry_t *e = minik_nodecache_get(nc, name);
    return e ? minik_ctl_str(e->node, "metadata.labels.zone") : NULL;
}

static void add_update_delete(void **state)
{
    (void)state;
    minik_nodecache_t nc = MINIK_NODECACHE_INIT;
    observe(&nc, MINIK_STORE_ADDED, node("n2", "a", NULL));
    observe(&nc, MINIK_STORE_ADDED, node("n3", "b", "NoSchedule"));
    observe(&nc, MINIK_STORE_ADDED, node("n1", "a", NULL));
    assert_int_equal(minik_nodecache_len(&nc), 3);
    /* name order, whatever the order of the events */
    assert_string_equal(minik_nodecache_at(&nc, 0)->name, "n1");
    assert_string_equal(minik_nodecache_at(&nc, 1)->name, "n2");
    assert_string_equal(minik_nodecache_at(&nc, 2)->name, "n3");
    assert_null(minik_nodecache_at(&nc, 3));
    assert_string_equal(zone_of(&nc, "n3"), "b");
    assert_null(minik_nodecache_get(&nc, "n9"));
    assert_null(minik_nodecache_get(&nc, NULL));

    /* The scheduler views: every taint, or only the NoExecute ones. */
    minik_nodecache_entry_t *e3 = minik_nodecache_get(&nc, "n3");
    const minik_sched_node_t *all = minik_nodecache_sched(e3, false);
    assert_non_null(all);
    assert_int_equal(all->n_taints, 1);
    assert_ptr_equal(minik_nodecache_sched(e3, false), all); /* decoded once */
    assert_int_equal(minik_nodecache_sched(e3, true)->n_taints, 0);

    /* An update replaces the object and drops the stale views. */
    observe(&nc, MINIK_STORE_MODIFIED, node("n3", "c", "NoExecute"));
    assert_int_equal(minik_nodecache_len(&nc), 3);
    assert_string_equal(zone_of(&nc, "n3"), "c");
    e3 = minik_nodecache_get(&nc, "n3");
    assert_string_equal(minik_ctl_str(minik_nodecache_sched(e3, false)->labels, "zone"), "c");
    assert_int_equal(minik_nodecache_sched(e3, true)->n_taints, 1);
    assert_string_equal(minik_nodecache_at(&nc, 2)->name, "n3");

    /* Delete: gone from the map and the order; unknown names and nameless objects are
     * ignored. */
    observe(&nc, MINIK_STORE_DELETED, node("n2", "a", NULL));
    observe(&nc, MINIK_STORE_DELETED, node("n7", "a", NULL));
    observe(&nc, MINIK_STORE_ADDED, cJSON_Parse("{\"kind\":\"Node\",\"metadata\":{}}"));
    assert_int_equal(minik_nodecache_len(&nc), 2);
    assert_null(minik_nodecache_get(&nc, "n2"));
    assert_string_equal(minik_nodecache_at(&nc, 0)->name, "n1");
    assert_string_equal(minik_nodecache_at(&nc, 1)->name, "n3");
    minik_nodecache_clear(&nc);
    assert_int_equal(minik_nodecache_len(&nc), 0);
    minik_nodecache_clear(&nc); /* twice is harmless */
}

static void resync_replaces_everything(void **state)
{
    (void)state;
    minik_nodecache_t nc = MINIK_NODECACHE_INIT;
    observe(&nc, MINIK_STORE_ADDED, node("old", "a", NULL));
    observe(&nc, MINIK_STORE_ADDED, node("kept", "a", NULL));
    cJSON *list = cJSON_CreateArray();
    cJSON_AddItemToArray(list, node("kept", "z", NULL));
    cJSON_AddItemToArray(list, node("new", "b", NULL));
    minik_nodecache_resync(&nc, list);
    cJSON_Delete(list);
    assert_int_equal(minik_nodecache_len(&nc), 2);
    assert_null(minik_nodecache_get(&nc, "old"));
    assert_string_equal(zone_of(&nc, "kept"), "z");
    assert_string_equal(minik_nodecache_at(&nc, 0)->name, "kept");
    assert_string_equal(minik_nodecache_at(&nc, 1)->name, "new");
    minik_nodecache_clear(&nc);
}

/* Hundreds of nodes in scrambled order, half deleted again: the order stays sorted and the
 * map and the order agree. */
static void many_nodes(void **state)
{
    (void)state;
    minik_nodecache_t nc = MINIK_NODECACHE_INIT;
    for (int i = 0; i < 600; i++) {
        char name[32];
        snprintf(name, sizeof(name), "node-%03d", (i * 397) % 600);
        observe(&nc, MINIK_STORE_ADDED, node(name, "a", NULL));
    }
    for (int i = 0; i < 600; i += 2) {
        char name[32];
        snprintf(name, sizeof(name), "node-%03d", i);
        observe(&nc, MINIK_STORE_DELETED, node(name, "a", NULL));
    }
    assert_int_equal(minik_nodecache_len(&nc), 300);
    for (size_t i = 0; i < 300; i++) {
        char name[32];
        snprintf(name, sizeof(name), "node-%03zu", 2 * i + 1);
        assert_string_equal(minik_nodecache_at(&nc, i)->name, name);
        assert_ptr_equal(minik_nodecache_get(&nc, name), minik_nodecache_at(&nc, i));
    }
    minik_nodecache_clear(&nc);
}

/* ---- the controllers reading it -------------------------------------------------------- */

static bool ds_pods_on(ctl_fix_t *f, void *ud)
{
    int want = *(int *)ud;
    return cf_active(f, NULL) == want;
}

static bool pod_on(const ctl_fix_t *f, const char *n)
{
    for (int i = 0; i < f->n_pods; i++)
        if (f->pods[i].active && strcmp(f->pods[i].node, n) == 0)
            return true;
    return false;
}

static void set_taints(cJSON *n, cJSON *taints)
{
    cJSON *spec = minik_ctl_obj(n, "spec");
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "taints");
    cJSON_AddItemToObject(spec, "taints", taints);
}

/* Controllers started over a store that already holds Nodes and a DaemonSet with its pods
 * fill the cache from the initial list (a restarted server creates no second pod and
 * deletes none), then follow nodes that join and leave through the feed. */
static void restart_and_follow(void **state)
{
    (void)state;
    /* No heartbeats here: the nodes must not turn NotReady (and tainted) mid-test. */
    minik_controllers_opts_t opts = {.node_grace_ms = 3600 * 1000};
    ctl_fix_t *f = cf_new(&opts);
    f->bind = false;
    cf_add_node(f, "node-1", NULL, NULL);
    cf_add_node(f, "node-2", NULL, NULL);
    cf_create(f, cf_daemonset("agent", "agent:1"));
    int want = 2;
    assert_true(cf_run_until(f, ds_pods_on, &want, WAIT_MS));
    cf_run_for(f, 300);
    assert_int_equal(minik_nodecache_len(&f->ctl->node_cache), 2);

    minik_controllers_free(f->ctl);
    minik_error_t *err = NULL;
    assert_int_equal(minik_controllers_new(f->store, &f->loop, &opts, &f->ctl, &err), 0);
    assert_int_equal(minik_controllers_start(f->ctl, &err), 0);
    assert_int_equal(minik_nodecache_len(&f->ctl->node_cache), 2);
    assert_non_null(minik_nodecache_get(&f->ctl->node_cache, "node-2"));
    cf_run_for(f, 1000);
    assert_int_equal(cf_count(f, "Pod", "default"), 2);
    assert_int_equal(cf_active(f, NULL), 2);

    /* After the restart the feed keeps the cache current: a new node gets its pod, a
     * deleted one loses it. */
    cf_add_node(f, "node-3", NULL, NULL);
    want = 3;
    assert_true(cf_run_until(f, ds_pods_on, &want, WAIT_MS));
    assert_true(pod_on(f, "node-3"));
    assert_int_equal(minik_nodecache_len(&f->ctl->node_cache), 3);
    assert_int_equal(cf_delete(f, "Node", "", "node-1"), 0);
    want = 2;
    assert_true(cf_run_until(f, ds_pods_on, &want, WAIT_MS));
    assert_false(pod_on(f, "node-1"));
    assert_null(minik_nodecache_get(&f->ctl->node_cache, "node-1"));
    /* A taint added to a node reaches the DaemonSet through the cache: its pod, already
     * running, stays for a NoSchedule taint (only NoExecute evicts a running daemon). */
    cJSON *n2 = cf_get(f, "Node", "", "node-2");
    cJSON *t = cJSON_Parse("[{\"key\":\"maint\",\"effect\":\"NoSchedule\"}]");
    set_taints(n2, t);
    cf_update(f, n2);
    cf_run_for(f, 500);
    assert_true(pod_on(f, "node-2"));
    n2 = cf_get(f, "Node", "", "node-2");
    t = cJSON_Parse("[{\"key\":\"maint\",\"effect\":\"NoExecute\"}]");
    set_taints(n2, t);
    cf_update(f, n2);
    want = 1;
    assert_true(cf_run_until(f, ds_pods_on, &want, WAIT_MS));
    assert_false(pod_on(f, "node-2"));
    assert_true(pod_on(f, "node-3"));
    cf_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_update_delete),
        cmocka_unit_test(resync_replaces_everything),
        cmocka_unit_test(many_nodes),
        cmocka_unit_test(restart_and_follow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
