/* Address allocation done by the server when objects are created: a pod CIDR per Node
 * (a /24 by default out of --cluster-cidr 10.42.0.0/16), a ClusterIP per Service (out of
 * --service-cidr 10.43.0.0/16; the network address and .1 are reserved, .1 for the
 * `kubernetes` Service as in Kubernetes) and NodePorts (30000-32767).
 *
 * The allocator keeps only bitmaps in memory; the truth is the objects themselves
 * (spec.podCIDR, spec.clusterIP, spec.ports[].nodePort), so at startup the server
 * replays every Node and Service through minik_netalloc_observe() and after that calls
 * _node/_service before a create or update is written and _release after a delete.
 * Conflicts are errors with code 422 and a message naming the field, as the apiserver
 * turns them into Status objects. */
#ifndef MINIK_APISERVER_NETALLOC_H
#define MINIK_APISERVER_NETALLOC_H

#include <cjson/cJSON.h>

#include "lib/error.h"

typedef struct minik_netalloc minik_netalloc_t;

typedef struct minik_netalloc_opts {
    const char *cluster_cidr; /* NULL: "10.42.0.0/16" */
    int node_prefix;          /* 0: 24 */
    const char *service_cidr; /* NULL: "10.43.0.0/16" */
    int node_port_min;        /* 0: 30000 */
    int node_port_max;        /* 0: 32767 */
} minik_netalloc_opts_t;

/* Bad CIDRs, a node prefix not longer than the cluster prefix, or more than 2^16 nodes /
 * 2^20 service addresses are refused with a message naming the flag. */
int minik_netalloc_new(const minik_netalloc_opts_t *opts, minik_netalloc_t **out,
                       minik_error_t **err);
void minik_netalloc_free(minik_netalloc_t *a);

/* Mark what an existing Node or Service holds as used (startup replay). Values outside
 * the ranges are ignored; duplicates are tolerated (the first owner keeps it). */
void minik_netalloc_observe(minik_netalloc_t *a, const cJSON *obj);

/* Give a Node being created a pod CIDR: spec.podCIDR (and spec.podCIDRs) set in place.
 * An explicit one is honoured when it is a free block of the cluster CIDR (422 if not).
 * A node already holding one keeps it. */
int minik_netalloc_node(minik_netalloc_t *a, cJSON *node, minik_error_t **err);

/* Give a Service being created or updated its ClusterIP and NodePorts, in place. `old`
 * is the stored object for an update (NULL on create): its clusterIP cannot change (422)
 * and its nodePorts are kept for ports that do not name one. Explicit values are
 * honoured if free and in range (422 otherwise); "None" means headless (no IP). On
 * failure nothing stays allocated. */
int minik_netalloc_service(minik_netalloc_t *a, cJSON *svc, const cJSON *old, minik_error_t **err);

/* Release what a deleted Node or Service held. (An update releases the NodePorts it
 * dropped itself, inside minik_netalloc_service.) */
void minik_netalloc_release(minik_netalloc_t *a, const cJSON *obj);

#endif
