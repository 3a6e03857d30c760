/* POST /exec/{ns}/{pod}/{container} on the agent endpoint: run a command in a running
 * container and stream its output back.
 *
 * Request body: {"command": ["sh", "-c", "..."], "stdin": "text"} (stdin optional).
 * Response: a chunked stream of frames, each 1 byte channel (1 stdout, 2 stderr,
 * 3 status) + 4-byte big-endian length + payload; the last frame is channel 3 with
 * {"exitCode": N}. The command runs in `minik nsexec` (a child of the agent started with
 * uv_spawn), which takes the container's namespaces, cgroup, user, capabilities,
 * no_new_privs and seccomp filter. */
#include <stdlib.h>
#include <string.h>

#include "agent/internal.h"
#include "agent/runtime/oci.h"
#include "agent/runtime/state.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/xalloc.h"

typedef struct exec_call {
    minik_http_request_t *req;
    uv_process_t proc;
    uv_pipe_t in, out, err;
    uv_write_t wr;
    char *stdin_data;
    int open_handles;
    int pipes_open; /* out and err still reading */
    bool exited;
    bool in_closed;
    int64_t exit_code;
} exec_call_t;

static void frame(exec_call_t *x, char ch, const char *data, size_t len)
{
    if (!x->req || !x->req->conn)
        return;
    minik_buf_t b = MINIK_BUF_INIT;
    unsigned char hdr[5] = {(unsigned char)ch, (unsigned char)(len >> 24),
                            (unsigned char)(len >> 16), (unsigned char)(len >> 8),
                            (unsigned char)len};
    minik_buf_append(&b, hdr, 5);
    minik_buf_append(&b, data, len);
    minik_http_stream_chunk(x->req, b.data, b.len);
    minik_buf_free(&b);
}

static void handle_closed(uv_handle_t *h)
{
    exec_call_t *x = h->data;
    if (--x->open_handles > 0)
        return;
    free(x->stdin_data);
    free(x);
}

static void maybe_finish(exec_call_t *x)
{
    if (!x->exited || x->pipes_open > 0)
        return;
    char st[64];
    int n = snprintf(st, sizeof(st), "{\"exitCode\":%lld}", (long long)x->exit_code);
    frame(x, 3, st, (size_t)n);
    if (x->req) {
        if (x->req->conn)
            minik_http_stream_end(x->req);
        else
            minik_http_request_free(x->req);
        x->req = NULL;
    }
    uv_close((uv_handle_t *)&x->proc, handle_closed);
    if (!x->in_closed)
        uv_close((uv_handle_t *)&x->in, handle_closed);
    x->in_closed = true;
    uv_close((uv_handle_t *)&x->out, handle_closed);
    uv_close((uv_handle_t *)&x->err, handle_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = xmalloc(suggested);
    buf->len = suggested;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    exec_call_t *x = s->data;
    if (n > 0)
        frame(x, s == (uv_stream_t *)&x->out ? 1 : 2, buf->base, (size_t)n);
    free(buf->base);
    if (n < 0) {
        uv_read_stop(s);
        x->pipes_open--;
        maybe_finish(x);
    }
}

static void on_exit_cb(uv_process_t *p, int64_t status, int term_signal)
{
    exec_call_t *x = p->data;
    x->exited = true;
    x->exit_code = term_signal ? 128 + term_signal : status;
    maybe_finish(x);
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    exec_call_t *x = w->data;
    if (!x->in_closed) /* EOF on the command's stdin */
        uv_close((uv_handle_t *)&x->in, handle_closed);
    x->in_closed = true;
}

static void on_abort(minik_http_request_t *r)
{
    exec_call_t *x = r->user;
    minik_http_request_free(r);
    x->req = NULL; /* the command runs to its end; its output goes nowhere */
}

void minik_agent_exec(struct minik_agent *a, minik_http_request_t *req, char **seg)
{
    agent_pod_t *pod = NULL;
    for (agent_pod_t *p = a->pods; p; p = p->next)
        if (strcmp(p->ns, seg[0]) == 0 && strcmp(p->name, seg[1]) == 0 && !p->deleted)
            pod = p;
    agent_ctr_t *c = NULL;
    for (size_t i = 0; pod && i < pod->n_ctrs; i++)
        if (strcmp(pod->ctrs[i].name, seg[2]) == 0 && pod->ctrs[i].id && pod->ctrs[i].pid > 0)
            c = &pod->ctrs[i];
    if (!c) {
        minik_http_respond_status(req, 404, "no running container of that name in that pod");
        return;
    }
    cleanup_cjson cJSON *body =
        cJSON_ParseWithLength(req->body.data ? req->body.data : "", req->body.len);
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(body, "command");
    int n = cJSON_GetArraySize(cmd);
    if (!cJSON_IsArray(cmd) || n < 1) {
        minik_http_respond_status(req, 400, "body must be {\"command\": [...]} with a command");
        return;
    }
    minik_oci_state_t *st = NULL;
    const char *status = NULL;
    minik_error_t *err = NULL;
    if (minik_oci_load(a->oci_root, c->id, &st, &status, &err) < 0) {
        minik_http_respond_status(req, 409, err->msg);
        minik_error_free(err);
        return;
    }
    cleanup_free char *pid = xasprintf("%d", st->pid);
    cleanup_free char *bundle = xasprintf("%s/%s/bundles/%s", a->pods_dir, pod->uid, c->id);
    cleanup_free char *cgroup = st->cgroup_path ? xstrdup(st->cgroup_path) : NULL;
    minik_oci_state_free(st);
    char **args = xcalloc((size_t)n + 12, sizeof(char *));
    size_t k = 0;
    args[k++] = "minik";
    args[k++] = "nsexec";
    args[k++] = "--pid";
    args[k++] = pid;
    args[k++] = "--bundle";
    args[k++] = bundle;
    if (cgroup) {
        args[k++] = "--cgroup";
        args[k++] = cgroup;
    }
    args[k++] = "--";
    for (int i = 0; i < n; i++) {
        const cJSON *it = cJSON_GetArrayItem(cmd, i);
        args[k++] = cJSON_IsString(it) ? it->valuestring : "";
    }
    exec_call_t *x = xcalloc(1, sizeof(*x));
    x->req = req;
    uv_pipe_init(a->loop, &x->in, 0);
    uv_pipe_init(a->loop, &x->out, 0);
    uv_pipe_init(a->loop, &x->err, 0);
    x->in.data = x->out.data = x->err.data = x->proc.data = x;
    x->open_handles = 4;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&x->in},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&x->out},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&x->err},
    };
    uv_process_options_t po = {
        .file = "/proc/self/exe",
        .args = args,
        .exit_cb = on_exit_cb,
        .stdio = stdio,
        .stdio_count = 3,
    };
    int r = uv_spawn(a->loop, &x->proc, &po);
    free(args);
    if (r < 0) {
        x->req = NULL;
        x->open_handles = 3;
        uv_close((uv_handle_t *)&x->in, handle_closed);
        uv_close((uv_handle_t *)&x->out, handle_closed);
        uv_close((uv_handle_t *)&x->err, handle_closed);
        cleanup_free char *msg = xasprintf("cannot start the exec helper: %s", uv_strerror(r));
        minik_http_respond_status(req, 500, msg);
        return;
    }
    if (!minik_http_stream_start(req, 200, "application/vnd.minik.exec-stream")) {
        x->req = NULL;
    } else {
        req->user = x;
        req->on_abort = on_abort;
    }
    x->pipes_open = 2;
    uv_read_start((uv_stream_t *)&x->out, on_alloc, on_read);
    uv_read_start((uv_stream_t *)&x->err, on_alloc, on_read);
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(body, "stdin");
    x->stdin_data = xstrdup(cJSON_IsString(in) ? in->valuestring : "");
    uv_buf_t b = uv_buf_init(x->stdin_data, (unsigned)strlen(x->stdin_data));
    x->wr.data = x;
    if (uv_write(&x->wr, (uv_stream_t *)&x->in, &b, 1, on_written) < 0)
        on_written(&x->wr, -1);
}
