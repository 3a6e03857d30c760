#include "scheduler/spread.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "scheduler/filters.h"

/* Is the node a domain for the constraints of one kind (hard or soft)? */
static bool eligible(const minik_sched_pod_t *pod, const minik_sched_node_t *node, bool hard)
{
    for (size_t i = 0; i < pod->n_spread; i++) {
        const minik_sched_spread_t *sc = &pod->spread[i];
        if (sc->hard != hard)
            continue;
        if (!minik_sched_node_label(node, sc->topology_key))
            return false;
        if (sc->honor_affinity && !minik_sched_filter_node_affinity(NULL, pod, node, NULL))
            return false;
        if (sc->honor_taints && !minik_sched_filter_taints(NULL, pod, node, NULL))
            return false;
    }
    return true;
}

static void min_of(const char *key, void *value, void *ud)
{
    minik_sched_spread_counts_t *c = ud;
    int64_t v = (int64_t)(intptr_t)value - 1;
    if (v < c->min)
        c->min = v;
}

void minik_sched_spread_init(minik_sched_spread_state_t *st, const minik_sched_snapshot_t *snap,
                             const minik_sched_pod_t *pod)
{
    memset(st, 0, sizeof(*st));
    if (pod->n_spread == 0)
        return;
    st->n = pod->n_spread;
    st->c = xcalloc(st->n, sizeof(*st->c));
    for (size_t i = 0; i < snap->n_nodes; i++) {
        const minik_sched_node_t *node = snap->nodes[i];
        bool ok_hard = eligible(pod, node, true), ok_soft = eligible(pod, node, false);
        for (size_t k = 0; k < st->n; k++) {
            const minik_sched_spread_t *sc = &pod->spread[k];
            if (sc->hard ? !ok_hard : !ok_soft)
                continue;
            int64_t n = 0;
            for (size_t j = 0; j < node->n_pods; j++) {
                const minik_sched_pod_t *o = node->pods[j];
                if (o != pod && !o->terminating && strcmp(o->ns, pod->ns) == 0 &&
                    minik_selector_matches(sc->selector, o->labels))
                    n++;
            }
            const char *v = minik_sched_node_label(node, sc->topology_key);
            intptr_t cur = (intptr_t)minik_strmap_get(&st->c[k].counts, v);
            /* Counts are stored + 1 so that an empty domain is present (non-NULL). */
            if (cur == 0)
                cur = 1;
            minik_strmap_put(&st->c[k].counts, v, (void *)(cur + (intptr_t)n));
        }
    }
    for (size_t k = 0; k < st->n; k++) {
        minik_sched_spread_counts_t *c = &st->c[k];
        c->n_domains = c->counts.len;
        c->min = INT64_MAX;
        minik_strmap_foreach(&c->counts, min_of, c);
        if (c->n_domains == 0)
            c->min = 0;
    }
}

void minik_sched_spread_free(minik_sched_spread_state_t *st)
{
    for (size_t k = 0; k < st->n; k++)
        minik_strmap_clear(&st->c[k].counts);
    free(st->c);
    st->c = NULL;
    st->n = 0;
}

static int64_t count_in(const minik_sched_spread_counts_t *c, const char *v)
{
    intptr_t x = (intptr_t)minik_strmap_get(&c->counts, v);
    return x > 0 ? (int64_t)x - 1 : 0;
}

bool minik_sched_spread_fits(const minik_sched_spread_state_t *st, const minik_sched_pod_t *pod,
                             const minik_sched_node_t *node, const char **reason)
{
    for (size_t k = 0; k < st->n; k++) {
        const minik_sched_spread_t *sc = &pod->spread[k];
        if (!sc->hard)
            continue;
        const char *v = minik_sched_node_label(node, sc->topology_key);
        if (!v) {
            *reason = MINIK_REASON_SPREAD_LABEL;
            return false;
        }
        int64_t self = minik_selector_matches(sc->selector, pod->labels) ? 1 : 0;
        int64_t min = st->c[k].min;
        if (sc->min_domains > 0 && st->c[k].n_domains < (size_t)sc->min_domains)
            min = 0;
        if (count_in(&st->c[k], v) + self - min > sc->max_skew) {
            *reason = MINIK_REASON_SPREAD;
            return false;
        }
    }
    return true;
}

int64_t minik_sched_spread_soft(const minik_sched_spread_state_t *st, const minik_sched_pod_t *pod,
                                const minik_sched_node_t *node)
{
    int64_t sum = 0;
    for (size_t k = 0; k < st->n; k++) {
        const minik_sched_spread_t *sc = &pod->spread[k];
        if (sc->hard)
            continue;
        const char *v = minik_sched_node_label(node, sc->topology_key);
        if (!v)
            return -1;
        sum += count_in(&st->c[k], v);
    }
    return sum;
}
