/* Pod spec + image config -> OCI runtime config.json, as the kubelet and containerd do.
 *
 * Pure: no I/O beyond reading the container's /etc/passwd for a user name, so it is unit
 * tested and fuzzed directly. The pod's shared namespaces (network, ipc, uts) are joined
 * by path (the sandbox's bind-mounted nsfs files); every container gets its own mount and
 * pid namespaces. */
#ifndef MINIK_AGENT_PODSPEC_H
#define MINIK_AGENT_PODSPEC_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "lib/error.h"

/* Where the pod's volumes live on the host, and the values env references resolve to. */
typedef struct minik_podspec_ctx {
    const cJSON *pod;                  /* the Pod object */
    const cJSON *container;            /* one of spec.containers[] / spec.initContainers[] */
    const cJSON *image_config;         /* the OCI image config's "config" object; may be NULL */
    const char *rootfs;                /* absolute root filesystem path */
    const char *netns, *ipcns, *utsns; /* nsfs files to join; NULL: the host's (netns only) */
    const char *volumes_dir;           /* <pod dir>/volumes: one subdirectory per volume */
    const char *cgroups_path;          /* linux.cgroupsPath */
    const char *node_name;
    const char *host_ip;
    /* ConfigMaps and Secrets the pod refers to, by name: {"cm": {"data": {...}}, ...}
     * (Secret data already base64-decoded). May be NULL. */
    const cJSON *configmaps, *secrets;
    const char *pod_ip; /* status.podIP (may be NULL) */
} minik_podspec_ctx_t;

/* Build the config.json for ctx's container. *out is owned by the caller. Errors name the
 * field ("containers[0].env[2].valueFrom.configMapKeyRef: configmap \"x\" not found"). */
int minik_podspec_oci_config(const minik_podspec_ctx_t *ctx, cJSON **out, minik_error_t **err);

/* The effective argv (Kubernetes' command/args over the image's Entrypoint/Cmd), as a
 * NULL-terminated vector the caller frees with minik_strv_free. Fails if empty. */
int minik_podspec_argv(const cJSON *container, const cJSON *image_config, char ***out,
                       minik_error_t **err);

/* Grace period of a pod: spec.terminationGracePeriodSeconds, default 30. */
long minik_podspec_grace_seconds(const cJSON *pod);

#endif
