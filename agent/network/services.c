/* nftables rendering and atomic replacement of the minik table (see services.h). */
#include "agent/network/services.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* The packet mark meaning "masquerade me in postrouting" (kube-proxy uses the same bit). */
#define MASQ_MARK          "0x00004000"
#define DEFAULT_AFFINITY_S 10800

static const char *jstr(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static int jint(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valueint : 0;
}

static const char *proto_of(const cJSON *port)
{
    const char *p = jstr(port, "protocol");
    if (minik_str_eq(p, "UDP"))
        return "udp";
    if (minik_str_eq(p, "SCTP"))
        return "sctp";
    return "tcp";
}

/* Only characters nftables takes unquoted in identifiers; names from the API are DNS
 * labels already, this keeps a malformed object from breaking the whole table. */
static bool ident_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 63)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
            return false;
    return true;
}

static bool ipv4_ok(const char *s)
{
    if (!s)
        return false;
    int dots = 0, digits = 0, val = 0;
    for (; *s; s++) {
        if (*s == '.') {
            if (!digits)
                return false;
            dots++;
            digits = val = 0;
        } else if (*s >= '0' && *s <= '9' && digits < 3) {
            val = val * 10 + (*s - '0');
            digits++;
            if (val > 255)
                return false;
        } else {
            return false;
        }
    }
    return dots == 3 && digits > 0;
}

static const cJSON *find_endpoints(const cJSON *endpoints, const char *ns, const char *name)
{
    const cJSON *ep;
    cJSON_ArrayForEach(ep, endpoints)
    {
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(ep, "metadata");
        const char *ens = jstr(md, "namespace");
        if (minik_str_eq(jstr(md, "name"), name) && minik_str_eq(ens ? ens : "default", ns))
            return ep;
    }
    return NULL;
}

typedef struct {
    char ip[16];
    int port;
} target_t;

/* The Ready endpoints of one service port: the subset port with the same name (or the
 * only port of a subset, for a single-port service) and protocol. */
static size_t targets_of(const cJSON *ep, const cJSON *svc_port, int n_svc_ports, target_t **out)
{
    *out = NULL;
    size_t n = 0, cap = 0;
    const char *pname = jstr(svc_port, "name");
    const char *proto = proto_of(svc_port);
    const cJSON *subset;
    cJSON_ArrayForEach(subset, cJSON_GetObjectItemCaseSensitive(ep, "subsets"))
    {
        const cJSON *ports = cJSON_GetObjectItemCaseSensitive(subset, "ports");
        const cJSON *match = NULL, *p;
        cJSON_ArrayForEach(p, ports)
        {
            if (strcmp(proto_of(p), proto) != 0)
                continue;
            const char *n2 = jstr(p, "name");
            if ((pname && *pname && minik_str_eq(n2, pname)) ||
                ((!pname || !*pname) && n_svc_ports == 1 && cJSON_GetArraySize(ports) == 1))
                match = p;
        }
        int port = jint(match, "port");
        if (!match || port <= 0 || port > 65535)
            continue;
        const cJSON *addr;
        cJSON_ArrayForEach(addr, cJSON_GetObjectItemCaseSensitive(subset, "addresses"))
        {
            const char *ip = jstr(addr, "ip");
            if (!ipv4_ok(ip))
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 4;
                *out = xrealloc(*out, cap * sizeof(**out));
            }
            snprintf((*out)[n].ip, sizeof((*out)[n].ip), "%s", ip);
            (*out)[n].port = port;
            n++;
        }
    }
    return n;
}

static int cmp_svc(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    const cJSON *mx = cJSON_GetObjectItemCaseSensitive(x, "metadata");
    const cJSON *my = cJSON_GetObjectItemCaseSensitive(y, "metadata");
    int c = strcmp(jstr(mx, "namespace") ? jstr(mx, "namespace") : "default",
                   jstr(my, "namespace") ? jstr(my, "namespace") : "default");
    return c ? c
             : strcmp(jstr(mx, "name") ? jstr(mx, "name") : "",
                      jstr(my, "name") ? jstr(my, "name") : "");
}

typedef struct {
    minik_buf_t maps_ip, maps_np, rej_ip, rej_np, chains;
    int n_ip, n_np, n_rej_ip, n_rej_np;
} render_t;

static void elem(minik_buf_t *b, int *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void elem(minik_buf_t *b, int *n, const char *fmt, ...)
{
    minik_buf_append_str(b, *n ? ",\n\t\t\t     " : "");
    va_list ap;
    va_start(ap, fmt);
    minik_buf_appendv(b, fmt, ap);
    va_end(ap);
    (*n)++;
}

static void render_port(render_t *r, const char *ns, const char *name, const cJSON *spec,
                        const cJSON *port, int n_ports, const cJSON *ep,
                        const minik_services_opts_t *o)
{
    const char *cip = jstr(spec, "clusterIP");
    const char *proto = proto_of(port);
    int pnum = jint(port, "port");
    if (pnum <= 0 || pnum > 65535)
        return;
    const char *type = jstr(spec, "type");
    int node_port = (minik_str_eq(type, "NodePort") || minik_str_eq(type, "LoadBalancer"))
                        ? jint(port, "nodePort")
                        : 0;
    if (node_port < 0 || node_port > 65535)
        node_port = 0;
    cleanup_free char *chain = xasprintf("svc_%s_%s_%s_%d", ns, name, proto, pnum);
    cleanup_free target_t *t = NULL;
    size_t n = targets_of(ep, port, n_ports, &t);
    if (n == 0) {
        /* Refused at once (like kube-proxy) instead of a connection that hangs. */
        elem(&r->rej_ip, &r->n_rej_ip, "%s . %s . %d", cip, proto, pnum);
        if (node_port)
            elem(&r->rej_np, &r->n_rej_np, "%s . %d", proto, node_port);
        return;
    }
    elem(&r->maps_ip, &r->n_ip, "%s . %s . %d : goto %s", cip, proto, pnum, chain);
    if (node_port) {
        elem(&r->maps_np, &r->n_np, "%s . %d : goto np_%s", proto, node_port, chain + 4);
        /* The reply must come back through this node: masquerade NodePort traffic. */
        minik_buf_appendf(&r->chains,
                          "\tchain np_%s {\n\t\tmeta mark set meta mark | " MASQ_MARK
                          "\n\t\tgoto %s\n\t}\n",
                          chain + 4, chain);
    }
    bool affinity = minik_str_eq(jstr(spec, "sessionAffinity"), "ClientIP");
    int timeout = o->affinity_timeout_s > 0 ? o->affinity_timeout_s : DEFAULT_AFFINITY_S;
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(spec, "sessionAffinityConfig"), "clientIP");
    if (jint(cfg, "timeoutSeconds") > 0)
        timeout = jint(cfg, "timeoutSeconds");

    minik_buf_appendf(&r->chains, "\tchain %s {\n", chain);
    for (size_t i = 0; affinity && i < n; i++)
        minik_buf_appendf(&r->chains, "\t\tip saddr @aff_%s_%zu goto ep_%s_%zu\n", chain + 4, i,
                          chain + 4, i);
    if (n == 1) {
        minik_buf_appendf(&r->chains, "\t\tgoto ep_%s_0\n", chain + 4);
    } else {
        minik_buf_appendf(&r->chains, "\t\tnumgen random mod %zu vmap { ", n);
        for (size_t i = 0; i < n; i++)
            minik_buf_appendf(&r->chains, "%s%zu : goto ep_%s_%zu", i ? ", " : "", i, chain + 4, i);
        minik_buf_append_str(&r->chains, " }\n");
    }
    minik_buf_append_str(&r->chains, "\t}\n");
    for (size_t i = 0; i < n; i++) {
        if (affinity)
            minik_buf_appendf(&r->chains,
                              "\tset aff_%s_%zu {\n\t\ttype ipv4_addr\n\t\tflags dynamic,timeout\n"
                              "\t\ttimeout %ds\n\t}\n",
                              chain + 4, i, timeout);
        minik_buf_appendf(&r->chains, "\tchain ep_%s_%zu {\n", chain + 4, i);
        /* Hairpin: a pod reaching itself through its Service must see the reply come from
         * the bridge, not from its own address. */
        minik_buf_appendf(&r->chains, "\t\tip saddr %s meta mark set meta mark | " MASQ_MARK "\n",
                          t[i].ip);
        if (affinity)
            minik_buf_appendf(&r->chains, "\t\tupdate @aff_%s_%zu { ip saddr }\n", chain + 4, i);
        minik_buf_appendf(&r->chains, "\t\tmeta l4proto %s dnat to %s:%d\n\t}\n", proto, t[i].ip,
                          t[i].port);
    }
}

static void append_map(minik_buf_t *out, const char *kind, const char *name, const char *type,
                       const minik_buf_t *elems, int n)
{
    minik_buf_appendf(out, "\t%s %s {\n\t\ttype %s\n", kind, name, type);
    if (n)
        minik_buf_appendf(out, "\t\telements = { %s }\n", elems->data);
    minik_buf_append_str(out, "\t}\n");
}

char *minik_services_render(const cJSON *services, const cJSON *endpoints,
                            const minik_services_opts_t *o)
{
    render_t r = {
        MINIK_BUF_INIT, MINIK_BUF_INIT, MINIK_BUF_INIT, MINIK_BUF_INIT, MINIK_BUF_INIT, 0, 0, 0, 0};
    int nsvc = cJSON_GetArraySize(services);
    cleanup_free const cJSON **sorted = xcalloc((size_t)nsvc + 1, sizeof(*sorted));
    int k = 0;
    const cJSON *svc;
    cJSON_ArrayForEach(svc, services)
    {
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(svc, "metadata");
        const char *ns = jstr(md, "namespace") ? jstr(md, "namespace") : "default";
        if (ident_ok(ns) && ident_ok(jstr(md, "name")) &&
            ipv4_ok(jstr(cJSON_GetObjectItemCaseSensitive(svc, "spec"), "clusterIP")))
            sorted[k++] = svc;
    }
    qsort(sorted, (size_t)k, sizeof(*sorted), cmp_svc);
    for (int i = 0; i < k; i++) {
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(sorted[i], "metadata");
        const char *ns = jstr(md, "namespace") ? jstr(md, "namespace") : "default";
        const char *name = jstr(md, "name");
        const cJSON *spec = cJSON_GetObjectItemCaseSensitive(sorted[i], "spec");
        const cJSON *ports = cJSON_GetObjectItemCaseSensitive(spec, "ports");
        const cJSON *ep = find_endpoints(endpoints, ns, name);
        const cJSON *port;
        cJSON_ArrayForEach(port, ports)
        {
            render_port(&r, ns, name, spec, port, cJSON_GetArraySize(ports), ep, o);
        }
    }

    minik_buf_t out = MINIK_BUF_INIT;
    /* Create-if-missing, delete, define: one transaction, so the swap is atomic. */
    minik_buf_append_str(&out, "table ip minik\ndelete table ip minik\ntable ip minik {\n");
    append_map(&out, "map", "service_ips", "ipv4_addr . inet_proto . inet_service : verdict",
               &r.maps_ip, r.n_ip);
    append_map(&out, "map", "service_nodeports", "inet_proto . inet_service : verdict", &r.maps_np,
               r.n_np);
    append_map(&out, "set", "no_endpoints", "ipv4_addr . inet_proto . inet_service", &r.rej_ip,
               r.n_rej_ip);
    append_map(&out, "set", "no_endpoint_nodeports", "inet_proto . inet_service", &r.rej_np,
               r.n_rej_np);
    minik_buf_append_str(
        &out,
        "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
        "\t\tjump services\n\t}\n"
        "\tchain output {\n\t\ttype nat hook output priority -100; policy accept;\n"
        "\t\tjump services\n\t}\n"
        "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
        "\t\tmeta mark & " MASQ_MARK " == " MASQ_MARK " masquerade\n");
    if (o->masquerade_outbound && o->cluster_cidr)
        minik_buf_appendf(&out, "\t\tip saddr %s ip daddr != %s oifname != \"%s\" masquerade\n",
                          o->cluster_cidr, o->cluster_cidr, o->bridge ? o->bridge : "minik0");
    minik_buf_append_str(
        &out, "\t}\n"
              "\tchain services {\n"
              "\t\tip daddr . meta l4proto . th dport vmap @service_ips\n"
              "\t\tfib daddr type local meta l4proto . th dport vmap @service_nodeports\n"
              "\t}\n"
              /* TCP gets a reset: an ICMP error made in the forward path does not reach a
               * pod's socket when the bridge hands packets to netfilter. */
              "\tchain reject_no_endpoints {\n"
              "\t\tip daddr . meta l4proto . th dport @no_endpoints meta l4proto tcp reject "
              "with tcp reset\n"
              "\t\tip daddr . meta l4proto . th dport @no_endpoints reject\n"
              "\t\tfib daddr type local meta l4proto . th dport @no_endpoint_nodeports meta "
              "l4proto tcp reject with tcp reset\n"
              "\t\tfib daddr type local meta l4proto . th dport @no_endpoint_nodeports reject\n"
              "\t}\n"
              /* route_localnet (NodePorts on 127.0.0.1) must not let the network reach
               * the node's loopback services: only replies to its own connections may
               * come to 127.0.0.0/8 from another interface (as kube-proxy guards it). */
              "\tchain filter_input {\n\t\ttype filter hook input priority filter; policy accept;\n"
              "\t\tiifname != \"lo\" ip daddr 127.0.0.0/8 ct state & (established | related) "
              "== 0 drop\n"
              "\t\tjump reject_no_endpoints\n\t}\n"
              "\tchain filter_forward {\n\t\ttype filter hook forward priority filter; policy "
              "accept;\n\t\tiifname != \"lo\" ip saddr 127.0.0.0/8 drop\n"
              "\t\tjump reject_no_endpoints\n\t}\n"
              "\tchain filter_output {\n\t\ttype filter hook output priority filter; policy "
              "accept;\n\t\tjump reject_no_endpoints\n\t}\n");
    if (r.chains.data)
        minik_buf_append_str(&out, r.chains.data);
    minik_buf_append_str(&out, "}\n");
    minik_buf_free(&r.maps_ip);
    minik_buf_free(&r.maps_np);
    minik_buf_free(&r.rej_ip);
    minik_buf_free(&r.rej_np);
    minik_buf_free(&r.chains);
    return minik_buf_steal(&out);
}

int minik_services_route_localnet(const char *ifname, minik_error_t **err)
{
    if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/') ||
        strcmp(ifname, ".") == 0 || strcmp(ifname, "..") == 0)
        return minik_error_set(err, EINVAL, "route_localnet: bad interface name \"%s\"",
                               ifname ? ifname : "");
    cleanup_free char *path = xasprintf("/proc/sys/net/ipv4/conf/%s/route_localnet", ifname);
    FILE *f = fopen(path, "w");
    if (!f)
        return minik_error_set(err, errno, "open \"%s\"", path);
    bool ok = fputs("1", f) != EOF;
    if (fclose(f) != 0) /* a sysctl write fails at flush */
        ok = false;
    if (!ok)
        return minik_error_set(err, errno, "write \"%s\"", path);
    return 0;
}

int minik_services_ifname_of(const char *ip, char *out, minik_error_t **err)
{
    struct in_addr want;
    if (!ip || inet_pton(AF_INET, ip, &want) != 1)
        return minik_error_set(err, EINVAL, "\"%s\" is not an IPv4 address", ip ? ip : "");
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) < 0)
        return minik_error_set(err, errno, "getifaddrs");
    int r = -1;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        if (((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr.s_addr == want.s_addr) {
            snprintf(out, IFNAMSIZ, "%s", i->ifa_name);
            r = 0;
            break;
        }
    }
    freeifaddrs(ifs);
    if (r < 0)
        return minik_error_set(err, ENODEV, "no interface has the address %s", ip);
    return 0;
}

const char *minik_services_remove_text(void)
{
    return "table ip minik\ndelete table ip minik\n";
}

int minik_services_apply(const char *ruleset, minik_error_t **err)
{
    char tmpl[] = "/tmp/minik-nft-XXXXXX";
    cleanup_close int fd = mkstemp(tmpl);
    if (fd < 0)
        return minik_error_set(err, errno, "create a temporary file");
    size_t len = strlen(ruleset), off = 0;
    while (off < len) {
        ssize_t w = write(fd, ruleset + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            unlink(tmpl);
            return minik_error_set(err, e, "write \"%s\"", tmpl);
        }
        off += (size_t)w;
    }
    /* nft reads the file itself; its diagnostics (file:line:col) go to our capture. */
    cleanup_free char *cmd = xasprintf("nft -f %s 2>&1", tmpl);
    FILE *p = popen(cmd, "r");
    if (!p) {
        int e = errno;
        unlink(tmpl);
        return minik_error_set(err, e, "run nft");
    }
    minik_buf_t msg = MINIK_BUF_INIT;
    char chunk[1024];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
        if (msg.len < 4096)
            minik_buf_append(&msg, chunk, n);
    int st = pclose(p);
    unlink(tmpl);
    int r = 0;
    if (st != 0)
        r = minik_error_set(err, 0, "nft -f: exit status %d: %s",
                            WIFEXITED(st) ? WEXITSTATUS(st) : -1, msg.data ? msg.data : "");
    minik_buf_free(&msg);
    return r;
}

int minik_services_remove(minik_error_t **err)
{
    return minik_services_apply(minik_services_remove_text(), err);
}
