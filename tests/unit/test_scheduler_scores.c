/* Unit tests for scheduler/scores.c, explain.c and algorithm.c: pure, no store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "scheduler/algorithm.h"
#include "scheduler/explain.h"
#include "scheduler/filters.h"
#include "scheduler/owners.h"
#include "scheduler/scores.h"
#include "tests/unit/sched_fixtures.h"

#define REQ(cpu, mem)                                                                              \
    "{'containers':[{'name':'c','image':'i','resources':{'requests':{'cpu':'" cpu                  \
    "','memory':'" mem "'}}}]}"
#define OWNED(uid) "'ownerReferences':[{'uid':'" uid "','controller':true}]"

/* ---- resource scores (Kubernetes' formulas) ------------------------------------------- */

typedef struct res_case {
    const char *node_cpu, *node_mem;
    const char *used_cpu, *used_mem; /* one existing pod's requests, NULL = none */
    const char *pod_cpu, *pod_mem;
    int64_t least, most;
} res_case_t;

static const res_case_t res_cases[] = {
    /* empty 4-core/8Gi node, pod 1 core/2Gi: cpu free 75%, mem free 75% */
    {"4", "8Gi", NULL, NULL, "1", "2Gi", 75, 25},
    /* cpu 3/4 used after the pod, memory 1/8: least = (25 + 87) / 2 = 56 */
    {"4", "8Gi", "2", "0", "1", "1Gi", 56, 43},
    /* over capacity: least gives 0 for that resource, most caps at 100 */
    {"1", "1Gi", "1", "1Gi", "1", "1Gi", 0, 100},
    /* a node with nothing allocatable scores 0 either way */
    {"0", "0", NULL, NULL, "1", "1Gi", 0, 0},
};

static void resource_scores_table(void **state)
{
    for (size_t i = 0; i < sizeof(res_cases) / sizeof(res_cases[0]); i++) {
        const res_case_t *c = &res_cases[i];
        minik_sched_node_t *n = sched_node("n", c->node_cpu, c->node_mem, 110, NULL, NULL, true);
        minik_sched_pod_t *used = NULL;
        if (c->used_cpu) {
            char *spec = xasprintf("{'containers':[{'name':'c','image':'i','resources':{'requests':"
                                   "{'cpu':'%s','memory':'%s'}}}]}",
                                   c->used_cpu, c->used_mem);
            used = sched_pod("used", NULL, spec);
            free(spec);
            minik_sched_node_add_pod(n, used);
        }
        char *spec = xasprintf("{'containers':[{'name':'c','image':'i','resources':{'requests':{"
                               "'cpu':'%s','memory':'%s'}}}]}",
                               c->pod_cpu, c->pod_mem);
        minik_sched_pod_t *p = sched_pod("p", NULL, spec);
        free(spec);
        int64_t l = minik_sched_score_least_allocated(p, n);
        int64_t m = minik_sched_score_most_allocated(p, n);
        if (l != c->least || m != c->most)
            fail_msg("case %zu: least %lld (want %lld), most %lld (want %lld)", i, (long long)l,
                     (long long)c->least, (long long)m, (long long)c->most);
        minik_sched_pod_free(p);
        minik_sched_pod_free(used);
        minik_sched_node_free(n);
    }
}

static void pods_without_requests_count_defaults(void **state)
{
    /* 1 core, 1000Mi: a request-less pod counts 100m and 200Mi for scoring only. */
    minik_sched_node_t *n = sched_node("n", "1", "1000Mi", 110, NULL, NULL, true);
    minik_sched_pod_t *p = sched_pod("p", NULL, NULL);
    assert_int_equal(minik_sched_score_least_allocated(p, n), (90 + 80) / 2);
    minik_sched_pod_free(p);
    minik_sched_node_free(n);
}

static void normalize_table(void **state)
{
    struct {
        int64_t in[3];
        bool reverse;
        int64_t out[3];
    } cases[] = {
        {{0, 5, 10}, false, {0, 50, 100}}, {{0, 5, 10}, true, {100, 50, 0}},
        {{0, 0, 0}, false, {0, 0, 0}},     {{0, 0, 0}, true, {100, 100, 100}},
        {{1, 2, 3}, false, {33, 66, 100}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t v[3];
        memcpy(v, cases[i].in, sizeof(v));
        minik_sched_normalize(v, 3, cases[i].reverse);
        for (int j = 0; j < 3; j++) {
            if (v[j] != cases[i].out[j])
                fail_msg("case %zu[%d]: got %lld want %lld", i, j, (long long)v[j],
                         (long long)cases[i].out[j]);
        }
    }
}

static void small_scorers(void **state)
{
    minik_sched_node_t *n =
        sched_node("n", "4", "4Gi", 110, "{'disk':'ssd','zone':'a'}",
                   "'taints':[{'key':'a','effect':'PreferNoSchedule'},{'key':'b','effect':"
                   "'PreferNoSchedule'},{'key':'c','effect':'NoSchedule'}]",
                   true);
    minik_sched_pod_t *p = sched_pod(
        "p", OWNED("rs1"),
        "{'tolerations':[{'key':'a','operator':'Exists'}],'affinity':{'nodeAffinity':{"
        "'preferredDuringSchedulingIgnoredDuringExecution':[{'weight':30,'preference':{"
        "'matchExpressions':[{'key':'disk','operator':'In','values':['ssd']}]}},{'weight':5,"
        "'preference':{'matchExpressions':[{'key':'zone','operator':'In','values':['b']}]}},{"
        "'weight':7,'preference':{'matchExpressions':[{'key':'zone','operator':'Exists'}]}}]}},"
        "'containers':[]}");
    assert_null(p->invalid);
    assert_int_equal(minik_sched_score_node_affinity(p, n), 37);
    /* b is untolerated; a is tolerated; NoSchedule taints are the filter's business. */
    assert_int_equal(minik_sched_score_taints(p, n), 1);
    minik_sched_pod_t *same1 = sched_pod("s1", OWNED("rs1"), NULL);
    minik_sched_pod_t *same2 = sched_pod("s2", OWNED("rs1"), NULL);
    minik_sched_pod_t *other = sched_pod("o", OWNED("rs2"), NULL);
    minik_sched_node_add_pod(n, same1);
    minik_sched_node_add_pod(n, same2);
    minik_sched_node_add_pod(n, other);
    assert_int_equal(minik_sched_score_owner_spread(p, n), 2);
    minik_sched_pod_t *orphan = sched_pod("x", NULL, NULL);
    assert_int_equal(minik_sched_score_owner_spread(orphan, n), 0);
    minik_sched_pod_free(orphan);
    minik_sched_pod_free(p);
    minik_sched_pod_free(same1);
    minik_sched_pod_free(same2);
    minik_sched_pod_free(other);
    minik_sched_node_free(n);
}

static void policy_names(void **state)
{
    minik_sched_policy_t p;
    assert_int_equal(minik_sched_policy_parse("binpack", &p, NULL), 0);
    assert_int_equal(p, MINIK_SCHED_POLICY_BINPACK);
    assert_int_equal(minik_sched_policy_parse("spread", &p, NULL), 0);
    assert_int_equal(p, MINIK_SCHED_POLICY_SPREAD);
    minik_error_t *err = NULL;
    assert_true(minik_sched_policy_parse("random", &p, &err) < 0);
    assert_string_equal(err->msg,
                        "--scheduler-policy: unknown policy \"random\" (spread or binpack)");
    minik_error_free(err);
    assert_string_equal(minik_sched_policy_name(MINIK_SCHED_POLICY_BINPACK), "binpack");
}

/* ---- explanation ------------------------------------------------------------------------ */

static void explain_sorted_like_kubernetes(void **state)
{
    minik_sched_explain_t e = MINIK_SCHED_EXPLAIN_INIT;
    minik_sched_explain_add(&e, "Insufficient memory");
    minik_sched_explain_add(&e, "node(s) had untolerated taint {gpu: true}");
    minik_sched_explain_add(&e, "Insufficient memory");
    char *m = minik_sched_explain_message(&e, 3);
    /* Go's sort.Strings over "count reason": "1 node(s)..." < "2 Insufficient memory". */
    assert_string_equal(
        m, "0/3 nodes are available: 1 node(s) had untolerated taint {gpu: true}, 2 Insufficient "
           "memory.");
    free(m);
    minik_sched_explain_free(&e);

    /* Plain string order also means "10 ..." sorts before "2 ...". */
    for (int i = 0; i < 10; i++)
        minik_sched_explain_add(&e, "node(s) were unschedulable");
    minik_sched_explain_add(&e, "Insufficient cpu");
    minik_sched_explain_add(&e, "Insufficient cpu");
    m = minik_sched_explain_message(&e, 12);
    assert_string_equal(
        m, "0/12 nodes are available: 10 node(s) were unschedulable, 2 Insufficient cpu.");
    free(m);
    minik_sched_explain_free(&e);

    m = minik_sched_explain_message(&e, 0);
    assert_string_equal(m, "no nodes available to schedule pods");
    free(m);
}

/* ---- the whole decision ----------------------------------------------------------------- */

typedef struct cluster {
    minik_sched_node_t *nodes[8];
    size_t n;
    minik_sched_pod_t *pods[32];
    size_t n_pods;
} cluster_t;

static void cluster_free(cluster_t *c)
{
    for (size_t i = 0; i < c->n_pods; i++)
        minik_sched_pod_free(c->pods[i]);
    for (size_t i = 0; i < c->n; i++)
        minik_sched_node_free(c->nodes[i]);
}

/* Schedule `p` and account it on the chosen node, like the loop does; returns the node
 * name or the message (static buffer). */
static const char *place(cluster_t *c, minik_sched_algo_t *algo, minik_sched_pod_t *p)
{
    static char buf[512];
    minik_sched_snapshot_t snap = {c->nodes, c->n, true, NULL};
    minik_sched_result_t r;
    int rc = minik_sched_schedule(algo, &snap, p, &r);
    c->pods[c->n_pods++] = p;
    if (rc == 0) {
        minik_sched_node_add_pod(r.node, p);
        snprintf(buf, sizeof(buf), "%s", r.node->name);
    } else {
        snprintf(buf, sizeof(buf), "%s", r.message);
        free(r.message);
    }
    return buf;
}

static void unschedulable_message_end_to_end(void **state)
{
    cluster_t c = {0};
    c.nodes[c.n++] = sched_node("a", "4", "1Gi", 110, NULL, NULL, true);
    c.nodes[c.n++] = sched_node("b", "4", "1Gi", 110, NULL, NULL, true);
    c.nodes[c.n++] =
        sched_node("gpu", "4", "64Gi", 110, NULL,
                   "'taints':[{'key':'gpu','value':'true','effect':'NoSchedule'}]", true);
    minik_sched_algo_t algo = {0};
    assert_string_equal(
        place(&c, &algo, sched_pod("big", NULL, REQ("1", "2Gi"))),
        "0/3 nodes are available: 1 node(s) had untolerated taint {gpu: true}, 2 Insufficient "
        "memory.");
    minik_sched_pod_t *bad =
        sched_pod("bad", NULL, "{'tolerations':[{'key':'a','operator':'Maybe'}],'containers':[]}");
    assert_string_equal(place(&c, &algo, bad),
                        "pod cannot be scheduled: spec.tolerations[0].operator: unknown operator "
                        "\"Maybe\" (Equal or Exists)");
    cluster_free(&c);

    cluster_t empty = {0};
    assert_string_equal(place(&empty, &algo, sched_pod("p", NULL, NULL)),
                        "no nodes available to schedule pods");
    cluster_free(&empty);
}

static void spread_policy_spreads_an_owner(void **state)
{
    cluster_t c = {0};
    c.nodes[c.n++] = sched_node("n1", "4", "8Gi", 110, NULL, NULL, true);
    c.nodes[c.n++] = sched_node("n2", "4", "8Gi", 110, NULL, NULL, true);
    c.nodes[c.n++] = sched_node("n3", "4", "8Gi", 110, NULL, NULL, true);
    minik_sched_algo_t algo = {.policy = MINIK_SCHED_POLICY_SPREAD};
    int count[3] = {0};
    for (int i = 0; i < 6; i++) {
        char name[16];
        snprintf(name, sizeof(name), "w%d", i);
        const char *n = place(&c, &algo, sched_pod(name, OWNED("rs1"), REQ("100m", "64Mi")));
        count[n[1] - '1']++;
    }
    assert_int_equal(count[0], 2);
    assert_int_equal(count[1], 2);
    assert_int_equal(count[2], 2);
    cluster_free(&c);
}

static void least_allocated_prefers_the_emptier_node(void **state)
{
    cluster_t c = {0};
    c.nodes[c.n++] = sched_node("busy", "4", "8Gi", 110, NULL, NULL, true);
    c.nodes[c.n++] = sched_node("idle", "4", "8Gi", 110, NULL, NULL, true);
    minik_sched_pod_t *hog = sched_pod("hog", NULL, REQ("2", "4Gi"));
    minik_sched_node_add_pod(c.nodes[0], hog);
    c.pods[c.n_pods++] = hog;
    minik_sched_algo_t spread = {.policy = MINIK_SCHED_POLICY_SPREAD};
    assert_string_equal(place(&c, &spread, sched_pod("p1", NULL, REQ("500m", "1Gi"))), "idle");
    /* binpack fills the busier node first */
    minik_sched_algo_t binpack = {.policy = MINIK_SCHED_POLICY_BINPACK};
    assert_string_equal(place(&c, &binpack, sched_pod("p2", NULL, REQ("500m", "1Gi"))), "busy");
    cluster_free(&c);
}

static void binpack_fills_before_using_empty_nodes(void **state)
{
    cluster_t c = {0};
    c.nodes[c.n++] = sched_node("n1", "2", "4Gi", 110, NULL, NULL, true);
    c.nodes[c.n++] = sched_node("n2", "2", "4Gi", 110, NULL, NULL, true);
    minik_sched_algo_t algo = {.policy = MINIK_SCHED_POLICY_BINPACK};
    /* four 1-core pods: two fill the first node, the next two go to the other. */
    const char *want[] = {"n1", "n1", "n2", "n2"};
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof(name), "p%d", i);
        assert_string_equal(place(&c, &algo, sched_pod(name, NULL, REQ("1", "1Gi"))), want[i]);
    }
    cluster_free(&c);
}

static void preferences_steer_placement(void **state)
{
    cluster_t c = {0};
    c.nodes[c.n++] = sched_node("a", "4", "8Gi", 110, "{'disk':'hdd'}", NULL, true);
    c.nodes[c.n++] = sched_node("b", "4", "8Gi", 110, "{'disk':'ssd'}", NULL, true);
    c.nodes[c.n++] = sched_node("c", "4", "8Gi", 110, "{'disk':'ssd'}",
                                "'taints':[{'key':'old','effect':'PreferNoSchedule'}]", true);
    minik_sched_algo_t algo = {0};
    /* Without preferences the taint alone keeps c last; ties fall to the first name. */
    assert_string_equal(place(&c, &algo, sched_pod("p0", NULL, NULL)), "a");
    /* Preferred affinity for ssd outweighs a's emptier state; c loses on its taint. */
    assert_string_equal(
        place(&c, &algo,
              sched_pod("p1", NULL,
                        "{'affinity':{'nodeAffinity':{"
                        "'preferredDuringSchedulingIgnoredDuringExecution':[{'weight':50,"
                        "'preference':{'matchExpressions':[{'key':'disk','operator':'In','values':"
                        "['ssd']}]}}]}},'containers':[]}")),
        "b");
    cluster_free(&c);
}

static void ties_deterministic_or_seeded(void **state)
{
    cluster_t c = {0};
    const char *names[] = {"n4", "n2", "n3", "n1"};
    for (int i = 0; i < 4; i++)
        c.nodes[c.n++] = sched_node(names[i], "4", "8Gi", 110, NULL, NULL, true);
    minik_sched_algo_t det = {0};
    assert_string_equal(place(&c, &det, sched_pod("p0", NULL, NULL)), "n1");
    cluster_free(&c);

    /* With a seed every tied node gets picked eventually, and the same seed repeats. */
    char first[4][8];
    for (int round = 0; round < 2; round++) {
        minik_sched_algo_t rnd = {.rng = 42};
        bool seen[5] = {false};
        for (int i = 0; i < 40; i++) {
            cluster_t one = {0};
            for (int j = 0; j < 4; j++)
                one.nodes[one.n++] = sched_node(names[j], "4", "8Gi", 110, NULL, NULL, true);
            const char *got = place(&one, &rnd, sched_pod("p", NULL, NULL));
            seen[got[1] - '0'] = true;
            if (i < 4) {
                if (round == 0)
                    snprintf(first[i], sizeof(first[i]), "%s", got);
                else
                    assert_string_equal(first[i], got);
            }
            cluster_free(&one);
        }
        assert_true(seen[1] && seen[2] && seen[3] && seen[4]);
    }
}

static void feasible_nodes_to_find(void **state)
{
    assert_int_equal(minik_sched_num_feasible_to_find(0, 50), 50);
    assert_int_equal(minik_sched_num_feasible_to_find(0, 1000), 1000 * 42 / 100);
    assert_int_equal(minik_sched_num_feasible_to_find(0, 5000), 5000 * 10 / 100);
    assert_int_equal(minik_sched_num_feasible_to_find(0, 100000), 100000 * 5 / 100);
    assert_int_equal(minik_sched_num_feasible_to_find(100, 5000), 5000);
    assert_int_equal(minik_sched_num_feasible_to_find(1, 5000), 100);
}

#define PREF(kind, w, sel, tk)                                                                     \
    "{'affinity':{'" kind "':{'preferredDuringSchedulingIgnoredDuringExecution':[{'weight':" w     \
    ",'podAffinityTerm':{'labelSelector':" sel ",'topologyKey':'" tk "'}}]}},'containers':[]}"
#define WEB "{'matchLabels':{'app':'web'}}"

static void inter_pod_scores(void **state)
{
    minik_sched_node_t *a = sched_node("a", "4", "8Gi", 110, "{'zone':'z1'}", NULL, true);
    minik_sched_node_t *b = sched_node("b", "4", "8Gi", 110, "{'zone':'z1'}", NULL, true);
    minik_sched_node_t *c = sched_node("c", "4", "8Gi", 110, "{'zone':'z2'}", NULL, true);
    minik_sched_pod_t *web = sched_pod("web", "'labels':{'app':'web'}", NULL);
    minik_sched_node_add_pod(a, web);
    minik_sched_node_t *nodes[] = {a, b, c};
    minik_sched_snapshot_t snap = {nodes, 3, true, NULL};
    int64_t raw[3];

    /* preferred anti-affinity on hostname: only a is penalised */
    minik_sched_pod_t *p =
        sched_pod("p", NULL, PREF("podAntiAffinity", "80", WEB, "kubernetes.io/hostname"));
    minik_sched_score_inter_pod(&snap, p, nodes, 3, raw);
    assert_int_equal(raw[0], -80);
    assert_int_equal(raw[1], 0);
    assert_int_equal(raw[2], 0);
    minik_sched_normalize_min_max(raw, 3);
    assert_int_equal(raw[0], 0);
    assert_int_equal(raw[1], 100);
    minik_sched_pod_free(p);

    /* preferred affinity on zone: a and b share z1 */
    p = sched_pod("p", NULL, PREF("podAffinity", "30", WEB, "zone"));
    minik_sched_score_inter_pod(&snap, p, nodes, 3, raw);
    assert_int_equal(raw[0], 30);
    assert_int_equal(raw[1], 30);
    assert_int_equal(raw[2], 0);
    minik_sched_pod_free(p);

    /* symmetry: an existing pod's preferences and required affinity about us count */
    minik_sched_pod_t *picky = sched_pod(
        "picky", NULL,
        "{'affinity':{'podAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':[{"
        "'labelSelector':{'matchLabels':{'app':'cache'}},'topologyKey':'zone'}]},"
        "'podAntiAffinity':{'preferredDuringSchedulingIgnoredDuringExecution':[{'weight':10,"
        "'podAffinityTerm':{'labelSelector':{'matchLabels':{'app':'cache'}},'topologyKey':"
        "'kubernetes.io/hostname'}}]}},'containers':[]}");
    assert_null(picky->invalid);
    minik_sched_node_add_pod(c, picky);
    minik_sched_pod_t *cache = sched_pod("cache", "'labels':{'app':'cache'}", NULL);
    minik_sched_score_inter_pod(&snap, cache, nodes, 3, raw);
    assert_int_equal(raw[0], 0);
    assert_int_equal(raw[1], 0);
    assert_int_equal(raw[2], MINIK_SCHED_HARD_POD_AFFINITY_WEIGHT - 10);
    minik_sched_pod_free(cache);

    minik_sched_pod_free(web);
    minik_sched_pod_free(picky);
    for (int i = 0; i < 3; i++)
        minik_sched_node_free(nodes[i]);

    int64_t same[3] = {5, 5, 5};
    minik_sched_normalize_min_max(same, 3);
    assert_int_equal(same[0], 0);
}

/* The way Helm charts spread replicas: preferred anti-affinity on the hostname, no owner. */
static void preferred_anti_affinity_spreads_replicas(void **state)
{
    cluster_t c = {0};
    c.nodes[c.n++] = sched_node("n1", "4", "8Gi", 110, NULL, NULL, true);
    c.nodes[c.n++] = sched_node("n2", "4", "8Gi", 110, NULL, NULL, true);
    c.nodes[c.n++] = sched_node("n3", "4", "8Gi", 110, NULL, NULL, true);
    /* A big pod makes n2 and n3 fuller than n1; without the preference every replica
     * would go to n1 (least allocated). */
    minik_sched_pod_t *hog2 = sched_pod("hog2", NULL, REQ("2", "4Gi"));
    minik_sched_pod_t *hog3 = sched_pod("hog3", NULL, REQ("2", "4Gi"));
    minik_sched_node_add_pod(c.nodes[1], hog2);
    minik_sched_node_add_pod(c.nodes[2], hog3);
    c.pods[c.n_pods++] = hog2;
    c.pods[c.n_pods++] = hog3;
    minik_sched_algo_t algo = {0};
    assert_string_equal(place(&c, &algo, sched_pod("plain1", "'labels':{'app':'x'}", NULL)), "n1");
    /* Two web replicas: the first goes to n1 (emptiest, no replica anywhere yet), the
     * second avoids it. */
    assert_string_equal(
        place(&c, &algo,
              sched_pod("r0", "'labels':{'app':'web'}",
                        PREF("podAntiAffinity", "100", WEB, "kubernetes.io/hostname"))),
        "n1");
    const char *second =
        place(&c, &algo,
              sched_pod("r1", "'labels':{'app':'web'}",
                        PREF("podAntiAffinity", "100", WEB, "kubernetes.io/hostname")));
    /* n1 is still the emptiest by far, but it already holds a web replica. */
    assert_string_equal(second, "n2");
    cluster_free(&c);
}

static void owner_spread_prefers_another_zone(void **state)
{
    cluster_t c = {0};
    c.nodes[c.n++] =
        sched_node("a1", "4", "8Gi", 110, "{'topology.kubernetes.io/zone':'a'}", NULL, true);
    c.nodes[c.n++] =
        sched_node("a2", "4", "8Gi", 110, "{'topology.kubernetes.io/zone':'a'}", NULL, true);
    c.nodes[c.n++] =
        sched_node("b1", "4", "8Gi", 110, "{'topology.kubernetes.io/zone':'b'}", NULL, true);
    minik_sched_pod_t *first = sched_pod("w0", OWNED("rs1"), NULL);
    minik_sched_node_add_pod(c.nodes[0], first);
    c.pods[c.n_pods++] = first;
    /* Per node, a2 and b1 tie (a2 would win on its name); per zone, b is empty. */
    int64_t s[3];
    minik_sched_pod_t *next = sched_pod("w1", OWNED("rs1"), NULL);
    for (int i = 0; i < 3; i++)
        s[i] = minik_sched_score_owner_spread(next, c.nodes[i]);
    minik_sched_normalize(s, 3, true);
    assert_int_equal(s[0], 0);
    assert_int_equal(s[1], 100);
    assert_int_equal(s[2], 100);
    minik_sched_snapshot_t snap = {c.nodes, c.n, false, NULL};
    minik_sched_owner_zone_blend(&snap, next, c.nodes, 3, s);
    assert_int_equal(s[0], 0);
    assert_int_equal(s[1], 100 / 3);
    assert_int_equal(s[2], 100);
    minik_sched_pod_free(next);
    minik_sched_algo_t algo = {0};
    assert_string_equal(place(&c, &algo, sched_pod("w2", OWNED("rs1"), NULL)), "b1");
    cluster_free(&c);
}

/* The per-owner zone counts: add/remove per zone, unzoned pods, the owner forgotten with
 * its last pod, and owner uids too long for the key's stack buffer. */
static void owner_zone_counts(void **state)
{
    minik_sched_owners_t o = MINIK_SCHED_OWNERS_INIT;
    minik_sched_pod_t *a = sched_pod("a", OWNED("rs1"), NULL);
    minik_sched_pod_t *b = sched_pod("b", OWNED("rs1"), NULL);
    minik_sched_pod_t *c = sched_pod("c", OWNED("rs1"), NULL);
    minik_sched_owners_add(&o, a, "z1");
    minik_sched_owners_add(&o, b, "z1");
    minik_sched_owners_add(&o, c, NULL);
    const minik_sched_owner_zones_t *z = minik_sched_owners_get(&o, a);
    assert_non_null(z);
    assert_int_equal(z->pods, 3);
    assert_int_equal(minik_sched_owner_zone_count(z, "z1"), 2);
    assert_int_equal(minik_sched_owner_zone_count(z, "z2"), 0);
    /* Siblings on a node are recognised by their group, the pod being placed left out. */
    minik_sched_node_t *n = sched_node("n1", "4", "8Gi", 110, NULL, NULL, true);
    minik_sched_pod_t *stranger = sched_pod("s", OWNED("rs2"), NULL);
    minik_sched_node_add_pod(n, a);
    minik_sched_node_add_pod(n, b);
    minik_sched_node_add_pod(n, stranger);
    assert_int_equal(minik_sched_owner_pods_on(z, n, NULL), 2);
    assert_int_equal(minik_sched_owner_pods_on(z, n, a), 1);
    assert_int_equal(minik_sched_owner_pods_on(NULL, n, NULL), 0);
    /* The node's per-group count follows removals, down to none. */
    assert_true(minik_sched_node_remove_pod(n, a));
    assert_int_equal(minik_sched_owner_pods_on(z, n, NULL), 1);
    assert_true(minik_sched_node_remove_pod(n, b));
    assert_int_equal(minik_sched_owner_pods_on(z, n, NULL), 0);
    assert_int_equal(n->n_owner_counts, 0);
    minik_sched_node_free(n);
    minik_sched_pod_free(stranger);
    minik_sched_owners_remove(&o, a, "z1");
    assert_null(a->owner_group);
    z = minik_sched_owners_get(&o, b);
    assert_int_equal(z->pods, 2);
    assert_int_equal(minik_sched_owner_zone_count(z, "z1"), 1);
    minik_sched_owners_remove(&o, b, "z1");
    assert_int_equal(minik_sched_owner_zone_count(minik_sched_owners_get(&o, c), "z1"), 0);
    minik_sched_owners_remove(&o, c, NULL);
    assert_null(minik_sched_owners_get(&o, c));

    char uid[400];
    memset(uid, 'u', sizeof(uid) - 1);
    uid[sizeof(uid) - 1] = '\0';
    char meta[512];
    snprintf(meta, sizeof(meta), "'ownerReferences':[{'uid':'%s','controller':true}]", uid);
    minik_sched_pod_t *l1 = sched_pod("l1", meta, NULL);
    uid[0] = 'v'; /* same length, another owner */
    snprintf(meta, sizeof(meta), "'ownerReferences':[{'uid':'%s','controller':true}]", uid);
    minik_sched_pod_t *l2 = sched_pod("l2", meta, NULL);
    minik_sched_owners_add(&o, l1, "z1");
    assert_int_equal(minik_sched_owner_zone_count(minik_sched_owners_get(&o, l1), "z1"), 1);
    assert_null(minik_sched_owners_get(&o, l2));
    minik_sched_owners_clear(&o);
    assert_null(minik_sched_owners_get(&o, l1));
    minik_sched_pod_free(a);
    minik_sched_pod_free(b);
    minik_sched_pod_free(c);
    minik_sched_pod_free(l1);
    minik_sched_pod_free(l2);
}

static void topology_spread_decisions(void **state)
{
    cluster_t c = {0};
    c.nodes[c.n++] = sched_node("a1", "8", "8Gi", 110, "{'zone':'a'}", NULL, true);
    c.nodes[c.n++] = sched_node("a2", "8", "8Gi", 110, "{'zone':'a'}", NULL, true);
    c.nodes[c.n++] = sched_node("b1", "1", "8Gi", 110, "{'zone':'b'}", NULL, true);
    minik_sched_algo_t algo = {0};
    /* Zone b's node is small (least-allocated alone would avoid it); DoNotSchedule with
     * maxSkew 1 still alternates zones: a, b, a, b. */
    const char *hard = "{'topologySpreadConstraints':[{'maxSkew':1,'topologyKey':'zone',"
                       "'whenUnsatisfiable':'DoNotSchedule','labelSelector':{'matchLabels':{"
                       "'app':'web'}}}],'containers':[{'name':'c','image':'i','resources':{"
                       "'requests':{'cpu':'100m'}}}]}";
    int zone_b = 0;
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof(name), "w%d", i);
        const char *n = place(&c, &algo, sched_pod(name, "'labels':{'app':'web'}", hard));
        zone_b += n[0] == 'b';
    }
    assert_int_equal(zone_b, 2);
    cluster_free(&c);

    /* ScheduleAnyway: a soft preference for the emptier zone. */
    int64_t v[4] = {3, 1, -1, 0};
    minik_sched_normalize_spread(v, 4);
    assert_int_equal(v[0], 100 * (3 + 0 - 3) / 3);
    assert_int_equal(v[1], 100 * (3 + 0 - 1) / 3);
    assert_int_equal(v[2], 0);
    assert_int_equal(v[3], 100);
    int64_t zeros[2] = {0, 0};
    minik_sched_normalize_spread(zeros, 2);
    assert_int_equal(zeros[0], 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resource_scores_table),
        cmocka_unit_test(pods_without_requests_count_defaults),
        cmocka_unit_test(normalize_table),
        cmocka_unit_test(small_scorers),
        cmocka_unit_test(inter_pod_scores),
        cmocka_unit_test(preferred_anti_affinity_spreads_replicas),
        cmocka_unit_test(owner_spread_prefers_another_zone),
        cmocka_unit_test(owner_zone_counts),
        cmocka_unit_test(topology_spread_decisions),
        cmocka_unit_test(policy_names),
        cmocka_unit_test(explain_sorted_like_kubernetes),
        cmocka_unit_test(unschedulable_message_end_to_end),
        cmocka_unit_test(spread_policy_spreads_an_owner),
        cmocka_unit_test(least_allocated_prefers_the_emptier_node),
        cmocka_unit_test(binpack_fills_before_using_empty_nodes),
        cmocka_unit_test(preferences_steer_placement),
        cmocka_unit_test(ties_deterministic_or_seeded),
        cmocka_unit_test(feasible_nodes_to_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
