/* Cluster DNS: the answers (decoded with libldns, as a resolver would), the files written
 * into pods, and the UDP server for real, forwarding to an upstream that is a second
 * responder on loopback inside the runner's own network namespace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "agent/network/dns.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/xalloc.h"
#include "netns_helpers.h"

static const char *svcs_json =
    "[{\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"},\"spec\":{\"clusterIP\":\"10.43."
    "0.10\"}},{\"metadata\":{\"name\":\"db\"},\"spec\":{\"clusterIP\":\"None\"}},"
    "{\"metadata\":{\"name\":\"api\"},\"spec\":{\"clusterIP\":\"10.43.0.11\"}}]";
static const char *eps_json =
    "[{\"metadata\":{\"name\":\"db\"},\"subsets\":[{\"addresses\":[{\"ip\":\"10.42.1.2\"},{\"ip\":"
    "\"10.42.2.2\"}],\"notReadyAddresses\":[{\"ip\":\"10.42.3.2\"}]}]}]";

static minik_dns_table_t *table(const char *domain)
{
    minik_dns_table_t *t = minik_dns_table_new(domain);
    cleanup_cjson cJSON *s = cJSON_Parse(svcs_json);
    cleanup_cjson cJSON *e = cJSON_Parse(eps_json);
    minik_dns_table_load(t, s, e);
    return t;
}

static uint8_t *query(const char *name, ldns_rr_type type, uint16_t id, size_t *len)
{
    ldns_pkt *q = NULL;
    assert_int_equal(ldns_pkt_query_new_frm_str(&q, name, type, LDNS_RR_CLASS_IN, LDNS_RD),
                     LDNS_STATUS_OK);
    ldns_pkt_set_id(q, id);
    uint8_t *w = NULL;
    assert_int_equal(ldns_pkt2wire(&w, q, len), LDNS_STATUS_OK);
    ldns_pkt_free(q);
    return w;
}

/* Ask and describe the answer as "RCODE ip ip ..." (answers in order). */
static char *ask(const minik_dns_table_t *t, const char *name, ldns_rr_type type,
                 minik_dns_verdict_t *verdict)
{
    size_t qlen = 0, rlen = 0;
    cleanup_free uint8_t *q = query(name, type, 4242, &qlen);
    cleanup_free uint8_t *r = NULL;
    *verdict = minik_dns_answer(t, q, qlen, &r, &rlen);
    if (*verdict != MINIK_DNS_REPLY)
        return xstrdup("-");
    ldns_pkt *p = NULL;
    assert_int_equal(ldns_wire2pkt(&p, r, rlen), LDNS_STATUS_OK);
    assert_int_equal(ldns_pkt_id(p), 4242);
    assert_true(ldns_pkt_qr(p));
    char *rc = ldns_pkt_rcode2str(ldns_pkt_get_rcode(p));
    char out[512];
    snprintf(out, sizeof(out), "%s", rc);
    free(rc);
    const ldns_rr_list *an = ldns_pkt_answer(p);
    for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(an, i);
        assert_int_equal(ldns_rr_ttl(rr), MINIK_DNS_TTL);
        char *ip = ldns_rdf2str(ldns_rr_rdf(rr, 0));
        strncat(out, " ", sizeof(out) - strlen(out) - 1);
        strncat(out, ip, sizeof(out) - strlen(out) - 1);
        free(ip);
    }
    ldns_pkt_free(p);
    return xstrdup(out);
}

#define ASK(t, name, type, expect)                                                                 \
    do {                                                                                           \
        minik_dns_verdict_t v_;                                                                    \
        cleanup_free char *got_ = ask(t, name, type, &v_);                                         \
        assert_string_equal(got_, expect);                                                         \
    } while (0)

static void cluster_names_answer(void **state)
{
    minik_dns_table_t *t = table(NULL);
    ASK(t, "web.shop.svc.cluster.local.", LDNS_RR_TYPE_A, "NOERROR 10.43.0.10");
    ASK(t, "WEB.Shop.svc.Cluster.Local.", LDNS_RR_TYPE_A, "NOERROR 10.43.0.10");
    ASK(t, "api.default.svc.cluster.local.", LDNS_RR_TYPE_A, "NOERROR 10.43.0.11");
    /* Headless: the Ready pods only. */
    ASK(t, "db.default.svc.cluster.local.", LDNS_RR_TYPE_A, "NOERROR 10.42.1.2 10.42.2.2");
    /* A known name without that type: NODATA, not NXDOMAIN (resolvers then stop). */
    ASK(t, "web.shop.svc.cluster.local.", LDNS_RR_TYPE_AAAA, "NOERROR");
    /* What a search list produces for "web" asked from namespace shop's neighbours. */
    ASK(t, "web.default.svc.cluster.local.", LDNS_RR_TYPE_A, "NXDOMAIN");
    ASK(t, "web.svc.cluster.local.", LDNS_RR_TYPE_A, "NXDOMAIN");
    ASK(t, "cluster.local.", LDNS_RR_TYPE_A, "NXDOMAIN");
    minik_dns_table_free(t);
}

static void other_names_are_forwarded_and_garbage_dropped(void **state)
{
    minik_dns_table_t *t = table(NULL);
    minik_dns_verdict_t v;
    cleanup_free char *a = ask(t, "example.org.", LDNS_RR_TYPE_A, &v);
    assert_int_equal(v, MINIK_DNS_FORWARD);
    cleanup_free char *b = ask(t, "notcluster.local.", LDNS_RR_TYPE_A, &v);
    assert_int_equal(v, MINIK_DNS_FORWARD);
    uint8_t junk[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
    uint8_t *r = NULL;
    size_t rl = 0;
    assert_int_equal(minik_dns_answer(t, junk, sizeof(junk), &r, &rl), MINIK_DNS_DROP);
    assert_null(r);
    /* A response must never be answered (two responders would ping-pong). */
    size_t ql = 0;
    cleanup_free uint8_t *q = query("web.shop.svc.cluster.local.", LDNS_RR_TYPE_A, 1, &ql);
    q[2] |= 0x80;
    assert_int_equal(minik_dns_answer(t, q, ql, &r, &rl), MINIK_DNS_DROP);
    /* SERVFAIL keeps the id and the question. */
    q[2] &= 0x7f;
    cleanup_free uint8_t *sf = minik_dns_servfail(q, ql, &rl);
    ldns_pkt *p = NULL;
    assert_int_equal(ldns_wire2pkt(&p, sf, rl), LDNS_STATUS_OK);
    assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
    assert_int_equal(ldns_pkt_id(p), 1);
    assert_int_equal(ldns_pkt_qdcount(p), 1);
    ldns_pkt_free(p);
    minik_dns_table_free(t);
}

/* A headless Service with 60 ready pods: its answer (60 A records) is over 512 bytes. */
static minik_dns_table_t *big_table(void)
{
    minik_dns_table_t *t = minik_dns_table_new(NULL);
    cJSON *s = cJSON_Parse("[{\"metadata\":{\"name\":\"big\",\"namespace\":\"shop\"},\"spec\":{"
                           "\"clusterIP\":\"None\"}}]");
    cJSON *e = cJSON_Parse("[{\"metadata\":{\"name\":\"big\",\"namespace\":\"shop\"},"
                           "\"subsets\":[{\"addresses\":[]}]}]");
    cJSON *addrs = cJSON_GetObjectItem(
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(e, 0), "subsets"), 0),
        "addresses");
    for (int i = 1; i <= 60; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "10.42.0.%d", i);
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "ip", ip);
        cJSON_AddItemToArray(addrs, a);
    }
    minik_dns_table_load(t, s, e);
    cJSON_Delete(s);
    cJSON_Delete(e);
    return t;
}

static void big_answers_are_truncated_for_udp(void **state)
{
    minik_dns_table_t *t = big_table();
    size_t ql = 0, rl = 0;
    cleanup_free uint8_t *q = query("big.shop.svc.cluster.local.", LDNS_RR_TYPE_A, 99, &ql);
    uint8_t *r = NULL;
    assert_int_equal(minik_dns_answer(t, q, ql, &r, &rl), MINIK_DNS_REPLY);
    assert_true(rl > 512);
    r = minik_dns_fit_udp(q, ql, r, &rl);
    assert_non_null(r);
    assert_true(rl <= 512);
    ldns_pkt *p = NULL;
    assert_int_equal(ldns_wire2pkt(&p, r, rl), LDNS_STATUS_OK);
    assert_true(ldns_pkt_tc(p));
    assert_int_equal(ldns_pkt_id(p), 99);
    assert_int_equal(ldns_pkt_ancount(p), 0);
    assert_int_equal(ldns_pkt_qdcount(p), 1);
    assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
    ldns_pkt_free(p);
    free(r);
    /* A client that advertises a 4096-byte EDNS0 buffer gets the whole answer. */
    ldns_pkt *eq = NULL;
    assert_int_equal(ldns_pkt_query_new_frm_str(&eq, "big.shop.svc.cluster.local.", LDNS_RR_TYPE_A,
                                                LDNS_RR_CLASS_IN, LDNS_RD),
                     LDNS_STATUS_OK);
    ldns_pkt_set_edns_udp_size(eq, 4096);
    cleanup_free uint8_t *eqw = NULL;
    size_t eql = 0;
    assert_int_equal(ldns_pkt2wire(&eqw, eq, &eql), LDNS_STATUS_OK);
    ldns_pkt_free(eq);
    r = NULL;
    assert_int_equal(minik_dns_answer(t, eqw, eql, &r, &rl), MINIK_DNS_REPLY);
    size_t before = rl;
    uint8_t *same = minik_dns_fit_udp(eqw, eql, r, &rl);
    assert_ptr_equal(same, r);
    assert_int_equal(rl, before);
    free(same);
    minik_dns_table_free(t);
}

static void pod_files(void **state)
{
    cleanup_free char *rc = minik_dns_resolv_conf("shop", "10.42.1.1", NULL);
    assert_string_equal(rc, "search shop.svc.cluster.local svc.cluster.local cluster.local\n"
                            "nameserver 10.42.1.1\noptions ndots:5\n");
    cleanup_free char *h = minik_dns_hosts("10.42.1.7", "web-1");
    assert_string_equal(h, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                           "10.42.1.7\tweb-1\n");
}

/* ---- the server for real ------------------------------------------------------------- */

/* Send a query to ip:53 and run the loop until the reply comes (or ~3 s pass). */
static char *ask_server(uv_loop_t *loop, const char *ip, const char *name)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(53)};
    inet_pton(AF_INET, ip, &to.sin_addr);
    size_t ql = 0;
    cleanup_free uint8_t *q = query(name, LDNS_RR_TYPE_A, 777, &ql);
    assert_int_equal(sendto(fd, q, ql, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)ql);
    uint8_t buf[4096];
    ssize_t n = -1;
    for (int i = 0; i < 3000 && n < 0; i++) {
        uv_run(loop, UV_RUN_NOWAIT);
        n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0)
            usleep(1000);
    }
    close(fd);
    if (n < 0)
        return xstrdup("timeout");
    ldns_pkt *p = NULL;
    assert_int_equal(ldns_wire2pkt(&p, buf, (size_t)n), LDNS_STATUS_OK);
    assert_int_equal(ldns_pkt_id(p), 777);
    char *rc = ldns_pkt_rcode2str(ldns_pkt_get_rcode(p));
    char out[256];
    snprintf(out, sizeof(out), "%s", rc);
    free(rc);
    for (size_t i = 0; i < ldns_rr_list_rr_count(ldns_pkt_answer(p)); i++) {
        char *a = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(p), i), 0));
        strncat(out, " ", sizeof(out) - strlen(out) - 1);
        strncat(out, a, sizeof(out) - strlen(out) - 1);
        free(a);
    }
    ldns_pkt_free(p);
    return xstrdup(out);
}

static void server_answers_and_forwards(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    minik_dns_table_t *cluster = table(NULL);
    minik_dns_table_t *upstream_names = table("example.test");
    cleanup_error minik_error_t *err = NULL;
    minik_dns_server_t *up = NULL, *srv = NULL, *lone = NULL;
    /* The "node's resolver": a second responder serving another domain. */
    minik_dns_server_opts_t uo = {.listen = "127.0.0.2"};
    if (minik_dns_server_start(&loop, &uo, upstream_names, &up, &err) < 0)
        fail_msg("%s", err->msg);
    minik_dns_server_opts_t so = {.listen = "127.0.0.1", .upstream = "127.0.0.2:53"};
    if (minik_dns_server_start(&loop, &so, cluster, &srv, &err) < 0)
        fail_msg("%s", err->msg);
    assert_int_equal(minik_dns_server_port(srv), 53);
    cleanup_free char *a = ask_server(&loop, "127.0.0.1", "web.shop.svc.cluster.local.");
    assert_string_equal(a, "NOERROR 10.43.0.10");
    cleanup_free char *b = ask_server(&loop, "127.0.0.1", "nope.shop.svc.cluster.local.");
    assert_string_equal(b, "NXDOMAIN");
    cleanup_free char *c = ask_server(&loop, "127.0.0.1", "api.default.svc.example.test.");
    assert_string_equal(c, "NOERROR 10.43.0.11"); /* answered by the upstream */
    /* An upstream that never answers: SERVFAIL after the timeout. */
    minik_dns_server_opts_t lo = {
        .listen = "127.0.0.3", .upstream = "127.0.0.4", .forward_timeout_ms = 200};
    if (minik_dns_server_start(&loop, &lo, cluster, &lone, &err) < 0)
        fail_msg("%s", err->msg);
    cleanup_free char *d = ask_server(&loop, "127.0.0.3", "example.org.");
    assert_string_equal(d, "SERVFAIL");
    minik_dns_server_stop(lone);
    minik_dns_server_stop(srv);
    minik_dns_server_stop(up);
    /* The same address twice: a clear error. */
    minik_dns_server_t *dup1 = NULL, *dup2 = NULL;
    assert_int_equal(minik_dns_server_start(&loop, &uo, cluster, &dup1, &err), 0);
    assert_true(minik_dns_server_start(&loop, &uo, cluster, &dup2, &err) < 0);
    assert_non_null(strstr(err->msg, "dns: bind 127.0.0.2:53"));
    minik_error_clear(&err);
    minik_dns_server_stop(dup1);
    minik_dns_server_opts_t bad = {.listen = "10.0.0.300"};
    assert_true(minik_dns_server_start(&loop, &bad, cluster, &dup2, &err) < 0);
    assert_non_null(strstr(err->msg, "not an IPv4 address"));
    uv_run(&loop, UV_RUN_DEFAULT); /* the close callbacks free the servers */
    assert_int_equal(uv_loop_close(&loop), 0);
    minik_dns_table_free(cluster);
    minik_dns_table_free(upstream_names);
}

/* Send one length-prefixed message per name over one TCP connection to ip:53 and read the
 * answers (running the loop meanwhile): "RCODE count" per answer, joined by "; ". */
static char *ask_tcp(uv_loop_t *loop, const char *ip, const char *const *names, int n)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(53)};
    inet_pton(AF_INET, ip, &to.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
    /* All queries in one write: the server must split them itself. */
    minik_buf_t out = MINIK_BUF_INIT;
    for (int i = 0; i < n; i++) {
        size_t ql = 0;
        cleanup_free uint8_t *q = query(names[i], LDNS_RR_TYPE_A, (uint16_t)(500 + i), &ql);
        uint8_t pre[2] = {(uint8_t)(ql >> 8), (uint8_t)ql};
        minik_buf_append(&out, pre, 2);
        minik_buf_append(&out, q, ql);
    }
    assert_int_equal(write(fd, out.data, out.len), (ssize_t)out.len);
    minik_buf_free(&out);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    static uint8_t buf[65536 * 2];
    size_t got = 0;
    char res[512] = "";
    int answers = 0;
    for (int spin = 0; spin < 3000 && answers < n; spin++) {
        uv_run(loop, UV_RUN_NOWAIT);
        ssize_t r = recv(fd, buf + got, sizeof(buf) - got, 0);
        if (r == 0)
            break;
        if (r < 0) {
            usleep(1000);
            continue;
        }
        got += (size_t)r;
        while (got >= 2 && got - 2 >= (size_t)((buf[0] << 8) | buf[1])) {
            size_t ml = (size_t)((buf[0] << 8) | buf[1]);
            ldns_pkt *p = NULL;
            assert_int_equal(ldns_wire2pkt(&p, buf + 2, ml), LDNS_STATUS_OK);
            char *rc = ldns_pkt_rcode2str(ldns_pkt_get_rcode(p));
            char one[64];
            snprintf(one, sizeof one, "%s%s %u", answers ? "; " : "", rc,
                     (unsigned)ldns_pkt_ancount(p));
            strncat(res, one, sizeof(res) - strlen(res) - 1);
            free(rc);
            assert_false(ldns_pkt_tc(p));
            ldns_pkt_free(p);
            answers++;
            memmove(buf, buf + 2 + ml, got - 2 - ml);
            got -= 2 + ml;
        }
    }
    close(fd);
    return xstrdup(answers ? res : "timeout");
}

static void big_answers_over_tcp(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    minik_dns_table_t *cluster = big_table();
    minik_dns_table_t *upstream_names = table("example.test");
    cleanup_error minik_error_t *err = NULL;
    minik_dns_server_t *up = NULL, *srv = NULL;
    minik_dns_server_opts_t uo = {.listen = "127.0.0.6"};
    if (minik_dns_server_start(&loop, &uo, upstream_names, &up, &err) < 0)
        fail_msg("%s", err->msg);
    minik_dns_server_opts_t so = {.listen = "127.0.0.5", .upstream = "127.0.0.6"};
    if (minik_dns_server_start(&loop, &so, cluster, &srv, &err) < 0)
        fail_msg("%s", err->msg);
    /* Over UDP: truncated, no answers. */
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(53)};
    inet_pton(AF_INET, "127.0.0.5", &to.sin_addr);
    size_t ql = 0;
    cleanup_free uint8_t *q = query("big.shop.svc.cluster.local.", LDNS_RR_TYPE_A, 7, &ql);
    assert_int_equal(sendto(fd, q, ql, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)ql);
    uint8_t buf[4096];
    ssize_t n = -1;
    for (int i = 0; i < 3000 && n < 0; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0)
            usleep(1000);
    }
    close(fd);
    assert_true(n > 0 && n <= 512);
    ldns_pkt *p = NULL;
    assert_int_equal(ldns_wire2pkt(&p, buf, (size_t)n), LDNS_STATUS_OK);
    assert_true(ldns_pkt_tc(p));
    assert_int_equal(ldns_pkt_ancount(p), 0);
    ldns_pkt_free(p);
    /* Over TCP: everything, several queries on one connection, forwarding included. */
    const char *names[] = {"big.shop.svc.cluster.local.", "nope.shop.svc.cluster.local.",
                           "api.default.svc.example.test."};
    cleanup_free char *got = ask_tcp(&loop, "127.0.0.5", names, 3);
    assert_string_equal(got, "NOERROR 60; NXDOMAIN 0; NOERROR 1");
    minik_dns_server_stop(srv);
    minik_dns_server_stop(up);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    minik_dns_table_free(cluster);
    minik_dns_table_free(upstream_names);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(cluster_names_answer),
        cmocka_unit_test(other_names_are_forwarded_and_garbage_dropped),
        cmocka_unit_test(pod_files),
        cmocka_unit_test(big_answers_are_truncated_for_udp),
    };
    const struct CMUnitTest real[] = {
        cmocka_unit_test(server_answers_and_forwards),
        cmocka_unit_test(big_answers_over_tcp),
    };
    int r = cmocka_run_group_tests_name("dns", pure, NULL, NULL);
    if (!netns_test_isolate()) {
        fprintf(stderr, "test_network_dns: cannot create network namespaces (not root?)\n");
        return 1;
    }
    return r + cmocka_run_group_tests_name("dns-server", real, NULL, NULL);
}
