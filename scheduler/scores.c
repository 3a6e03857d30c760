/* The score plugins and their combination. Integer arithmetic throughout, with the same
 * truncation as kube-scheduler, so equal inputs give equal rankings. */
#include "scheduler/scores.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "scheduler/filters.h"

const char *minik_sched_policy_name(minik_sched_policy_t p)
{
    static const char *const names[] = {
#define X(e, s) s,
        MINIK_SCHED_POLICIES(X)
#undef X
    };
    if ((size_t)p < sizeof(names) / sizeof(names[0]))
        return names[p];
    return "unknown";
}

int minik_sched_policy_parse(const char *s, minik_sched_policy_t *out, minik_error_t **err)
{
    static const char *const names[] = {
#define X(e, str) str,
        MINIK_SCHED_POLICIES(X)
#undef X
    };
    for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (minik_sched_policy_t)i;
            return 0;
        }
    }
    return minik_error_set(err, 0, "--scheduler-policy: unknown policy \"%s\" (spread or binpack)",
                           s ? s : "");
}

static int64_t least(int64_t requested, int64_t capacity)
{
    if (capacity == 0 || requested > capacity)
        return 0;
    return (capacity - requested) * MINIK_SCHED_MAX_SCORE / capacity;
}

static int64_t most(int64_t requested, int64_t capacity)
{
    if (capacity == 0)
        return 0;
    /* Pods without requests are counted with defaults and can overshoot. */
    if (requested > capacity)
        requested = capacity;
    return requested * MINIK_SCHED_MAX_SCORE / capacity;
}

/* Scale before multiplying so that terabyte-sized memory figures cannot overflow. */
static int64_t resource_score(const minik_sched_pod_t *pod, const minik_sched_node_t *node,
                              int64_t (*f)(int64_t, int64_t))
{
    int64_t cpu_req = node->nonzero_requested.milli_cpu + pod->nonzero.milli_cpu;
    int64_t mem_req = node->nonzero_requested.memory + pod->nonzero.memory;
    int64_t mem_cap = node->alloc.memory;
    while (mem_cap > INT64_MAX / (MINIK_SCHED_MAX_SCORE * 2)) {
        mem_cap >>= 1;
        mem_req >>= 1;
    }
    int64_t sum = f(cpu_req, node->alloc.milli_cpu) + f(mem_req, mem_cap);
    return sum / 2;
}

int64_t minik_sched_score_least_allocated(const minik_sched_pod_t *pod,
                                          const minik_sched_node_t *node)
{
    return resource_score(pod, node, least);
}

int64_t minik_sched_score_most_allocated(const minik_sched_pod_t *pod,
                                         const minik_sched_node_t *node)
{
    return resource_score(pod, node, most);
}

int64_t minik_sched_score_node_affinity(const minik_sched_pod_t *pod,
                                        const minik_sched_node_t *node)
{
    int64_t sum = 0;
    for (size_t i = 0; i < pod->n_preferred; i++) {
        if (minik_sched_nsel_term_matches(&pod->preferred[i], node))
            sum += pod->preferred[i].weight;
    }
    return sum;
}

int64_t minik_sched_score_taints(const minik_sched_pod_t *pod, const minik_sched_node_t *node)
{
    int64_t n = 0;
    for (size_t i = 0; i < node->n_taints; i++) {
        const minik_sched_taint_t *t = &node->taints[i];
        if (t->effect == MINIK_TAINT_PREFER_NO_SCHEDULE &&
            !minik_sched_tolerates(pod, t->key, t->value, t->effect))
            n++;
    }
    return n;
}

int64_t minik_sched_score_owner_spread(const minik_sched_pod_t *pod, const minik_sched_node_t *node)
{
    if (!pod->owner_uid)
        return 0;
    int64_t n = 0;
    for (size_t i = 0; i < node->n_pods; i++) {
        const minik_sched_pod_t *o = node->pods[i];
        if (o != pod && o->owner_hash == pod->owner_hash && o->owner_uid &&
            strcmp(o->owner_uid, pod->owner_uid) == 0 && strcmp(o->ns, pod->ns) == 0)
            n++;
    }
    return n;
}

void minik_sched_normalize(int64_t *scores, size_t n, bool reverse)
{
    int64_t max = 0;
    for (size_t i = 0; i < n; i++) {
        if (scores[i] > max)
            max = scores[i];
    }
    if (max == 0) {
        if (reverse) {
            for (size_t i = 0; i < n; i++)
                scores[i] = MINIK_SCHED_MAX_SCORE;
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t s = MINIK_SCHED_MAX_SCORE * scores[i] / max;
        scores[i] = reverse ? MINIK_SCHED_MAX_SCORE - s : s;
    }
}

void minik_sched_score_nodes(minik_sched_policy_t policy, const minik_sched_pod_t *pod,
                             minik_sched_node_t *const *nodes, size_t n, int64_t *totals)
{
    if (n == 0)
        return;
    int64_t *tmp = xcalloc(n, sizeof(*tmp));
    int64_t (*res)(const minik_sched_pod_t *, const minik_sched_node_t *) =
        policy == MINIK_SCHED_POLICY_BINPACK ? minik_sched_score_most_allocated
                                             : minik_sched_score_least_allocated;
    for (size_t i = 0; i < n; i++)
        totals[i] = MINIK_SCHED_WEIGHT_RESOURCES * res(pod, nodes[i]);

    if (pod->n_preferred > 0) {
        for (size_t i = 0; i < n; i++)
            tmp[i] = minik_sched_score_node_affinity(pod, nodes[i]);
        minik_sched_normalize(tmp, n, false);
        for (size_t i = 0; i < n; i++)
            totals[i] += MINIK_SCHED_WEIGHT_NODE_AFFINITY * tmp[i];
    }

    for (size_t i = 0; i < n; i++)
        tmp[i] = minik_sched_score_taints(pod, nodes[i]);
    minik_sched_normalize(tmp, n, true);
    for (size_t i = 0; i < n; i++)
        totals[i] += MINIK_SCHED_WEIGHT_TAINTS * tmp[i];

    if (pod->owner_uid) {
        for (size_t i = 0; i < n; i++)
            tmp[i] = minik_sched_score_owner_spread(pod, nodes[i]);
        minik_sched_normalize(tmp, n, true);
        for (size_t i = 0; i < n; i++)
            totals[i] += MINIK_SCHED_WEIGHT_SPREAD * tmp[i];
    }
    free(tmp);
}
