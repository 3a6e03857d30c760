/* DaemonSet reconcile cost (driven by tests/bench/bench_controllers.sh), in process over a
 * real store:
 *
 *   ds_bench DIR NODES ROUNDS
 *
 * Writes NODES Nodes and one DaemonSet to a fresh store under DIR, starts the controllers
 * and runs the loop until the DaemonSet controller has created one pod per node and the
 * controllers are idle. Then it calls the DaemonSet reconcile ROUNDS times in a row (the
 * steady state: every node has its pod, nothing to write) - what each Node event costs,
 * since every Node change queues every DaemonSet.
 * Prints key=value lines: nodes, setup_s (to all pods created), reconcile_ms (mean over
 * ROUNDS), max_rss_mb. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "controllers/controllers.h"
#include "controllers/internal.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/store.h"

static long added, want;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_pod(const minik_store_event_t *ev, void *ud)
{
    (void)ud;
    if (ev->type == MINIK_STORE_ADDED)
        added++;
}

static void on_done(int status, cJSON *result, minik_error_t *err, void *ud)
{
    (void)ud;
    if (status < 0)
        fprintf(stderr, "ds_bench: write: %s\n", err ? err->msg : "?");
    cJSON_Delete(result);
    minik_error_free(err);
}

static void closed(void *ud)
{
    *(bool *)ud = true;
}

static cJSON *node_json(long i)
{
    char name[32];
    snprintf(name, sizeof(name), "node-%05ld", i);
    cJSON *n = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"labels\":{}},"
                           "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
                           "\"allocatable\":{\"cpu\":\"4\",\"memory\":\"8Gi\",\"pods\":\"110\"}}}");
    cJSON *md = cJSON_GetObjectItem(n, "metadata");
    cJSON_AddStringToObject(md, "name", name);
    cJSON *labels = cJSON_GetObjectItem(md, "labels");
    cJSON_AddStringToObject(labels, "kubernetes.io/hostname", name);
    cJSON_AddStringToObject(labels, "topology.kubernetes.io/zone", i % 2 ? "z1" : "z0");
    return n;
}

/* Run the loop until nothing has happened for `quiet_ms`: the controllers are idle. */
static void settle(uv_loop_t *loop, minik_controllers_t *ctl, uint64_t quiet_ms)
{
    minik_controllers_stats_t st;
    minik_controllers_get_stats(ctl, &st);
    uint64_t last = st.reconciles + st.writes;
    double since = now_s();
    while (now_s() - since < (double)quiet_ms / 1000.0) {
        uv_run(loop, UV_RUN_NOWAIT);
        minik_controllers_get_stats(ctl, &st);
        if (st.reconciles + st.writes != last) {
            last = st.reconciles + st.writes;
            since = now_s();
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: ds_bench DIR NODES ROUNDS\n");
        return 2;
    }
    minik_log_set_level(MINIK_LOG_WARN);
    want = strtol(argv[2], NULL, 10);
    long rounds = strtol(argv[3], NULL, 10);
    if (want < 1 || rounds < 1) {
        fprintf(stderr, "ds_bench: NODES and ROUNDS must be positive\n");
        return 2;
    }
    char *path = xasprintf("%s/state.db", argv[1]);
    uv_loop_t loop;
    uv_loop_init(&loop);
    minik_store_t *store = NULL;
    minik_error_t *err = NULL;
    minik_store_watch_t *w = NULL;
    if (minik_store_open(path, NULL, &store, &err) < 0 ||
        minik_store_attach_loop(store, &loop, &err) < 0 ||
        minik_store_watch(store, "Pod", NULL, NULL, NULL, 0, on_pod, NULL, &w, &err) < 0) {
        fprintf(stderr, "ds_bench: %s\n", err->msg);
        return 1;
    }
    /* No heartbeats here: keep the nodes Ready for the whole run. */
    minik_controllers_opts_t opts = {.node_grace_ms = 24ull * 3600 * 1000};
    minik_controllers_t *ctl = NULL;
    if (minik_controllers_new(store, &loop, &opts, &ctl, &err) < 0 ||
        minik_controllers_start(ctl, &err) < 0) {
        fprintf(stderr, "ds_bench: %s\n", err->msg);
        return 1;
    }
    double t0 = now_s();
    for (long i = 0; i < want; i++)
        minik_store_submit(store, MINIK_STORE_OP_CREATE, node_json(i), on_done, NULL);
    cJSON *ds = cJSON_Parse(
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"agent\","
        "\"namespace\":\"default\",\"generation\":1},\"spec\":{\"selector\":{\"matchLabels\":"
        "{\"app\":\"agent\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"agent\"}},"
        "\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"busybox\",\"resources\":"
        "{\"requests\":{\"cpu\":\"10m\",\"memory\":\"16Mi\"}}}]}}}}");
    minik_store_submit(store, MINIK_STORE_OP_CREATE, ds, on_done, NULL);
    while (added < want)
        uv_run(&loop, UV_RUN_ONCE);
    double setup = now_s() - t0;
    settle(&loop, ctl, 300);

    double t1 = now_s();
    for (long r = 0; r < rounds; r++) {
        minik_daemonset_sync("default/agent", ctl);
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    double per = (now_s() - t1) * 1000.0 / (double)rounds;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("nodes=%ld\nsetup_s=%.3f\nreconcile_ms=%.3f\nmax_rss_mb=%.1f\n", want, setup, per,
           (double)ru.ru_maxrss / 1024.0);
    long pods = added;
    settle(&loop, ctl, 100);
    if (added != pods)
        fprintf(stderr, "ds_bench: steady-state reconciles created %ld pods\n", added - pods);
    minik_controllers_free(ctl);
    minik_store_unwatch(w);
    bool is_closed = false;
    minik_store_close_async(store, closed, &is_closed);
    while (!is_closed)
        uv_run(&loop, UV_RUN_ONCE);
    minik_store_free(store);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    free(path);
    return added == pods ? 0 : 1;
}
