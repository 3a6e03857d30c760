/* `minik exec POD [-c C] [-i] -- CMD...`: run a command in a container through the API
 * server's pods/exec (relayed to the agent of the pod's node); with -i our stdin is
 * streamed to the command as it is typed; its output is streamed back and its exit code
 * becomes ours. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/client_config.h"
#include "cli/commands.h"
#include "cli/pod_stream.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "proto/client.h"

static const char *container;
static bool interactive, tty;

static const minik_cli_flag_t flags[] = {
    MINIK_CLIENT_FLAG_ROWS,
    {"container", 'c', MINIK_FLAG_STRING, &container, "NAME",
     "container to run in (default: the pod's first)"},
    {"stdin", 'i', MINIK_FLAG_BOOL, &interactive, NULL, "pass standard input to the command"},
    {"tty", 't', MINIK_FLAG_BOOL, &tty, NULL,
     "give the command a terminal (ours is put in raw mode while it runs)"},
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik exec POD [-c CONTAINER] [-i] [-t] -- COMMAND [ARG...]",
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
static bool on_data(const char *ptr, size_t n, void *ud)
{
    stream_t *s = ud;
    minik_buf_append(&s->pending, ptr, n);
    for (;;) {
        if (s->pending.len < 5)
            break;
        const unsigned char *h = (const unsigned char *)s->pending.data;
        size_t len = (size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 | h[4];
        if (len > (64u << 20) || h[0] < 1 || h[0] > 3) {
            s->bad = true;
            return false;
        }
        if (s->pending.len < 5 + len)
            break;
        const char *payload = s->pending.data + 5;
        if (h[0] == 1 || h[0] == 2) {
            fwrite(payload, 1, len, h[0] == 1 ? stdout : stderr);
            fflush(h[0] == 1 ? stdout : stderr);
        } else {
            cJSON *st = cJSON_ParseWithLength(payload, len);
            const cJSON *c = cJSON_GetObjectItemCaseSensitive(st, "exitCode");
            if (cJSON_IsNumber(c)) {
                s->exit_code = c->valueint;
                s->got_status = true;
            }
            cJSON_Delete(st);
        }
        minik_buf_consume(&s->pending, 5 + len);
        if (s->got_status)
            return false; /* the last frame: do not wait for our stdin to end */
    }
    return true;
}

int minik_cmd_exec(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    cleanup_error minik_error_t *err = NULL;
    cleanup_buf minik_buf_t q = MINIK_BUF_INIT;
    minik_buf_appendf(&q, "stdin=%s&tty=%s", interactive ? "true" : "false",
                      tty ? "true" : "false");
    struct winsize ws = {0};
    bool term_in = tty && interactive && isatty(STDIN_FILENO);
    if (tty &&
        (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) &&
        ws.ws_col && ws.ws_row)
        minik_buf_appendf(&q, "&cols=%u&rows=%u", ws.ws_col, ws.ws_row);
    if (container) {
        cleanup_free char *e = minik_client_escape(container);
        minik_buf_appendf(&q, "&container=%s", e);
    }
    for (int i = first + 1; i < argc; i++) {
        cleanup_free char *e = minik_client_escape(argv[i]);
        minik_buf_appendf(&q, "&command=%s", e);
    }
    stream_t st = {.pending = MINIK_BUF_INIT, .exit_code = 1};
    minik_cli_pod_stream_t s = {.pod = argv[first],
                                .sub = "exec",
                                .query = q.data,
                                .post = true,
                                .send_stdin = interactive,
                                .on_data = on_data,
                                .ud = &st};
    int ret = st.exit_code;
    /* Raw mode: every key (^C, ^D, arrows) goes to the remote terminal, which echoes. */
    struct termios saved;
    bool raw = term_in && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (raw) {
        struct termios t = saved;
        cfmakeraw(&t);
        raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
    }
    int sr = minik_cli_pod_stream(&s, &err);
    if (raw)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    if (sr < 0) {
        ret = minik_cli_fail(err);
    } else if (st.bad || !st.got_status) {
        fprintf(stderr, "error: the exec stream for pod %s ended without an exit status\n",
                argv[first]);
        ret = MINIK_EXIT_ERROR;
    } else {
        ret = st.exit_code;
    }
    minik_buf_free(&st.pending);
    return ret;
}
