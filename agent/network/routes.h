/* Routes between nodes (host-gw): every node reaches the other nodes' pod CIDRs through
 * their InternalIP, which works for nodes on one L2 network (the common homelab). The
 * routes are tagged with their own routing protocol number, so a sync finds exactly the
 * ones minik made and removes those of nodes that are gone. */
#ifndef MINIK_AGENT_NETWORK_ROUTES_H
#define MINIK_AGENT_NETWORK_ROUTES_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "lib/error.h"

#define MINIK_ROUTE_PROTO 77 /* "proto 77" in `ip route` output */

typedef struct minik_route {
    char *dst; /* a pod CIDR, "10.42.2.0/24" */
    char *via; /* that node's InternalIP; NULL: a direct route out of `dev` */
    char *dev; /* only for direct routes (the service CIDR onto minik0) */
} minik_route_t;

/* The routes node `self` needs, from an array of Node objects (spec.podCIDR and the
 * InternalIP in status.addresses); nodes missing either are skipped. Sorted by dst. */
size_t minik_routes_desired(const cJSON *nodes, const char *self, minik_route_t **out);
void minik_routes_free(minik_route_t *r, size_t n);

/* Make the kernel's minik routes (in the caller's network namespace) equal `want`:
 * `ip route replace` each, delete every other route with MINIK_ROUTE_PROTO. */
int minik_routes_sync(const minik_route_t *want, size_t n, minik_error_t **err);

#endif
