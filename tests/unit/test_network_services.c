/* nftables rendering (exact text) and the rules applied for real: traffic through a
 * ClusterIP, a NodePort, hairpin, ClientIP affinity and the refusal of a Service without
 * endpoints, between pods attached with the real CNI plugins. The runner lives in its own
 * network namespace, so none of this touches the host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/network/cni.h"
#include "agent/network/services.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/file.h"
#include "lib/xalloc.h"
#include "netns_helpers.h"

static const char golden_input[] =
    "{\"services\":[\n"
    " {\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"clusterIP\":\"10.43.0."
    "10\",\"type\":\"NodePort\",\"ports\":[{\"name\":\"http\",\"port\":80,\"targetPort\":8080,"
    "\"nodePort\":30080}]}},\n"
    " {\"metadata\":{\"name\":\"db\",\"namespace\":\"prod\"},\"spec\":{\"clusterIP\":\"10.43.0."
    "11\",\"sessionAffinity\":\"ClientIP\",\"ports\":[{\"port\":5432}]}},\n"
    " {\"metadata\":{\"name\":\"empty\"},\"spec\":{\"clusterIP\":\"10.43.0.12\",\"type\":"
    "\"NodePort\",\"ports\":[{\"port\":53,\"protocol\":\"UDP\",\"nodePort\":30053}]}},\n"
    " {\"metadata\":{\"name\":\"headless\"},\"spec\":{\"clusterIP\":\"None\",\"ports\":[{\"port\":"
    "1}]}}\n"
    "],\n"
    "\"endpoints\":[\n"
    " {\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"subsets\":[{\"addresses\":[{"
    "\"ip\":\"10.42.1.2\"},{\"ip\":\"10.42.2.2\"}],\"ports\":[{\"name\":\"http\",\"port\":8080}]}]}"
    ",\n"
    " {\"metadata\":{\"name\":\"db\",\"namespace\":\"prod\"},\"subsets\":[{\"addresses\":[{\"ip\":"
    "\"10.42.1.3\"}],\"ports\":[{\"port\":5432}]}]}\n"
    "]}\n";

static const char golden_nft[] =
    "table ip minik\n"
    "delete table ip minik\n"
    "table ip minik {\n"
    "\tmap service_ips {\n"
    "\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n"
    "\t\telements = { 10.43.0.10 . tcp . 80 : goto svc_default_web_tcp_80,\n"
    "\t\t\t     10.43.0.11 . tcp . 5432 : goto svc_prod_db_tcp_5432 }\n"
    "\t}\n"
    "\tmap service_nodeports {\n"
    "\t\ttype inet_proto . inet_service : verdict\n"
    "\t\telements = { tcp . 30080 : goto np_default_web_tcp_80 }\n"
    "\t}\n"
    "\tset no_endpoints {\n"
    "\t\ttype ipv4_addr . inet_proto . inet_service\n"
    "\t\telements = { 10.43.0.12 . udp . 53 }\n"
    "\t}\n"
    "\tset no_endpoint_nodeports {\n"
    "\t\ttype inet_proto . inet_service\n"
    "\t\telements = { udp . 30053 }\n"
    "\t}\n"
    "\tchain prerouting {\n"
    "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
    "\t\tjump services\n"
    "\t}\n"
    "\tchain output {\n"
    "\t\ttype nat hook output priority -100; policy accept;\n"
    "\t\tjump services\n"
    "\t}\n"
    "\tchain postrouting {\n"
    "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
    "\t\tmeta mark & 0x00004000 == 0x00004000 masquerade\n"
    "\t\tip saddr 10.42.0.0/16 ip daddr != 10.42.0.0/16 oifname != \"minik0\" masquerade\n"
    "\t}\n"
    "\tchain services {\n"
    "\t\tip daddr . meta l4proto . th dport vmap @service_ips\n"
    "\t\tfib daddr type local meta l4proto . th dport vmap @service_nodeports\n"
    "\t}\n"
    "\tchain reject_no_endpoints {\n"
    "\t\tip daddr . meta l4proto . th dport @no_endpoints meta l4proto tcp reject with tcp reset\n"
    "\t\tip daddr . meta l4proto . th dport @no_endpoints reject\n"
    "\t\tfib daddr type local meta l4proto . th dport @no_endpoint_nodeports meta l4proto tcp "
    "reject with tcp reset\n"
    "\t\tfib daddr type local meta l4proto . th dport @no_endpoint_nodeports reject\n"
    "\t}\n"
    "\tchain filter_input {\n"
    "\t\ttype filter hook input priority filter; policy accept;\n"
    "\t\tiifname != \"lo\" ip daddr 127.0.0.0/8 ct state & (established | related) == 0 drop\n"
    "\t\tjump reject_no_endpoints\n"
    "\t}\n"
    "\tchain filter_forward {\n"
    "\t\ttype filter hook forward priority filter; policy accept;\n"
    "\t\tiifname != \"lo\" ip saddr 127.0.0.0/8 drop\n"
    "\t\tjump reject_no_endpoints\n"
    "\t}\n"
    "\tchain filter_output {\n"
    "\t\ttype filter hook output priority filter; policy accept;\n"
    "\t\tjump reject_no_endpoints\n"
    "\t}\n"
    "\tchain np_default_web_tcp_80 {\n"
    "\t\tmeta mark set meta mark | 0x00004000\n"
    "\t\tgoto svc_default_web_tcp_80\n"
    "\t}\n"
    "\tchain svc_default_web_tcp_80 {\n"
    "\t\tnumgen random mod 2 vmap { 0 : goto ep_default_web_tcp_80_0, 1 : goto "
    "ep_default_web_tcp_80_1 }\n"
    "\t}\n"
    "\tchain ep_default_web_tcp_80_0 {\n"
    "\t\tip saddr 10.42.1.2 meta mark set meta mark | 0x00004000\n"
    "\t\tmeta l4proto tcp dnat to 10.42.1.2:8080\n"
    "\t}\n"
    "\tchain ep_default_web_tcp_80_1 {\n"
    "\t\tip saddr 10.42.2.2 meta mark set meta mark | 0x00004000\n"
    "\t\tmeta l4proto tcp dnat to 10.42.2.2:8080\n"
    "\t}\n"
    "\tchain svc_prod_db_tcp_5432 {\n"
    "\t\tip saddr @aff_prod_db_tcp_5432_0 goto ep_prod_db_tcp_5432_0\n"
    "\t\tgoto ep_prod_db_tcp_5432_0\n"
    "\t}\n"
    "\tset aff_prod_db_tcp_5432_0 {\n"
    "\t\ttype ipv4_addr\n"
    "\t\tflags dynamic,timeout\n"
    "\t\ttimeout 10800s\n"
    "\t}\n"
    "\tchain ep_prod_db_tcp_5432_0 {\n"
    "\t\tip saddr 10.42.1.3 meta mark set meta mark | 0x00004000\n"
    "\t\tupdate @aff_prod_db_tcp_5432_0 { ip saddr }\n"
    "\t\tmeta l4proto tcp dnat to 10.42.1.3:5432\n"
    "\t}\n"
    "}\n";

static void render_is_exact(void **state)
{
    cleanup_cjson cJSON *in = cJSON_Parse(golden_input);
    assert_non_null(in);
    minik_services_opts_t o = {.cluster_cidr = "10.42.0.0/16", .masquerade_outbound = true};
    cleanup_free char *text = minik_services_render(cJSON_GetObjectItem(in, "services"),
                                                    cJSON_GetObjectItem(in, "endpoints"), &o);
    assert_string_equal(text, golden_nft);
}

static void render_empty_and_outbound_off(void **state)
{
    minik_services_opts_t o = {.cluster_cidr = "10.42.0.0/16"};
    cleanup_free char *text = minik_services_render(NULL, NULL, &o);
    assert_null(strstr(text, "oifname"));
    assert_null(strstr(text, "elements"));
    assert_non_null(strstr(text, "table ip minik\ndelete table ip minik\ntable ip minik {\n"));
}

static void render_skips_malformed_objects(void **state)
{
    /* A hostile or broken object must not inject text into the ruleset. */
    cleanup_cjson cJSON *svcs = cJSON_Parse(
        "[{\"metadata\":{\"name\":\"a "
        "b\"},\"spec\":{\"clusterIP\":\"10.43.0.5\",\"ports\":[{\"port\":1}]}},"
        "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"clusterIP\":\"10.43.0.5; flush ruleset\","
        "\"ports\":[{\"port\":1}]}},"
        "{\"metadata\":{\"name\":\"y\"},\"spec\":{\"clusterIP\":\"10.43.0.6\",\"ports\":[{\"port\":"
        "70000}]}}]");
    cleanup_cjson cJSON *eps = cJSON_Parse(
        "[{\"metadata\":{\"name\":\"y\"},\"subsets\":[{\"addresses\":[{\"ip\":\"1.2.3.4 }\"}],"
        "\"ports\":[{\"port\":1}]}]}]");
    minik_services_opts_t o = {0};
    cleanup_free char *text = minik_services_render(svcs, eps, &o);
    assert_null(strstr(text, "10.43.0.5"));
    assert_null(strstr(text, "flush"));
    assert_null(strstr(text, "70000"));
    assert_null(strstr(text, "1.2.3.4"));
}

/* ---- applied for real ------------------------------------------------------------------ */

typedef struct {
    char *dir;
    minik_cni_config_t cni;
    char *pod[2];
    char *ip[2];
    pid_t httpd[2];
} world_t;

static char *capture(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, p);
    buf[n] = 0;
    pclose(p);
    return xstrdup(buf);
}

static int world_up(void **state)
{
    world_t *w = xcalloc(1, sizeof(*w));
    *state = w; /* world_down undoes whatever got made even if a step below fails */
    w->dir = netns_test_tmpdir();
    w->cni.data_dir = w->dir;
    w->cni.pod_cidr = "10.42.9.0/24";
    for (int i = 0; i < 2; i++) {
        w->pod[i] = xasprintf("%s/pod%d", w->dir, i);
        assert_int_equal(netns_test_make(w->pod[i]), 0);
        minik_cni_result_t res;
        cleanup_error minik_error_t *err = NULL;
        cleanup_free char *id = xasprintf("svc-test-%d", i);
        if (minik_cni_add(&w->cni, id, w->pod[i], NULL, NULL, &res, &err) < 0)
            fail_msg("%s", err->msg);
        w->ip[i] = xstrdup(res.ip);
        minik_cni_result_clear(&res);
        cleanup_free char *www = xasprintf("%s/www%d", w->dir, i);
        cleanup_free char *index = xasprintf("%s/index.html", www);
        cleanup_free char *body = xasprintf("pod%d\n", i);
        assert_int_equal(minik_mkdir_p(www, 0755, &err), 0);
        assert_int_equal(minik_file_write_atomic(index, body, strlen(body), 0644, &err), 0);
        cleanup_free char *netarg = xasprintf("--net=%s", w->pod[i]);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            /* Not our stdout: the test's output pipe must close when the test ends. */
            int null = open("/dev/null", O_RDWR);
            dup2(null, 1);
            dup2(null, 2);
            execlp("nsenter", "nsenter", netarg, "busybox", "httpd", "-f", "-p", "8080", "-h", www,
                   (char *)NULL);
            _exit(127);
        }
        w->httpd[i] = pid;
    }
    /* Pods reach Services through the node: it routes, and bridged replies pass conntrack. */
    assert_int_equal(system("echo 1 > /proc/sys/net/ipv4/ip_forward"), 0);
    /* Locally originated packets need a route before the output chain rewrites them. */
    assert_int_equal(system("ip route replace 10.43.0.0/16 dev minik0"), 0);
    assert_int_equal(
        system("ip link add node0 type veth peer name node0p && ip addr add 192.168.77.1/24 dev "
               "node0 && ip link set node0 up"),
        0);
    for (int i = 0; i < 2; i++) {
        cleanup_free char *probe = xasprintf("for i in $(seq 50); do curl -s -o /dev/null -m 1 "
                                             "http://%s:8080/ && exit 0; sleep 0.1; done; exit 1",
                                             w->ip[i]);
        assert_int_equal(system(probe), 0);
    }
    return 0;
}

static int world_down(void **state)
{
    world_t *w = *state;
    cleanup_error minik_error_t *err = NULL;
    if (!w)
        return 0;
    for (int i = 0; i < 2; i++) {
        if (!w->pod[i])
            continue;
        if (w->httpd[i] > 0) {
            kill(w->httpd[i], SIGTERM);
            waitpid(w->httpd[i], NULL, 0);
        }
        cleanup_free char *id = xasprintf("svc-test-%d", i);
        if (minik_cni_del(&w->cni, id, &err) < 0)
            minik_error_clear(&err);
        umount2(w->pod[i], MNT_DETACH);
        free(w->pod[i]);
        free(w->ip[i]);
    }
    if (minik_services_remove(&err) < 0)
        minik_error_clear(&err);
    if (system("ip link del node0; ip link del minik0") != 0) {
        /* already gone */
    }
    netns_test_rmdir(w->dir);
    free(w->dir);
    free(w);
    return 0;
}

/* Services: web (both pods, NodePort 30080), one (pod1 only), self (pod0 only), sticky
 * (both, ClientIP affinity), empty (no endpoints). */
static void apply_world(world_t *w)
{
    cleanup_free char *svcs_text = xasprintf(
        "["
        "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"clusterIP\":\"10.43.0.10\",\"type\":"
        "\"NodePort\",\"ports\":[{\"port\":80,\"nodePort\":30080}]}},"
        "{\"metadata\":{\"name\":\"one\"},\"spec\":{\"clusterIP\":\"10.43.0.11\",\"ports\":[{"
        "\"port\":80}]}},"
        "{\"metadata\":{\"name\":\"self\"},\"spec\":{\"clusterIP\":\"10.43.0.12\",\"ports\":[{"
        "\"port\":80}]}},"
        "{\"metadata\":{\"name\":\"sticky\"},\"spec\":{\"clusterIP\":\"10.43.0.13\","
        "\"sessionAffinity\":\"ClientIP\",\"ports\":[{\"port\":80}]}},"
        "{\"metadata\":{\"name\":\"empty\"},\"spec\":{\"clusterIP\":\"10.43.0.14\",\"ports\":[{"
        "\"port\":80}]}}]");
    cleanup_free char *eps_text = xasprintf(
        "[{\"metadata\":{\"name\":\"web\"},\"subsets\":[{\"addresses\":[{\"ip\":\"%s\"},{\"ip\":"
        "\"%s\"}],\"ports\":[{\"port\":8080}]}]},"
        "{\"metadata\":{\"name\":\"one\"},\"subsets\":[{\"addresses\":[{\"ip\":\"%s\"}],"
        "\"ports\":[{\"port\":8080}]}]},"
        "{\"metadata\":{\"name\":\"self\"},\"subsets\":[{\"addresses\":[{\"ip\":\"%s\"}],"
        "\"ports\":[{\"port\":8080}]}]},"
        "{\"metadata\":{\"name\":\"sticky\"},\"subsets\":[{\"addresses\":[{\"ip\":\"%s\"},{"
        "\"ip\":\"%s\"}],\"ports\":[{\"port\":8080}]}]}]",
        w->ip[0], w->ip[1], w->ip[1], w->ip[0], w->ip[0], w->ip[1]);
    cleanup_cjson cJSON *svcs = cJSON_Parse(svcs_text);
    cleanup_cjson cJSON *eps = cJSON_Parse(eps_text);
    minik_services_opts_t o = {.cluster_cidr = "10.42.0.0/16"};
    cleanup_free char *rules = minik_services_render(svcs, eps, &o);
    cleanup_error minik_error_t *err = NULL;
    if (minik_services_apply(rules, &err) < 0)
        fail_msg("%s", err->msg);
}

static int count_answers(const char *ns, const char *url, int tries, int *seen0, int *seen1)
{
    *seen0 = *seen1 = 0;
    int fails = 0;
    for (int i = 0; i < tries; i++) {
        cleanup_free char *cmd = ns ? xasprintf("nsenter --net=%s curl -s -S -m 2 %s 2>&1", ns, url)
                                    : xasprintf("curl -s -S -m 2 %s 2>&1", url);
        cleanup_free char *out = capture(cmd);
        if (strcmp(out, "pod0\n") == 0)
            (*seen0)++;
        else if (strcmp(out, "pod1\n") == 0)
            (*seen1)++;
        else
            fails++;
    }
    return fails;
}

static void clusterip_balances_over_both_pods(void **state)
{
    world_t *w = *state;
    apply_world(w);
    int s0, s1;
    assert_int_equal(count_answers(NULL, "http://10.43.0.10/", 24, &s0, &s1), 0);
    assert_true(s0 > 0 && s1 > 0);
    /* From a pod too: routed through the node, the reply un-DNATed by conntrack. */
    assert_int_equal(count_answers(w->pod[0], "http://10.43.0.11/", 3, &s0, &s1), 0);
    assert_int_equal(s1, 3);
}

static void hairpin_pod_reaches_itself_through_its_service(void **state)
{
    world_t *w = *state;
    apply_world(w);
    int s0, s1;
    assert_int_equal(count_answers(w->pod[0], "http://10.43.0.12/", 3, &s0, &s1), 0);
    assert_int_equal(s0, 3);
}

static void nodeport_answers_on_a_node_address(void **state)
{
    world_t *w = *state;
    apply_world(w);
    int s0, s1;
    assert_int_equal(count_answers(NULL, "http://192.168.77.1:30080/", 24, &s0, &s1), 0);
    assert_true(s0 > 0 && s1 > 0);
}

static void nodeport_answers_on_localhost_with_route_localnet(void **state)
{
    world_t *w = *state;
    apply_world(w);
    int s0, s1;
    /* Without route_localnet the kernel will not send a 127.0.0.1 source out of minik0. */
    assert_int_equal(system("echo 0 > /proc/sys/net/ipv4/conf/minik0/route_localnet"), 0);
    assert_int_equal(count_answers(NULL, "http://127.0.0.1:30080/", 1, &s0, &s1), 1);
    char ifname[IFNAMSIZ];
    cleanup_error minik_error_t *err = NULL;
    assert_int_equal(minik_services_ifname_of("10.42.9.1", ifname, &err), 0);
    assert_string_equal(ifname, "minik0");
    assert_int_equal(minik_services_route_localnet(ifname, &err), 0);
    assert_int_equal(count_answers(NULL, "http://127.0.0.1:30080/", 24, &s0, &s1), 0);
    assert_true(s0 > 0 && s1 > 0);
    /* Bad names and unknown addresses are refused, not written. */
    assert_true(minik_services_route_localnet("../all", &err) < 0);
    assert_non_null(strstr(err->msg, "bad interface name"));
    minik_error_clear(&err);
    assert_true(minik_services_ifname_of("192.0.2.77", ifname, &err) < 0);
    assert_non_null(strstr(err->msg, "no interface has the address 192.0.2.77"));
}

static void client_ip_affinity_sticks(void **state)
{
    world_t *w = *state;
    apply_world(w);
    int s0, s1;
    assert_int_equal(count_answers(NULL, "http://10.43.0.13/", 16, &s0, &s1), 0);
    assert_true((s0 == 16 && s1 == 0) || (s0 == 0 && s1 == 16));
}

static void service_without_endpoints_refuses(void **state)
{
    world_t *w = *state;
    apply_world(w);
    /* curl exits 7 when the connection is refused and 28 when it times out: without the
     * reject rule the SYN would go unanswered. From the node and from a pod. */
    assert_int_equal(system("curl -s -m 2 http://10.43.0.14/ >/dev/null 2>&1"), 7 << 8);
    assert_int_equal(netns_test_run(w->pod[0], "curl -s -m 2 http://10.43.0.14/ >/dev/null 2>&1"),
                     7);
}

static void apply_replaces_and_remove_deletes(void **state)
{
    world_t *w = *state;
    apply_world(w);
    minik_services_opts_t o = {0};
    cleanup_free char *rules = minik_services_render(NULL, NULL, &o);
    cleanup_error minik_error_t *err = NULL;
    assert_int_equal(minik_services_apply(rules, &err), 0);
    cleanup_free char *listing = capture("nft list table ip minik");
    assert_null(strstr(listing, "10.43.0.10"));
    assert_null(strstr(listing, "chain svc_"));
    /* The ClusterIP is dead now: the request times out or is refused, never answered. */
    int s0, s1;
    assert_int_equal(count_answers(NULL, "http://10.43.0.10/", 1, &s0, &s1), 1);
    assert_int_equal(minik_services_remove(&err), 0);
    assert_int_equal(system("nft list table ip minik >/dev/null 2>&1"), 256);
    assert_int_equal(minik_services_remove(&err), 0); /* absent is fine */
    assert_true(minik_services_apply("table ip minik { chain x { bogus } }\n", &err) < 0);
    assert_non_null(strstr(err->msg, "nft -f"));
    assert_non_null(strstr(err->msg, "bogus"));
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(render_is_exact),
        cmocka_unit_test(render_empty_and_outbound_off),
        cmocka_unit_test(render_skips_malformed_objects),
    };
    const struct CMUnitTest real[] = {
        cmocka_unit_test(clusterip_balances_over_both_pods),
        cmocka_unit_test(hairpin_pod_reaches_itself_through_its_service),
        cmocka_unit_test(nodeport_answers_on_a_node_address),
        cmocka_unit_test(nodeport_answers_on_localhost_with_route_localnet),
        cmocka_unit_test(client_ip_affinity_sticks),
        cmocka_unit_test(service_without_endpoints_refuses),
        cmocka_unit_test(apply_replaces_and_remove_deletes),
    };
    int r = cmocka_run_group_tests_name("services-render", pure, NULL, NULL);
    if (!netns_test_isolate()) {
        fprintf(stderr, "test_network_services: cannot create network namespaces (not root?)\n");
        return 1;
    }
    return r + cmocka_run_group_tests_name("services-nft", real, world_up, world_down);
}
