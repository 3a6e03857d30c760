/* `minik logs POD`: a container's logs, through the API server's pods/log (relayed to the
 * agent of the pod's node; -f streams as the container writes). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client_config.h"
#include "cli/commands.h"
#include "cli/pod_stream.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/client.h"

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

static bool on_data(const char *data, size_t len, void *ud)
{
    (void)ud;
    fwrite(data, 1, len, stdout);
    fflush(stdout);
    return true;
}

int minik_cmd_logs(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    cleanup_error minik_error_t *err = NULL;
    int64_t tail = -1;
    if (tail_s && minik_str_to_i64(tail_s, -1, INT64_MAX, &tail, "--tail", &err) < 0)
        return minik_cli_usage_error(&spec, "%s", err->msg);
    cleanup_buf minik_buf_t q = MINIK_BUF_INIT;
    minik_buf_appendf(&q, "follow=%s&previous=%s&timestamps=%s", follow ? "true" : "false",
                      previous ? "true" : "false", timestamps ? "true" : "false");
    if (tail >= 0)
        minik_buf_appendf(&q, "&tailLines=%lld", (long long)tail);
    if (container) {
        cleanup_free char *e = minik_client_escape(container);
        minik_buf_appendf(&q, "&container=%s", e);
    }
    minik_cli_pod_stream_t s = {
        .pod = argv[first], .sub = "log", .query = q.data, .on_data = on_data};
    if (minik_cli_pod_stream(&s, &err) < 0)
        return minik_cli_fail(err);
    return MINIK_EXIT_OK;
}
