/* The pod network seen from the agent: CNI attach/detach around the pod's sandbox, the
 * pod IP for its status, /etc/resolv.conf and /etc/hosts for its containers, and release
 * of what a crash left behind. The mechanics are in agent/network/. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/internal.h"
#include "agent/network/dns.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/xalloc.h"

minik_cni_config_t minik_agent_cni_config(const struct minik_agent *a)
{
    return (minik_cni_config_t){.data_dir = a->cni_dir, .pod_cidr = a->pod_cidr};
}

static int write_file(const char *dir, const char *name, const char *text, minik_error_t **err)
{
    cleanup_free char *path = xasprintf("%s/%s", dir, name);
    return minik_file_write_atomic(path, text, strlen(text), 0644, err);
}

int minik_agent_net_setup(struct minik_agent *a, agent_pod_t *p, const cJSON *pod,
                          const char *netns, minik_error_t **err)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    bool host_net = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "hostNetwork"));
    cleanup_free char *dir = xasprintf("%s/%s", a->pods_dir, p->uid);
    free(p->pod_ip);
    p->pod_ip = NULL;
    if (host_net) {
        p->pod_ip = xstrdup(a->node_ip);
    } else if (!a->pod_network_none) {
        minik_cni_config_t cfg = minik_agent_cni_config(a);
        /* A sandbox made again (after a failed start) must not keep a second address. */
        if (minik_cni_del(&cfg, p->uid, err) < 0)
            return -1;
        cleanup_cjson cJSON *pm = minik_cni_port_mappings(pod);
        minik_cni_result_t res;
        if (minik_cni_add(&cfg, p->uid, netns, "eth0", pm, &res, err) < 0)
            return -1;
        p->pod_ip = xstrdup(res.ip);
        minik_cni_result_clear(&res);
    }
    /* Pods on the pod network ask the node's cluster DNS on the bridge address; the
     * others (hostNetwork, --pod-network none) the node's own resolver (a copy, so the
     * pod cannot change the node's). */
    cleanup_free char *host_resolv = NULL;
    const char *ns = p->ns ? p->ns : "default";
    if (!host_net && minik_agent_dns_enabled(a)) {
        unsigned o[4];
        if (sscanf(a->pod_cidr, "%u.%u.%u.%u", &o[0], &o[1], &o[2], &o[3]) == 4) {
            cleanup_free char *gw = xasprintf("%u.%u.%u.%u", o[0], o[1], o[2], o[3] + 1);
            host_resolv = minik_dns_resolv_conf(ns, a->dns_listen ? a->dns_listen : gw, NULL);
        }
    }
    minik_error_t *e = NULL;
    if (!host_resolv && minik_file_read("/etc/resolv.conf", 65536, &host_resolv, NULL, &e) < 0) {
        minik_error_free(e);
        host_resolv = xstrdup("");
    }
    const char *hostname = host_net ? a->node_name : p->name;
    cleanup_free char *hosts =
        minik_dns_hosts(p->pod_ip ? p->pod_ip : "127.0.0.1", hostname ? hostname : "pod");
    if (write_file(dir, "resolv.conf", host_resolv, err) < 0 ||
        write_file(dir, "hosts", hosts, err) < 0)
        return -1;
    return 0;
}

void minik_agent_net_teardown(struct minik_agent *a, agent_pod_t *p)
{
    minik_cni_config_t cfg = minik_agent_cni_config(a);
    minik_error_t *e = NULL;
    if (minik_cni_del(&cfg, p->uid, &e) < 0) {
        /* The record stays: the next start's recovery tries again. */
        minik_log_warn("pod network not released", "pod", p->name ? p->name : p->uid, "error",
                       e->msg, NULL);
        minik_error_free(e);
    }
}

static bool pod_dir_exists(const char *id, void *arg)
{
    struct minik_agent *a = arg;
    cleanup_free char *dir = xasprintf("%s/%s", a->pods_dir, id);
    struct stat st;
    return stat(dir, &st) == 0;
}

void minik_agent_net_recover(struct minik_agent *a)
{
    minik_cni_config_t cfg = minik_agent_cni_config(a);
    minik_error_t *e = NULL;
    if (minik_cni_recover(&cfg, pod_dir_exists, a, &e) < 0) {
        minik_log_warn("leftover pod networks not all released", "error", e->msg, NULL);
        minik_error_free(e);
    }
    /* Re-adopted pods keep their addresses. */
    for (agent_pod_t *p = a->pods; p; p = p->next) {
        bool found = false;
        minik_cni_result_t res;
        if (minik_cni_lookup(&cfg, p->uid, &found, &res, &e) < 0) {
            minik_error_clear(&e);
            continue;
        }
        if (found) {
            free(p->pod_ip);
            p->pod_ip = xstrdup(res.ip);
        }
        minik_cni_result_clear(&res);
    }
}
