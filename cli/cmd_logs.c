/* `minik logs POD`: a container's logs, read from the agent of the pod's node. The API
 * server tells where that agent listens and the token it accepts (the Node's
 * minik.io/agent-endpoint and minik.io/agent-token annotations, readable only by those
 * allowed to read the Node). */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/agent_endpoint.h"
#include "cli/cli.h"
#include "cli/client_config.h"
#include "cli/commands.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"

static const char *container, *tail_s;
static bool follow, previous, timestamps;

static const minik_cli_flag_t flags[] = {
    MINIK_CLIENT_FLAG_ROWS,
    {"container", 'c', MINIK_FLAG_STRING, &container, "NAME",
     "container to show (default: the pod's first)"},
    {"follow", 'f', MINIK_FLAG_BOOL, &follow, NULL, "keep streaming new output"},
    {"tail", 0, MINIK_FLAG_STRING, &tail_s, "N", "only the last N lines"},
    {"previous", 'p', MINIK_FLAG_BOOL, &previous, NULL, "the previous (terminated) attempt's logs"},
    {"timestamps", 0, MINIK_FLAG_BOOL, &timestamps, NULL, "prefix each line with its time"},
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik logs POD [-c CONTAINER] [-f] [--tail N] [--previous] [--timestamps]",
    .summary = "Print the logs of a container in a pod",
    .flags = flags,
    .min_args = 1,
    .max_args = 1,
};

static size_t on_data(char *ptr, size_t size, size_t n, void *ud)
{
    (void)ud;
    size_t w = fwrite(ptr, size, n, stdout);
    fflush(stdout);
    return w * size;
}

int minik_cmd_logs(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    const char *pod_name = argv[first];
    cleanup_error minik_error_t *err = NULL;
    int64_t tail = -1;
    if (tail_s && minik_str_to_i64(tail_s, -1, INT64_MAX, &tail, "--tail", &err) < 0)
        return minik_cli_usage_error(&spec, "%s", err->msg);
    minik_cli_agent_target_t t = {0};
    if (minik_cli_agent_target(pod_name, container, &t, &err) < 0)
        return minik_cli_fail(err);
    cleanup_free char *tailq =
        tail >= 0 ? xasprintf("&tailLines=%lld", (long long)tail) : xstrdup("");
    cleanup_free char *url =
        xasprintf("%s/containerLogs/%s?follow=%s&previous=%s&timestamps=%s%s", t.endpoint, t.path,
                  follow ? "true" : "false", previous ? "true" : "false",
                  timestamps ? "true" : "false", tailq);
    cleanup_free char *auth = xasprintf("Authorization: Bearer %s", t.token);
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = curl_slist_append(NULL, auth);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    CURLcode cr = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    if (cr != CURLE_OK) {
        fprintf(stderr, "error: cannot reach the agent of node %s at %s: %s\n", t.node, t.endpoint,
                curl_easy_strerror(cr));
        minik_cli_agent_target_clear(&t);
        return MINIK_EXIT_ERROR;
    }
    minik_cli_agent_target_clear(&t);
    return status >= 400 ? MINIK_EXIT_ERROR : MINIK_EXIT_OK;
}
