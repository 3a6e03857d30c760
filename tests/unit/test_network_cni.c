/* CNI invocation against the real plugins in /usr/lib/cni, with pods as real network
 * namespaces. The whole runner moves into its own network namespace first, so the
 * minik0 bridge and veths it makes never touch the host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/network/cni.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "netns_helpers.h"

typedef struct {
    char *dir;
    minik_cni_config_t cfg;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = xcalloc(1, sizeof(*f));
    f->dir = netns_test_tmpdir();
    f->cfg.data_dir = f->dir;
    f->cfg.pod_cidr = "10.42.7.0/24";
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 4; i++) {
        cleanup_free char *p = xasprintf("%s/pod%d", f->dir, i);
        umount2(p, MNT_DETACH); /* not every test made every pod */
    }
    /* A test that failed halfway may leave the bridge; the next one starts clean. */
    if (system("ip link del minik0 2>/dev/null") != 0) {
        /* usually there is none */
    }
    netns_test_rmdir(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static char *make_pod(fixture_t *f, int i)
{
    char *p = xasprintf("%s/pod%d", f->dir, i);
    assert_int_equal(netns_test_make(p), 0);
    return p;
}

static bool exists(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool exists(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cleanup_free char *p = NULL;
    if (vasprintf(&p, fmt, ap) < 0)
        abort();
    va_end(ap);
    struct stat st;
    return stat(p, &st) == 0;
}

static int count_bridge_ports(void)
{
    /* Not /sys/class/net: sysfs shows the namespace it was mounted in, not ours. */
    FILE *p = popen("ip -o link show master minik0 2>/dev/null | wc -l", "r");
    int n = -1;
    if (!p || fscanf(p, "%d", &n) != 1)
        n = -1;
    if (p)
        pclose(p);
    return n;
}

static void conflist_is_bridge_hostlocal_portmap(void **state)
{
    minik_cni_config_t c = {.data_dir = "/var/lib/minik/cni", .pod_cidr = "10.42.3.0/24"};
    cleanup_free char *text = minik_cni_conflist(&c);
    cleanup_cjson cJSON *j = cJSON_Parse(text);
    cleanup_free char *flat = cJSON_PrintUnformatted(j);
    assert_string_equal(
        flat, "{\"cniVersion\":\"1.0.0\",\"name\":\"minik\",\"plugins\":[{\"type\":\"bridge\","
              "\"bridge\":\"minik0\",\"isGateway\":true,\"ipMasq\":false,\"hairpinMode\":true,"
              "\"ipam\":{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.42.3.0/24\"}]],"
              "\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dataDir\":\"/var/lib/minik/cni/ipam\"}},"
              "{\"type\":\"portmap\",\"capabilities\":{\"portMappings\":true},\"snat\":true}]}");
}

static void port_mappings_from_pod_host_ports(void **state)
{
    cleanup_cjson cJSON *pod = cJSON_Parse(
        "{\"spec\":{\"containers\":[{\"ports\":[{\"containerPort\":80,\"hostPort\":8080},"
        "{\"containerPort\":53,\"hostPort\":5353,\"protocol\":\"UDP\",\"hostIP\":\"127.0.0.1\"},"
        "{\"containerPort\":9000}]}]}}");
    cleanup_cjson cJSON *pm = minik_cni_port_mappings(pod);
    cleanup_free char *s = cJSON_PrintUnformatted(pm);
    assert_string_equal(s, "[{\"hostPort\":8080,\"containerPort\":80,\"protocol\":\"tcp\"},"
                           "{\"hostPort\":5353,\"containerPort\":53,\"protocol\":\"udp\","
                           "\"hostIP\":\"127.0.0.1\"}]");
}

static void plugin_error_object_becomes_the_message(void **state)
{
    cleanup_error minik_error_t *err = NULL;
    cJSON *out = NULL;
    assert_true(
        minik_cni_parse_output(
            "bridge", "ADD",
            "{\"cniVersion\":\"1.0.0\",\"code\":7,\"msg\":\"bad subnet\",\"details\":\"x\"}", 1,
            &out, &err) < 0);
    assert_null(out);
    assert_string_equal(err->msg, "cni bridge ADD: bad subnet: x (code 7)");
    assert_int_equal(err->code, 7);
    minik_error_clear(&err);
    assert_true(minik_cni_parse_output("bridge", "ADD", "panic: oops", 2, &out, &err) < 0);
    assert_string_equal(err->msg, "cni bridge ADD: exited with status 2: panic: oops");
    minik_error_clear(&err);
    assert_true(minik_cni_parse_output("bridge", "ADD", "[1]", 0, &out, &err) < 0);
    assert_non_null(strstr(err->msg, "not a JSON object"));
    minik_error_clear(&err);
    assert_int_equal(minik_cni_parse_output("bridge", "DEL", "", 0, &out, &err), 0);
    assert_null(out);
}

static void add_gives_an_ip_that_reaches_the_bridge(void **state)
{
    fixture_t *f = *state;
    cleanup_free char *pod = make_pod(f, 0);
    minik_cni_result_t res;
    cleanup_error minik_error_t *err = NULL;
    int r = minik_cni_add(&f->cfg, "uid-a", pod, NULL, NULL, &res, &err);
    if (r < 0)
        fail_msg("%s", err->msg);
    assert_string_equal(res.ip, "10.42.7.2");
    assert_string_equal(res.gateway, "10.42.7.1");
    assert_int_equal(res.prefix, 24);
    /* The pod has eth0 with its address, lo up, and the bridge answers. */
    assert_int_equal(netns_test_run(pod, "ip -4 addr show eth0 | grep -q 10.42.7.2/24"), 0);
    assert_int_equal(netns_test_run(pod, "ip link show lo | grep -q UP"), 0);
    assert_int_equal(netns_test_run(pod, "busybox ping -c 1 -W 2 10.42.7.1 >/dev/null"), 0);
    assert_true(exists("%s/ipam/minik/10.42.7.2", f->dir));
    assert_int_equal(minik_cni_check(&f->cfg, "uid-a", &err), 0);
    /* What an agent restarting finds again. */
    bool found = false;
    minik_cni_result_t again;
    assert_int_equal(minik_cni_lookup(&f->cfg, "uid-a", &found, &again, &err), 0);
    assert_true(found);
    assert_string_equal(again.ip, "10.42.7.2");
    minik_cni_result_clear(&again);
    assert_int_equal(minik_cni_del(&f->cfg, "uid-a", &err), 0);
    assert_int_equal(minik_cni_lookup(&f->cfg, "uid-a", &found, &again, &err), 0);
    assert_false(found);
    minik_cni_result_clear(&res);
}

static void two_pods_reach_each_other(void **state)
{
    fixture_t *f = *state;
    cleanup_free char *p1 = make_pod(f, 1);
    cleanup_free char *p2 = make_pod(f, 2);
    minik_cni_result_t r1, r2;
    cleanup_error minik_error_t *err = NULL;
    if (minik_cni_add(&f->cfg, "uid-1", p1, NULL, NULL, &r1, &err) < 0 ||
        minik_cni_add(&f->cfg, "uid-2", p2, NULL, NULL, &r2, &err) < 0)
        fail_msg("%s", err->msg);
    assert_string_not_equal(r1.ip, r2.ip);
    assert_int_equal(netns_test_run(p1, "busybox ping -c 1 -W 2 %s >/dev/null", r2.ip), 0);
    assert_int_equal(netns_test_run(p2, "busybox ping -c 1 -W 2 %s >/dev/null", r1.ip), 0);
    assert_int_equal(minik_cni_del(&f->cfg, "uid-1", &err), 0);
    assert_int_equal(minik_cni_del(&f->cfg, "uid-2", &err), 0);
    minik_cni_result_clear(&r1);
    minik_cni_result_clear(&r2);
}

static void del_releases_ip_and_veth(void **state)
{
    fixture_t *f = *state;
    cleanup_free char *pod = make_pod(f, 0);
    minik_cni_result_t res;
    cleanup_error minik_error_t *err = NULL;
    if (minik_cni_add(&f->cfg, "uid-d", pod, NULL, NULL, &res, &err) < 0)
        fail_msg("%s", err->msg);
    assert_true(exists("%s/ipam/minik/%s", f->dir, res.ip));
    assert_int_equal(count_bridge_ports(), 1);
    assert_true(exists("%s/records/uid-d.json", f->dir));
    assert_int_equal(minik_cni_del(&f->cfg, "uid-d", &err), 0);
    assert_false(exists("%s/ipam/minik/%s", f->dir, res.ip));
    assert_int_equal(count_bridge_ports(), 0);
    assert_int_equal(netns_test_run(pod, "ip link show eth0 >/dev/null 2>&1"), 1);
    assert_false(exists("%s/records/uid-d.json", f->dir));
    /* DEL of an unknown pod is a no-op, as the spec asks. */
    assert_int_equal(minik_cni_del(&f->cfg, "uid-d", &err), 0);
    minik_cni_result_clear(&res);
}

static void check_notices_a_missing_interface(void **state)
{
    fixture_t *f = *state;
    cleanup_free char *pod = make_pod(f, 0);
    minik_cni_result_t res;
    cleanup_error minik_error_t *err = NULL;
    if (minik_cni_add(&f->cfg, "uid-c", pod, NULL, NULL, &res, &err) < 0)
        fail_msg("%s", err->msg);
    assert_int_equal(minik_cni_check(&f->cfg, "uid-c", &err), 0);
    assert_int_equal(netns_test_run(pod, "ip addr flush dev eth0"), 0);
    assert_true(minik_cni_check(&f->cfg, "uid-c", &err) < 0);
    assert_non_null(strstr(err->msg, "cni bridge CHECK"));
    minik_error_clear(&err);
    assert_int_equal(minik_cni_del(&f->cfg, "uid-c", &err), 0);
    assert_true(minik_cni_check(&f->cfg, "uid-c", &err) < 0);
    minik_cni_result_clear(&res);
}

static bool only_uid_live(const char *id, void *arg)
{
    return strcmp(id, (const char *)arg) == 0;
}

static void recover_releases_pods_that_are_gone(void **state)
{
    fixture_t *f = *state;
    cleanup_free char *p1 = make_pod(f, 1);
    cleanup_free char *p2 = make_pod(f, 2);
    minik_cni_result_t r1, r2;
    cleanup_error minik_error_t *err = NULL;
    if (minik_cni_add(&f->cfg, "uid-live", p1, NULL, NULL, &r1, &err) < 0 ||
        minik_cni_add(&f->cfg, "uid-dead", p2, NULL, NULL, &r2, &err) < 0)
        fail_msg("%s", err->msg);
    /* The agent "crashed": its pod uid-dead went away with its namespace meanwhile. */
    assert_int_equal(umount2(p2, MNT_DETACH), 0);
    unlink(p2);
    assert_int_equal(minik_cni_recover(&f->cfg, only_uid_live, (void *)"uid-live", &err), 1);
    assert_false(exists("%s/ipam/minik/%s", f->dir, r2.ip));
    assert_false(exists("%s/records/uid-dead.json", f->dir));
    assert_true(exists("%s/ipam/minik/%s", f->dir, r1.ip));
    assert_int_equal(minik_cni_check(&f->cfg, "uid-live", &err), 0);
    /* Right after a restart the agent does not know its pod CIDR yet: the record does. */
    minik_cni_config_t fresh = {.data_dir = f->dir};
    assert_int_equal(minik_cni_recover(&fresh, NULL, NULL, &err), 1);
    assert_false(exists("%s/ipam/minik/%s", f->dir, r1.ip));
    assert_int_equal(count_bridge_ports(), 0);
    minik_cni_result_clear(&r1);
    minik_cni_result_clear(&r2);
}

static void plugin_failure_is_reported_and_undone(void **state)
{
    fixture_t *f = *state;
    cleanup_free char *pod = make_pod(f, 0);
    minik_cni_result_t res;
    cleanup_error minik_error_t *err = NULL;
    /* A /30 has one address for pods: the second ADD fails inside host-local. */
    f->cfg.pod_cidr = "10.42.7.0/30";
    cleanup_free char *other = make_pod(f, 1);
    if (minik_cni_add(&f->cfg, "uid-first", other, NULL, NULL, &res, &err) < 0)
        fail_msg("%s", err->msg);
    minik_cni_result_clear(&res);
    assert_true(minik_cni_add(&f->cfg, "uid-bad", pod, NULL, NULL, &res, &err) < 0);
    assert_non_null(strstr(err->msg, "cni bridge ADD"));
    assert_non_null(strstr(err->msg, "no IP addresses available"));
    /* The half-made attachment was undone: no record, no veth in the pod. */
    assert_false(exists("%s/records/uid-bad.json", f->dir));
    assert_int_equal(netns_test_run(pod, "ip link show eth0 >/dev/null 2>&1"), 1);
    assert_int_equal(count_bridge_ports(), 1);
    minik_error_clear(&err);
    assert_int_equal(minik_cni_del(&f->cfg, "uid-first", &err), 0);
    f->cfg.pod_cidr = "10.42.7.0/33";
    assert_true(minik_cni_add(&f->cfg, "uid-bad", pod, NULL, NULL, &res, &err) < 0);
    assert_string_equal(err->msg, "cni: bad pod CIDR \"10.42.7.0/33\"");
    minik_error_clear(&err);
    f->cfg.plugin_dir = "/nonexistent";
    f->cfg.pod_cidr = "10.42.7.0/24";
    assert_true(minik_cni_add(&f->cfg, "uid-x", pod, NULL, NULL, &res, &err) < 0);
    assert_non_null(strstr(err->msg, "/nonexistent/loopback"));
    minik_error_clear(&err);
    assert_true(minik_cni_add(&f->cfg, "../x", pod, NULL, NULL, &res, &err) < 0);
    assert_true(minik_str_has_prefix(err->msg, "cni: invalid container id \"../x\""));
    /* Every entry point that reads a pod's record refuses such an id the same way. */
    minik_error_clear(&err);
    assert_true(minik_cni_check(&f->cfg, "../x", &err) < 0);
    assert_true(minik_str_has_prefix(err->msg, "cni: invalid container id \"../x\""));
    minik_error_clear(&err);
    assert_true(minik_cni_del(&f->cfg, "a/b", &err) < 0);
    assert_true(minik_str_has_prefix(err->msg, "cni: invalid container id \"a/b\""));
    minik_error_clear(&err);
    assert_true(minik_cni_del(&f->cfg, NULL, &err) < 0);
    assert_true(minik_str_has_prefix(err->msg, "cni: no container id"));
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(conflist_is_bridge_hostlocal_portmap),
        cmocka_unit_test(port_mappings_from_pod_host_ports),
        cmocka_unit_test(plugin_error_object_becomes_the_message),
    };
    const struct CMUnitTest ns[] = {
        cmocka_unit_test_setup_teardown(add_gives_an_ip_that_reaches_the_bridge, setup, teardown),
        cmocka_unit_test_setup_teardown(two_pods_reach_each_other, setup, teardown),
        cmocka_unit_test_setup_teardown(del_releases_ip_and_veth, setup, teardown),
        cmocka_unit_test_setup_teardown(check_notices_a_missing_interface, setup, teardown),
        cmocka_unit_test_setup_teardown(recover_releases_pods_that_are_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(plugin_failure_is_reported_and_undone, setup, teardown),
    };
    int r = cmocka_run_group_tests_name("cni", pure, NULL, NULL);
    if (!netns_test_isolate()) {
        /* Root is required for namespaces; say so loudly rather than pass silently. */
        fprintf(stderr, "test_network_cni: cannot create network namespaces (not root?)\n");
        return 1;
    }
    return r + cmocka_run_group_tests_name("cni-netns", ns, NULL, NULL);
}
