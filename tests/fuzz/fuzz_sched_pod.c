/* Fuzz the scheduler's decoding of Pod and Node objects (requests, ports, tolerations,
 * node affinity, pod anti-affinity, taints, allocatable) and every filter and scorer over
 * what was decoded. The input is one JSON document, used both as a Pod and as a Node. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "lib/log.h"
#include "scheduler/algorithm.h"
#include "scheduler/filters.h"
#include "scheduler/scores.h"
#include "scheduler/snapshot.h"

static const char fixed_node[] =
    "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\",\"labels\":{\"zone\":\"a\",\"cores\":\"8\"}},"
    "\"spec\":{\"taints\":[{\"key\":\"gpu\",\"value\":\"true\",\"effect\":\"NoSchedule\"},"
    "{\"key\":\"old\",\"effect\":\"PreferNoSchedule\"}]},"
    "\"status\":{\"allocatable\":{\"cpu\":\"4\",\"memory\":\"8Gi\",\"pods\":\"110\"}}}";

static const char fixed_pod[] =
    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"e\",\"labels\":{\"app\":\"web\"},"
    "\"ownerReferences\":[{\"uid\":\"rs\",\"controller\":true}]},\"spec\":{\"affinity\":{"
    "\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[{\"labelSelector\":"
    "{\"matchLabels\":{\"app\":\"web\"}},\"topologyKey\":\"zone\"}]}},\"containers\":[{\"name\":"
    "\"c\",\"ports\":[{\"containerPort\":80,\"hostPort\":80}]}]}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static minik_sched_node_t *node;
    static minik_sched_pod_t *existing;
    if (!node) {
        minik_log_set_level(MINIK_LOG_ERROR);
        cJSON *n = cJSON_Parse(fixed_node), *p = cJSON_Parse(fixed_pod);
        if (minik_sched_node_new(n, true, &node, NULL) < 0 ||
            minik_sched_pod_new(p, &existing, NULL) < 0)
            abort();
        minik_sched_node_add_pod(node, existing);
        cJSON_Delete(n);
        cJSON_Delete(p);
    }
    cJSON *j = cJSON_ParseWithLength((const char *)data, size);
    if (!j)
        return 0;

    minik_sched_pod_t *pod = NULL;
    if (minik_sched_pod_new(j, &pod, NULL) == 0) {
        minik_sched_node_t *nodes[] = {node};
        minik_sched_snapshot_t snap = {nodes, 1, true, NULL};
        minik_sched_prefilter_t pf;
        minik_sched_prefilter_init(&pf, &snap, pod);
        minik_sched_reasons_t why = {0};
        for (const minik_sched_filter_t *f = minik_sched_filters; f->fn; f++)
            f->fn(&pf, pod, node, &why);
        int64_t totals[1];
        minik_sched_score_nodes(MINIK_SCHED_POLICY_SPREAD, &snap, &pf, pod, nodes, 1, totals);
        minik_sched_score_nodes(MINIK_SCHED_POLICY_BINPACK, &snap, &pf, pod, nodes, 1, totals);
        minik_sched_prefilter_free(&pf);
        minik_sched_algo_t algo = {.rng = 7};
        minik_sched_result_t r;
        if (minik_sched_schedule(&algo, &snap, pod, &r) != 0)
            free(r.message);
        /* The decoded pod as an existing pod: accounting must balance. */
        minik_sched_node_add_pod(node, pod);
        minik_sched_node_remove_pod(node, pod);
        minik_sched_pod_free(pod);
    }

    minik_sched_node_t *n = NULL;
    if (minik_sched_node_new(j, false, &n, NULL) == 0) {
        minik_sched_reasons_t why = {0};
        minik_sched_filter_node(NULL, existing, n, &why);
        minik_sched_score_taints(existing, n);
        minik_sched_score_least_allocated(existing, n);
        minik_sched_score_most_allocated(existing, n);
        minik_sched_node_free(n);
    }
    cJSON_Delete(j);
    return 0;
}
