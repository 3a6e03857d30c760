/* lifecycle.postStart: the kubelet runs it right after the container started and does
 * not count the container as running until it returned; a hook that fails kills the
 * container (FailedPostStartHook), and the restart policy takes over. Only exec handlers
 * (httpGet hooks are refused at start with an event). preStop is in pods.c. */
#include <signal.h>
#include <stdlib.h>

#include "agent/internal.h"
#include "agent/runtime/oci.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"

/* How long a postStart hook may run; the kubelet has no limit but the grace period when
 * the pod is deleted meanwhile. */
#define POST_START_TIMEOUT_S 120

int minik_agent_post_start(struct minik_agent *a, agent_pod_t *p, agent_ctr_t *c,
                           const cJSON *cspec, const char *field_path, cJSON *events)
{
    const cJSON *hook = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cspec, "lifecycle"), "postStart");
    if (!hook)
        return 0;
    const cJSON *cmd =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(hook, "exec"), "command");
    char *why = NULL;
    int code = -1;
    if (cJSON_GetArraySize(cmd) < 1)
        why = xstrdup("only exec postStart hooks are supported");
    else
        code = minik_agent_exec_in_container(a, p, c, cmd, POST_START_TIMEOUT_S, &why);
    if (code == 0) {
        free(why);
        return 0;
    }
    minik_agent_event_add(events, "Warning", "FailedPostStartHook", field_path,
                          "PostStart hook failed: %s", why ? why : "");
    free(why);
    minik_error_t *e = NULL;
    if (minik_oci_kill(a->oci_root, c->id, SIGKILL, true, &e) < 0)
        minik_error_free(e);
    return -1;
}
