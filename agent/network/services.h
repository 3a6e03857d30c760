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

/* The text that deletes the table (exposed for tests). */
const char *minik_services_remove_text(void);

#endif
