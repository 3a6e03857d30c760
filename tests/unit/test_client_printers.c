/* Unit tests for what the client commands print: kubectl's ages, table layout, the
 * per-kind columns of `get`, object references, and `describe`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cli/describe.h"
#include "cli/printers.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/timestamp.h"

static const char *const no_short[] = {NULL};
#define KIND(var, k_, g_, av_, pl_, ns_)                                                           \
    static const minik_kind_t var = {.kind = k_,                                                   \
                                     .group = g_,                                                  \
                                     .version = "v1",                                              \
                                     .api_version = av_,                                           \
                                     .plural = pl_,                                                \
                                     .singular = pl_,                                              \
                                     .short_names = no_short,                                      \
                                     .namespaced = ns_}
KIND(pod_kind, "Pod", "", "v1", "pods", true);
KIND(deploy_kind, "Deployment", "apps", "apps/v1", "deployments", true);
KIND(svc_kind, "Service", "", "v1", "services", true);
KIND(node_kind, "Node", "", "v1", "nodes", false);
KIND(cm_kind, "ConfigMap", "", "v1", "configmaps", true);
KIND(secret_kind, "Secret", "", "v1", "secrets", true);
KIND(ev_kind, "Event", "", "v1", "events", true);
KIND(rs_kind, "ReplicaSet", "apps", "apps/v1", "replicasets", true);
KIND(ds_kind, "DaemonSet", "apps", "apps/v1", "daemonsets", true);
KIND(job_kind, "Job", "batch", "batch/v1", "jobs", true);

/* 2026-11-26T12:00:00Z */
#define T0 1795694400

static void ages_like_kubectl(void **state)
{
    static const struct {
        int64_t s;
        const char *want;
    } cases[] = {
        {-5, "<invalid>"},
        {-1, "0s"},
        {0, "0s"},
        {5, "5s"},
        {119, "119s"},
        {120, "2m"},
        {182, "3m2s"},
        {599, "9m59s"},
        {600, "10m"},
        {10799, "179m"},
        {10800, "3h"},
        {4 * 3600 + 30 * 60, "4h30m"},
        {8 * 3600, "8h"},
        {47 * 3600, "47h"},
        {48 * 3600, "2d"},
        {53 * 3600, "2d5h"},
        {8 * 86400, "8d"},
        {400 * 86400, "400d"},
        {740 * 86400, "2y10d"},
        {730 * 86400, "2y"},
        {9 * 365 * 86400LL, "9y"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cleanup_free char *got = minik_format_age(cases[i].s);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("age(%lld) = %s, want %s", (long long)cases[i].s, got, cases[i].want);
    }
}

static void timestamps_parse_as_rfc3339(void **state)
{
    assert_int_equal(minik_timestamp_parse("2026-11-26T12:00:00Z"), T0);
    assert_int_equal(minik_timestamp_parse("2026-11-26T12:00:00.123456Z"), T0);
    assert_int_equal(minik_timestamp_parse("2026-11-26T13:30:00+01:30"), T0);
    assert_int_equal(minik_timestamp_parse("2026-11-26T10:00:00-02:00"), T0);
    assert_int_equal(minik_timestamp_parse("2026-11-26 12:00:00Z"), -1);
    assert_int_equal(minik_timestamp_parse("2026-11-26T12:00:00"), -1);
    assert_int_equal(minik_timestamp_parse("2026-11-26T12:00:00Zjunk"), -1);
    assert_int_equal(minik_timestamp_parse(NULL), -1);
}

static void dotted_paths_walk_objects(void **state)
{
    cleanup_cjson cJSON *o = cJSON_Parse("{\"status\":{\"podIP\":\"10.0.0.5\",\"n\":{\"x\":1}},"
                                         "\"spec\":[1]}");
    assert_string_equal(minik_json_at(o, "status.podIP")->valuestring, "10.0.0.5");
    assert_int_equal(minik_json_at(o, "status.n.x")->valueint, 1);
    assert_ptr_equal(minik_json_at(o, ""), o);
    assert_null(minik_json_at(o, "status.missing"));
    assert_null(minik_json_at(o, "status.podIP.deeper"));
    assert_null(minik_json_at(NULL, "status"));
    char longkey[200];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    assert_null(minik_json_at(o, longkey));
}

static void tables_pad_columns_by_three(void **state)
{
    static const char *const h[] = {"NAME", "READY", "AGE"};
    minik_table_t *t = minik_table_new(h, 3);
    char *r1[] = {strdup("web-7d4b9c-abcde"), strdup("1/1"), strdup("5s")};
    char *r2[] = {strdup("db"), strdup("0/1"), strdup("3m2s")};
    minik_table_add_row_owned(t, r1);
    minik_table_add_row_owned(t, r2);
    minik_buf_t out = MINIK_BUF_INIT;
    minik_table_render(t, false, &out);
    assert_string_equal(out.data, "NAME               READY   AGE\n"
                                  "web-7d4b9c-abcde   1/1     5s\n"
                                  "db                 0/1     3m2s\n");
    minik_buf_reset(&out);
    minik_table_render(t, true, &out);
    assert_string_equal(out.data, "web-7d4b9c-abcde   1/1   5s\n"
                                  "db                 0/1   3m2s\n");
    minik_buf_free(&out);
    minik_table_free(t);
}

static char *row_text(const minik_kind_t *k, const char *json, bool wide, const char *prefix)
{
    cleanup_cjson cJSON *o = cJSON_Parse(json);
    assert_non_null(o);
    size_t n;
    minik_printer_headers(k, wide, &n);
    char **cells = minik_printer_row(k, o, wide, T0 + 65, prefix);
    minik_buf_t b = MINIK_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        minik_buf_appendf(&b, "%s%s", i ? "|" : "", cells[i]);
        free(cells[i]);
    }
    free(cells);
    return minik_buf_steal(&b);
}

static char *headers_text(const minik_kind_t *k, bool wide)
{
    size_t n;
    const char *const *h = minik_printer_headers(k, wide, &n);
    minik_buf_t b = MINIK_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        minik_buf_appendf(&b, "%s%s", i ? "|" : "", h[i]);
    return minik_buf_steal(&b);
}

#define CREATED "\"creationTimestamp\":\"2026-11-26T12:00:00Z\""

static void pod_rows(void **state)
{
    cleanup_free char *h = headers_text(&pod_kind, false);
    assert_string_equal(h, "NAME|READY|STATUS|RESTARTS|AGE");
    cleanup_free char *hw = headers_text(&pod_kind, true);
    assert_string_equal(hw, "NAME|READY|STATUS|RESTARTS|AGE|IP|NODE");
    static const char running[] =
        "{\"metadata\":{\"name\":\"web-1\"," CREATED "},"
        "\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},"
        "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.42.0.5\",\"containerStatuses\":["
        "{\"name\":\"a\",\"ready\":true,\"restartCount\":2,\"state\":{\"running\":{}}},"
        "{\"name\":\"b\",\"ready\":false,\"restartCount\":1,\"state\":{\"running\":{}}}]}}";
    cleanup_free char *r = row_text(&pod_kind, running, true, NULL);
    assert_string_equal(r, "web-1|1/2|Running|3|65s|10.42.0.5|n1");
    static const char pending[] = "{\"metadata\":{\"name\":\"p\"," CREATED "},"
                                  "\"spec\":{\"containers\":[{\"name\":\"a\"}]}}";
    cleanup_free char *p = row_text(&pod_kind, pending, true, "pod/");
    assert_string_equal(p, "pod/p|0/1|Pending|0|65s|<none>|<none>");
    static const char crash[] =
        "{\"metadata\":{\"name\":\"c\"," CREATED "},\"spec\":{\"containers\":[{}]},"
        "\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"restartCount\":5,"
        "\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}}]}}";
    cleanup_free char *c = row_text(&pod_kind, crash, false, NULL);
    assert_string_equal(c, "c|0/1|CrashLoopBackOff|5|65s");
    static const char deleting[] = "{\"metadata\":{\"name\":\"d\",\"deletionTimestamp\":\"x\"},"
                                   "\"status\":{\"phase\":\"Running\"}}";
    cleanup_free char *d = row_text(&pod_kind, deleting, false, NULL);
    assert_string_equal(d, "d|0/0|Terminating|0|<unknown>");
}

static void deployment_service_node_rows(void **state)
{
    cleanup_free char *h = headers_text(&deploy_kind, false);
    assert_string_equal(h, "NAME|READY|UP-TO-DATE|AVAILABLE|AGE");
    static const char dep[] =
        "{\"metadata\":{\"name\":\"web\"," CREATED "},\"spec\":{\"replicas\":3,"
        "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"spec\":{"
        "\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.25\"}]}}},"
        "\"status\":{\"readyReplicas\":2,\"updatedReplicas\":3,\"availableReplicas\":2}}";
    cleanup_free char *d = row_text(&deploy_kind, dep, true, NULL);
    assert_string_equal(d, "web|2/3|3|2|65s|nginx|nginx:1.25|app=web");

    /* Containers without names or images, labels that are not a map: no leak, no crash
     * (found by fuzz_client_objects). */
    static const char odd[] = "{\"metadata\":{\"name\":\"odd\"},\"spec\":{\"template\":{"
                              "\"spec\":{\"containers\":[{}]}},\"selector\":{\"matchLabels\":"
                              "[\"x\"]}}}";
    cleanup_free char *o = row_text(&deploy_kind, odd, true, NULL);
    assert_string_equal(o, "odd|0/1|0|0|<unknown>|<none>|<none>|<none>");

    cleanup_free char *hs = headers_text(&svc_kind, false);
    assert_string_equal(hs, "NAME|TYPE|CLUSTER-IP|EXTERNAL-IP|PORT(S)|AGE");
    static const char svc[] =
        "{\"metadata\":{\"name\":\"web\"," CREATED "},\"spec\":{\"type\":\"NodePort\","
        "\"clusterIP\":\"10.43.0.10\",\"ports\":[{\"port\":80,\"nodePort\":30080},"
        "{\"port\":53,\"protocol\":\"UDP\"}]}}";
    cleanup_free char *s = row_text(&svc_kind, svc, false, NULL);
    assert_string_equal(s, "web|NodePort|10.43.0.10|<none>|80:30080/TCP,53/UDP|65s");

    cleanup_free char *hn = headers_text(&node_kind, false);
    assert_string_equal(hn, "NAME|STATUS|ROLES|AGE|VERSION");
    static const char node[] =
        "{\"metadata\":{\"name\":\"n1\"," CREATED ",\"labels\":{"
        "\"node-role.kubernetes.io/control-plane\":\"\",\"x\":\"y\"}},"
        "\"spec\":{\"unschedulable\":true},\"status\":{\"conditions\":[{\"type\":\"Ready\","
        "\"status\":\"True\"}],\"nodeInfo\":{\"kubeletVersion\":\"minik-0.1.0\"}}}";
    cleanup_free char *n = row_text(&node_kind, node, false, NULL);
    assert_string_equal(n, "n1|Ready,SchedulingDisabled|control-plane|65s|minik-0.1.0");
    static const char node2[] = "{\"metadata\":{\"name\":\"n2\"},\"status\":{\"conditions\":["
                                "{\"type\":\"Ready\",\"status\":\"False\"}]}}";
    cleanup_free char *n2 = row_text(&node_kind, node2, false, NULL);
    assert_string_equal(n2, "n2|NotReady|<none>|<unknown>|");
}

static void configmap_secret_event_rows(void **state)
{
    static const char cm[] = "{\"metadata\":{\"name\":\"cfg\"," CREATED "},"
                             "\"data\":{\"a\":\"1\",\"b\":\"2\"},\"binaryData\":{\"c\":\"AA==\"}}";
    cleanup_free char *c = row_text(&cm_kind, cm, false, NULL);
    assert_string_equal(c, "cfg|3|65s");
    static const char sec[] = "{\"metadata\":{\"name\":\"s\"," CREATED "},"
                              "\"type\":\"kubernetes.io/tls\",\"data\":{\"a\":\"MQ==\"}}";
    cleanup_free char *s = row_text(&secret_kind, sec, false, NULL);
    assert_string_equal(s, "s|kubernetes.io/tls|1|65s");
    cleanup_free char *he = headers_text(&ev_kind, false);
    assert_string_equal(he, "LAST SEEN|TYPE|REASON|OBJECT|MESSAGE");
    static const char ev[] = "{\"metadata\":{\"name\":\"e\"},\"type\":\"Normal\","
                             "\"reason\":\"Scheduled\",\"lastTimestamp\":\"2026-11-26T12:00:00Z\","
                             "\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"web-1\"},"
                             "\"message\":\"assigned to n1\"}";
    cleanup_free char *e = row_text(&ev_kind, ev, false, NULL);
    assert_string_equal(e, "65s|Normal|Scheduled|pod/web-1|assigned to n1");
}

static void discovered_kind_rows(void **state)
{
    cleanup_free char *h = headers_text(&rs_kind, false);
    assert_string_equal(h, "NAME|DESIRED|CURRENT|READY|AGE");
    static const char rs[] = "{\"metadata\":{\"name\":\"web-7d\"," CREATED "},\"spec\":{"
                             "\"replicas\":3},\"status\":{\"replicas\":3,\"readyReplicas\":2}}";
    cleanup_free char *r = row_text(&rs_kind, rs, false, NULL);
    assert_string_equal(r, "web-7d|3|3|2|65s");
    cleanup_free char *hd = headers_text(&ds_kind, false);
    assert_string_equal(hd, "NAME|DESIRED|CURRENT|READY|UP-TO-DATE|AVAILABLE|NODE SELECTOR|AGE");
    static const char ds[] =
        "{\"metadata\":{\"name\":\"logs\"," CREATED "},\"spec\":{\"template\":{\"spec\":{"
        "\"nodeSelector\":{\"disk\":\"ssd\"}}}},\"status\":{\"desiredNumberScheduled\":2,"
        "\"currentNumberScheduled\":2,\"numberReady\":1,\"updatedNumberScheduled\":2,"
        "\"numberAvailable\":1}}";
    cleanup_free char *d = row_text(&ds_kind, ds, false, NULL);
    assert_string_equal(d, "logs|2|2|1|2|1|disk=ssd|65s");
    cleanup_free char *hj = headers_text(&job_kind, false);
    assert_string_equal(hj, "NAME|COMPLETIONS|DURATION|AGE");
    static const char job[] =
        "{\"metadata\":{\"name\":\"pi\"," CREATED "},\"spec\":{\"completions\":3},"
        "\"status\":{\"succeeded\":3,\"startTime\":\"2026-11-26T12:00:00Z\","
        "\"completionTime\":\"2026-11-26T12:00:42Z\"}}";
    cleanup_free char *j = row_text(&job_kind, job, false, NULL);
    assert_string_equal(j, "pi|3/3|42s|65s");
}

static void object_refs(void **state)
{
    cleanup_free char *a = minik_object_ref(&deploy_kind, "web");
    assert_string_equal(a, "deployment.apps/web");
    cleanup_free char *b = minik_object_ref(&pod_kind, "web-1");
    assert_string_equal(b, "pod/web-1");
    cleanup_free char *rs = minik_object_ref(&rs_kind, "web-7d");
    assert_string_equal(rs, "replicaset.apps/web-7d");
    cleanup_free char *c = minik_object_ref(&cm_kind, "x");
    assert_string_equal(c, "configmap/x");
}

static char *describe(const minik_kind_t *k, const char *json, const char *events_json)
{
    cleanup_cjson cJSON *o = cJSON_Parse(json);
    cleanup_cjson cJSON *ev = events_json ? cJSON_Parse(events_json) : NULL;
    assert_non_null(o);
    minik_buf_t b = MINIK_BUF_INIT;
    minik_describe(k, o, ev, T0 + 65, &b);
    return minik_buf_steal(&b);
}

static void describe_deployment_with_events(void **state)
{
    static const char dep[] =
        "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"," CREATED ","
        "\"labels\":{\"app\":\"web\"}},\"spec\":{\"replicas\":3,"
        "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{"
        "\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"nginx\","
        "\"image\":\"nginx:1.25\",\"ports\":[{\"containerPort\":80}]}]}}},"
        "\"status\":{\"replicas\":3,\"updatedReplicas\":3,\"availableReplicas\":2,"
        "\"unavailableReplicas\":1}}";
    static const char events[] =
        "[{\"type\":\"Normal\",\"reason\":\"ScalingReplicaSet\",\"count\":2,"
        "\"firstTimestamp\":\"2026-11-26T11:50:00Z\",\"lastTimestamp\":\"2026-11-26T12:00:00Z\","
        "\"source\":{\"component\":\"deployment-controller\"},\"message\":\"Scaled up to 3\"}]";
    cleanup_free char *d = describe(&deploy_kind, dep, events);
    assert_string_equal(d, "Name:                   web\n"
                           "Namespace:              default\n"
                           "CreationTimestamp:      Thu, 26 Nov 2026 12:00:00 +0000\n"
                           "Labels:                 app=web\n"
                           "Annotations:            <none>\n"
                           "Selector:               app=web\n"
                           "Replicas:               3 desired | 3 updated | 3 total | 2 "
                           "available | 1 unavailable\n"
                           "StrategyType:           RollingUpdate\n"
                           "MinReadySeconds:        0\n"
                           "RollingUpdateStrategy:  25% max unavailable, 25% max surge\n"
                           "Pod Template:\n"
                           "  Labels:  app=web\n"
                           "  Containers:\n"
                           "   nginx:\n"
                           "    Image:        nginx:1.25\n"
                           "    Port:         80/TCP\n"
                           "    Environment:  <none>\n"
                           "\n"
                           "Events:\n"
                           "  Type     Reason              Age                 From          "
                           "          Message\n"
                           "  ----     ------              ----                ----          "
                           "          -------\n"
                           "  Normal   ScalingReplicaSet   65s (x2 over 11m)   deployment-con"
                           "troller   Scaled up to 3\n");
}

static void describe_configmap_and_secret(void **state)
{
    static const char cm[] = "{\"metadata\":{\"name\":\"cfg\",\"namespace\":\"default\"},"
                             "\"data\":{\"k\":\"v\"}}";
    cleanup_free char *d = describe(&cm_kind, cm, NULL);
    assert_string_equal(d, "Name:         cfg\n"
                           "Namespace:    default\n"
                           "Labels:       <none>\n"
                           "Annotations:  <none>\n"
                           "\nData\n====\nk:\n----\nv\n"
                           "\nEvents:  <none>\n");
    /* Secret values never appear, only their decoded sizes. */
    static const char sec[] = "{\"metadata\":{\"name\":\"s\",\"namespace\":\"default\"},"
                              "\"data\":{\"password\":\"aHVudGVyMg==\"}}";
    cleanup_free char *s = describe(&secret_kind, sec, "[]");
    assert_null(strstr(s, "aHVudGVyMg"));
    assert_non_null(strstr(s, "password:  7 bytes\n"));
    assert_non_null(strstr(s, "Type:         Opaque\n"));
}

static void describe_pod_containers(void **state)
{
    static const char pod[] =
        "{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\",\"ownerReferences\":["
        "{\"kind\":\"ReplicaSet\",\"name\":\"web-7d\"}]},\"spec\":{\"nodeName\":\"n1\","
        "\"containers\":[{\"name\":\"app\",\"image\":\"busybox\",\"env\":[{\"name\":\"A\","
        "\"value\":\"1\"}]}]},\"status\":{\"phase\":\"Running\",\"podIP\":\"10.42.0.9\","
        "\"containerStatuses\":[{\"name\":\"app\",\"ready\":true,\"restartCount\":1,"
        "\"state\":{\"running\":{}}}],\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}";
    cleanup_free char *d = describe(&pod_kind, pod, NULL);
    assert_non_null(strstr(d, "Node:           n1\n"));
    assert_non_null(strstr(d, "Status:         Running\n"));
    assert_non_null(strstr(d, "IP:             10.42.0.9\n"));
    assert_non_null(strstr(d, "Controlled By:  ReplicaSet/web-7d\n"));
    assert_non_null(strstr(d, "    State:          Running\n"));
    assert_non_null(strstr(d, "    Restart Count:  1\n"));
    assert_non_null(strstr(d, "Containers:\n  app:\n    Image:          busybox\n"));
    assert_non_null(strstr(d, "      A:  1\n"));
    assert_non_null(strstr(d, "Conditions:\n  Type    Status\n  ----    ------\n  Ready   True\n"));
}

static void describe_service_and_node(void **state)
{
    static const char svc[] =
        "{\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"},\"spec\":{\"type\":"
        "\"NodePort\",\"clusterIP\":\"10.43.0.10\",\"selector\":{\"app\":\"web\"},\"ports\":"
        "[{\"name\":\"http\",\"port\":80,\"targetPort\":8080,\"nodePort\":30080,"
        "\"protocol\":\"TCP\"}]}}";
    cleanup_free char *d = describe(&svc_kind, svc, NULL);
    assert_string_equal(d, "Name:              web\n"
                           "Namespace:         shop\n"
                           "Labels:            <none>\n"
                           "Annotations:       <none>\n"
                           "Selector:          app=web\n"
                           "Type:              NodePort\n"
                           "IP:                10.43.0.10\n"
                           "Port:              http  80/TCP\n"
                           "TargetPort:        8080/TCP\n"
                           "NodePort:          http  30080/TCP\n"
                           "Session Affinity:  None\n"
                           "\nEvents:  <none>\n");
    /* `get endpoints`: every port, three addresses at most, as kubectl prints them. */
    const minik_kind_t *ep_k = minik_kind_by_name("endpoints");
    assert_non_null(ep_k);
    cleanup_cjson cJSON *eps = cJSON_Parse(
        "{\"metadata\":{\"name\":\"web\"},\"subsets\":[{\"addresses\":[{\"ip\":\"10.42.0.5\"},"
        "{\"ip\":\"10.42.1.5\"}],\"ports\":[{\"port\":8080},{\"port\":9100}]}]}");
    cleanup_free char **row = minik_printer_row(ep_k, eps, false, T0, NULL);
    assert_string_equal(row[1], "10.42.0.5:8080,10.42.1.5:8080,10.42.0.5:9100 + 1 more...");
    for (int i = 0; i < 3; i++)
        free(row[i]);
    /* With its Endpoints (kubectl: ready addresses of the port's name, three at most). */
    cleanup_cjson cJSON *so = cJSON_Parse(svc);
    cleanup_cjson cJSON *ep = cJSON_Parse(
        "{\"subsets\":[{\"addresses\":[{\"ip\":\"10.42.0.5\"},{\"ip\":\"10.42.1.5\"}],"
        "\"notReadyAddresses\":[{\"ip\":\"10.42.2.5\"}],\"ports\":[{\"name\":\"http\","
        "\"port\":8080}]},{\"addresses\":[{\"ip\":\"10.42.3.5\"},{\"ip\":\"10.42.4.5\"}],"
        "\"ports\":[{\"name\":\"http\",\"port\":8081},{\"name\":\"metrics\",\"port\":9100}]}]}");
    minik_buf_t b = MINIK_BUF_INIT;
    minik_describe_with(&svc_kind, so, ep, NULL, T0, &b);
    assert_non_null(strstr(b.data,
                           "NodePort:          http  30080/TCP\n"
                           "Endpoints:         10.42.0.5:8080,10.42.1.5:8080,10.42.3.5:8081 "
                           "+ 1 more...\n"
                           "Session Affinity:  None\n"));
    minik_buf_free(&b);
    cleanup_cjson cJSON *none = cJSON_CreateObject();
    minik_describe_with(&svc_kind, so, none, NULL, T0, &b);
    assert_non_null(strstr(b.data, "Endpoints:         <none>\n"));
    minik_buf_free(&b);
    static const char node[] =
        "{\"metadata\":{\"name\":\"n1\",\"creationTimestamp\":\"2026-11-26T12:00:00Z\","
        "\"labels\":{\"node-role.kubernetes.io/control-plane\":\"\"}},\"spec\":{},"
        "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":"
        "\"AgentReady\"}],\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.0.0.2\"}],"
        "\"capacity\":{\"cpu\":\"2\"},\"nodeInfo\":{\"kubeletVersion\":\"minik-0.1.0\"}}}";
    cleanup_free char *n = describe(&node_kind, node, NULL);
    assert_non_null(strstr(n, "Name:               n1\nRoles:              control-plane\n"));
    assert_non_null(strstr(n, "Unschedulable:      false\n"));
    assert_non_null(strstr(n, "Conditions:\n  Type    Status   Reason\n  ----    ------   ------\n"
                              "  Ready   True     AgentReady\n"));
    assert_non_null(strstr(n, "Addresses:\n  InternalIP:  10.0.0.2\n"));
    assert_non_null(strstr(n, "System Info:\n  kubeletVersion:  minik-0.1.0\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ages_like_kubectl),
        cmocka_unit_test(timestamps_parse_as_rfc3339),
        cmocka_unit_test(dotted_paths_walk_objects),
        cmocka_unit_test(tables_pad_columns_by_three),
        cmocka_unit_test(pod_rows),
        cmocka_unit_test(deployment_service_node_rows),
        cmocka_unit_test(configmap_secret_event_rows),
        cmocka_unit_test(discovered_kind_rows),
        cmocka_unit_test(object_refs),
        cmocka_unit_test(describe_deployment_with_events),
        cmocka_unit_test(describe_configmap_and_secret),
        cmocka_unit_test(describe_pod_containers),
        cmocka_unit_test(describe_service_and_node),
    };
    return cmocka_run_group_tests_name("client_printers", tests, NULL, NULL);
}
