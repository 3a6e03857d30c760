/* `minik exec POD [-c C] [-i] -- CMD...`: run a command in a container through the agent
 * of the pod's node; its output is streamed back and its exit code becomes ours. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli/agent_endpoint.h"
#include "cli/cli.h"
#include "cli/client_config.h"
#include "cli/commands.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"

static const char *container;
static bool interactive;

static const minik_cli_flag_t flags[] = {
    MINIK_CLIENT_FLAG_ROWS,
    {"container", 'c', MINIK_FLAG_STRING, &container, "NAME",
     "container to run in (default: the pod's first)"},
    {"stdin", 'i', MINIK_FLAG_BOOL, &interactive, NULL, "pass standard input to the command"},
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik exec POD [-c CONTAINER] [-i] -- COMMAND [ARG...]",
    .summary = "Run a command in a container",
    .description = "The command runs in the container's namespaces and cgroup, as its user,\n"
                   "with its capabilities, no_new_privs and seccomp filter. The exit code of\n"
                   "minik exec is the command's.",
    .flags = flags,
    .min_args = 2,
    .max_args = -1,
};

typedef struct stream {
    minik_buf_t pending;
    int exit_code;
    bool got_status;
    bool bad;
} stream_t;

/* Frames: 1 byte channel, 4 bytes big-endian length, payload. */
static size_t on_data(char *ptr, size_t size, size_t n, void *ud)
{
    stream_t *s = ud;
    minik_buf_append(&s->pending, ptr, size * n);
    for (;;) {
        if (s->pending.len < 5)
            break;
        const unsigned char *h = (const unsigned char *)s->pending.data;
        size_t len = (size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 | h[4];
        if (len > (64u << 20)) {
            s->bad = true;
            return 0;
        }
        if (s->pending.len < 5 + len)
            break;
        const char *payload = s->pending.data + 5;
        if (h[0] == 1 || h[0] == 2) {
            fwrite(payload, 1, len, h[0] == 1 ? stdout : stderr);
            fflush(h[0] == 1 ? stdout : stderr);
        } else if (h[0] == 3) {
            cJSON *st = cJSON_ParseWithLength(payload, len);
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(st, "exitCode");
            if (cJSON_IsNumber(c)) {
                s->exit_code = c->valueint;
                s->got_status = true;
            }
            cJSON_Delete(st);
        }
        minik_buf_consume(&s->pending, 5 + len);
    }
    return size * n;
}

int minik_cmd_exec(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    const char *pod = argv[first];
    cleanup_error minik_error_t *err = NULL;
    minik_cli_agent_target_t t = {0};
    if (minik_cli_agent_target(pod, container, &t, &err) < 0)
        return minik_cli_fail(err);
    cleanup_cjson cJSON *body = cJSON_CreateObject();
    cJSON *cmd = cJSON_AddArrayToObject(body, "command");
    for (int i = first + 1; i < argc; i++)
        cJSON_AddItemToArray(cmd, cJSON_CreateString(argv[i]));
    if (interactive) {
        cleanup_buf minik_buf_t in = MINIK_BUF_INIT;
        char buf[65536];
        size_t got;
        while ((got = fread(buf, 1, sizeof(buf), stdin)) > 0)
            minik_buf_append(&in, buf, got);
        cJSON_AddStringToObject(body, "stdin", in.data ? in.data : "");
    }
    cleanup_free char *text = cJSON_PrintUnformatted(body);
    cleanup_free char *url = xasprintf("%s/exec/%s", t.endpoint, t.path);
    cleanup_free char *auth = xasprintf("Authorization: Bearer %s", t.token);
    stream_t s = {.pending = MINIK_BUF_INIT, .exit_code = 1};
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = curl_slist_append(NULL, auth);
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    CURLcode cr = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    int ret = s.exit_code;
    if (cr != CURLE_OK && !s.bad) {
        fprintf(stderr, "error: cannot reach the agent of node %s at %s: %s\n", t.node, t.endpoint,
                curl_easy_strerror(cr));
        ret = MINIK_EXIT_ERROR;
    } else if (status >= 400) {
        cleanup_free char *msg = minik_client_status_message(
            status, s.pending.data ? s.pending.data : "", s.pending.len);
        fprintf(stderr, "error: %s\n", msg);
        ret = MINIK_EXIT_ERROR;
    } else if (s.bad || !s.got_status) {
        fprintf(stderr, "error: the exec stream from node %s ended without an exit status\n",
                t.node);
        ret = MINIK_EXIT_ERROR;
    }
    minik_buf_free(&s.pending);
    minik_cli_agent_target_clear(&t);
    return ret;
}
