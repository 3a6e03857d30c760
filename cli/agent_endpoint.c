/* See agent_endpoint.h. */
#include "cli/agent_endpoint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

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

int minik_cli_agent_request(const minik_cli_agent_target_t *t, const char *what,
                            const char *json_body, minik_cli_agent_write_fn write_cb, void *ud,
                            long *status, minik_error_t **err)
{
    cleanup_free char *url = xasprintf("%s/%s", t->endpoint, what);
    cleanup_free char *auth = xasprintf("Authorization: Bearer %s", t->token);
    CURL *h = curl_easy_init();
    if (!h)
        return minik_error_set(err, ENOMEM, "curl_easy_init");
    struct curl_slist *hdrs = curl_slist_append(NULL, auth);
    if (json_body) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json_body);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, ud);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    CURLcode cr = curl_easy_perform(h);
    *status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    if (cr != CURLE_OK)
        return minik_error_set(err, 0, "cannot reach the agent of node %s at %s: %s", t->node,
                               t->endpoint, curl_easy_strerror(cr));
    return 0;
}
