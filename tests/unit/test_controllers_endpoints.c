/* The Endpoints of a Service computed from pods: readiness, selectors, named ports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "controllers/endpoints.h"
#include "lib/cleanup.h"
#include "lib/error.h"

static const char *svc_json =
    "{\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"},\"spec\":{\"selector\":{\"app\":"
    "\"web\"},\"ports\":[{\"name\":\"http\",\"port\":80,\"targetPort\":\"www\"},{\"name\":"
    "\"metrics\",\"port\":9100,\"targetPort\":9100}]}}";

static char *pod(const char *name, const char *ns, const char *app, const char *ip,
                 const char *ready, int www)
{
    char *s = NULL;
    if (asprintf(&s,
                 "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"uid\":\"u-%s\","
                 "\"labels\":{\"app\":\"%s\"}},\"spec\":{\"nodeName\":\"n1\",\"containers\":[{"
                 "\"name\":\"c\",\"ports\":[{\"name\":\"www\",\"containerPort\":%d}]}]},"
                 "\"status\":{\"phase\":\"Running\",\"podIP\":\"%s\",\"conditions\":[{\"type\":"
                 "\"Ready\",\"status\":\"%s\"}]}}",
                 name, ns, name, app, www, ip, ready) < 0)
        abort();
    return s;
}

static cJSON *pods_of(int n, char **texts)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON_AddItemToArray(arr, cJSON_Parse(texts[i]));
        free(texts[i]);
    }
    return arr;
}

static void ready_and_not_ready_pods_by_port(void **state)
{
    char *t[] = {
        pod("b", "shop", "web", "10.42.0.10", "True", 8080),
        pod("a", "shop", "web", "10.42.0.9", "True", 8080),
        pod("c", "shop", "web", "10.42.1.2", "False", 8080),
        pod("d", "shop", "web", "10.42.1.3", "True", 8081),  /* another named-port number */
        pod("e", "shop", "db", "10.42.1.4", "True", 8080),   /* not selected */
        pod("f", "other", "web", "10.42.1.5", "True", 8080), /* other namespace */
        pod("g", "shop", "web", "", "True", 8080),           /* no IP yet */
    };
    cleanup_cjson cJSON *pods = pods_of(7, t);
    cleanup_cjson cJSON *svc = cJSON_Parse(svc_json);
    cleanup_cjson cJSON *ep = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_int_equal(minik_endpoints_compute(svc, pods, &ep, &err), 0);
    cleanup_free char *s = cJSON_PrintUnformatted(ep);
    assert_string_equal(
        s,
        "{\"apiVersion\":\"v1\",\"kind\":\"Endpoints\",\"metadata\":{\"name\":\"web\","
        "\"namespace\":\"shop\"},\"subsets\":[{\"addresses\":[{\"ip\":\"10.42.0.9\",\"nodeName\":"
        "\"n1\",\"targetRef\":{\"kind\":\"Pod\",\"namespace\":\"shop\",\"name\":\"a\",\"uid\":"
        "\"u-a\"}},{\"ip\":\"10.42.0.10\",\"nodeName\":\"n1\",\"targetRef\":{\"kind\":\"Pod\","
        "\"namespace\":\"shop\",\"name\":\"b\",\"uid\":\"u-b\"}}],\"notReadyAddresses\":[{\"ip\":"
        "\"10.42.1.2\",\"nodeName\":\"n1\",\"targetRef\":{\"kind\":\"Pod\",\"namespace\":"
        "\"shop\",\"name\":\"c\",\"uid\":\"u-c\"}}],\"ports\":[{\"name\":\"http\",\"port\":8080,"
        "\"protocol\":\"TCP\"},{\"name\":\"metrics\",\"port\":9100,\"protocol\":\"TCP\"}]},"
        "{\"addresses\":[{\"ip\":\"10.42.1.3\",\"nodeName\":\"n1\",\"targetRef\":{\"kind\":"
        "\"Pod\",\"namespace\":\"shop\",\"name\":\"d\",\"uid\":\"u-d\"}}],\"ports\":[{\"name\":"
        "\"http\",\"port\":8081,\"protocol\":\"TCP\"},{\"name\":\"metrics\",\"port\":9100,"
        "\"protocol\":\"TCP\"}]}]}");
}

static void terminating_and_finished_pods_leave(void **state)
{
    cleanup_cjson cJSON *svc = cJSON_Parse(
        "{\"metadata\":{\"name\":\"s\"},\"spec\":{\"selector\":{\"app\":\"x\"},\"ports\":[{"
        "\"port\":80}]}}");
    char *t[] = {pod("p1", "default", "x", "10.42.0.2", "True", 1),
                 pod("p2", "default", "x", "10.42.0.3", "True", 1),
                 pod("p3", "default", "x", "10.42.0.4", "True", 1)};
    cleanup_cjson cJSON *pods = pods_of(3, t);
    cJSON_AddStringToObject(cJSON_GetObjectItem(cJSON_GetArrayItem(pods, 1), "metadata"),
                            "deletionTimestamp", "2026-01-01T00:00:00Z");
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(cJSON_GetArrayItem(pods, 2), "status"), "phase",
                              cJSON_CreateString("Succeeded"));
    cleanup_cjson cJSON *ep = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_int_equal(minik_endpoints_compute(svc, pods, &ep, &err), 0);
    const cJSON *subsets = cJSON_GetObjectItem(ep, "subsets");
    assert_int_equal(cJSON_GetArraySize(subsets), 1);
    const cJSON *addrs = cJSON_GetObjectItem(cJSON_GetArrayItem(subsets, 0), "addresses");
    assert_int_equal(cJSON_GetArraySize(addrs), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(addrs, 0), "ip")->valuestring,
                        "10.42.0.2");
    /* targetPort unset: the port itself. */
    const cJSON *port =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(subsets, 0), "ports"), 0);
    assert_int_equal(cJSON_GetObjectItem(port, "port")->valueint, 80);
}

static void publish_not_ready_and_no_selector(void **state)
{
    cleanup_cjson cJSON *svc =
        cJSON_Parse("{\"metadata\":{\"name\":\"s\"},\"spec\":{\"selector\":{\"app\":\"x\"},"
                    "\"publishNotReadyAddresses\":true,\"ports\":[{\"port\":80}]}}");
    char *t[] = {pod("p1", "default", "x", "10.42.0.2", "False", 1)};
    cleanup_cjson cJSON *pods = pods_of(1, t);
    cleanup_cjson cJSON *ep = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_int_equal(minik_endpoints_compute(svc, pods, &ep, &err), 0);
    const cJSON *ss = cJSON_GetArrayItem(cJSON_GetObjectItem(ep, "subsets"), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(ss, "addresses")), 1);
    assert_null(cJSON_GetObjectItem(ss, "notReadyAddresses"));
    /* No selector: the user manages the Endpoints; nothing is computed. */
    cleanup_cjson cJSON *manual =
        cJSON_Parse("{\"metadata\":{\"name\":\"m\"},\"spec\":{\"ports\":[{\"port\":80}]}}");
    cleanup_cjson cJSON *none = NULL;
    assert_int_equal(minik_endpoints_compute(manual, pods, &none, &err), 0);
    assert_null(none);
    /* A selector value Kubernetes would refuse is an error naming the service. */
    cleanup_cjson cJSON *bad = cJSON_Parse(
        "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"selector\":{\"app\":\"not valid!\"}}}");
    assert_true(minik_endpoints_compute(bad, pods, &none, &err) < 0);
    assert_non_null(strstr(err->msg, "service default/b: spec.selector"));
}

static void no_matching_pods_gives_empty_subsets(void **state)
{
    cleanup_cjson cJSON *svc = cJSON_Parse(svc_json);
    cleanup_cjson cJSON *pods = cJSON_CreateArray();
    cleanup_cjson cJSON *ep = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_int_equal(minik_endpoints_compute(svc, pods, &ep, &err), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(ep, "subsets")), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ready_and_not_ready_pods_by_port),
        cmocka_unit_test(terminating_and_finished_pods_leave),
        cmocka_unit_test(publish_not_ready_and_no_selector),
        cmocka_unit_test(no_matching_pods_gives_empty_subsets),
    };
    return cmocka_run_group_tests_name("endpoints", tests, NULL, NULL);
}
