/* The scheduler's view of the cluster: Nodes and Pods decoded once from their cJSON
 * objects into the fields placement needs (allocatable, requests, labels, taints,
 * tolerations, host ports, affinity terms, owner), so that filters and scores are cheap
 * pure functions over these structs.
 *
 * A node keeps the list of pods bound (or assumed) to it and the running sums of their
 * requests. Pods are owned by whoever built them (the scheduler's cache, or a test);
 * nodes borrow them. */
#ifndef MINIK_SCHEDULER_SNAPSHOT_H
#define MINIK_SCHEDULER_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "lib/error.h"
#include "proto/selector.h"
#include "lib/strmap.h"

/* Requests of pods without a cpu/memory request, used only for scoring so that such pods
 * still spread (kube-scheduler's DefaultMilliCPURequest / DefaultMemoryRequest). */
#define MINIK_SCHED_DEFAULT_MILLI_CPU 100
#define MINIK_SCHED_DEFAULT_MEMORY    (200LL * 1024 * 1024)
/* Pod capacity of a node that publishes none (the kubelet's default maxPods). */
#define MINIK_SCHED_DEFAULT_MAX_PODS 110

/* The well-known labels and taints placement understands. */
#define MINIK_LABEL_HOSTNAME         "kubernetes.io/hostname"
#define MINIK_LABEL_ZONE             "topology.kubernetes.io/zone"
#define MINIK_LABEL_ZONE_LEGACY      "failure-domain.beta.kubernetes.io/zone"
#define MINIK_TAINT_NOT_READY        "node.kubernetes.io/not-ready"
#define MINIK_TAINT_UNSCHEDULABLE    "node.kubernetes.io/unschedulable"
#define MINIK_DEFAULT_SCHEDULER_NAME "default-scheduler"

typedef struct minik_sched_res {
    int64_t milli_cpu;
    int64_t memory; /* bytes */
    int64_t pods;
} minik_sched_res_t;

#define MINIK_TAINT_EFFECTS(X)                                                                     \
    X(MINIK_TAINT_NO_SCHEDULE, "NoSchedule")                                                       \
    X(MINIK_TAINT_PREFER_NO_SCHEDULE, "PreferNoSchedule")                                          \
    X(MINIK_TAINT_NO_EXECUTE, "NoExecute")

typedef enum minik_taint_effect {
#define X(e, s) e,
    MINIK_TAINT_EFFECTS(X)
#undef X
        MINIK_TAINT_ANY_EFFECT /* a toleration without effect tolerates every effect */
} minik_taint_effect_t;

const char *minik_taint_effect_name(minik_taint_effect_t e);

typedef struct minik_sched_taint {
    char *key;
    char *value; /* "" when absent */
    minik_taint_effect_t effect;
} minik_sched_taint_t;

typedef struct minik_sched_toleration {
    char *key;   /* "" tolerates every key (only with Exists) */
    bool exists; /* operator Exists; otherwise Equal */
    char *value; /* "" when absent */
    minik_taint_effect_t effect;
} minik_sched_toleration_t;

#define MINIK_PORT_PROTOCOLS(X)                                                                    \
    X(MINIK_PORT_TCP, "TCP")                                                                       \
    X(MINIK_PORT_UDP, "UDP")                                                                       \
    X(MINIK_PORT_SCTP, "SCTP")

typedef enum minik_port_protocol {
#define X(e, s) e,
    MINIK_PORT_PROTOCOLS(X)
#undef X
} minik_port_protocol_t;

typedef struct minik_sched_port {
    char *host_ip; /* "0.0.0.0" when absent: every address */
    int32_t port;
    minik_port_protocol_t protocol;
} minik_sched_port_t;

/* Operators of a NodeSelectorRequirement (node affinity). */
#define MINIK_NODE_SEL_OPS(X)                                                                      \
    X(MINIK_NSEL_IN, "In")                                                                         \
    X(MINIK_NSEL_NOT_IN, "NotIn")                                                                  \
    X(MINIK_NSEL_EXISTS, "Exists")                                                                 \
    X(MINIK_NSEL_DOES_NOT_EXIST, "DoesNotExist")                                                   \
    X(MINIK_NSEL_GT, "Gt")                                                                         \
    X(MINIK_NSEL_LT, "Lt")

typedef enum minik_nsel_op {
#define X(e, s) e,
    MINIK_NODE_SEL_OPS(X)
#undef X
} minik_nsel_op_t;

typedef struct minik_sched_nsel_req {
    char *key;
    minik_nsel_op_t op;
    char **values;  /* NULL-terminated */
    int64_t number; /* Gt/Lt operand */
} minik_sched_nsel_req_t;

/* One NodeSelectorTerm: its matchExpressions (on labels) and matchFields (on
 * metadata.name) are ANDed. A term with neither matches no node, as in Kubernetes. */
typedef struct minik_sched_nsel_term {
    minik_sched_nsel_req_t *exprs;
    size_t n_exprs;
    minik_sched_nsel_req_t *fields;
    size_t n_fields;
    int32_t weight; /* preferred terms only */
} minik_sched_nsel_term_t;

/* A required pod (anti-)affinity term. */
typedef struct minik_sched_pod_term {
    minik_selector_t *selector;
    char **namespaces;   /* NULL-terminated; NULL = the pod's own namespace */
    bool all_namespaces; /* namespaceSelector: {} */
    char *topology_key;
    int32_t weight; /* preferred terms only (1-100) */
} minik_sched_pod_term_t;

/* One topologySpreadConstraints entry. */
typedef struct minik_sched_spread {
    int32_t max_skew;
    char *topology_key;
    bool hard;                  /* whenUnsatisfiable: DoNotSchedule (filter); else ScheduleAnyway */
    minik_selector_t *selector; /* labelSelector plus matchLabelKeys from the pod's labels */
    int32_t min_domains;        /* 0 when unset */
    bool honor_affinity;        /* nodeAffinityPolicy Honor (default) */
    bool honor_taints;          /* nodeTaintsPolicy Honor (default Ignore) */
} minik_sched_spread_t;

struct minik_sched_node;

typedef struct minik_sched_pod {
    cJSON *obj;                  /* owned copy of the Pod */
    const char *ns, *name, *uid; /* point into obj */
    const char *owner_uid;       /* controller ownerReference uid, or NULL */
    uint64_t owner_hash;         /* hash of owner_uid: a cheap first comparison */
    /* While the pod is accounted in an owners index (scheduler/owners.h): its owner's entry
     * there, so that counting an owner's pods on a node compares pointers. */
    const struct minik_sched_owner_zones *owner_group;
    const cJSON *labels;   /* metadata.labels (may be NULL) */
    const char *node_name; /* spec.nodeName, NULL when unscheduled (points into obj) */
    char *assumed_node;    /* set by the scheduler between choosing and binding */
    const struct minik_sched_node *on_node; /* the node accounting it (add_pod), or NULL */
    const char *scheduler_name;             /* spec.schedulerName or MINIK_DEFAULT_SCHEDULER_NAME */
    bool terminating;                       /* metadata.deletionTimestamp is set */
    bool finished; /* status.phase Succeeded or Failed: holds no resources */

    minik_sched_res_t req;     /* effective requests, init containers included; pods = 1 */
    minik_sched_res_t nonzero; /* the same with scoring defaults for unset requests */

    minik_sched_port_t *ports;
    size_t n_ports;
    minik_sched_toleration_t *tolerations;
    size_t n_tolerations;

    const cJSON *node_selector;        /* spec.nodeSelector (labels object) or NULL */
    minik_sched_nsel_term_t *required; /* nodeSelectorTerms, ORed */
    size_t n_required;
    bool has_required; /* requiredDuringScheduling... present (even with 0 terms) */
    minik_sched_nsel_term_t *preferred;
    size_t n_preferred;

    /* Inter-pod terms: required anti-affinity and affinity (filters), preferred ones
     * (scores). */
    minik_sched_pod_term_t *anti;
    size_t n_anti;
    minik_sched_pod_term_t *affinity;
    size_t n_affinity;
    minik_sched_pod_term_t *pref_affinity;
    size_t n_pref_affinity;
    minik_sched_pod_term_t *pref_anti;
    size_t n_pref_anti;

    minik_sched_spread_t *spread; /* spec.topologySpreadConstraints */
    size_t n_spread;

    /* Why the pod cannot be placed whatever the cluster looks like (a malformed spec the
     * API server let through): non-NULL means every node is rejected with this text. */
    char *invalid;
} minik_sched_pod_t;

typedef struct minik_sched_node {
    cJSON *obj; /* owned copy of the Node */
    const char *name;
    const cJSON *labels;
    bool ready;         /* from the readiness callback (heartbeats), see scheduler.h */
    bool unschedulable; /* spec.unschedulable: cordoned */
    const char *zone;   /* topology.kubernetes.io/zone (or the legacy label), or NULL */
    minik_sched_res_t alloc;
    minik_sched_taint_t *taints;
    size_t n_taints;

    /* Pods on the node (bound or assumed), borrowed, and their summed requests. */
    minik_sched_pod_t **pods;
    size_t n_pods, cap_pods;
    /* How many of those pods each owner group has (pods whose owner_group is set when they
     * are added): a node hosts few distinct owners, so owner spreading scans this rather
     * than the node's pods (60 per node at 300,000 pods on 5,000 nodes). */
    struct minik_sched_owner_on_node {
        const struct minik_sched_owner_zones *group;
        size_t pods;
    } * owner_counts;
    size_t n_owner_counts, cap_owner_counts;
    minik_sched_res_t requested;
    minik_sched_res_t nonzero_requested;
} minik_sched_node_t;

/* Decode a Pod (borrowed; a copy is kept). Fails (422-style message naming the field)
 * only when the object is not a Pod at all (no metadata.name); a malformed scheduling
 * field instead sets pod->invalid, so the pod is reported unschedulable with the reason. */
int minik_sched_pod_new(const cJSON *pod, minik_sched_pod_t **out, minik_error_t **err);
void minik_sched_pod_free(minik_sched_pod_t *p);

/* Decode a Node (borrowed; a copy is kept). `ready` comes from the caller's liveness
 * source. Unparsable allocatable quantities count as 0 (nothing fits) and are logged. */
int minik_sched_node_new(const cJSON *node, bool ready, minik_sched_node_t **out,
                         minik_error_t **err);
/* Replace the Node object of an existing entry (labels, taints, allocatable...), keeping
 * its pods. */
int minik_sched_node_update(minik_sched_node_t *n, const cJSON *node, bool ready,
                            minik_error_t **err);
/* Frees the node and its copy of the object, not its pods. */
void minik_sched_node_free(minik_sched_node_t *n);

/* Account a pod on the node (borrowed; must outlive its membership). Set the pod's
 * owner_group first if it has one: the node counts its pods per group. */
void minik_sched_node_add_pod(minik_sched_node_t *n, minik_sched_pod_t *p);
/* Stop accounting it; returns false if it was not on the node. */
bool minik_sched_node_remove_pod(minik_sched_node_t *n, const minik_sched_pod_t *p);

/* The value of label `key` on the node; kubernetes.io/hostname falls back to the node
 * name, which is what the kubelet sets it to. NULL if absent. */
const char *minik_sched_node_label(const minik_sched_node_t *n, const char *key);

struct minik_sched_owners;

/* Nodes to schedule onto: the candidate list the filters and scores run over. Nodes are
 * borrowed; keep them sorted by name for deterministic results. */
typedef struct minik_sched_snapshot {
    minik_sched_node_t **nodes;
    size_t n_nodes;
    /* True if some pod on these nodes has inter-pod (anti-)affinity terms. Only a hint
     * that lets the pre-filter and scores skip scanning every pod; set it when unsure. */
    bool any_pod_terms;
    /* Optional index: per controller owner, its pods on these nodes counted per zone
     * (scheduler/owners.h), so owner spreading need not scan every node. NULL: scan. */
    const struct minik_sched_owners *owners;
} minik_sched_snapshot_t;

/* Does the pod carry any inter-pod (anti-)affinity term? */
bool minik_sched_pod_has_pod_terms(const minik_sched_pod_t *p);

/* Does the pod tolerate the taint? (Kubernetes' Toleration.ToleratesTaint.) */
bool minik_sched_tolerates(const minik_sched_pod_t *p, const char *key, const char *value,
                           minik_taint_effect_t effect);

#endif
