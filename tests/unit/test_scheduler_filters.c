/* Unit tests for scheduler/snapshot.c and scheduler/filters.c: decoding of pods and nodes,
 * and every filter, table-driven and pure (no store). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/filters.h"
#include "scheduler/snapshot.h"
#include "tests/unit/sched_fixtures.h"

#define CONTAINER(res) "{'name':'c','image':'i','resources':" res "}"

/* ---- requests ------------------------------------------------------------------------- */

typedef struct req_case {
    const char *name;
    const char *spec;
    int64_t cpu, mem, nz_cpu, nz_mem;
} req_case_t;

static const req_case_t req_cases[] = {
    {"no requests: zero, scoring defaults", "{'containers':[{'name':'c','image':'i'}]}", 0, 0,
     MINIK_SCHED_DEFAULT_MILLI_CPU, MINIK_SCHED_DEFAULT_MEMORY},
    {"containers add up",
     "{'containers':[" CONTAINER("{'requests':{'cpu':'250m','memory':'64Mi'}}") "," CONTAINER(
         "{'requests':{'cpu':'0.5','memory':'1Gi'}}") "]}",
     750, 64 * 1048576LL + 1073741824LL, 750, 64 * 1048576LL + 1073741824LL},
    {"limits stand in for missing requests",
     "{'containers':[" CONTAINER("{'limits':{'cpu':'1','memory':'100M'}}") "]}", 1000, 100000000,
     1000, 100000000},
    {"numbers are quantities too", "{'containers':[" CONTAINER("{'requests':{'cpu':2}}") "]}", 2000,
     0, 2000, MINIK_SCHED_DEFAULT_MEMORY},
    {"init container larger than the sum wins",
     "{'initContainers':[" CONTAINER(
         "{'requests':{'cpu':'2','memory':'1Mi'}}") "],"
                                                    "'containers':[" CONTAINER(
                                                        "{'requests':{'cpu':'500m','memory':'"
                                                        "10Mi'}}") "," CONTAINER("{'requests':{"
                                                                                 "'cpu':'500m',"
                                                                                 "'memory':'"
                                                                                 "10Mi'}}") "]"
                                                                                            "}",
     2000, 20 * 1048576LL, 2000, 20 * 1048576LL},
    {"init containers: max, not sum",
     "{'initContainers':[" CONTAINER("{'requests':{'cpu':'1'}}") "," CONTAINER(
         "{'requests':{'cpu':'1500m'}}") "],'containers':[" CONTAINER("{'requests':{'cpu':'1'}"
                                                                      "}") "]}",
     1500, 0, 1500, MINIK_SCHED_DEFAULT_MEMORY},
    {"sidecar init containers run next to the app",
     "{'initContainers':[{'name':'s','image':'i','restartPolicy':'Always','resources':{'"
     "requests':"
     "{'cpu':'200m'}}}," CONTAINER("{'requests':{'cpu':'1'}}") "],'containers':[" CONTAINER(
         "{'requests':{'cpu':'300m'}}") "]}",
     1200, 0, 1200, MINIK_SCHED_DEFAULT_MEMORY * 2},
    {"overhead is added",
     "{'overhead':{'cpu':'100m','memory':'1Ki'},'containers':[" CONTAINER(
         "{'requests':{'cpu':'1','memory':'1Ki'}}") "]}",
     1100, 2048, 1100, 2048},
};

static void requests_table(void **state)
{
    for (size_t i = 0; i < sizeof(req_cases) / sizeof(req_cases[0]); i++) {
        const req_case_t *c = &req_cases[i];
        minik_sched_pod_t *p = sched_pod("p", NULL, c->spec);
        if (p->invalid || p->req.milli_cpu != c->cpu || p->req.memory != c->mem ||
            p->nonzero.milli_cpu != c->nz_cpu || p->nonzero.memory != c->nz_mem)
            fail_msg("%s: got cpu=%lld mem=%lld nz=%lld/%lld invalid=%s", c->name,
                     (long long)p->req.milli_cpu, (long long)p->req.memory,
                     (long long)p->nonzero.milli_cpu, (long long)p->nonzero.memory,
                     p->invalid ? p->invalid : "-");
        assert_int_equal(p->req.pods, 1);
        minik_sched_pod_free(p);
    }
}

/* ---- malformed scheduling fields ------------------------------------------------------ */

typedef struct invalid_case {
    const char *spec;
    const char *want; /* expected pod->invalid, NULL = valid */
} invalid_case_t;

static const invalid_case_t invalid_cases[] = {
    {"{'containers':[" CONTAINER("{'requests':{'cpu':'12x'}}") "]}",
     "spec.containers[0].resources.requests.cpu: quantity \"12x\": unknown suffix \"x\""},
    {"{'containers':[" CONTAINER("{'requests':{'memory':'-1'}}") "]}",
     "spec.containers[0].resources.requests.memory: must not be negative"},
    {"{'tolerations':[{'key':'a','operator':'Maybe'}],'containers':[]}",
     "spec.tolerations[0].operator: unknown operator \"Maybe\" (Equal or Exists)"},
    {"{'tolerations':[{'key':'a','operator':'Exists','effect':'Never'}],'containers':[]}",
     "spec.tolerations[0].effect: unknown effect \"Never\" (NoSchedule, PreferNoSchedule or "
     "NoExecute)"},
    {"{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{"
     "'nodeSelectorTerms':[{'matchExpressions':[{'key':'a','operator':'Near','values':['x']}]}]}}},"
     "'containers':[]}",
     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
     "nodeSelectorTerms[0].matchExpressions[0].operator: unknown operator \"Near\" (In, NotIn, "
     "Exists, DoesNotExist, Gt, Lt)"},
    {"{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{"
     "'nodeSelectorTerms':[{'matchExpressions':[{'key':'a','operator':'Gt','values':['x']}]}]}}},"
     "'containers':[]}",
     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
     "nodeSelectorTerms[0].matchExpressions[0].values: Gt needs exactly one integer value"},
    {"{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{"
     "'nodeSelectorTerms':[{'matchFields':[{'key':'metadata.uid','operator':'In','values':['x']}]}"
     "]}}},'containers':[]}",
     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
     "nodeSelectorTerms[0].matchFields[0]: only metadata.name with In or NotIn is supported"},
    {"{'affinity':{'nodeAffinity':{'preferredDuringSchedulingIgnoredDuringExecution':[{'weight':"
     "0,'preference':{}}]}},'containers':[]}",
     "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: must "
     "be 1-100"},
    {"{'affinity':{'podAntiAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':[{"
     "'labelSelector':{}}]}},'containers':[]}",
     "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]."
     "topologyKey: required"},
    {"{'containers':[{'name':'c','image':'i','ports':[{'containerPort':80,'hostPort':70000}]}]}",
     "spec.containers[0].ports[0].hostPort: must be 1-65535"},
    {"{'nodeSelector':{'a':1},'containers':[]}",
     "spec.nodeSelector: must map label names to strings"},
    /* found by fuzz_sched_pod: terms given as an object, values as an object */
    {"{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{"
     "'nodeSelectorTerms':{'zone':'a'}}}},'containers':[]}",
     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
     "nodeSelectorTerms: must be a list"},
    {"{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{"
     "'nodeSelectorTerms':[{'matchExpressions':[{'key':'a','operator':'In','values':{'x':'y'}}]}]"
     "}}},'containers':[]}",
     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
     "nodeSelectorTerms[0].matchExpressions[0].values: must be non-empty for In"},
    {"{'affinity':{'podAntiAffinity':{'preferredDuringSchedulingIgnoredDuringExecution':[{"
     "'weight':0,'podAffinityTerm':{'topologyKey':'zone'}}]}},'containers':[]}",
     "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: "
     "must be 1-100"},
    {"{'affinity':{'podAffinity':{'preferredDuringSchedulingIgnoredDuringExecution':[{"
     "'weight':5,'podAffinityTerm':{'labelSelector':{}}}]}},'containers':[]}",
     "spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]."
     "podAffinityTerm.topologyKey: required"},
    {"{'affinity':{'podAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{}}},"
     "'containers':[]}",
     "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution: must be a list"},
    {"{'topologySpreadConstraints':[{'maxSkew':1,'topologyKey':'zone'}],'containers':[]}",
     "spec.topologySpreadConstraints[0].whenUnsatisfiable: must be DoNotSchedule or "
     "ScheduleAnyway"},
    {"{'topologySpreadConstraints':[{'maxSkew':0,'topologyKey':'zone','whenUnsatisfiable':"
     "'DoNotSchedule'}],'containers':[]}",
     "spec.topologySpreadConstraints[0].maxSkew: must be a positive integer"},
    {"{'topologySpreadConstraints':[{'maxSkew':1,'topologyKey':'zone','whenUnsatisfiable':"
     "'DoNotSchedule','nodeTaintsPolicy':'Sometimes'}],'containers':[]}",
     "spec.topologySpreadConstraints[0].nodeTaintsPolicy: unknown policy \"Sometimes\" (Honor "
     "or Ignore)"},
    {"{'nodeSelector':{'a':'1'},'containers':[]}", NULL},
};

static void invalid_fields_are_named(void **state)
{
    for (size_t i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]); i++) {
        const invalid_case_t *c = &invalid_cases[i];
        minik_sched_pod_t *p = sched_pod("p", NULL, c->spec);
        if (c->want == NULL) {
            if (p->invalid)
                fail_msg("case %zu: unexpected error %s", i, p->invalid);
        } else {
            if (!p->invalid || strcmp(p->invalid, c->want) != 0)
                fail_msg("case %zu:\n want %s\n got  %s", i, c->want,
                         p->invalid ? p->invalid : "(valid)");
        }
        minik_sched_pod_free(p);
    }
}

static void pod_metadata_decoded(void **state)
{
    minik_sched_pod_t *p = sched_pod(
        "p",
        "'labels':{'app':'web'},'deletionTimestamp':'2026-01-01T00:00:00Z','ownerReferences':[{"
        "'uid':'not-controller'},{'uid':'rs-1','controller':true}]",
        "{'nodeName':'n1','schedulerName':'other','containers':[]}");
    assert_string_equal(p->owner_uid, "rs-1");
    assert_string_equal(p->node_name, "n1");
    assert_string_equal(p->scheduler_name, "other");
    assert_true(p->terminating);
    assert_false(p->finished);
    assert_string_equal(p->uid, "uid-p");
    minik_sched_pod_free(p);

    cJSON *bad = sched_json("{'kind':'Pod','metadata':{}}");
    minik_error_t *err = NULL;
    minik_sched_pod_t *out = NULL;
    assert_true(minik_sched_pod_new(bad, &out, &err) < 0);
    assert_string_equal(err->msg, "pod: metadata.name: required");
    assert_int_equal(err->code, 422);
    minik_error_free(err);
    cJSON_Delete(bad);
}

static void node_decoded(void **state)
{
    minik_sched_node_t *n =
        sched_node("n1", "1500m", "2Gi", 10, "{'zone':'a'}",
                   "'unschedulable':true,'taints':[{'key':'gpu','value':'true','effect':"
                   "'NoSchedule'},{'key':'x','effect':'PreferNoSchedule'}]",
                   true);
    assert_int_equal(n->alloc.milli_cpu, 1500);
    assert_int_equal(n->alloc.memory, 2LL << 30);
    assert_int_equal(n->alloc.pods, 10);
    assert_true(n->unschedulable);
    assert_int_equal(n->n_taints, 2);
    assert_string_equal(n->taints[0].key, "gpu");
    assert_string_equal(n->taints[1].value, "");
    assert_int_equal(n->taints[1].effect, MINIK_TAINT_PREFER_NO_SCHEDULE);
    assert_string_equal(minik_sched_node_label(n, "zone"), "a");
    /* The kubelet sets kubernetes.io/hostname to the node name; minik assumes it. */
    assert_string_equal(minik_sched_node_label(n, MINIK_LABEL_HOSTNAME), "n1");
    assert_null(minik_sched_node_label(n, "nope"));
    minik_sched_node_free(n);

    /* Without allocatable.pods the kubelet default applies; capacity stands in. */
    cJSON *j = sched_json("{'kind':'Node','metadata':{'name':'n2'},'status':{'capacity':{'cpu':"
                          "'2','memory':'1Gi'}}}");
    assert_int_equal(minik_sched_node_new(j, true, &n, NULL), 0);
    assert_int_equal(n->alloc.milli_cpu, 2000);
    assert_int_equal(n->alloc.pods, MINIK_SCHED_DEFAULT_MAX_PODS);
    minik_sched_node_free(n);
    cJSON_Delete(j);
}

/* ---- the filters, one table ----------------------------------------------------------- */

typedef struct filter_case {
    const char *name;
    minik_sched_filter_fn fn;
    const char *node_labels; /* NULL = {} */
    const char *node_spec;   /* members of node.spec */
    bool ready;
    const char *node_cpu, *node_mem;
    int node_pods;
    const char *existing[3]; /* pods already on the node: {meta members|spec} */
    const char *pod_meta;    /* metadata members of the pod under test */
    const char *pod_spec;
    const char *want; /* NULL = passes; else the reasons joined with "; " */
} filter_case_t;

#define F_UNSCHED minik_sched_filter_unschedulable
#define F_TAINTS  minik_sched_filter_taints
#define F_AFF     minik_sched_filter_node_affinity
#define F_PORTS   minik_sched_filter_ports
#define F_RES     minik_sched_filter_resources
#define F_ANTI    minik_sched_filter_pod_affinity
#define ALL       minik_sched_filter_node

#define TOL(x) "{'tolerations':[" x "],'containers':[]}"
#define REQ(x) "{'containers':[" CONTAINER("{'requests':" x "}") "]}"
#define NAFF(t)                                                                                    \
    "{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{"              \
    "'nodeSelectorTerms':[" t "]}}},'containers':[]}"
#define EXPR(k, op, v) "{'key':'" k "','operator':'" op "','values':[" v "]}"
#define PORT(p, proto, ip)                                                                         \
    "{'containers':[{'name':'c','image':'i','ports':[{'containerPort':1,'hostPort':" p             \
    ",'protocol':'" proto "','hostIP':'" ip "'}]}]}"
#define ANTI(sel, tk, extra)                                                                       \
    "{'affinity':{'podAntiAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':[{"          \
    "'labelSelector':" sel ",'topologyKey':'" tk "'" extra "}]}},'containers':[]}"
#define WEB_SEL "{'matchLabels':{'app':'web'}}"
#define DB_SEL  "{'matchLabels':{'app':'db'}}"
#define AFF(sel, tk)                                                                               \
    "{'affinity':{'podAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':[{"              \
    "'labelSelector':" sel ",'topologyKey':'" tk "'}]}},'containers':[]}"

static const filter_case_t filter_cases[] = {
    /* NodeUnschedulable */
    {"schedulable node", F_UNSCHED, NULL, NULL, true, "1", "1Gi", 10, {NULL}, NULL, NULL, NULL},
    {"cordoned node",
     F_UNSCHED,
     NULL,
     "'unschedulable':true",
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     NULL,
     MINIK_REASON_UNSCHEDULABLE},
    {"cordon tolerated",
     F_UNSCHED,
     NULL,
     "'unschedulable':true",
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     TOL("{'key':'node.kubernetes.io/unschedulable','operator':'Exists','effect':'NoSchedule'}"),
     NULL},
    /* TaintToleration and readiness */
    {"untolerated NoSchedule",
     F_TAINTS,
     NULL,
     "'taints':[{'key':'gpu','value':'true','effect':"
     "'NoSchedule'}]",
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     NULL,
     "node(s) had untolerated taint {gpu: true}"},
    {"Equal toleration",
     F_TAINTS,
     NULL,
     "'taints':[{'key':'gpu','value':'true','effect':"
     "'NoSchedule'}]",
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     TOL("{'key':'gpu','operator':'Equal','value':'true','effect':'NoSchedule'}"),
     NULL},
    {"Equal with other value",
     F_TAINTS,
     NULL,
     "'taints':[{'key':'gpu','value':'true','effect':"
     "'NoSchedule'}]",
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     TOL("{'key':'gpu','value':'false'}"),
     "node(s) had untolerated taint {gpu: true}"},
    {"Exists toleration, any effect",
     F_TAINTS,
     NULL,
     "'taints':[{'key':'gpu','value':'true',"
     "'effect':'NoExecute'}]",
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     TOL("{'key':'gpu','operator':'Exists'}"),
     NULL},
    {"effect must match",
     F_TAINTS,
     NULL,
     "'taints':[{'key':'gpu','value':'true','effect':"
     "'NoExecute'}]",
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     TOL("{'key':'gpu','operator':'Exists','effect':'NoSchedule'}"),
     "node(s) had untolerated taint {gpu: true}"},
    {"empty key with Exists tolerates all",
     F_TAINTS,
     NULL,
     "'taints':[{'key':'a','effect':"
     "'NoSchedule'},{'key':'b','value':'1','effect':'NoExecute'}]",
     false,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     TOL("{'operator':'Exists'}"),
     NULL},
    {"first untolerated taint is named",
     F_TAINTS,
     NULL,
     "'taints':[{'key':'a','effect':"
     "'NoSchedule'},{'key':'b','value':'1','effect':'NoExecute'}]",
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     TOL("{'key':'a','operator':'Exists'}"),
     "node(s) had untolerated taint {b: 1}"},
    {"PreferNoSchedule only scores",
     F_TAINTS,
     NULL,
     "'taints':[{'key':'a','effect':"
     "'PreferNoSchedule'}]",
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     NULL,
     NULL},
    {"not ready node",
     F_TAINTS,
     NULL,
     NULL,
     false,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     NULL,
     "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"},
    {"not-ready tolerated (DaemonSet style)",
     F_TAINTS,
     NULL,
     NULL,
     false,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     TOL("{'key':'node.kubernetes.io/not-ready','operator':'Exists'}"),
     NULL},
    /* NodeAffinity */
    {"nodeSelector matches",
     F_AFF,
     "{'disk':'ssd','zone':'a'}",
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     "{'nodeSelector':{'disk':'ssd'},'containers':[]}",
     NULL},
    {"nodeSelector value differs",
     F_AFF,
     "{'disk':'hdd'}",
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     "{'nodeSelector':{'disk':'ssd'},'containers':[]}",
     MINIK_REASON_NODE_AFFINITY},
    {"nodeSelector label missing",
     F_AFF,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     "{'nodeSelector':{'disk':'ssd'},'containers':[]}",
     MINIK_REASON_NODE_AFFINITY},
    {"In",
     F_AFF,
     "{'zone':'b'}",
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     NAFF("{'matchExpressions':[" EXPR("zone", "In", "'a','b'") "]}"),
     NULL},
    {"In misses",
     F_AFF,
     "{'zone':'c'}",
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     NAFF("{'matchExpressions':[" EXPR("zone", "In", "'a','b'") "]}"),
     MINIK_REASON_NODE_AFFINITY},
    {"NotIn matches an absent label",
     F_AFF,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     NAFF("{'matchExpressions':[" EXPR("zone", "NotIn", "'a'") "]}"),
     NULL},
    {"NotIn rejects",
     F_AFF,
     "{'zone':'a'}",
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     NAFF("{'matchExpressions':[" EXPR("zone", "NotIn", "'a'") "]}"),
     MINIK_REASON_NODE_AFFINITY},
    {"Exists",
     F_AFF,
     "{'gpu':''}",
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     NAFF("{'matchExpressions':[{'key':'gpu','operator':'Exists'}]}"),
     NULL},
    {"DoesNotExist rejects",
     F_AFF,
     "{'gpu':''}",
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     NAFF("{'matchExpressions':[{'key':'gpu','operator':'DoesNotExist'}]}"),
     MINIK_REASON_NODE_AFFINITY},
    {"Gt",
     F_AFF,
     "{'cores':'8'}",
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     NAFF("{'matchExpressions':[" EXPR("cores", "Gt", "'4'") "]}"),
     NULL},
    {"Gt equal fails",
     F_AFF,
     "{'cores':'4'}",
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     NAFF("{'matchExpressions':[" EXPR("cores", "Gt", "'4'") "]}"),
     MINIK_REASON_NODE_AFFINITY},
    {"Lt",
     F_AFF,
     "{'cores':'2'}",
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     NAFF("{'matchExpressions':[" EXPR("cores", "Lt", "'4'") "]}"),
     NULL},
    {"Lt on a non-number label fails",
     F_AFF,
     "{'cores':'many'}",
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     NAFF("{'matchExpressions':[" EXPR("cores", "Lt", "'4'") "]}"),
     MINIK_REASON_NODE_AFFINITY},
    {"expressions are ANDed",
     F_AFF,
     "{'zone':'a','disk':'hdd'}",
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     NAFF("{'matchExpressions':[" EXPR("zone", "In", "'a'") "," EXPR("disk", "In", "'ssd'") "]}"),
     MINIK_REASON_NODE_AFFINITY},
    {"terms are ORed",
     F_AFF,
     "{'zone':'a','disk':'hdd'}",
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     NAFF("{'matchExpressions':[" EXPR("disk", "In", "'ssd'") "]},{'matchExpressions':[" EXPR(
         "zone", "In", "'a'") "]}"),
     NULL},
    {"matchFields metadata.name",
     F_AFF,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     NAFF("{'matchFields':[" EXPR("metadata.name", "In", "'n1'") "]}"),
     NULL},
    {"matchFields other name",
     F_AFF,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     NAFF("{'matchFields':[" EXPR("metadata.name", "In", "'n2'") "]}"),
     MINIK_REASON_NODE_AFFINITY},
    {"an empty term matches nothing",
     F_AFF,
     "{'zone':'a'}",
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     NAFF("{}"),
     MINIK_REASON_NODE_AFFINITY},
    {"nodeSelector and affinity both apply",
     F_AFF,
     "{'zone':'a'}",
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     "{'nodeSelector':{'disk':'ssd'},'affinity':{'nodeAffinity':{"
     "'requiredDuringSchedulingIgnoredDuringExecution':{'nodeSelectorTerms':[{'matchExpressions':"
     "[" EXPR("zone", "In", "'a'") "]}]}}},'containers':[]}",
     MINIK_REASON_NODE_AFFINITY},
    /* NodePorts */
    {"free port",
     F_PORTS,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {"|" PORT("8080", "TCP", "")},
     NULL,
     PORT("8081", "TCP", ""),
     NULL},
    {"same port and protocol",
     F_PORTS,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {"|" PORT("8080", "TCP", "")},
     NULL,
     PORT("8080", "TCP", ""),
     MINIK_REASON_PORTS},
    {"same port, other protocol",
     F_PORTS,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {"|" PORT("53", "TCP", "")},
     NULL,
     PORT("53", "UDP", ""),
     NULL},
    {"same port, different host IPs",
     F_PORTS,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {"|" PORT("80", "TCP", "10.0.0.1")},
     NULL,
     PORT("80", "TCP", "10.0.0.2"),
     NULL},
    {"0.0.0.0 collides with a specific IP",
     F_PORTS,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {"|" PORT("80", "TCP", "10.0.0.1")},
     NULL,
     PORT("80", "TCP", "0.0.0.0"),
     MINIK_REASON_PORTS},
    {"same specific IP",
     F_PORTS,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {"|" PORT("80", "UDP", "10.0.0.1")},
     NULL,
     PORT("80", "UDP", "10.0.0.1"),
     MINIK_REASON_PORTS},
    /* NodeResourcesFit */
    {"fits",
     F_RES,
     NULL,
     NULL,
     true,
     "2",
     "1Gi",
     10,
     {"|" REQ("{'cpu':'1','memory':'512Mi'}")},
     NULL,
     REQ("{'cpu':'1','memory':'512Mi'}"),
     NULL},
    {"cpu short",
     F_RES,
     NULL,
     NULL,
     true,
     "2",
     "1Gi",
     10,
     {"|" REQ("{'cpu':'1500m'}")},
     NULL,
     REQ("{'cpu':'501m'}"),
     MINIK_REASON_CPU},
    {"memory short",
     F_RES,
     NULL,
     NULL,
     true,
     "2",
     "1Gi",
     10,
     {"|" REQ("{'memory':'1000Mi'}")},
     NULL,
     REQ("{'memory':'25Mi'}"),
     MINIK_REASON_MEMORY},
    {"both short: both named",
     F_RES,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     REQ("{'cpu':'2','memory':'2Gi'}"),
     MINIK_REASON_CPU "; " MINIK_REASON_MEMORY},
    {"pod count",
     F_RES,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     1,
     {"|{'containers':[]}"},
     NULL,
     NULL,
     MINIK_REASON_TOO_MANY_PODS},
    {"no requests fit a full node",
     F_RES,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {"|" REQ("{'cpu':'1','memory':'1Gi'}")},
     NULL,
     NULL,
     NULL},
    {"init container peak counts",
     F_RES,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     "{'initContainers':[" CONTAINER("{'requests':{'cpu':'2'}}") "],'containers':[" CONTAINER(
         "{'requests':{'cpu':'100m'}}") "]}",
     MINIK_REASON_CPU},
    /* InterPodAffinity (required anti-affinity) */
    {"anti-affinity: matching pod on node",
     F_ANTI,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {"'labels':{'app':'web'}|{'containers':[]}"},
     "'labels':{'app':'web'}",
     ANTI(WEB_SEL, "kubernetes.io/hostname", ""),
     MINIK_REASON_ANTI_AFFINITY},
    {"anti-affinity: other labels",
     F_ANTI,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {"'labels':{'app':'db'}|{'containers':[]}"},
     "'labels':{'app':'web'}",
     ANTI(WEB_SEL, "kubernetes.io/hostname", ""),
     NULL},
    {"anti-affinity: other namespace",
     F_ANTI,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {"'namespace':'other','labels':{'app':'web'}|{'containers':[]}"},
     "'labels':{'app':'web'}",
     ANTI(WEB_SEL, "kubernetes.io/hostname", ""),
     NULL},
    {"anti-affinity: namespaces list",
     F_ANTI,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {"'namespace':'other','labels':{'app':'web'}|{'containers':[]}"},
     NULL,
     ANTI(WEB_SEL, "kubernetes.io/hostname", ",'namespaces':['other']"),
     MINIK_REASON_ANTI_AFFINITY},
    {"anti-affinity: namespaceSelector {} is every namespace",
     F_ANTI,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {"'namespace':'other','labels':{'app':'web'}|{'containers':[]}"},
     NULL,
     ANTI(WEB_SEL, "kubernetes.io/hostname", ",'namespaceSelector':{}"),
     MINIK_REASON_ANTI_AFFINITY},
    {"anti-affinity: matchExpressions",
     F_ANTI,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {"'labels':{'app':'api'}|{'containers':[]}"},
     NULL,
     ANTI("{'matchExpressions':[{'key':'app','operator':'In','values':['web','api']}]}",
          "kubernetes.io/hostname", ""),
     MINIK_REASON_ANTI_AFFINITY},
    {"existing pod's anti-affinity keeps us off",
     F_ANTI,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {"'labels':{'app':'db'}|" ANTI(WEB_SEL, "kubernetes.io/hostname", "")},
     "'labels':{'app':'web'}",
     NULL,
     MINIK_REASON_EXISTING_ANTI},
    {"affinity: wanted pod on the node",
     F_ANTI,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {"'labels':{'app':'db'}|{'containers':[]}"},
     NULL,
     AFF(DB_SEL, "kubernetes.io/hostname"),
     NULL},
    {"affinity: wanted pod nowhere",
     F_ANTI,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {"'labels':{'app':'web'}|{'containers':[]}"},
     NULL,
     AFF(DB_SEL, "kubernetes.io/hostname"),
     MINIK_REASON_AFFINITY},
    {"affinity: first pod of a self-affine group goes anywhere",
     F_ANTI,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     "'labels':{'app':'db'}",
     AFF(DB_SEL, "kubernetes.io/hostname"),
     NULL},
    {"affinity: node without the topology label",
     F_ANTI,
     NULL,
     NULL,
     true,
     "1",
     "1Gi",
     10,
     {"'labels':{'app':'db'}|{'containers':[]}"},
     NULL,
     AFF(DB_SEL, "zone"),
     MINIK_REASON_AFFINITY},
    {"full chain reports the first failing filter",
     ALL,
     NULL,
     "'unschedulable':true,'taints':[{'key':'gpu','value':'true','effect':'NoSchedule'}]",
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     REQ("{'cpu':'8'}"),
     MINIK_REASON_UNSCHEDULABLE},
    {"full chain: taint before resources",
     ALL,
     NULL,
     "'taints':[{'key':'gpu','value':'true','effect':'NoSchedule'}]",
     true,
     "1",
     "1Gi",
     10,
     {NULL},
     NULL,
     REQ("{'cpu':'8'}"),
     "node(s) had untolerated taint {gpu: true}"},
    {"full chain passes",
     ALL,
     "{'disk':'ssd'}",
     NULL,
     true,
     "4",
     "4Gi",
     10,
     {NULL},
     NULL,
     "{'nodeSelector':{'disk':'ssd'},'containers':[" CONTAINER("{'requests':{'cpu':'1'}}") "]}",
     NULL},
};

static void run_filter_case(const filter_case_t *c)
{
    minik_sched_node_t *node = sched_node("n1", c->node_cpu, c->node_mem, c->node_pods,
                                          c->node_labels, c->node_spec, c->ready);
    minik_sched_pod_t *existing[3] = {NULL};
    for (int i = 0; i < 3 && c->existing[i]; i++) {
        char *meta = strdup(c->existing[i]);
        char *bar = strchr(meta, '|');
        *bar = '\0';
        char name[16];
        snprintf(name, sizeof(name), "e%d", i);
        existing[i] = sched_pod(name, *meta ? meta : NULL, bar + 1);
        free(meta);
        minik_sched_node_add_pod(node, existing[i]);
    }
    minik_sched_pod_t *pod = sched_pod("p", c->pod_meta, c->pod_spec);
    if (pod->invalid)
        fail_msg("%s: test pod invalid: %s", c->name, pod->invalid);
    minik_sched_snapshot_t snap = {&node, 1, true, NULL};
    minik_sched_prefilter_t pf;
    minik_sched_prefilter_init(&pf, &snap, pod);
    minik_sched_reasons_t why = {0};
    bool ok = c->fn(&pf, pod, node, &why);
    char got[1024] = "";
    for (size_t i = 0; i < why.n; i++) {
        if (i)
            strcat(got, "; ");
        strcat(got, why.text[i]);
    }
    if (c->want == NULL && !ok)
        fail_msg("%s: want pass, got fail: %s", c->name, got);
    if (c->want != NULL && (ok || strcmp(got, c->want) != 0))
        fail_msg("%s: want fail \"%s\", got %s \"%s\"", c->name, c->want, ok ? "pass" : "fail",
                 got);
    minik_sched_prefilter_free(&pf);
    minik_sched_pod_free(pod);
    for (int i = 0; i < 3; i++)
        minik_sched_pod_free(existing[i]);
    minik_sched_node_free(node);
}

static void filters_table(void **state)
{
    for (size_t i = 0; i < sizeof(filter_cases) / sizeof(filter_cases[0]); i++)
        run_filter_case(&filter_cases[i]);
}

/* Anti-affinity on another topology key: a pod in zone a excludes every node of zone a. */
static void anti_affinity_zone_topology(void **state)
{
    minik_sched_node_t *a1 = sched_node("a1", "1", "1Gi", 10, "{'zone':'a'}", NULL, true);
    minik_sched_node_t *a2 = sched_node("a2", "1", "1Gi", 10, "{'zone':'a'}", NULL, true);
    minik_sched_node_t *b1 = sched_node("b1", "1", "1Gi", 10, "{'zone':'b'}", NULL, true);
    minik_sched_node_t *nolabel = sched_node("x", "1", "1Gi", 10, NULL, NULL, true);
    minik_sched_pod_t *web = sched_pod("web", "'labels':{'app':'web'}", NULL);
    minik_sched_node_add_pod(a1, web);
    minik_sched_node_t *nodes[] = {a1, a2, b1, nolabel};
    minik_sched_snapshot_t snap = {nodes, 4, false, NULL};
    minik_sched_pod_t *p = sched_pod("p", NULL, ANTI(WEB_SEL, "zone", ""));
    minik_sched_prefilter_t pf;
    minik_sched_prefilter_init(&pf, &snap, p);
    assert_false(minik_sched_filter_pod_affinity(&pf, p, a1, NULL));
    assert_false(minik_sched_filter_pod_affinity(&pf, p, a2, NULL));
    assert_true(minik_sched_filter_pod_affinity(&pf, p, b1, NULL));
    /* A node without the topology label is in no domain: the term does not apply. */
    assert_true(minik_sched_filter_pod_affinity(&pf, p, nolabel, NULL));
    minik_sched_prefilter_free(&pf);
    minik_sched_pod_free(p);
    minik_sched_pod_free(web);
    for (int i = 0; i < 4; i++)
        minik_sched_node_free(nodes[i]);
}

/* Affinity on a zone: a db pod in zone a makes every node of zone a eligible. */
static void affinity_zone_topology(void **state)
{
    minik_sched_node_t *a1 = sched_node("a1", "1", "1Gi", 10, "{'zone':'a'}", NULL, true);
    minik_sched_node_t *a2 = sched_node("a2", "1", "1Gi", 10, "{'zone':'a'}", NULL, true);
    minik_sched_node_t *b1 = sched_node("b1", "1", "1Gi", 10, "{'zone':'b'}", NULL, true);
    minik_sched_pod_t *db = sched_pod("db", "'labels':{'app':'db'}", NULL);
    minik_sched_node_add_pod(a1, db);
    minik_sched_node_t *nodes[] = {a1, a2, b1};
    minik_sched_snapshot_t snap = {nodes, 3, false, NULL};
    minik_sched_pod_t *p = sched_pod("p", NULL, AFF(DB_SEL, "zone"));
    minik_sched_prefilter_t pf;
    minik_sched_prefilter_init(&pf, &snap, p);
    assert_true(minik_sched_filter_pod_affinity(&pf, p, a1, NULL));
    assert_true(minik_sched_filter_pod_affinity(&pf, p, a2, NULL));
    assert_false(minik_sched_filter_pod_affinity(&pf, p, b1, NULL));
    minik_sched_prefilter_free(&pf);
    minik_sched_pod_free(p);
    minik_sched_pod_free(db);
    for (int i = 0; i < 3; i++)
        minik_sched_node_free(nodes[i]);
}

#define TSC(skew, tk, when, extra)                                                                 \
    "{'topologySpreadConstraints':[{'maxSkew':" skew ",'topologyKey':'" tk                         \
    "','whenUnsatisfiable':'" when "','labelSelector':{'matchLabels':{'app':'web'}}" extra "}],"   \
    "'containers':[]}"
#define WEB_META "'labels':{'app':'web'}"

typedef struct spread_fx {
    minik_sched_node_t *nodes[4];
    minik_sched_pod_t *pods[8];
    size_t n_nodes, n_pods;
} spread_fx_t;

static void spread_fx_pod(spread_fx_t *f, size_t node, const char *meta)
{
    char name[16];
    snprintf(name, sizeof(name), "e%zu", f->n_pods);
    minik_sched_pod_t *p = sched_pod(name, meta, NULL);
    f->pods[f->n_pods++] = p;
    minik_sched_node_add_pod(f->nodes[node], p);
}

static void spread_fx_free(spread_fx_t *f)
{
    for (size_t i = 0; i < f->n_pods; i++)
        minik_sched_pod_free(f->pods[i]);
    for (size_t i = 0; i < f->n_nodes; i++)
        minik_sched_node_free(f->nodes[i]);
}

/* Evaluate the spread filter of a pod with `meta`/`spec` on every node: "1" pass, "s"
 * skew, "l" missing label, one character per node. */
static void spread_expect(spread_fx_t *f, const char *meta, const char *spec, const char *want)
{
    minik_sched_snapshot_t snap = {f->nodes, f->n_nodes, false, NULL};
    minik_sched_pod_t *p = sched_pod("p", meta, spec);
    if (p->invalid)
        fail_msg("invalid: %s", p->invalid);
    minik_sched_prefilter_t pf;
    minik_sched_prefilter_init(&pf, &snap, p);
    char got[8] = "";
    for (size_t i = 0; i < f->n_nodes; i++) {
        minik_sched_reasons_t why = {0};
        bool ok = minik_sched_filter_spread(&pf, p, f->nodes[i], &why);
        got[i] = ok ? '1' : strcmp(why.text[0], MINIK_REASON_SPREAD) == 0 ? 's' : 'l';
        if (!ok && got[i] == 'l')
            assert_string_equal(why.text[0], MINIK_REASON_SPREAD_LABEL);
    }
    minik_sched_prefilter_free(&pf);
    minik_sched_pod_free(p);
    if (strcmp(got, want) != 0)
        fail_msg("spread %s: want %s got %s", spec, want, got);
}

static void topology_spread_filter(void **state)
{
    spread_fx_t f = {0};
    f.nodes[f.n_nodes++] = sched_node("a1", "4", "4Gi", 110, "{'zone':'a'}", NULL, true);
    f.nodes[f.n_nodes++] = sched_node("a2", "4", "4Gi", 110, "{'zone':'a'}", NULL, true);
    f.nodes[f.n_nodes++] = sched_node("b1", "4", "4Gi", 110, "{'zone':'b'}", NULL, true);
    f.nodes[f.n_nodes++] = sched_node("x", "4", "4Gi", 110, NULL, NULL, true);
    spread_fx_pod(&f, 0, WEB_META);
    spread_fx_pod(&f, 1, WEB_META);
    spread_fx_pod(&f, 2, "'labels':{'app':'db'}");
    /* zone a holds 2 web pods, b none: only b keeps the skew within 1. */
    spread_expect(&f, WEB_META, TSC("1", "zone", "DoNotSchedule", ""), "ss1l");
    spread_expect(&f, WEB_META, TSC("2", "zone", "DoNotSchedule", ""), "ss1l");
    spread_expect(&f, WEB_META, TSC("3", "zone", "DoNotSchedule", ""), "111l");
    /* ScheduleAnyway never filters. */
    spread_expect(&f, WEB_META, TSC("1", "zone", "ScheduleAnyway", ""), "1111");
    /* hostname: a1 and a2 hold one each, b1 and x none. */
    spread_expect(&f, WEB_META, TSC("1", "kubernetes.io/hostname", "DoNotSchedule", ""), "ss11");
    /* A pod that does not match its own selector does not count itself. */
    spread_expect(&f, "'labels':{'app':'other'}",
                  TSC("1", "kubernetes.io/hostname", "DoNotSchedule", ""), "1111");
    spread_fx_free(&f);
}

static void topology_spread_policies_and_min_domains(void **state)
{
    spread_fx_t f = {0};
    f.nodes[f.n_nodes++] = sched_node("a1", "4", "4Gi", 110, "{'zone':'a'}", NULL, true);
    f.nodes[f.n_nodes++] =
        sched_node("b1", "4", "4Gi", 110, "{'zone':'b'}",
                   "'taints':[{'key':'gpu','value':'true','effect':'NoSchedule'}]", true);
    spread_fx_pod(&f, 0, WEB_META);
    /* Ignore the taint (default nodeTaintsPolicy): zone b is a domain with 0, so a is at
     * skew 2. Honor: b is no domain, a's count 1 is the minimum. */
    spread_expect(&f, WEB_META, TSC("1", "zone", "DoNotSchedule", ""), "s1");
    spread_expect(&f, WEB_META, TSC("1", "zone", "DoNotSchedule", ",'nodeTaintsPolicy':'Honor'"),
                  "11");
    /* nodeAffinityPolicy: Honor (default) drops zone b for a pod selecting zone a. */
    spread_expect(&f, WEB_META,
                  "{'nodeSelector':{'zone':'a'},'topologySpreadConstraints':[{'maxSkew':1,"
                  "'topologyKey':'zone','whenUnsatisfiable':'DoNotSchedule','labelSelector':{"
                  "'matchLabels':{'app':'web'}}}],'containers':[]}",
                  "11");
    spread_expect(&f, WEB_META,
                  "{'nodeSelector':{'zone':'a'},'topologySpreadConstraints':[{'maxSkew':1,"
                  "'topologyKey':'zone','whenUnsatisfiable':'DoNotSchedule','nodeAffinityPolicy':"
                  "'Ignore','labelSelector':{'matchLabels':{'app':'web'}}}],'containers':[]}",
                  "s1");
    /* minDomains: with fewer domains than asked, the minimum counts as 0. */
    spread_expect(&f, WEB_META,
                  TSC("1", "zone", "DoNotSchedule", ",'nodeTaintsPolicy':'Honor','minDomains':2"),
                  "s1");
    spread_fx_free(&f);
}

static void topology_spread_match_label_keys(void **state)
{
    spread_fx_t f = {0};
    f.nodes[f.n_nodes++] = sched_node("a1", "4", "4Gi", 110, NULL, NULL, true);
    f.nodes[f.n_nodes++] = sched_node("a2", "4", "4Gi", 110, NULL, NULL, true);
    spread_fx_pod(&f, 0, "'labels':{'app':'web','pod-template-hash':'old'}");
    spread_fx_pod(&f, 0, "'labels':{'app':'web','pod-template-hash':'old'}");
    /* Only pods of the same revision count: the old ones on a1 do not. */
    spread_expect(&f, "'labels':{'app':'web','pod-template-hash':'new'}",
                  TSC("1", "kubernetes.io/hostname", "DoNotSchedule",
                      ",'matchLabelKeys':['pod-template-hash']"),
                  "11");
    spread_expect(&f, "'labels':{'app':'web','pod-template-hash':'new'}",
                  TSC("1", "kubernetes.io/hostname", "DoNotSchedule", ""), "s1");
    spread_fx_free(&f);
}

static void node_pod_accounting(void **state)
{
    minik_sched_node_t *n = sched_node("n", "4", "4Gi", 10, NULL, NULL, true);
    minik_sched_pod_t *a = sched_pod("a", NULL, REQ("{'cpu':'1','memory':'1Gi'}"));
    minik_sched_pod_t *b = sched_pod("b", NULL, NULL);
    minik_sched_node_add_pod(n, a);
    minik_sched_node_add_pod(n, b);
    assert_int_equal(n->requested.milli_cpu, 1000);
    assert_int_equal(n->requested.pods, 2);
    assert_int_equal(n->nonzero_requested.milli_cpu, 1000 + MINIK_SCHED_DEFAULT_MILLI_CPU);
    assert_true(minik_sched_node_remove_pod(n, a));
    assert_false(minik_sched_node_remove_pod(n, a));
    assert_int_equal(n->requested.milli_cpu, 0);
    assert_int_equal(n->requested.memory, 0);
    assert_int_equal(n->n_pods, 1);
    assert_ptr_equal(n->pods[0], b);
    minik_sched_pod_free(a);
    minik_sched_pod_free(b);
    minik_sched_node_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(requests_table),
        cmocka_unit_test(invalid_fields_are_named),
        cmocka_unit_test(pod_metadata_decoded),
        cmocka_unit_test(node_decoded),
        cmocka_unit_test(filters_table),
        cmocka_unit_test(anti_affinity_zone_topology),
        cmocka_unit_test(affinity_zone_topology),
        cmocka_unit_test(topology_spread_filter),
        cmocka_unit_test(topology_spread_policies_and_min_domains),
        cmocka_unit_test(topology_spread_match_label_keys),
        cmocka_unit_test(node_pod_accounting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
