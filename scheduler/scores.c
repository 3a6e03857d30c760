/* The score plugins and their combination. Integer arithmetic throughout, with the same
 * truncation as kube-scheduler, so equal inputs give equal rankings. */
#include "scheduler/scores.h"

#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "scheduler/filters.h"
#include "scheduler/owners.h"

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

/* Summed weights per topology domain: one map per topology key (value -> weight), so
 * lookups need no key concatenation; weights are first accumulated per node (`acc`), so a
 * map is touched once per node and key rather than once per pod. */
typedef struct domains {
    char **keys;
    minik_strmap_t *maps;
    int64_t *acc;
    size_t n, cap;
} domains_t;

static size_t key_slot(domains_t *d, const char *key)
{
    for (size_t i = 0; i < d->n; i++) {
        if (strcmp(d->keys[i], key) == 0)
            return i;
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 4;
        d->keys = xrealloc(d->keys, d->cap * sizeof(*d->keys));
        d->maps = xrealloc(d->maps, d->cap * sizeof(*d->maps));
        d->acc = xrealloc(d->acc, d->cap * sizeof(*d->acc));
    }
    d->keys[d->n] = xstrdup(key);
    d->maps[d->n] = (minik_strmap_t)MINIK_STRMAP_INIT;
    d->acc[d->n] = 0;
    return d->n++;
}

static void terms_add(domains_t *d, const minik_sched_pod_term_t *terms, size_t n, const char *ns,
                      const minik_sched_pod_t *target, int64_t sign, int64_t fixed_weight,
                      const size_t *slots)
{
    for (size_t t = 0; t < n; t++) {
        if (!minik_sched_pod_term_selects(&terms[t], ns, target))
            continue;
        /* key_slot may grow d->acc: take the slot before indexing. */
        size_t k = slots ? slots[t] : key_slot(d, terms[t].topology_key);
        d->acc[k] += sign * (fixed_weight ? fixed_weight : terms[t].weight);
    }
}

/* The incoming pod's terms are matched against every pod: resolve their slots once. */
static size_t *slots_of(domains_t *d, const minik_sched_pod_term_t *terms, size_t n)
{
    size_t *s = xcalloc(n + 1, sizeof(*s));
    for (size_t t = 0; t < n; t++)
        s[t] = key_slot(d, terms[t].topology_key);
    return s;
}

void minik_sched_score_inter_pod(const minik_sched_snapshot_t *snap, const minik_sched_pod_t *pod,
                                 minik_sched_node_t *const *nodes, size_t n, int64_t *raw)
{
    memset(raw, 0, n * sizeof(*raw));
    if (pod->n_pref_affinity == 0 && pod->n_pref_anti == 0 && !snap->any_pod_terms)
        return;
    domains_t d = {0};
    bool any = false;
    size_t *aff_slots = slots_of(&d, pod->pref_affinity, pod->n_pref_affinity);
    size_t *anti_slots = slots_of(&d, pod->pref_anti, pod->n_pref_anti);
    for (size_t i = 0; i < snap->n_nodes; i++) {
        const minik_sched_node_t *node = snap->nodes[i];
        for (size_t j = 0; j < node->n_pods; j++) {
            const minik_sched_pod_t *o = node->pods[j];
            if (o == pod || (*pod->uid && strcmp(o->uid, pod->uid) == 0))
                continue;
            terms_add(&d, pod->pref_affinity, pod->n_pref_affinity, pod->ns, o, 1, 0, aff_slots);
            terms_add(&d, pod->pref_anti, pod->n_pref_anti, pod->ns, o, -1, 0, anti_slots);
            if (!minik_sched_pod_has_pod_terms(o))
                continue;
            terms_add(&d, o->affinity, o->n_affinity, o->ns, pod, 1,
                      MINIK_SCHED_HARD_POD_AFFINITY_WEIGHT, NULL);
            terms_add(&d, o->pref_affinity, o->n_pref_affinity, o->ns, pod, 1, 0, NULL);
            terms_add(&d, o->pref_anti, o->n_pref_anti, o->ns, pod, -1, 0, NULL);
        }
        for (size_t k = 0; k < d.n; k++) {
            if (d.acc[k] == 0)
                continue;
            const char *v = minik_sched_node_label(node, d.keys[k]);
            if (v) {
                intptr_t cur = (intptr_t)minik_strmap_get(&d.maps[k], v);
                minik_strmap_put(&d.maps[k], v, (void *)(cur + (intptr_t)d.acc[k]));
                any = true;
            }
            d.acc[k] = 0;
        }
    }
    for (size_t i = 0; any && i < n; i++) {
        for (size_t k = 0; k < d.n; k++) {
            const char *v = minik_sched_node_label(nodes[i], d.keys[k]);
            if (v)
                raw[i] += (intptr_t)minik_strmap_get(&d.maps[k], v);
        }
    }
    for (size_t k = 0; k < d.n; k++) {
        free(d.keys[k]);
        minik_strmap_clear(&d.maps[k]);
    }
    free(d.keys);
    free(d.maps);
    free(d.acc);
    free(aff_slots);
    free(anti_slots);
}

void minik_sched_normalize_min_max(int64_t *scores, size_t n)
{
    if (n == 0)
        return;
    int64_t min = scores[0], max = scores[0];
    for (size_t i = 1; i < n; i++) {
        if (scores[i] < min)
            min = scores[i];
        if (scores[i] > max)
            max = scores[i];
    }
    for (size_t i = 0; i < n; i++)
        scores[i] = max > min ? MINIK_SCHED_MAX_SCORE * (scores[i] - min) / (max - min) : 0;
}

void minik_sched_normalize_spread(int64_t *scores, size_t n)
{
    int64_t max = 0, min = INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        if (scores[i] < 0)
            continue;
        if (scores[i] > max)
            max = scores[i];
        if (scores[i] < min)
            min = scores[i];
    }
    for (size_t i = 0; i < n; i++) {
        if (scores[i] < 0)
            scores[i] = 0;
        else if (max == 0)
            scores[i] = MINIK_SCHED_MAX_SCORE;
        else
            scores[i] = MINIK_SCHED_MAX_SCORE * (max + min - scores[i]) / max;
    }
}

void minik_sched_score_nodes(minik_sched_policy_t policy, const minik_sched_snapshot_t *snap,
                             const struct minik_sched_prefilter *pf, const minik_sched_pod_t *pod,
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

    if (pod->n_pref_affinity || pod->n_pref_anti || snap->any_pod_terms) {
        minik_sched_score_inter_pod(snap, pod, nodes, n, tmp);
        minik_sched_normalize_min_max(tmp, n);
        for (size_t i = 0; i < n; i++)
            totals[i] += MINIK_SCHED_WEIGHT_INTER_POD * tmp[i];
    }

    bool soft = false;
    for (size_t k = 0; k < pod->n_spread; k++)
        soft = soft || !pod->spread[k].hard;
    if (pf && soft) {
        for (size_t i = 0; i < n; i++)
            tmp[i] = minik_sched_spread_soft(&pf->spread, pod, nodes[i]);
        minik_sched_normalize_spread(tmp, n);
        for (size_t i = 0; i < n; i++)
            totals[i] += MINIK_SCHED_WEIGHT_TOPOLOGY * tmp[i];
    }

    if (pod->owner_uid) {
        /* With the owners index, siblings are recognised by their group pointer (placing
         * one replica among thousands compared owner uids string by string). */
        const minik_sched_owner_zones_t *group =
            snap->owners ? minik_sched_owners_get(snap->owners, pod) : NULL;
        for (size_t i = 0; i < n; i++)
            tmp[i] = snap->owners ? minik_sched_owner_pods_on(group, nodes[i], pod)
                                  : minik_sched_score_owner_spread(pod, nodes[i]);
        minik_sched_normalize(tmp, n, true);
        minik_sched_owner_zone_blend(snap, pod, nodes, n, tmp);
        for (size_t i = 0; i < n; i++)
            totals[i] += MINIK_SCHED_WEIGHT_SPREAD * tmp[i];
    }
    free(tmp);
}

static void max_of(const char *key, void *value, void *ud)
{
    intptr_t *max = ud;
    if ((intptr_t)value > *max)
        *max = (intptr_t)value;
}

void minik_sched_owner_zone_blend(const minik_sched_snapshot_t *snap, const minik_sched_pod_t *pod,
                                  minik_sched_node_t *const *nodes, size_t n, int64_t *scores)
{
    bool zoned = false;
    for (size_t i = 0; i < n && !zoned; i++)
        zoned = nodes[i]->zone != NULL;
    if (!zoned || !pod->owner_uid)
        return;
    /* Owner pods per zone over every node. Zones without any are simply absent: they
     * cannot raise the maximum and score 100 anyway. The index (kept with the
     * accounting) has the counts already; without it, count them node by node. */
    minik_strmap_t counted = MINIK_STRMAP_INIT;
    const minik_strmap_t *zones = &counted;
    if (snap->owners) {
        const minik_sched_owner_zones_t *z = minik_sched_owners_get(snap->owners, pod);
        zones = z ? &z->zones : &counted;
    } else {
        for (size_t i = 0; i < snap->n_nodes; i++) {
            const char *z = snap->nodes[i]->zone;
            int64_t here = z ? minik_sched_score_owner_spread(pod, snap->nodes[i]) : 0;
            if (here == 0)
                continue;
            intptr_t cur = (intptr_t)minik_strmap_get(&counted, z);
            minik_strmap_put(&counted, z, (void *)(cur + (intptr_t)here));
        }
    }
    intptr_t max = 0;
    minik_strmap_foreach(zones, max_of, &max);
    for (size_t i = 0; i < n; i++) {
        const char *z = nodes[i]->zone;
        if (!z)
            continue; /* kube-scheduler keeps the node-only score for unzoned nodes */
        int64_t count = (int64_t)(intptr_t)minik_strmap_get(zones, z);
        int64_t zone_score =
            max > 0 ? MINIK_SCHED_MAX_SCORE * (max - count) / max : MINIK_SCHED_MAX_SCORE;
        scores[i] = (scores[i] + 2 * zone_score) / 3;
    }
    minik_strmap_clear(&counted);
}
