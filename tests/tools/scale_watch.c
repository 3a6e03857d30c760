/* Whole-cluster scale run against a real `minik server` with hollow nodes
 * (tests/bench/bench_scale.sh):
 *
 *   scale_watch URL TOKEN NAME REPLICAS [plain|affinity] [TIMEOUT_S]
 *
 * Lists the pods labelled app=NAME (to get a resourceVersion), watches them from there,
 * then creates Deployment NAME with REPLICAS replicas and follows every pod through the
 * watch until all of them are bound to a node and reported Running by their (hollow)
 * agent. "affinity" pods carry a preferred pod anti-affinity on the hostname, as Helm
 * charts put on replicas (topologySpreadConstraints are not accepted by the API's field
 * table yet, though the scheduler implements them).
 * Prints key=value lines: replicas, created_s, bound_s, running_s (from the create),
 * binds_per_s, events (SCALE_PROGRESS=1: counts every second on stderr). Exit 1 if the timeout
 * (default 600 s) passes first. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "proto/client.h"
#include "proto/client_uv.h"
#include "lib/strmap.h"

enum { SEEN = 1, BOUND = 2, RUNNING = 4 };

typedef struct run {
    uv_loop_t loop;
    uv_timer_t timeout, progress;
    minik_client_uv_t *cuv;
    minik_client_t *client;
    minik_client_uv_watch_t *watch;
    minik_strmap_t pods;
    long want, seen, bound, running, events;
    uint64_t t0, t_created, t_bound, t_running;
    bool failed;
} run_t;

static int on_event(const char *type, const cJSON *obj, void *ud)
{
    run_t *r = ud;
    if (strcmp(type, "BOOKMARK") == 0 || strcmp(type, "DELETED") == 0)
        return 0;
    if (strcmp(type, "ERROR") == 0) {
        fprintf(stderr, "watch error event\n");
        r->failed = true;
        return 1;
    }
    r->events++;
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "name"));
    if (!name)
        return 0;
    uintptr_t had = (uintptr_t)minik_strmap_get(&r->pods, name), now = SEEN;
    if (cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(obj, "spec"), "nodeName")))
        now |= BOUND;
    const char *phase = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "status"), "phase"));
    if (phase && strcmp(phase, "Running") == 0)
        now |= RUNNING;
    now |= had;
    if (now == had)
        return 0;
    minik_strmap_put(&r->pods, name, (void *)now);
    uint64_t t = uv_hrtime();
    if ((now & SEEN) && !(had & SEEN) && ++r->seen == r->want)
        r->t_created = t;
    if ((now & BOUND) && !(had & BOUND) && ++r->bound == r->want)
        r->t_bound = t;
    if ((now & RUNNING) && !(had & RUNNING) && ++r->running == r->want) {
        r->t_running = t;
        return 1; /* done */
    }
    return 0;
}

static void closed(void *ud)
{
    (void)ud;
}

static void on_done(minik_watch_end_t how, const minik_error_t *err, void *ud)
{
    run_t *r = ud;
    r->watch = NULL;
    if (how == MINIK_WATCH_FAILED || how == MINIK_WATCH_ENDED) {
        fprintf(stderr, "watch ended early: %s\n", err ? err->msg : "stream closed");
        r->failed = true;
    }
    uv_timer_stop(&r->timeout);
    uv_close((uv_handle_t *)&r->timeout, NULL);
    uv_close((uv_handle_t *)&r->progress, NULL);
    minik_client_uv_close(r->cuv, closed, r);
}

static void on_progress(uv_timer_t *t)
{
    run_t *r = t->data;
    fprintf(stderr, "t=%.1fs created %ld bound %ld running %ld\n",
            (double)(uv_hrtime() - r->t0) / 1e9, r->seen, r->bound, r->running);
}

static void on_timeout(uv_timer_t *t)
{
    run_t *r = t->data;
    fprintf(stderr, "timeout: seen %ld bound %ld running %ld of %ld\n", r->seen, r->bound,
            r->running, r->want);
    r->failed = true;
    if (r->watch)
        minik_client_uv_watch_cancel(r->watch);
}

static cJSON *deployment(const char *name, long replicas, bool affinity)
{
    char *js = xasprintf(
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"%s\"},"
        "\"spec\":{\"replicas\":%ld,\"selector\":{\"matchLabels\":{\"app\":\"%s\"}},"
        "\"template\":{\"metadata\":{\"labels\":{\"app\":\"%s\"}},\"spec\":{\"containers\":"
        "[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}",
        name, replicas, name, name);
    cJSON *d = cJSON_Parse(js);
    free(js);
    if (!affinity)
        return d;
    cJSON *spec = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(d, "spec"), "template"), "spec");
    char *aff = xasprintf(
        "{\"podAntiAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":[{\"weight\":"
        "100,\"podAffinityTerm\":{\"topologyKey\":\"kubernetes.io/hostname\",\"labelSelector\":"
        "{\"matchLabels\":{\"app\":\"%s\"}}}}]}}",
        name);
    cJSON_AddItemToObject(spec, "affinity", cJSON_Parse(aff));
    free(aff);
    return d;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr,
                "usage: scale_watch URL TOKEN NAME REPLICAS [plain|affinity] [TIMEOUT_S]\n");
        return 2;
    }
    run_t r = {.pods = MINIK_STRMAP_INIT, .want = atol(argv[4])};
    bool affinity = argc > 5 && strcmp(argv[5], "affinity") == 0;
    long timeout_s = argc > 6 ? atol(argv[6]) : 600;
    minik_client_config_t cfg = {.server = argv[1], .token = argv[2], .timeout_ms = 600000};
    minik_error_t *err = NULL;
    if (minik_client_new(&cfg, &r.client, &err) < 0) {
        fprintf(stderr, "%s\n", err->msg);
        return 1;
    }
    char *sel = xasprintf("/api/v1/namespaces/default/pods?labelSelector=app%%3D%s", argv[3]);
    minik_client_response_t resp = {0};
    if (minik_client_request(r.client, "GET", sel, NULL, NULL, 0, &resp, &err) < 0 ||
        resp.status != 200) {
        fprintf(stderr, "list: %s\n", err ? err->msg : resp.body);
        return 1;
    }
    cJSON *list = cJSON_Parse(resp.body);
    minik_client_response_clear(&resp);
    const char *rv = cJSON_GetStringValue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(list, "metadata"), "resourceVersion"));
    char *wpath = xasprintf("%s&watch=1&resourceVersion=%s", sel, rv ? rv : "0");
    cJSON_Delete(list);
    uv_loop_init(&r.loop);
    if (minik_client_uv_new(&r.loop, &r.cuv, &err) < 0) {
        fprintf(stderr, "%s\n", err->msg);
        return 1;
    }
    r.watch = minik_client_uv_watch(r.cuv, r.client, wpath, on_event, on_done, &r);
    uv_timer_init(&r.loop, &r.timeout);
    r.timeout.data = &r;
    uv_timer_start(&r.timeout, on_timeout, (uint64_t)timeout_s * 1000, 0);
    /* SCALE_PROGRESS=1: one line a second on stderr. */
    uv_timer_init(&r.loop, &r.progress);
    r.progress.data = &r;
    if (getenv("SCALE_PROGRESS"))
        uv_timer_start(&r.progress, on_progress, 1000, 1000);
    cJSON *d = deployment(argv[3], r.want, affinity);
    char *body = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    r.t0 = uv_hrtime();
    if (minik_client_request(r.client, "POST", "/apis/apps/v1/namespaces/default/deployments",
                             "application/json", body, strlen(body), &resp, &err) < 0 ||
        resp.status != 201) {
        fprintf(stderr, "create: %s\n", err ? err->msg : resp.body);
        return 1;
    }
    minik_client_response_clear(&resp);
    free(body);
    uv_run(&r.loop, UV_RUN_DEFAULT);
    uv_loop_close(&r.loop);
    minik_client_free(r.client);
    minik_strmap_clear(&r.pods);
    free(sel);
    free(wpath);
    if (r.failed)
        return 1;
    double c = (double)(r.t_created - r.t0) / 1e9, b = (double)(r.t_bound - r.t0) / 1e9,
           run = (double)(r.t_running - r.t0) / 1e9;
    printf("replicas=%ld\ncreated_s=%.3f\nbound_s=%.3f\nrunning_s=%.3f\nbinds_per_s=%.0f\n"
           "events=%ld\n",
           r.want, c, b, run, b > 0 ? (double)r.want / b : 0, r.events);
    return 0;
}
