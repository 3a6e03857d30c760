/* See agent_endpoint.h. */
#include "cli/agent_endpoint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client_config.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"

static const char *jstr(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

void minik_cli_agent_target_clear(minik_cli_agent_target_t *t)
{
    free(t->endpoint);
    free(t->token);
    free(t->path);
    free(t->node);
    memset(t, 0, sizeof(*t));
}

int minik_cli_agent_target(const char *pod_name, const char *container,
                           minik_cli_agent_target_t *out, minik_error_t **err)
{
    cleanup_client minik_client_t *cl = NULL;
    cleanup_free char *ns = NULL;
    if (minik_cli_client_open(&cl, &ns, err) < 0)
        return -1;
    cleanup_free char *ppath = minik_client_path("v1", "pods", true, ns, pod_name, NULL, NULL);
    cleanup_cjson cJSON *pod = NULL;
    if (minik_client_json(cl, "GET", ppath, NULL, NULL, &pod, err) < 0)
        return -1;
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    const char *node = jstr(pod, "spec", "nodeName");
    const char *cname = container;
    if (!cname)
        cname = jstr(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(spec, "containers"), 0),
                     "name", NULL);
    if (!node || !cname)
        return minik_error_set(err, EAGAIN, "pod %s is not bound to a node yet", pod_name);
    cleanup_free char *npath = minik_client_path("v1", "nodes", false, NULL, node, NULL, NULL);
    cleanup_cjson cJSON *nobj = NULL;
    if (minik_client_json(cl, "GET", npath, NULL, NULL, &nobj, err) < 0)
        return -1;
    const cJSON *ann = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(nobj, "metadata"), "annotations");
    const char *ep = jstr(ann, "minik.io/agent-endpoint", NULL);
    const char *tok = jstr(ann, "minik.io/agent-token", NULL);
    if (!ep || !tok)
        return minik_error_set(err, ENOENT, "node %s does not publish an agent endpoint", node);
    cleanup_free char *ens = minik_client_escape(ns);
    cleanup_free char *epod = minik_client_escape(pod_name);
    cleanup_free char *ectr = minik_client_escape(cname);
    out->endpoint = xstrdup(ep);
    out->token = xstrdup(tok);
    out->path = xasprintf("%s/%s/%s", ens, epod, ectr);
    out->node = xstrdup(node);
    return 0;
}
