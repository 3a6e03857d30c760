/* Service load balancing on a node: ONE nftables table, `table ip minik`, rendered from
 * the Services and Endpoints the agent watches and replaced atomically with `nft -f`
 * (an add/delete/define of the table in one transaction: packets see the old rules or
 * the new ones, never none).
 *
 *   prerouting/output (nat) --> services: ip daddr . l4proto . dport vmap @service_ips
 *                                         local daddr . l4proto . dport vmap @service_nodeports
 *   svc_<ns>_<name>_<proto>_<port>: ClientIP affinity sets first, then
 *                                   numgen random mod N vmap { 0: goto ep_..._0, ... }
 *   ep_..._<i>: mark hairpin traffic (the pod reaching itself), dnat to ip:port
 *   postrouting (nat): masquerade marked packets (hairpin, NodePort); optionally pods'
 *                      traffic leaving the cluster (--masquerade-outbound)
 *   filter input/forward: drop what route_localnet would otherwise let in: packets for
 *                      127.0.0.0/8 arriving on another interface that are not replies,
 *                      and forwarded packets claiming a 127.0.0.0/8 source
 *
 * NodePorts on 127.0.0.1 (`curl localhost:30080` on the node) work as with kube-proxy:
 * the output chain DNATs the packet to a pod, postrouting masquerades it (the NodePort
 * mark) so it leaves with the interface's address, and the kernel lets a 127.0.0.1 source
 * leave and the de-NATed reply come back only where route_localnet is on: the bridge
 * and the interface toward the other nodes (minik_services_route_localnet).
 */
#ifndef MINIK_AGENT_NETWORK_SERVICES_H
#define MINIK_AGENT_NETWORK_SERVICES_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "lib/error.h"

typedef struct minik_services_opts {
    const char *cluster_cidr; /* all pods' addresses, e.g. "10.42.0.0/16" */
    const char *bridge;       /* NULL: "minik0" */
    bool masquerade_outbound; /* NAT pods' traffic to addresses outside the cluster */
    int affinity_timeout_s;   /* ClientIP affinity default; 0: 10800 as in Kubernetes */
} minik_services_opts_t;

/* Render the whole table as `nft -f` input from arrays of Service and Endpoints objects
 * (either may be NULL). Deterministic: services sorted by namespace/name, so the same
 * state gives the same text. Services without a clusterIP ("None": headless) get no
 * rules. Caller frees the result. */
char *minik_services_render(const cJSON *services, const cJSON *endpoints,
                            const minik_services_opts_t *opts);

/* Apply rendered text with `nft -f -` in the caller's network namespace. */
int minik_services_apply(const char *ruleset, minik_error_t **err);

/* Remove the minik table (agent shutdown with --cleanup, tests). Absent is fine. */
int minik_services_remove(minik_error_t **err);

/* Turn on net.ipv4.conf.<ifname>.route_localnet, so NodePorts answer on 127.0.0.1 through
 * that interface (see above: the table drops what it would let in from outside). */
int minik_services_route_localnet(const char *ifname, minik_error_t **err);

/* The name of the interface holding IPv4 address `ip` into out (IFNAMSIZ bytes); < 0 if
 * none does. */
int minik_services_ifname_of(const char *ip, char *out, minik_error_t **err);

/* The text that deletes the table (exposed for tests). */
const char *minik_services_remove_text(void);

#endif
