/* Pod CIDR, ClusterIP and NodePort allocation: defaults, explicit values, conflicts (422),
 * release and replay after a restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "apiserver/netalloc.h"
#include "lib/cleanup.h"
#include "lib/error.h"

static minik_netalloc_t *alloc(const minik_netalloc_opts_t *o)
{
    minik_netalloc_t *a = NULL;
    cleanup_error minik_error_t *err = NULL;
    if (minik_netalloc_new(o, &a, &err) < 0)
        fail_msg("%s", err->msg);
    return a;
}

static const char *spec_str(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "spec"), k));
}

static int node_port(const cJSON *svc, int i)
{
    return cJSON_GetObjectItem(
               cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(svc, "spec"), "ports"),
                                  i),
               "nodePort")
        ->valueint;
}

static void nodes_get_consecutive_24s_and_reuse_after_delete(void **state)
{
    minik_netalloc_t *a = alloc(NULL);
    cleanup_error minik_error_t *err = NULL;
    cleanup_cjson cJSON *n1 = cJSON_Parse("{\"kind\":\"Node\",\"metadata\":{\"name\":\"a\"}}");
    cleanup_cjson cJSON *n2 =
        cJSON_Parse("{\"kind\":\"Node\",\"metadata\":{\"name\":\"b\"},\"spec\":{}}");
    assert_int_equal(minik_netalloc_node(a, n1, &err), 0);
    assert_int_equal(minik_netalloc_node(a, n2, &err), 0);
    assert_string_equal(spec_str(n1, "podCIDR"), "10.42.0.0/24");
    assert_string_equal(spec_str(n2, "podCIDR"), "10.42.1.0/24");
    cleanup_free char *cidrs =
        cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetObjectItem(n2, "spec"), "podCIDRs"));
    assert_string_equal(cidrs, "[\"10.42.1.0/24\"]");
    /* Explicit: honoured when free, 422 when taken or not ours. */
    cleanup_cjson cJSON *n3 =
        cJSON_Parse("{\"kind\":\"Node\",\"spec\":{\"podCIDR\":\"10.42.200.0/24\"}}");
    assert_int_equal(minik_netalloc_node(a, n3, &err), 0);
    assert_string_equal(spec_str(n3, "podCIDR"), "10.42.200.0/24");
    cleanup_cjson cJSON *n4 =
        cJSON_Parse("{\"kind\":\"Node\",\"spec\":{\"podCIDR\":\"10.42.1.0/24\"}}");
    assert_true(minik_netalloc_node(a, n4, &err) < 0);
    assert_int_equal(err->code, 422);
    assert_string_equal(err->msg,
                        "spec.podCIDR: Invalid value: \"10.42.1.0/24\": already allocated");
    minik_error_clear(&err);
    cleanup_cjson cJSON *n5 =
        cJSON_Parse("{\"kind\":\"Node\",\"spec\":{\"podCIDR\":\"192.168.0.0/24\"}}");
    assert_true(minik_netalloc_node(a, n5, &err) < 0);
    assert_non_null(strstr(err->msg, "not a /24 of the cluster CIDR"));
    minik_error_clear(&err);
    /* Released with the node: the next node may get it again (after the others). */
    minik_netalloc_release(a, n1);
    for (int i = 0; i < 253; i++) {
        cleanup_cjson cJSON *n = cJSON_Parse("{\"kind\":\"Node\"}");
        assert_int_equal(minik_netalloc_node(a, n, &err), 0);
    }
    cleanup_cjson cJSON *last = cJSON_Parse("{\"kind\":\"Node\"}");
    assert_int_equal(minik_netalloc_node(a, last, &err), 0);
    assert_string_equal(spec_str(last, "podCIDR"), "10.42.0.0/24");
    cleanup_cjson cJSON *full = cJSON_Parse("{\"kind\":\"Node\"}");
    assert_true(minik_netalloc_node(a, full, &err) < 0);
    assert_non_null(strstr(err->msg, "no free /24 left"));
    minik_netalloc_free(a);
}

static void cluster_ips_skip_reserved_and_honour_explicit(void **state)
{
    minik_netalloc_opts_t o = {.service_cidr = "10.96.0.0/29"};
    minik_netalloc_t *a = alloc(&o);
    cleanup_error minik_error_t *err = NULL;
    cleanup_cjson cJSON *s1 =
        cJSON_Parse("{\"kind\":\"Service\",\"spec\":{\"ports\":[{\"port\":80}]}}");
    assert_int_equal(minik_netalloc_service(a, s1, NULL, &err), 0);
    assert_string_equal(spec_str(s1, "clusterIP"), "10.96.0.2"); /* .0 and .1 reserved */
    cleanup_cjson cJSON *s2 =
        cJSON_Parse("{\"kind\":\"Service\",\"spec\":{\"clusterIP\":\"10.96.0.5\"}}");
    assert_int_equal(minik_netalloc_service(a, s2, NULL, &err), 0);
    assert_string_equal(spec_str(s2, "clusterIP"), "10.96.0.5");
    cleanup_cjson cJSON *s3 =
        cJSON_Parse("{\"kind\":\"Service\",\"spec\":{\"clusterIP\":\"10.96.0.5\"}}");
    assert_true(minik_netalloc_service(a, s3, NULL, &err) < 0);
    assert_int_equal(err->code, 422);
    assert_string_equal(err->msg, "spec.clusterIP: Invalid value: \"10.96.0.5\": provided IP is "
                                  "already allocated");
    minik_error_clear(&err);
    cleanup_cjson cJSON *s4 =
        cJSON_Parse("{\"kind\":\"Service\",\"spec\":{\"clusterIP\":\"10.96.0.1\"}}");
    assert_true(minik_netalloc_service(a, s4, NULL, &err) < 0);
    minik_error_clear(&err);
    cleanup_cjson cJSON *hl =
        cJSON_Parse("{\"kind\":\"Service\",\"spec\":{\"clusterIP\":\"None\"}}");
    assert_int_equal(minik_netalloc_service(a, hl, NULL, &err), 0);
    assert_string_equal(spec_str(hl, "clusterIP"), "None");
    /* .3 .4 .6 left (.7 is broadcast), then full. */
    for (int i = 0; i < 3; i++) {
        cleanup_cjson cJSON *s = cJSON_Parse("{\"kind\":\"Service\"}");
        assert_int_equal(minik_netalloc_service(a, s, NULL, &err), 0);
    }
    cleanup_cjson cJSON *s5 = cJSON_Parse("{\"kind\":\"Service\"}");
    assert_true(minik_netalloc_service(a, s5, NULL, &err) < 0);
    assert_non_null(strstr(err->msg, "service CIDR is full"));
    minik_error_clear(&err);
    /* Immutable on update; kept when the update leaves it out. */
    cleanup_cjson cJSON *upd =
        cJSON_Parse("{\"kind\":\"Service\",\"spec\":{\"clusterIP\":\"10.96.0.3\"}}");
    assert_true(minik_netalloc_service(a, upd, s2, &err) < 0);
    assert_non_null(strstr(err->msg, "field is immutable"));
    minik_error_clear(&err);
    cleanup_cjson cJSON *upd2 = cJSON_Parse("{\"kind\":\"Service\",\"spec\":{}}");
    assert_int_equal(minik_netalloc_service(a, upd2, s2, &err), 0);
    assert_string_equal(spec_str(upd2, "clusterIP"), "10.96.0.5");
    minik_netalloc_release(a, s2);
    assert_int_equal(minik_netalloc_service(a, s5, NULL, &err), 0);
    assert_string_equal(spec_str(s5, "clusterIP"), "10.96.0.5");
    minik_netalloc_free(a);
}

static void node_ports_explicit_conflicts_and_updates(void **state)
{
    minik_netalloc_t *a = alloc(NULL);
    cleanup_error minik_error_t *err = NULL;
    cleanup_cjson cJSON *s1 = cJSON_Parse(
        "{\"kind\":\"Service\",\"spec\":{\"type\":\"NodePort\",\"ports\":[{\"name\":\"a\","
        "\"port\":80},{\"name\":\"b\",\"port\":81,\"nodePort\":30000}]}}");
    assert_int_equal(minik_netalloc_service(a, s1, NULL, &err), 0);
    assert_int_equal(node_port(s1, 1), 30000);
    assert_int_equal(node_port(s1, 0), 30001);
    cleanup_cjson cJSON *s2 =
        cJSON_Parse("{\"kind\":\"Service\",\"spec\":{\"type\":\"NodePort\",\"ports\":[{\"port\":80,"
                    "\"nodePort\":30001}]}}");
    assert_true(minik_netalloc_service(a, s2, NULL, &err) < 0);
    assert_int_equal(err->code, 422);
    assert_string_equal(err->msg, "spec.ports[0].nodePort: Invalid value: 30001: provided port "
                                  "is already allocated");
    minik_error_clear(&err);
    /* A failed create gives back what it took; the search moves on regardless, so a
     * freed address is not handed out again at once (stale caches, clients). */
    cleanup_cjson cJSON *s3 = cJSON_Parse(
        "{\"kind\":\"Service\",\"spec\":{\"type\":\"NodePort\",\"ports\":[{\"port\":1},{\"port\":"
        "2,\"nodePort\":40000}]}}");
    assert_true(minik_netalloc_service(a, s3, NULL, &err) < 0);
    assert_non_null(strstr(err->msg, "spec.ports[1].nodePort: Invalid value: 40000: provided "
                                     "port is not in the valid range 30000-32767"));
    minik_error_clear(&err);
    cleanup_cjson cJSON *s4 = cJSON_Parse(
        "{\"kind\":\"Service\",\"spec\":{\"type\":\"NodePort\",\"ports\":[{\"port\":1}]}}");
    assert_int_equal(minik_netalloc_service(a, s4, NULL, &err), 0);
    assert_string_equal(spec_str(s4, "clusterIP"), "10.43.0.5");
    assert_int_equal(node_port(s4, 0), 30002); /* s3 failed on its explicit port first */
    /* Update: ports keep their nodePorts; a dropped one is released. */
    cleanup_cjson cJSON *u = cJSON_Parse(
        "{\"kind\":\"Service\",\"spec\":{\"type\":\"NodePort\",\"ports\":[{\"name\":\"a\","
        "\"port\":80}]}}");
    assert_int_equal(minik_netalloc_service(a, u, s1, &err), 0);
    assert_int_equal(node_port(u, 0), 30001);
    cleanup_cjson cJSON *s5 =
        cJSON_Parse("{\"kind\":\"Service\",\"spec\":{\"type\":\"NodePort\",\"ports\":[{\"port\":1,"
                    "\"nodePort\":30000}]}}");
    assert_int_equal(minik_netalloc_service(a, s5, NULL, &err), 0);
    /* ClusterIP services carry no nodePort. */
    cleanup_cjson cJSON *c = cJSON_Parse(
        "{\"kind\":\"Service\",\"spec\":{\"ports\":[{\"port\":1,\"nodePort\":30100}]}}");
    assert_int_equal(minik_netalloc_service(a, c, NULL, &err), 0);
    assert_null(cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(c, "spec"), "ports"), 0),
        "nodePort"));
    minik_netalloc_free(a);
}

static void replay_after_restart_and_bad_flags(void **state)
{
    minik_netalloc_t *a = alloc(NULL);
    cleanup_error minik_error_t *err = NULL;
    cleanup_cjson cJSON *svc = cJSON_Parse(
        "{\"kind\":\"Service\",\"spec\":{\"clusterIP\":\"10.43.0.2\",\"type\":\"NodePort\","
        "\"ports\":[{\"port\":1,\"nodePort\":30000}]}}");
    cleanup_cjson cJSON *node =
        cJSON_Parse("{\"kind\":\"Node\",\"spec\":{\"podCIDR\":\"10.42.0.0/24\"}}");
    minik_netalloc_observe(a, svc);
    minik_netalloc_observe(a, node);
    cleanup_cjson cJSON *s = cJSON_Parse(
        "{\"kind\":\"Service\",\"spec\":{\"type\":\"NodePort\",\"ports\":[{\"port\":1}]}}");
    assert_int_equal(minik_netalloc_service(a, s, NULL, &err), 0);
    assert_string_equal(spec_str(s, "clusterIP"), "10.43.0.3");
    assert_int_equal(node_port(s, 0), 30001);
    cleanup_cjson cJSON *n = cJSON_Parse("{\"kind\":\"Node\"}");
    assert_int_equal(minik_netalloc_node(a, n, &err), 0);
    assert_string_equal(spec_str(n, "podCIDR"), "10.42.1.0/24");
    minik_netalloc_free(a);

    minik_netalloc_t *b = NULL;
    minik_netalloc_opts_t bad1 = {.cluster_cidr = "10.42.0.1/16"};
    assert_true(minik_netalloc_new(&bad1, &b, &err) < 0);
    assert_string_equal(err->msg, "--cluster-cidr \"10.42.0.1/16\": not an IPv4 CIDR");
    minik_error_clear(&err);
    minik_netalloc_opts_t bad2 = {.cluster_cidr = "10.42.0.0/24"};
    assert_true(minik_netalloc_new(&bad2, &b, &err) < 0);
    assert_non_null(strstr(err->msg, "a /24 per node does not fit"));
    minik_error_clear(&err);
    minik_netalloc_opts_t bad3 = {.service_cidr = "nonsense"};
    assert_true(minik_netalloc_new(&bad3, &b, &err) < 0);
    assert_non_null(strstr(err->msg, "--service-cidr"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nodes_get_consecutive_24s_and_reuse_after_delete),
        cmocka_unit_test(cluster_ips_skip_reserved_and_honour_explicit),
        cmocka_unit_test(node_ports_explicit_conflicts_and_updates),
        cmocka_unit_test(replay_after_restart_and_bad_flags),
    };
    return cmocka_run_group_tests_name("netalloc", tests, NULL, NULL);
}
