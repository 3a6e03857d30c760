/* host-gw routes: which routes a node wants, and two nodes (network namespaces joined by
 * a veth, each with a bridge and a pod attached by the real CNI plugins) whose pods reach
 * each other only once the routes are synced, and no longer once they are removed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "agent/network/cni.h"
#include "agent/network/routes.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/xalloc.h"
#include "netns_helpers.h"

static const char *nodes_json =
    "[{\"metadata\":{\"name\":\"c\"},\"spec\":{\"podCIDR\":\"10.42.3.0/24\"},\"status\":{"
    "\"addresses\":[{\"type\":\"Hostname\",\"address\":\"c\"},{\"type\":\"InternalIP\","
    "\"address\":\"192.168.77.3\"}]}},"
    "{\"metadata\":{\"name\":\"a\"},\"spec\":{\"podCIDR\":\"10.42.1.0/24\"},\"status\":{"
    "\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"192.168.77.1\"}]}},"
    "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"podCIDR\":\"10.42.2.0/24\"},\"status\":{"
    "\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"192.168.77.2\"}]}},"
    "{\"metadata\":{\"name\":\"new\"},\"status\":{\"addresses\":[{\"type\":\"InternalIP\","
    "\"address\":\"192.168.77.4\"}]}},"
    "{\"metadata\":{\"name\":\"evil\"},\"spec\":{\"podCIDR\":\"10.42.5.0/24; reboot\"},"
    "\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"192.168.77.5\"}]}}]";

static void desired_routes_skip_self_and_incomplete_nodes(void **state)
{
    cleanup_cjson cJSON *nodes = cJSON_Parse(nodes_json);
    minik_route_t *r = NULL;
    size_t n = minik_routes_desired(nodes, "a", &r);
    assert_int_equal(n, 2);
    assert_string_equal(r[0].dst, "10.42.2.0/24");
    assert_string_equal(r[0].via, "192.168.77.2");
    assert_string_equal(r[1].dst, "10.42.3.0/24");
    assert_string_equal(r[1].via, "192.168.77.3");
    minik_routes_free(r, n);
}

static int enter(const char *path)
{
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -1 : setns(fd, CLONE_NEWNET);
}

static void two_nodes_route_pods_to_each_other(void **state)
{
    cleanup_free char *dir = netns_test_tmpdir();
    cleanup_close int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    const char *names[2] = {"a", "b"};
    char *node[2], *pod[2], *ip[2], *data[2];
    minik_cni_config_t cfg[2];
    cleanup_error minik_error_t *err = NULL;
    for (int i = 0; i < 2; i++) {
        node[i] = xasprintf("%s/node-%s", dir, names[i]);
        pod[i] = xasprintf("%s/pod-%s", dir, names[i]);
        data[i] = xasprintf("%s/data-%s", dir, names[i]);
        assert_int_equal(netns_test_make(node[i]), 0);
    }
    /* The "LAN": a veth between the two node namespaces. */
    assert_int_equal(system("ip link add lan-a type veth peer name lan-b"), 0);
    for (int i = 0; i < 2; i++) {
        cleanup_free char *mv = xasprintf("ip link set lan-%s netns %s", names[i], node[i]);
        assert_int_equal(system(mv), 0);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(enter(node[i]), 0);
        cleanup_free char *up = xasprintf("ip link set lo up && ip addr add 192.168.77.%d/24 dev "
                                          "lan-%s && ip link set lan-%s up",
                                          i + 1, names[i], names[i]);
        assert_int_equal(system(up), 0);
        assert_int_equal(netns_test_make(pod[i]), 0); /* made from inside the node */
        cfg[i] = (minik_cni_config_t){.data_dir = data[i],
                                      .pod_cidr = i == 0 ? "10.42.1.0/24" : "10.42.2.0/24"};
        minik_cni_result_t res;
        if (minik_cni_add(&cfg[i], "pod", pod[i], NULL, NULL, &res, &err) < 0)
            fail_msg("%s", err->msg);
        ip[i] = xstrdup(res.ip);
        minik_cni_result_clear(&res);
    }
    /* Without routes node b does not know 10.42.1.0/24: no answer. */
    assert_int_not_equal(netns_test_run(pod[0], "busybox ping -c 1 -W 1 %s >/dev/null", ip[1]), 0);
    cleanup_cjson cJSON *nodes = cJSON_Parse(nodes_json);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(enter(node[i]), 0);
        minik_route_t *r = NULL;
        size_t n = minik_routes_desired(nodes, names[i], &r);
        /* c's gateway 192.168.77.3 is on the LAN too (just absent), so its route installs. */
        if (minik_routes_sync(r, n, &err) < 0)
            fail_msg("%s", err->msg);
        minik_routes_free(r, n);
        /* Idempotent. */
        n = minik_routes_desired(nodes, names[i], &r);
        assert_int_equal(minik_routes_sync(r, n, &err), 0);
        minik_routes_free(r, n);
    }
    assert_int_equal(netns_test_run(pod[0], "busybox ping -c 1 -W 2 %s >/dev/null", ip[1]), 0);
    assert_int_equal(netns_test_run(pod[1], "busybox ping -c 1 -W 2 %s >/dev/null", ip[0]), 0);
    /* Node b leaves: a removes its route (and only that one). */
    assert_int_equal(enter(node[0]), 0);
    cJSON_DeleteItemFromArray(nodes, 2);
    minik_route_t *r = NULL;
    size_t n = minik_routes_desired(nodes, "a", &r);
    assert_int_equal(minik_routes_sync(r, n, &err), 0);
    minik_routes_free(r, n);
    assert_int_equal(system("test \"$(ip -4 -o route show proto 77 | cut -d' ' -f1)\" = "
                            "10.42.3.0/24"),
                     0);
    /* A direct route (the service CIDR onto the bridge) is synced the same way. */
    minik_route_t direct = {(char *)"10.43.0.0/16", NULL, (char *)"lan-a"};
    assert_int_equal(minik_routes_sync(&direct, 1, &err), 0);
    assert_int_equal(system("ip -4 -o route show proto 77 | grep -q '^10.43.0.0/16 dev lan-a'"), 0);
    minik_route_t evil = {(char *)"10.43.0.0/16", NULL, (char *)"x; reboot"};
    assert_true(minik_routes_sync(&evil, 1, &err) < 0);
    minik_error_clear(&err);
    assert_int_equal(minik_routes_sync(NULL, 0, &err), 0);
    assert_int_equal(system("test -z \"$(ip -4 -o route show proto 77)\""), 0);
    /* A route the kernel refuses is reported with iproute2's words. */
    minik_route_t bad = {(char *)"10.42.9.0/24", (char *)"10.99.99.99", NULL};
    assert_true(minik_routes_sync(&bad, 1, &err) < 0);
    assert_non_null(strstr(err->msg, "ip -4 route replace 10.42.9.0/24 via 10.99.99.99"));
    minik_error_clear(&err);

    for (int i = 0; i < 2; i++) {
        assert_int_equal(enter(node[i]), 0);
        assert_int_equal(minik_cni_del(&cfg[i], "pod", &err), 0);
        if (system("ip link del minik0") != 0) {
            /* gone with the namespace anyway */
        }
    }
    assert_int_equal(setns(home, CLONE_NEWNET), 0);
    for (int i = 0; i < 2; i++) {
        umount2(pod[i], MNT_DETACH);
        umount2(node[i], MNT_DETACH);
        free(node[i]);
        free(pod[i]);
        free(ip[i]);
        free(data[i]);
    }
    netns_test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(desired_routes_skip_self_and_incomplete_nodes),
    };
    const struct CMUnitTest real[] = {
        cmocka_unit_test(two_nodes_route_pods_to_each_other),
    };
    int r = cmocka_run_group_tests_name("routes", pure, NULL, NULL);
    if (!netns_test_isolate()) {
        fprintf(stderr, "test_network_routes: cannot create network namespaces (not root?)\n");
        return 1;
    }
    return r + cmocka_run_group_tests_name("routes-netns", real, NULL, NULL);
}
