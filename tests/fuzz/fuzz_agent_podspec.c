/* Pod JSON (from the API server) -> OCI config: never crash, and a config that builds
 * always has a non-empty process.args and the pod's namespaces to join; a hollow node's
 * view of the same pod (`exit N` commands, the status it reports) never crashes either.
 * Input: a Pod document, then optionally "\n--\n" and an image config. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/internal.h"
#include "agent/podspec.h"
#include "lib/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    char *s = xstrndup((const char *)data, size);
    char *sep = strstr(s, "\n--\n");
    cJSON *img = NULL;
    if (sep) {
        *sep = '\0';
        img = cJSON_Parse(sep + 4);
    }
    cJSON *pod = cJSON_Parse(s);
    cJSON *cms = cJSON_Parse("{\"cfg\":{\"data\":{\"k\":\"v\"}}}");
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(spec, "containers"))
    {
        minik_podspec_ctx_t ctx = {
            .pod = pod,
            .container = c,
            .image_config = img,
            .rootfs = "/nonexistent",
            .netns = "/ns/net",
            .ipcns = "/ns/ipc",
            .utsns = "/ns/uts",
            .volumes_dir = "/v",
            .node_name = "n",
            .host_ip = "127.0.0.1",
            .configmaps = cms,
        };
        cJSON *cfg = NULL;
        minik_error_t *err = NULL;
        if (minik_podspec_oci_config(&ctx, &cfg, &err) == 0) {
            const cJSON *args = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(cfg, "process"), "args");
            if (cJSON_GetArraySize(args) < 1)
                abort();
            cJSON_Delete(cfg);
        } else {
            if (!err || !err->msg)
                abort();
            minik_error_free(err);
        }
        (void)minik_podspec_grace_seconds(pod);
        int code = minik_agent_hollow_exit_code(c);
        if (code < -1 || code > 255)
            abort();
    }
    /* The same pod on a hollow node: one reconcile, one status. */
    struct minik_agent a = {.hollow = true, .node_ip = "127.0.0.1"};
    agent_pod_t *p = minik_agent_pod_new(&a, "uid", "ns", "name");
    p->job_obj = pod ? cJSON_Duplicate(pod, 1) : NULL;
    minik_agent_pod_reconcile(p, 0);
    minik_agent_pod_free(p);
    cJSON_Delete(cms);
    cJSON_Delete(pod);
    cJSON_Delete(img);
    free(s);
    return 0;
}
