/* Scheduler throughput (driven by tests/bench/bench_scheduler.sh), in process over a real
 * store:
 *
 *   sched_bench DIR NODES PODS [spread|binpack] [plain|affinity]
 *
 * creates NODES Nodes (8 cores, 32Gi, 110 pods each) and PODS pending Pods (100m/128Mi,
 * owned by 10 ReplicaSets; with "affinity" also a preferred pod anti-affinity on the
 * hostname and a soft zone topology spread constraint) in a fresh store under DIR through the
 * group-committed API, then starts the scheduler and runs the loop until every pod is bound (each
 * bind a durable compare-and-swap write). Prints key=value lines: the time from start to all-bound,
 * placements/s, and the process's peak RSS. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "scheduler/scheduler.h"
#include "store/store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long acked, failed;

static void on_done(int status, cJSON *result, minik_error_t *err, void *ud)
{
    if (status < 0) {
        fprintf(stderr, "sched_bench: create: %s\n", err ? err->msg : "?");
        failed++;
    }
    acked++;
    cJSON_Delete(result);
    minik_error_free(err);
}

static cJSON *node_obj(long i)
{
    char name[32];
    snprintf(name, sizeof name, "node-%05ld", i);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "apiVersion", "v1");
    cJSON_AddStringToObject(o, "kind", "Node");
    cJSON *m = cJSON_AddObjectToObject(o, "metadata");
    cJSON_AddStringToObject(m, "name", name);
    cJSON *l = cJSON_AddObjectToObject(m, "labels");
    cJSON_AddStringToObject(l, "kubernetes.io/hostname", name);
    char zone[16];
    snprintf(zone, sizeof zone, "zone-%ld", i % 3);
    cJSON_AddStringToObject(l, "topology.kubernetes.io/zone", zone);
    cJSON *st = cJSON_AddObjectToObject(o, "status");
    cJSON *a = cJSON_AddObjectToObject(st, "allocatable");
    cJSON_AddStringToObject(a, "cpu", "8");
    cJSON_AddStringToObject(a, "memory", "32Gi");
    cJSON_AddStringToObject(a, "pods", "110");
    cJSON *conds = cJSON_AddArrayToObject(st, "conditions");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "type", "Ready");
    cJSON_AddStringToObject(c, "status", "True");
    cJSON_AddItemToArray(conds, c);
    return o;
}

/* "affinity" workload: every pod also carries what Helm charts put on replicas. */
static bool with_affinity;

static cJSON *pod_obj(long i)
{
    char name[32], owner[32];
    snprintf(name, sizeof name, "web-%06ld", i);
    snprintf(owner, sizeof owner, "rs-uid-%ld", i % 10);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "apiVersion", "v1");
    cJSON_AddStringToObject(o, "kind", "Pod");
    cJSON *m = cJSON_AddObjectToObject(o, "metadata");
    cJSON_AddStringToObject(m, "name", name);
    cJSON_AddStringToObject(m, "namespace", "default");
    cJSON *l = cJSON_AddObjectToObject(m, "labels");
    cJSON_AddStringToObject(l, "app", "web");
    cJSON *refs = cJSON_AddArrayToObject(m, "ownerReferences");
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "apiVersion", "apps/v1");
    cJSON_AddStringToObject(r, "kind", "ReplicaSet");
    cJSON_AddStringToObject(r, "name", owner);
    cJSON_AddStringToObject(r, "uid", owner);
    cJSON_AddBoolToObject(r, "controller", 1);
    cJSON_AddItemToArray(refs, r);
    cJSON *spec = cJSON_AddObjectToObject(o, "spec");
    cJSON *cs = cJSON_AddArrayToObject(spec, "containers");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", "web");
    cJSON_AddStringToObject(c, "image", "busybox:1.36");
    cJSON *req = cJSON_AddObjectToObject(cJSON_AddObjectToObject(c, "resources"), "requests");
    cJSON_AddStringToObject(req, "cpu", "100m");
    cJSON_AddStringToObject(req, "memory", "128Mi");
    cJSON_AddItemToArray(cs, c);
    if (with_affinity) {
        char json[512];
        snprintf(json, sizeof json,
                 "{\"podAntiAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":[{"
                 "\"weight\":100,\"podAffinityTerm\":{\"labelSelector\":{\"matchLabels\":{"
                 "\"app\":\"web\"}},\"topologyKey\":\"kubernetes.io/hostname\"}}]}}");
        cJSON_AddItemToObject(spec, "affinity", cJSON_Parse(json));
        snprintf(json, sizeof json,
                 "[{\"maxSkew\":1,\"topologyKey\":\"topology.kubernetes.io/zone\","
                 "\"whenUnsatisfiable\":\"ScheduleAnyway\",\"labelSelector\":{\"matchLabels\":"
                 "{\"app\":\"web\"}}}]");
        cJSON_AddItemToObject(spec, "topologySpreadConstraints", cJSON_Parse(json));
    }
    return o;
}

/* Create `n` objects through group commit, `window` in flight at a time. */
static void create_all(minik_store_t *s, uv_loop_t *loop, long n, cJSON *(*make)(long))
{
    const long window = 2000;
    long submitted = 0;
    acked = 0;
    while (acked < n) {
        while (submitted < n && submitted - acked < window)
            minik_store_submit(s, MINIK_STORE_OP_CREATE, make(submitted++), on_done, NULL);
        uv_run(loop, UV_RUN_ONCE);
    }
    if (failed) {
        fprintf(stderr, "sched_bench: %ld creates failed\n", failed);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: sched_bench DIR NODES PODS [spread|binpack] [plain|affinity]\n");
        return 2;
    }
    long nodes = atol(argv[2]), pods = atol(argv[3]);
    minik_scheduler_opts_t opts = {0};
    cleanup_error minik_error_t *err = NULL;
    if (argc > 4 && minik_sched_policy_parse(argv[4], &opts.policy, &err) < 0) {
        fprintf(stderr, "sched_bench: %s\n", err->msg);
        return 2;
    }
    with_affinity = argc > 5 && strcmp(argv[5], "affinity") == 0;
    minik_log_set_level(MINIK_LOG_WARN);
    cleanup_free char *path = xasprintf("%s/state.db", argv[1]);
    minik_store_options_t so = {.event_retention = 2 * (nodes + 2 * pods) + 1000};
    minik_store_t *s = NULL;
    uv_loop_t loop;
    uv_loop_init(&loop);
    if (minik_store_open(path, &so, &s, &err) < 0 || minik_store_attach_loop(s, &loop, &err) < 0) {
        fprintf(stderr, "sched_bench: %s\n", err->msg);
        return 1;
    }
    create_all(s, &loop, nodes, node_obj);
    create_all(s, &loop, pods, pod_obj);

    minik_scheduler_t *sched = NULL;
    double t0 = now_s();
    if (minik_scheduler_new(s, &loop, &opts, &sched, &err) < 0 ||
        minik_scheduler_start(sched, &err) < 0) {
        fprintf(stderr, "sched_bench: %s\n", err->msg);
        return 1;
    }
    double t_listed = now_s();
    minik_scheduler_stats_t st;
    for (;;) {
        minik_scheduler_get_stats(sched, &st);
        if (st.bound >= (uint64_t)pods || (st.pending == 0 && st.binding == 0))
            break;
        uv_run(&loop, UV_RUN_ONCE);
    }
    double t1 = now_s();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("nodes=%ld\npods=%ld\npolicy=%s\nworkload=%s\n", nodes, pods,
           minik_sched_policy_name(opts.policy), with_affinity ? "affinity" : "plain");
    printf("bound=%" PRIu64 "\nunschedulable=%" PRIu64 "\nbind_errors=%" PRIu64 "\n", st.bound,
           st.unschedulable, st.bind_errors);
    printf("start_s=%.3f\nseconds=%.3f\npods_per_s=%.0f\nmax_rss_mb=%.1f\n", t_listed - t0, t1 - t0,
           (double)st.bound / (t1 - t0), (double)ru.ru_maxrss / 1024.0);
    minik_scheduler_free(sched);
    uv_run(&loop, UV_RUN_DEFAULT);
    minik_store_free(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return st.bound == (uint64_t)pods ? 0 : 1;
}
