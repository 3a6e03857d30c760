/* Pod CIDR, ClusterIP and NodePort allocation (see netalloc.h). */
#include "apiserver/netalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cidr.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"

typedef struct {
    uint8_t *bits;
    uint32_t n;
    uint32_t next; /* where the search for a free slot starts: spreads reuse over time */
} bitmap_t;

struct minik_netalloc {
    uint32_t cluster_base, service_base;
    int cluster_prefix, node_prefix, service_prefix;
    int np_min, np_max;
    bitmap_t nodes, services, ports;
};

static void bm_init(bitmap_t *b, uint32_t n)
{
    b->n = n;
    b->bits = xcalloc((n + 7) / 8, 1);
    b->next = 0;
}

static bool bm_get(const bitmap_t *b, uint32_t i)
{
    return i < b->n && (b->bits[i / 8] >> (i % 8)) & 1;
}

static void bm_set(bitmap_t *b, uint32_t i, bool v)
{
    if (i >= b->n)
        return;
    if (v)
        b->bits[i / 8] |= (uint8_t)(1u << (i % 8));
    else
        b->bits[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

/* The first free slot at or after `next`, wrapping; -1 when full. */
static int64_t bm_take(bitmap_t *b)
{
    for (uint32_t k = 0; k < b->n; k++) {
        uint32_t i = (b->next + k) % b->n;
        if (!bm_get(b, i)) {
            bm_set(b, i, true);
            b->next = (i + 1) % b->n;
            return i;
        }
    }
    return -1;
}

static int parse_ip(const char *s, uint32_t *out)
{
    struct in_addr a;
    if (!s || inet_pton(AF_INET, s, &a) != 1)
        return -1;
    *out = ntohl(a.s_addr);
    return 0;
}

static int parse_cidr(const char *s, uint32_t *base, int *prefix)
{
    if (minik_cidr4_parse(s, base, prefix) < 0)
        return -1;
    uint32_t mask = *prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> *prefix);
    return (*base & ~mask) ? -1 : 0; /* host bits set: "10.42.0.1/16" is a typo */
}

static void fmt_ip(uint32_t ip, char out[INET_ADDRSTRLEN])
{
    struct in_addr a = {htonl(ip)};
    inet_ntop(AF_INET, &a, out, INET_ADDRSTRLEN);
}

int minik_netalloc_new(const minik_netalloc_opts_t *o, minik_netalloc_t **out, minik_error_t **err)
{
    *out = NULL;
    minik_netalloc_opts_t d = o ? *o : (minik_netalloc_opts_t){0};
    const char *cc = d.cluster_cidr ? d.cluster_cidr : "10.42.0.0/16";
    const char *sc = d.service_cidr ? d.service_cidr : "10.43.0.0/16";
    cleanup_free minik_netalloc_t *a = xcalloc(1, sizeof(*a));
    a->node_prefix = d.node_prefix ? d.node_prefix : 24;
    a->np_min = d.node_port_min ? d.node_port_min : 30000;
    a->np_max = d.node_port_max ? d.node_port_max : 32767;
    if (parse_cidr(cc, &a->cluster_base, &a->cluster_prefix) < 0)
        return minik_error_set(err, 0, "--cluster-cidr \"%s\": not an IPv4 CIDR", cc);
    if (a->node_prefix <= a->cluster_prefix || a->node_prefix > 30 ||
        a->node_prefix - a->cluster_prefix > 16)
        return minik_error_set(err, 0,
                               "--cluster-cidr \"%s\": a /%d per node does not fit (1 to 65536 "
                               "nodes, at least 4 addresses each)",
                               cc, a->node_prefix);
    if (parse_cidr(sc, &a->service_base, &a->service_prefix) < 0)
        return minik_error_set(err, 0, "--service-cidr \"%s\": not an IPv4 CIDR", sc);
    if (a->service_prefix < 12 || a->service_prefix > 29)
        return minik_error_set(err, 0, "--service-cidr \"%s\": use a /12 to /29", sc);
    if (a->np_min < 1 || a->np_max > 65535 || a->np_min > a->np_max)
        return minik_error_set(err, 0, "node port range %d-%d is not valid", a->np_min, a->np_max);
    bm_init(&a->nodes, 1u << (a->node_prefix - a->cluster_prefix));
    bm_init(&a->services, 1u << (32 - a->service_prefix));
    bm_init(&a->ports, (uint32_t)(a->np_max - a->np_min + 1));
    /* Network address, the `kubernetes` Service's .1, and broadcast are never handed out. */
    bm_set(&a->services, 0, true);
    bm_set(&a->services, 1, true);
    bm_set(&a->services, a->services.n - 1, true);
    *out = steal_pointer(&a);
    return 0;
}

void minik_netalloc_free(minik_netalloc_t *a)
{
    if (!a)
        return;
    free(a->nodes.bits);
    free(a->services.bits);
    free(a->ports.bits);
    free(a);
}

static const cJSON *spec_of(const cJSON *obj)
{
    return cJSON_GetObjectItemCaseSensitive(obj, "spec");
}

static const char *kind_of(const cJSON *obj)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "kind"));
}

/* The node-slot index of a pod CIDR, -1 if it is not one of ours. */
static int64_t node_slot(const minik_netalloc_t *a, const char *cidr)
{
    uint32_t base;
    int prefix;
    if (!cidr || parse_cidr(cidr, &base, &prefix) < 0 || prefix != a->node_prefix)
        return -1;
    uint32_t cmask = ~(0xffffffffu >> a->cluster_prefix);
    if ((base & cmask) != a->cluster_base)
        return -1;
    return (int64_t)((base - a->cluster_base) >> (32 - a->node_prefix));
}

static int64_t service_slot(const minik_netalloc_t *a, const char *ip)
{
    uint32_t v;
    if (!ip || parse_ip(ip, &v) < 0)
        return -1;
    uint32_t mask = ~(0xffffffffu >> a->service_prefix);
    if ((v & mask) != a->service_base)
        return -1;
    return (int64_t)(v - a->service_base);
}

static int64_t port_slot(const minik_netalloc_t *a, const cJSON *port)
{
    const cJSON *np = cJSON_GetObjectItemCaseSensitive(port, "nodePort");
    if (!cJSON_IsNumber(np) || np->valueint < a->np_min || np->valueint > a->np_max)
        return -1;
    return np->valueint - a->np_min;
}

static void mark(minik_netalloc_t *a, const cJSON *obj, bool used)
{
    const cJSON *spec = spec_of(obj);
    if (minik_str_eq(kind_of(obj), "Node")) {
        int64_t s =
            node_slot(a, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "podCIDR")));
        if (s >= 0)
            bm_set(&a->nodes, (uint32_t)s, used);
    } else if (minik_str_eq(kind_of(obj), "Service")) {
        int64_t s = service_slot(
            a, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "clusterIP")));
        if (s > 1 && (uint32_t)s < a->services.n - 1)
            bm_set(&a->services, (uint32_t)s, used);
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(spec, "ports"))
        {
            int64_t ps = port_slot(a, p);
            if (ps >= 0)
                bm_set(&a->ports, (uint32_t)ps, used);
        }
    }
}

void minik_netalloc_observe(minik_netalloc_t *a, const cJSON *obj)
{
    mark(a, obj, true);
}

void minik_netalloc_release(minik_netalloc_t *a, const cJSON *obj)
{
    mark(a, obj, false);
}

static cJSON *ensure_spec(cJSON *obj)
{
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    if (!cJSON_IsObject(spec)) {
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "spec");
        spec = cJSON_AddObjectToObject(obj, "spec");
    }
    return spec;
}

static void set_str(cJSON *o, const char *k, const char *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, k);
    cJSON_AddStringToObject(o, k, v);
}

int minik_netalloc_node(minik_netalloc_t *a, cJSON *node, minik_error_t **err)
{
    cJSON *spec = ensure_spec(node);
    const char *want = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "podCIDR"));
    int64_t slot;
    if (want && *want) {
        slot = node_slot(a, want);
        if (slot < 0)
            return minik_error_set_code(err, 422, 0,
                                        "spec.podCIDR: Invalid value: \"%s\": not a /%d of the "
                                        "cluster CIDR",
                                        want, a->node_prefix);
        if (bm_get(&a->nodes, (uint32_t)slot))
            return minik_error_set_code(
                err, 422, 0, "spec.podCIDR: Invalid value: \"%s\": already allocated", want);
        bm_set(&a->nodes, (uint32_t)slot, true);
    } else {
        slot = bm_take(&a->nodes);
        if (slot < 0)
            return minik_error_set_code(err, 422, ENOSPC,
                                        "spec.podCIDR: the cluster CIDR has no free /%d left",
                                        a->node_prefix);
    }
    char ip[INET_ADDRSTRLEN];
    fmt_ip(a->cluster_base + ((uint32_t)slot << (32 - a->node_prefix)), ip);
    cleanup_free char *cidr = xasprintf("%s/%d", ip, a->node_prefix);
    set_str(spec, "podCIDR", cidr);
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "podCIDRs");
    cJSON *list = cJSON_AddArrayToObject(spec, "podCIDRs");
    cJSON_AddItemToArray(list, cJSON_CreateString(cidr));
    return 0;
}

static const cJSON *old_port(const cJSON *old, const cJSON *p)
{
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "name"));
    const cJSON *num = cJSON_GetObjectItemCaseSensitive(p, "port");
    const cJSON *op;
    cJSON_ArrayForEach(op, cJSON_GetObjectItemCaseSensitive(spec_of(old), "ports"))
    {
        const char *on = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(op, "name"));
        const cJSON *onum = cJSON_GetObjectItemCaseSensitive(op, "port");
        if ((name && *name && minik_str_eq(name, on)) ||
            ((!name || !*name) && cJSON_IsNumber(num) && cJSON_IsNumber(onum) &&
             num->valueint == onum->valueint))
            return op;
    }
    return NULL;
}

/* Is nodePort slot `s` held by `old` (so an update may keep it)? */
static bool old_holds_port(const minik_netalloc_t *a, const cJSON *old, int64_t s)
{
    const cJSON *op;
    cJSON_ArrayForEach(op, cJSON_GetObjectItemCaseSensitive(spec_of(old), "ports"))
    {
        if (port_slot(a, op) == s)
            return true;
    }
    return false;
}

int minik_netalloc_service(minik_netalloc_t *a, cJSON *svc, const cJSON *old, minik_error_t **err)
{
    cJSON *spec = ensure_spec(svc);
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "type"));
    bool wants_ports = minik_str_eq(type, "NodePort") || minik_str_eq(type, "LoadBalancer");
    const char *want = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "clusterIP"));
    const char *had =
        old ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec_of(old), "clusterIP"))
            : NULL;
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(spec, "ports")) > 256)
        return minik_error_set_code(err, 422, 0, "spec.ports: at most 256 ports");
    int64_t ip_slot = -1; /* newly taken by this call (undone on failure) */
    if (old && had && *had) {
        if (want && *want && strcmp(want, had) != 0)
            return minik_error_set_code(err, 422, 0,
                                        "spec.clusterIP: Invalid value: \"%s\": field is "
                                        "immutable",
                                        want);
        set_str(spec, "clusterIP", had);
    } else if (minik_str_eq(want, "None")) {
        /* headless: no address */
    } else if (want && *want) {
        int64_t s = service_slot(a, want);
        if (s < 0)
            return minik_error_set_code(err, 422, 0,
                                        "spec.clusterIP: Invalid value: \"%s\": not in the "
                                        "service CIDR",
                                        want);
        if (bm_get(&a->services, (uint32_t)s))
            return minik_error_set_code(err, 422, 0,
                                        "spec.clusterIP: Invalid value: \"%s\": provided IP is "
                                        "already allocated",
                                        want);
        bm_set(&a->services, (uint32_t)s, true);
        ip_slot = s;
    } else {
        ip_slot = bm_take(&a->services);
        if (ip_slot < 0)
            return minik_error_set_code(err, 422, ENOSPC,
                                        "spec.clusterIP: the service CIDR is full");
        char ip[INET_ADDRSTRLEN];
        fmt_ip(a->service_base + (uint32_t)ip_slot, ip);
        set_str(spec, "clusterIP", ip);
    }
    if (!minik_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "clusterIP")),
                      "None")) {
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "clusterIPs");
        cJSON *ips = cJSON_AddArrayToObject(spec, "clusterIPs");
        cJSON_AddItemToArray(ips, cJSON_CreateString(cJSON_GetStringValue(
                                      cJSON_GetObjectItemCaseSensitive(spec, "clusterIP"))));
    }

    /* NodePorts: explicit ones first (so an automatic pick never steals a port another
     * entry names), then the rest; all recorded so a failure gives them back. */
    int64_t taken[256];
    int n_taken = 0, r = 0;
    for (int pass = 0; pass < 2 && r == 0; pass++) {
        int i = -1;
        cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(spec, "ports"))
        {
            i++;
            if (!wants_ports) {
                cJSON_DeleteItemFromObjectCaseSensitive(p, "nodePort");
                continue;
            }
            const cJSON *np = cJSON_GetObjectItemCaseSensitive(p, "nodePort");
            bool explicit_port = cJSON_IsNumber(np) && np->valueint != 0;
            if (pass == 0 && explicit_port) {
                int64_t s = port_slot(a, p);
                if (s < 0) {
                    r = minik_error_set_code(err, 422, 0,
                                             "spec.ports[%d].nodePort: Invalid value: %d: "
                                             "provided port is not in the valid range %d-%d",
                                             i, np->valueint, a->np_min, a->np_max);
                    break;
                }
                if (old && old_holds_port(a, old, s))
                    continue;
                if (bm_get(&a->ports, (uint32_t)s)) {
                    r = minik_error_set_code(err, 422, 0,
                                             "spec.ports[%d].nodePort: Invalid value: %d: "
                                             "provided port is already allocated",
                                             i, np->valueint);
                    break;
                }
                bm_set(&a->ports, (uint32_t)s, true);
                taken[n_taken++] = s;
            } else if (pass == 1 && !explicit_port) {
                const cJSON *op = old ? old_port(old, p) : NULL;
                int64_t s = op ? port_slot(a, op) : -1;
                if (s < 0) {
                    s = bm_take(&a->ports);
                    if (s < 0) {
                        r = minik_error_set_code(err, 422, ENOSPC,
                                                 "spec.ports[%d].nodePort: no free node port in "
                                                 "%d-%d",
                                                 i, a->np_min, a->np_max);
                        break;
                    }
                    taken[n_taken++] = s;
                }
                cJSON_DeleteItemFromObjectCaseSensitive(p, "nodePort");
                cJSON_AddNumberToObject(p, "nodePort", (double)(a->np_min + s));
            }
        }
    }
    if (r < 0) {
        for (int k = 0; k < n_taken; k++)
            bm_set(&a->ports, (uint32_t)taken[k], false);
        if (ip_slot >= 0)
            bm_set(&a->services, (uint32_t)ip_slot, false);
        return r;
    }
    /* An update gives back the NodePorts it no longer uses. */
    const cJSON *op;
    cJSON_ArrayForEach(op, cJSON_GetObjectItemCaseSensitive(spec_of(old), "ports"))
    {
        int64_t s = port_slot(a, op);
        bool still = false;
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(spec, "ports"))
        {
            still |= port_slot(a, p) == s;
        }
        if (s >= 0 && !still)
            bm_set(&a->ports, (uint32_t)s, false);
    }
    return 0;
}
