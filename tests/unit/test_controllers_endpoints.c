/* The Endpoints of a Service computed from pods: readiness, selectors, named ports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "controllers/endpoints.h"
#include "controllers/internal.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/xalloc.h"
#include "tests/unit/ctl_helpers.h"

#define WAIT_MS 20000

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

/* ---- the controller, on a real store and loop ---------------------------------------- */

/* A pod as an agent leaves it: bound, with an address and a Ready condition. */
static cJSON *live_pod(const char *name, const char *app, const char *ip, const char *ready)
{
    char *t = pod(name, "shop", app, ip, ready, 8080);
    cJSON *p = cJSON_Parse(t);
    free(t);
    cJSON_AddStringToObject(p, "apiVersion", "v1");
    cJSON_AddStringToObject(p, "kind", "Pod");
    return p;
}

static cJSON *web_service(void)
{
    cJSON *s = cJSON_Parse(svc_json);
    cJSON_AddStringToObject(s, "apiVersion", "v1");
    cJSON_AddStringToObject(s, "kind", "Service");
    return s;
}

/* "ready IPs|not-ready IPs" of shop/web's Endpoints, "none" when absent. */
static char *ep_summary(ctl_fix_t *f)
{
    cJSON *ep = cf_get(f, "Endpoints", "shop", "web");
    if (!ep)
        return xstrdup("none");
    minik_buf_t b = MINIK_BUF_INIT;
    const char *keys[2] = {"addresses", "notReadyAddresses"};
    for (int k = 0; k < 2; k++) {
        if (k)
            minik_buf_appendf(&b, "|");
        const cJSON *ss;
        cJSON_ArrayForEach(ss, cJSON_GetObjectItem(ep, "subsets"))
        {
            const cJSON *a;
            cJSON_ArrayForEach(a, cJSON_GetObjectItem(ss, keys[k]))
            {
                minik_buf_appendf(&b, "%s=%s ", cJSON_GetObjectItem(a, "ip")->valuestring,
                                  cf_str(a, "targetRef.name"));
            }
        }
    }
    cJSON_Delete(ep);
    return minik_buf_steal(&b);
}

static bool ep_is(ctl_fix_t *f, void *ud)
{
    char *s = ep_summary(f);
    bool ok = strcmp(s, ud) == 0;
    free(s);
    return ok;
}

static void assert_ep(ctl_fix_t *f, const char *want)
{
    if (!cf_run_until(f, ep_is, (void *)want, WAIT_MS)) {
        char *s = ep_summary(f);
        fail_msg("endpoints: want \"%s\", have \"%s\"", want, s);
    }
}

static char *ep_rv(ctl_fix_t *f)
{
    cJSON *ep = cf_get(f, "Endpoints", "shop", "web");
    assert_non_null(ep);
    char *rv = xstrdup(cf_str(ep, "metadata.resourceVersion"));
    cJSON_Delete(ep);
    return rv;
}

static void set_ready(ctl_fix_t *f, const char *name, const char *ready)
{
    cJSON *p = cf_get(f, "Pod", "shop", name);
    assert_non_null(p);
    cJSON *cond =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "status"), "conditions"), 0);
    cJSON_ReplaceItemInObject(cond, "status", cJSON_CreateString(ready));
    cf_update(f, p);
}

static void controller_keeps_endpoints_current(void **state)
{
    ctl_fix_t *f = cf_new(NULL);
    f->mode = HK_IGNORE; /* the test writes the pods' status itself */
    cf_create(f, live_pod("a", "web", "10.42.0.9", "True"));
    cf_create(f, live_pod("b", "web", "10.42.0.10", "False"));
    cf_create(f, web_service());
    assert_ep(f, "10.42.0.9=a |10.42.0.10=b ");
    cJSON *ep = cf_get(f, "Endpoints", "shop", "web");
    assert_string_equal(cf_str(ep, "apiVersion"), "v1");
    cJSON *ports =
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(ep, "subsets"), 0), "ports");
    char *ps = cJSON_PrintUnformatted(ports);
    /* Ports by name, the named targetPort resolved through the pod. */
    assert_string_equal(ps, "[{\"name\":\"http\",\"port\":8080,\"protocol\":\"TCP\"},"
                            "{\"name\":\"metrics\",\"port\":9100,\"protocol\":\"TCP\"}]");
    free(ps);
    cJSON_Delete(ep);

    /* A pod the selector does not pick changes nothing, and nothing is rewritten. */
    char *rv = ep_rv(f);
    cf_create(f, live_pod("c", "db", "10.42.0.11", "True"));
    cf_run_for(f, 300);
    char *rv2 = ep_rv(f);
    assert_string_equal(rv, rv2);
    free(rv2);

    /* Readiness moves a pod between the lists; a label change takes it out. */
    set_ready(f, "b", "True");
    assert_ep(f, "10.42.0.9=a 10.42.0.10=b |");
    set_ready(f, "a", "False");
    assert_ep(f, "10.42.0.10=b |10.42.0.9=a ");
    cJSON *c = cf_get(f, "Pod", "shop", "c");
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(cJSON_GetObjectItem(c, "metadata"), "labels"),
                              "app", cJSON_CreateString("web"));
    cf_update(f, c);
    assert_ep(f, "10.42.0.10=b 10.42.0.11=c |10.42.0.9=a ");
    assert_int_equal(cf_delete(f, "Pod", "shop", "b"), 0);
    assert_ep(f, "10.42.0.11=c |10.42.0.9=a ");

    /* Deleted by hand: put back while the Service selects pods. */
    assert_int_equal(cf_delete(f, "Endpoints", "shop", "web"), 0);
    assert_ep(f, "10.42.0.11=c |10.42.0.9=a ");
    free(rv);
    rv = ep_rv(f);
    /* Without the Service, the Endpoints go. */
    assert_int_equal(cf_delete(f, "Service", "shop", "web"), 0);
    assert_ep(f, "none");
    free(rv);
    cf_free(f);
}

static void leftovers_go_at_start_selectorless_kept(void **state)
{
    ctl_fix_t *f = cf_new(NULL);
    f->mode = HK_IGNORE;
    /* Stop the controllers, leave an orphan and a user's Endpoints, start them again. */
    minik_controllers_free(f->ctl);
    cf_run_for(f, 50);
    cf_create(f, cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Endpoints\",\"metadata\":{"
                             "\"name\":\"web\",\"namespace\":\"shop\"},\"subsets\":[]}"));
    cf_create(f, cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{"
                             "\"name\":\"ext\",\"namespace\":\"shop\"},\"spec\":{\"ports\":[{"
                             "\"port\":5432}]}}"));
    cf_create(f, cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Endpoints\",\"metadata\":{"
                             "\"name\":\"ext\",\"namespace\":\"shop\"},\"subsets\":[{"
                             "\"addresses\":[{\"ip\":\"192.168.1.50\"}],\"ports\":[{\"port\":"
                             "5432}]}]}"));
    minik_error_t *err = NULL;
    minik_controllers_opts_t o = {.node_grace_ms = 3600000, .pod_eviction_ms = 3600000};
    assert_int_equal(minik_controllers_new(f->store, &f->loop, &o, &f->ctl, &err), 0);
    assert_int_equal(minik_controllers_start(f->ctl, &err), 0);
    assert_ep(f, "none");
    cf_create(f, live_pod("a", "x", "10.42.0.9", "True"));
    cf_run_for(f, 300);
    cJSON *ext = cf_get(f, "Endpoints", "shop", "ext");
    assert_non_null(ext);
    assert_string_equal(
        cf_str(cJSON_GetArrayItem(
                   cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(ext, "subsets"), 0),
                                       "addresses"),
                   0),
               "ip"),
        "192.168.1.50");
    cJSON_Delete(ext);
    cf_free(f);
}

/* A Service and pods stored while the controllers were down: at start the Endpoints are
 * computed from the rebuilt pod index, and later pod events reach the Service through the
 * set of selector Services filled from the start-up list. A Service that drops its
 * selector stops being managed: its Endpoints are left as they are. */
static void services_from_before_a_restart_follow_pods(void **state)
{
    ctl_fix_t *f = cf_new(NULL);
    f->mode = HK_IGNORE;
    minik_controllers_free(f->ctl);
    cf_run_for(f, 50);
    cf_create(f, live_pod("a", "web", "10.42.0.9", "True"));
    cf_create(f, live_pod("x", "db", "10.42.0.20", "True"));
    cf_create(f, web_service());
    minik_error_t *err = NULL;
    minik_controllers_opts_t o = {.node_grace_ms = 3600000, .pod_eviction_ms = 3600000};
    assert_int_equal(minik_controllers_new(f->store, &f->loop, &o, &f->ctl, &err), 0);
    assert_int_equal(minik_controllers_start(f->ctl, &err), 0);
    assert_ep(f, "10.42.0.9=a |");
    cf_create(f, live_pod("b", "web", "10.42.0.10", "False"));
    assert_ep(f, "10.42.0.9=a |10.42.0.10=b ");
    set_ready(f, "b", "True");
    assert_ep(f, "10.42.0.9=a 10.42.0.10=b |");

    /* Selector removed: the Endpoints are the user's now and no pod event changes them. */
    cJSON *svc = cf_get(f, "Service", "shop", "web");
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(svc, "spec"), "selector");
    cf_update(f, svc);
    cf_run_for(f, 300);
    char *rv = ep_rv(f);
    set_ready(f, "a", "False");
    cf_run_for(f, 300);
    char *rv2 = ep_rv(f);
    assert_string_equal(rv, rv2);
    assert_ep(f, "10.42.0.9=a 10.42.0.10=b |");
    free(rv);
    free(rv2);
    cf_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ready_and_not_ready_pods_by_port),
        cmocka_unit_test(terminating_and_finished_pods_leave),
        cmocka_unit_test(publish_not_ready_and_no_selector),
        cmocka_unit_test(no_matching_pods_gives_empty_subsets),
        cmocka_unit_test(controller_keeps_endpoints_current),
        cmocka_unit_test(leftovers_go_at_start_selectorless_kept),
        cmocka_unit_test(services_from_before_a_restart_follow_pods),
    };
    return cmocka_run_group_tests_name("endpoints", tests, NULL, NULL);
}
