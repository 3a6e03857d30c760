/* Pod-level cgroups, as the kubelet keeps them: /minik/pod-<uid> is the parent of the
 * groups of the pod's containers (/minik/pod-<uid>/<container-id>), so the pod has limits
 * and usage of its own. Its limits are Kubernetes' effective pod limits: for memory and
 * for CPU, the sum over the containers when every container sets that limit, or the
 * largest init container's limit when that is larger (init containers run alone);
 * otherwise unlimited. Devices are left open at the pod level (each container keeps its
 * own allow-list; a privileged container must be able to get everything). Works with the
 * runtime's v1, v2 and hybrid drivers. */
#include <errno.h>
#include <string.h>

#include "agent/internal.h"
#include "agent/runtime/cgroup.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "proto/quantity.h"

char *minik_agent_pod_cgroup_path(const char *uid)
{
    return xasprintf("/minik/pod-%s", uid);
}

/* The limit `what` (milli-units) of one container, or -1 when it sets none. */
static int64_t limit_of(const cJSON *ctr, const char *what)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ctr, "resources"),
                                         "limits"),
        what);
    minik_quantity_t q = {0};
    minik_error_t *e = NULL;
    if (!cJSON_IsString(v) || minik_quantity_parse(v->valuestring, &q, &e) < 0 || q.milli <= 0) {
        minik_error_free(e); /* validated on admission; a bad one means "no limit" here */
        return -1;
    }
    return q.milli;
}

int64_t minik_agent_pod_limit_milli(const cJSON *pod, const char *what)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    int64_t sum = 0, init_max = 0;
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(spec, "containers"))
    {
        int64_t l = limit_of(c, what);
        if (l < 0)
            return -1;
        sum = l > INT64_MAX - sum ? INT64_MAX : sum + l;
        n++;
    }
    if (n == 0)
        return -1;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(spec, "initContainers"))
    {
        int64_t l = limit_of(c, what);
        if (l < 0)
            return -1;
        if (l > init_max)
            init_max = l;
    }
    return sum > init_max ? sum : init_max;
}

static cJSON *pod_resources(const cJSON *pod)
{
    cJSON *res = cJSON_CreateObject();
    int64_t mem = minik_agent_pod_limit_milli(pod, "memory");
    if (mem > 0) {
        cJSON *m = cJSON_AddObjectToObject(res, "memory");
        double bytes = (double)(mem / 1000);
        cJSON_AddNumberToObject(m, "limit", bytes);
        cJSON_AddNumberToObject(m, "swap", bytes); /* as the containers: no swap beyond */
    }
    int64_t cpu = minik_agent_pod_limit_milli(pod, "cpu");
    if (cpu > 0) {
        cJSON *cj = cJSON_AddObjectToObject(res, "cpu");
        cJSON_AddNumberToObject(cj, "quota", (double)(cpu * 100)); /* 100 ms period */
        cJSON_AddNumberToObject(cj, "period", 100000);
    }
    cJSON *devs = cJSON_AddArrayToObject(res, "devices");
    cJSON *all = cJSON_CreateObject();
    cJSON_AddBoolToObject(all, "allow", true);
    cJSON_AddStringToObject(all, "access", "rwm");
    cJSON_AddItemToArray(devs, all);
    return res;
}

int minik_agent_pod_cgroup_ensure(const cJSON *pod, const char *uid, minik_error_t **err)
{
    cleanup_free char *path = minik_agent_pod_cgroup_path(uid);
    minik_cgroup_t *cg = NULL;
    minik_error_t *e = NULL;
    if (minik_cgroup_open(path, &cg, &e) == 0) {
        minik_cgroup_free(cg);
        return 0; /* made for an earlier container (or before an agent restart) */
    }
    minik_error_free(e);
    cleanup_cjson cJSON *res = pod_resources(pod);
    if (minik_cgroup_create(path, res, &cg, err) < 0)
        return minik_error_wrap(err, "pod cgroup %s", path);
    minik_cgroup_free(cg);
    return 0;
}

int minik_agent_pod_cgroup_remove(const char *uid)
{
    cleanup_free char *path = minik_agent_pod_cgroup_path(uid);
    minik_cgroup_t *cg = NULL;
    minik_error_t *e = NULL;
    if (minik_cgroup_open(path, &cg, &e) < 0) {
        minik_error_free(e); /* never made (hollow, no container started) */
        return 0;
    }
    int r = 0;
    if (minik_cgroup_destroy(cg, &e) < 0) {
        minik_log_warn("pod cgroup not removed", "path", path, "error", e->msg, NULL);
        minik_error_free(e);
        r = -1;
    }
    minik_cgroup_free(cg);
    return r;
}

int minik_agent_pod_cgroup_stats(const char *uid, minik_cgroup_stats_t *out, minik_error_t **err)
{
    cleanup_free char *path = minik_agent_pod_cgroup_path(uid);
    minik_cgroup_t *cg = NULL;
    if (minik_cgroup_open(path, &cg, err) < 0)
        return -1;
    int r = minik_cgroup_stats(cg, out, err);
    minik_cgroup_free(cg);
    return r;
}
