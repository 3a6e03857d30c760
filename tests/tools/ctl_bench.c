/* Deployment reconcile time (driven by tests/bench/bench_controllers.sh), in process over
 * a real store:
 *
 *   ctl_bench DIR REPLICAS controller|direct
 *
 * controller: start the controllers on a fresh store under DIR, create one Deployment of
 *   REPLICAS replicas, and run the loop until the store has sent REPLICAS pod ADDED events
 *   (every pod durably created by the ReplicaSet controller) - Deployment -> ReplicaSet ->
 *   pods, each write group-committed.
 * direct: the floor - submit the same REPLICAS pod objects straight to the store's
 *   group-committed API and wait for the same events. The ratio is the controllers' cost.
 * Prints key=value lines: seconds, pods_per_s, max_rss_mb. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "controllers/controllers.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/store.h"

static long added, want;
static bool done_flag;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_pod(const minik_store_event_t *ev, void *ud)
{
    if (ev->type == MINIK_STORE_ADDED && ++added >= want)
        done_flag = true;
}

static void on_done(int status, cJSON *result, minik_error_t *err, void *ud)
{
    if (status < 0)
        fprintf(stderr, "ctl_bench: write: %s\n", err ? err->msg : "?");
    cJSON_Delete(result);
    minik_error_free(err);
}

static cJSON *template_json(void)
{
    return cJSON_Parse(
        "{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":"
        "[{\"name\":\"web\",\"image\":\"nginx:1.25\",\"ports\":[{\"containerPort\":"
        "80}],\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"}}}],"
        "\"restartPolicy\":\"Always\"}}");
}

static void closed(void *ud)
{
    *(bool *)ud = true;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[3], "controller") != 0 && strcmp(argv[3], "direct") != 0)) {
        fprintf(stderr, "usage: ctl_bench DIR REPLICAS controller|direct\n");
        return 2;
    }
    minik_log_set_level(MINIK_LOG_WARN);
    want = strtol(argv[2], NULL, 10);
    bool controller = strcmp(argv[3], "controller") == 0;
    char *path = xasprintf("%s/state.db", argv[1]);
    uv_loop_t loop;
    uv_loop_init(&loop);
    minik_store_t *store = NULL;
    minik_error_t *err = NULL;
    minik_store_watch_t *w = NULL;
    if (minik_store_open(path, NULL, &store, &err) < 0 ||
        minik_store_attach_loop(store, &loop, &err) < 0 ||
        minik_store_watch(store, "Pod", NULL, NULL, NULL, 0, on_pod, NULL, &w, &err) < 0) {
        fprintf(stderr, "ctl_bench: %s\n", err->msg);
        return 1;
    }
    minik_controllers_t *ctl = NULL;
    if (controller && (minik_controllers_new(store, &loop, NULL, &ctl, &err) < 0 ||
                       minik_controllers_start(ctl, &err) < 0)) {
        fprintf(stderr, "ctl_bench: %s\n", err->msg);
        return 1;
    }
    double t0 = now_s();
    if (controller) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "apiVersion", "apps/v1");
        cJSON_AddStringToObject(d, "kind", "Deployment");
        cJSON *md = cJSON_AddObjectToObject(d, "metadata");
        cJSON_AddStringToObject(md, "name", "web");
        cJSON_AddStringToObject(md, "namespace", "default");
        cJSON_AddNumberToObject(md, "generation", 1);
        cJSON *spec = cJSON_AddObjectToObject(d, "spec");
        cJSON_AddNumberToObject(spec, "replicas", (double)want);
        cJSON_AddItemToObject(spec, "selector", cJSON_Parse("{\"matchLabels\":{\"app\":\"web\"}}"));
        cJSON_AddItemToObject(spec, "template", template_json());
        minik_store_submit(store, MINIK_STORE_OP_CREATE, d, on_done, NULL);
    } else {
        for (long i = 0; i < want; i++) {
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "apiVersion", "v1");
            cJSON_AddStringToObject(p, "kind", "Pod");
            cJSON *md = cJSON_AddObjectToObject(p, "metadata");
            char name[64];
            snprintf(name, sizeof(name), "web-%06ld", i);
            cJSON_AddStringToObject(md, "name", name);
            cJSON_AddStringToObject(md, "namespace", "default");
            cJSON *tmpl = template_json();
            cJSON_AddItemToObject(
                md, "labels",
                cJSON_DetachItemFromObject(cJSON_GetObjectItem(tmpl, "metadata"), "labels"));
            cJSON_AddItemToObject(p, "spec", cJSON_DetachItemFromObject(tmpl, "spec"));
            cJSON_Delete(tmpl);
            minik_store_submit(store, MINIK_STORE_OP_CREATE, p, on_done, NULL);
        }
    }
    while (!done_flag)
        uv_run(&loop, UV_RUN_ONCE);
    double secs = now_s() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("seconds=%.4f\npods_per_s=%.0f\nmax_rss_mb=%.1f\n", secs, (double)want / secs,
           (double)ru.ru_maxrss / 1024.0);
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
    return 0;
}
