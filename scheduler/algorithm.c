#include "scheduler/algorithm.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "scheduler/explain.h"
#include "scheduler/filters.h"

#define MIN_FEASIBLE_NODES            100
#define MIN_FEASIBLE_NODES_PERCENTAGE 5

size_t minik_sched_num_feasible_to_find(int percentage, size_t n)
{
    if (n < MIN_FEASIBLE_NODES || percentage >= 100)
        return n;
    size_t pct = (size_t)percentage;
    if (percentage <= 0) {
        long adaptive = 50 - (long)(n / 125);
        pct = adaptive < MIN_FEASIBLE_NODES_PERCENTAGE ? MIN_FEASIBLE_NODES_PERCENTAGE
                                                       : (size_t)adaptive;
    }
    size_t k = n * pct / 100;
    return k < MIN_FEASIBLE_NODES ? MIN_FEASIBLE_NODES : k;
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

int minik_sched_schedule(minik_sched_algo_t *algo, const minik_sched_snapshot_t *snap,
                         const minik_sched_pod_t *pod, minik_sched_result_t *result)
{
    memset(result, 0, sizeof(*result));
    size_t n = snap->n_nodes;
    if (pod->invalid) {
        result->message = xasprintf("pod cannot be scheduled: %s", pod->invalid);
        return 1;
    }
    if (n == 0) {
        minik_sched_explain_t e = MINIK_SCHED_EXPLAIN_INIT;
        result->message = minik_sched_explain_message(&e, 0);
        return 1;
    }
    minik_sched_prefilter_t pf;
    minik_sched_prefilter_init(&pf, snap, pod);
    size_t want = minik_sched_num_feasible_to_find(algo->percentage_of_nodes_to_score, n);
    minik_sched_node_t **feasible = xmalloc(want * sizeof(*feasible));
    minik_sched_explain_t explain = MINIK_SCHED_EXPLAIN_INIT;
    size_t start = algo->next_start % n, evaluated = 0, nf = 0;
    for (; evaluated < n && nf < want; evaluated++) {
        minik_sched_node_t *node = snap->nodes[(start + evaluated) % n];
        minik_sched_reasons_t why;
        why.n = 0;
        if (minik_sched_filter_node(&pf, pod, node, &why)) {
            feasible[nf++] = node;
        } else {
            for (size_t r = 0; r < why.n; r++)
                minik_sched_explain_add(&explain, why.text[r]);
        }
    }
    algo->next_start = (start + evaluated) % n;
    result->evaluated = evaluated;
    result->feasible = nf;
    if (nf == 0) {
        result->message = minik_sched_explain_message(&explain, n);
        minik_sched_explain_free(&explain);
        minik_sched_prefilter_free(&pf);
        free(feasible);
        return 1;
    }
    minik_sched_explain_free(&explain);

    int64_t *scores = xcalloc(nf, sizeof(*scores));
    minik_sched_score_nodes(algo->policy, snap, &pf, pod, feasible, nf, scores);
    minik_sched_prefilter_free(&pf);
    size_t best = 0, ties = 1;
    for (size_t i = 1; i < nf; i++) {
        if (scores[i] > scores[best]) {
            best = i;
            ties = 1;
        } else if (scores[i] == scores[best]) {
            if (algo->rng) {
                /* Reservoir sampling: each of the k tied nodes wins with probability 1/k. */
                ties++;
                if (xorshift(&algo->rng) % ties == 0)
                    best = i;
            } else if (strcmp(feasible[i]->name, feasible[best]->name) < 0) {
                best = i;
            }
        }
    }
    result->node = feasible[best];
    free(scores);
    free(feasible);
    return 0;
}
