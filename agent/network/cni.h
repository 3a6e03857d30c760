/* Pod networking through the standard CNI plugins (containernetworking-plugins).
 *
 * minik generates one network configuration list -- bridge (minik0, host-local IPAM over
 * the node's pod CIDR) followed by portmap -- plus a separate loopback network for "lo",
 * and runs the real plugin binaries per the CNI spec: CNI_COMMAND/CNI_CONTAINERID/
 * CNI_NETNS/CNI_IFNAME/CNI_PATH in the environment, the plugin's configuration on stdin
 * (with prevResult chained from the plugin before it), the result or error object on
 * stdout.
 *
 * Every ADD leaves a small record under <data_dir>/records/<id>.json *before* the first
 * plugin runs, so a crash at any point can be undone: minik_cni_recover() runs DEL for
 * every record whose pod is gone, which releases host-local's IP files, the veth and
 * portmap's rules. host-local keeps its state under <data_dir>/ipam (not /var/lib/cni),
 * so test clusters stay isolated from each other and from the host. */
#ifndef MINIK_AGENT_NETWORK_CNI_H
#define MINIK_AGENT_NETWORK_CNI_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "lib/error.h"

typedef struct minik_cni_config {
    const char *plugin_dir; /* where the plugin binaries are; NULL: /usr/lib/cni */
    const char *data_dir;   /* records + IPAM state; created on demand */
    const char *bridge;     /* NULL: "minik0" */
    const char *pod_cidr;   /* the node's pod CIDR, e.g. "10.42.1.0/24" */
    int mtu;                /* 0: the plugin's default */
} minik_cni_config_t;

/* What ADD gave the pod. */
typedef struct minik_cni_result {
    char *ip;      /* the pod's IPv4 address, no prefix ("10.42.1.2") */
    char *gateway; /* the bridge address ("10.42.1.1") */
    int prefix;    /* prefix length of the pod's address */
} minik_cni_result_t;

void minik_cni_result_clear(minik_cni_result_t *r);

/* The configuration list minik runs (JSON text, caller frees). Deterministic: the same
 * config gives the same bytes, so tests compare it exactly. */
char *minik_cni_conflist(const minik_cni_config_t *cfg);

/* Build CNI portMappings ([{"hostPort","containerPort","protocol","hostIP"}]) from a pod
 * object's containers[].ports[].hostPort. Returns a new array (possibly empty). */
cJSON *minik_cni_port_mappings(const cJSON *pod);

/* Attach the pod whose network namespace is the nsfs file `netns` (bind mount or
 * /proc/PID/ns/net): loopback on "lo", then bridge + portmap on `ifname` (NULL: "eth0").
 * `id` is the container ID for the plugins (the pod UID); `port_mappings` (may be NULL)
 * is not taken. On failure everything already added is deleted again. */
int minik_cni_add(const minik_cni_config_t *cfg, const char *id, const char *netns,
                  const char *ifname, const cJSON *port_mappings, minik_cni_result_t *out,
                  minik_error_t **err);

/* CNI CHECK for a pod added earlier (uses its record for prevResult). */
int minik_cni_check(const minik_cni_config_t *cfg, const char *id, minik_error_t **err);

/* Detach a pod: DEL through the chain in reverse order, then remove its record. A pod
 * without a record is already gone (0). `netns` may no longer exist: the plugins release
 * what lives outside it (IP files, portmap rules) and the veth went with the namespace. */
int minik_cni_del(const minik_cni_config_t *cfg, const char *id, minik_error_t **err);

/* After an agent restart: DEL every recorded pod for which live(id, arg) is false.
 * Returns how many were released, or < 0 on the first failure. */
int minik_cni_recover(const minik_cni_config_t *cfg, bool (*live)(const char *id, void *arg),
                      void *arg, minik_error_t **err);

/* Parse a plugin's stdout: the result (*out owns it) or the error object turned into
 * *err with its code, msg and details. Exposed for tests and fuzzing. */
int minik_cni_parse_output(const char *plugin, const char *command, const char *text,
                           int exit_status, cJSON **out, minik_error_t **err);

#endif
