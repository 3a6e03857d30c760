/* host-gw routes (see routes.h), programmed with iproute2. */
#include "agent/network/routes.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "lib/buf.h"
#include "lib/cidr.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"

static const char *jstr(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* Strict: these strings end up on a command line. */
static bool ip_ok(const char *s)
{
    struct in_addr a;
    return s && inet_pton(AF_INET, s, &a) == 1;
}

static bool cidr_ok(const char *s)
{
    uint32_t base;
    int prefix;
    return minik_cidr4_parse(s, &base, &prefix) == 0;
}

static int cmp_route(const void *a, const void *b)
{
    return strcmp(((const minik_route_t *)a)->dst, ((const minik_route_t *)b)->dst);
}

size_t minik_routes_desired(const cJSON *nodes, const char *self, minik_route_t **out)
{
    *out = NULL;
    size_t n = 0;
    const cJSON *node;
    cJSON_ArrayForEach(node, nodes)
    {
        const char *name = jstr(cJSON_GetObjectItemCaseSensitive(node, "metadata"), "name");
        const char *cidr = jstr(cJSON_GetObjectItemCaseSensitive(node, "spec"), "podCIDR");
        const char *ip = NULL;
        const cJSON *addr;
        cJSON_ArrayForEach(addr, cJSON_GetObjectItemCaseSensitive(
                                     cJSON_GetObjectItemCaseSensitive(node, "status"), "addresses"))
        {
            if (minik_str_eq(jstr(addr, "type"), "InternalIP") && !ip)
                ip = jstr(addr, "address");
        }
        if (minik_str_eq(name, self) || !cidr_ok(cidr) || !ip_ok(ip))
            continue;
        *out = xrealloc(*out, (n + 1) * sizeof(**out));
        (*out)[n].dst = xstrdup(cidr);
        (*out)[n].via = xstrdup(ip);
        (*out)[n].dev = NULL;
        n++;
    }
    if (n > 1)
        qsort(*out, n, sizeof(**out), cmp_route);
    return n;
}

void minik_routes_free(minik_route_t *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(r[i].dst);
        free(r[i].via);
        free(r[i].dev);
    }
    free(r);
}

static int run(const char *cmd, minik_error_t **err)
{
    cleanup_free char *full = xasprintf("%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p)
        return minik_error_set(err, 0, "run \"%s\"", cmd);
    minik_buf_t out = MINIK_BUF_INIT;
    char chunk[512];
    size_t k;
    while ((k = fread(chunk, 1, sizeof(chunk), p)) > 0)
        if (out.len < 2048)
            minik_buf_append(&out, chunk, k);
    int st = pclose(p);
    int r = 0;
    if (st != 0)
        r = minik_error_set(err, 0, "%s: %s", cmd, out.data ? out.data : "failed");
    minik_buf_free(&out);
    return r;
}

int minik_routes_sync(const minik_route_t *want, size_t n, minik_error_t **err)
{
    for (size_t i = 0; i < n; i++) {
        const char *dev = want[i].dev;
        bool dev_ok = dev && *dev && strlen(dev) < 16 && !strpbrk(dev, " ;'\"$`\\|&<>");
        if (!cidr_ok(want[i].dst) || (want[i].via ? !ip_ok(want[i].via) : !dev_ok))
            return minik_error_set(err, 0, "route %s via %s: not an IPv4 route",
                                   want[i].dst ? want[i].dst : "",
                                   want[i].via ? want[i].via
                                   : dev       ? dev
                                               : "");
        cleanup_free char *cmd = want[i].via
                                     ? xasprintf("ip -4 route replace %s via %s proto %d",
                                                 want[i].dst, want[i].via, MINIK_ROUTE_PROTO)
                                     : xasprintf("ip -4 route replace %s dev %s proto %d",
                                                 want[i].dst, dev, MINIK_ROUTE_PROTO);
        if (run(cmd, err) < 0)
            return -1;
    }
    cleanup_free char *list = xasprintf("ip -4 -o route show proto %d", MINIK_ROUTE_PROTO);
    FILE *p = popen(list, "r");
    if (!p)
        return minik_error_set(err, 0, "run \"%s\"", list);
    char line[512];
    int r = 0;
    while (fgets(line, sizeof(line), p)) {
        char dst[64] = "";
        if (sscanf(line, "%63s", dst) != 1)
            continue;
        /* A single address is printed without its /32. */
        cleanup_free char *norm = strchr(dst, '/') ? xstrdup(dst) : xasprintf("%s/32", dst);
        bool keep = false;
        for (size_t i = 0; i < n; i++)
            keep |= strcmp(want[i].dst, norm) == 0;
        if (keep || !cidr_ok(norm))
            continue;
        cleanup_free char *del = xasprintf("ip -4 route del %s proto %d", norm, MINIK_ROUTE_PROTO);
        if (r == 0)
            r = run(del, err);
    }
    pclose(p);
    return r;
}
