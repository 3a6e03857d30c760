/* POST /exec/{ns}/{pod}/{container}?command=sh&command=-c&command=...&stdin=true on the
 * agent endpoint (reached through the API server's pods/exec relay): run a command in a
 * running container and stream its output back.
 *
 * With stdin=true the request body is the command's standard input, streamed: each piece
 * is written to the command as it arrives (a chunked body is dispatched at its headers,
 * see minik_http_callbacks_t.stream_body) and the end of the body closes its stdin.
 * Without it the command's stdin is closed at once.
 * Response: a chunked stream of frames, each 1 byte channel (1 stdout, 2 stderr,
 * 3 status) + 4-byte big-endian length + payload; the last frame is channel 3 with
 * {"exitCode": N}. The command runs in `minik nsexec` (a child of the agent started with
 * uv_spawn), which takes the container's namespaces, cgroup, user, capabilities,
 * no_new_privs and seccomp filter. A client that goes away closes the command's stdin. */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "agent/internal.h"
#include "agent/runtime/oci.h"
#include "agent/runtime/state.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

typedef struct exec_call {
    minik_http_request_t *req;
    uv_process_t proc;
    uv_pipe_t in, out, err;
    int writes;  /* stdin writes in flight */
    bool tty;    /* out is a pty master: the command's stdin, stdout and stderr */
    bool in_eof; /* the request body ended */
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
    free(x);
}

static void close_stdin(exec_call_t *x)
{
    if (!x->in_closed)
        uv_close((uv_handle_t *)&x->in, handle_closed);
    x->in_closed = true;
}

static void release_req(exec_call_t *x)
{
    if (!x->req)
        return;
    x->req->on_body = NULL;
    x->req->on_abort = NULL;
    if (x->req->conn)
        minik_http_stream_end(x->req);
    else
        minik_http_request_free(x->req);
    x->req = NULL;
}

static void maybe_finish(exec_call_t *x)
{
    if (!x->exited || x->pipes_open > 0)
        return;
    char st[64];
    int n = snprintf(st, sizeof(st), "{\"exitCode\":%lld}", (long long)x->exit_code);
    frame(x, 3, st, (size_t)n);
    release_req(x);
    uv_close((uv_handle_t *)&x->proc, handle_closed);
    close_stdin(x);
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

typedef struct stdin_write {
    uv_write_t wr;
    exec_call_t *x;
    char data[];
} stdin_write_t;

static void on_written(uv_write_t *w, int status)
{
    (void)status; /* a command that stopped reading: what it did not take is dropped */
    stdin_write_t *sw = (stdin_write_t *)w;
    exec_call_t *x = sw->x;
    free(sw);
    x->writes--;
    if (x->in_eof && x->writes == 0)
        close_stdin(x); /* EOF on the command's stdin, after everything was written */
}

/* A piece of the request body (NULL, 0 at its end) goes to the command's stdin. */
static void on_body(minik_http_request_t *r, const char *data, size_t len)
{
    exec_call_t *x = r->user;
    if (!data) {
        x->in_eof = true;
        if (x->tty && !x->in_closed) {
            /* A terminal's end of input is ^D, not a hang-up. */
            data = "\x04";
            len = 1;
        } else {
            if (x->writes == 0)
                close_stdin(x);
            return;
        }
    }
    if (x->in_closed || len == 0)
        return;
    stdin_write_t *sw = xmalloc(sizeof(*sw) + len);
    sw->x = x;
    memcpy(sw->data, data, len);
    uv_buf_t b = uv_buf_init(sw->data, (unsigned)len);
    x->writes++;
    uv_stream_t *to = x->tty ? (uv_stream_t *)&x->out : (uv_stream_t *)&x->in;
    if (uv_write(&sw->wr, to, &b, 1, on_written) < 0) {
        x->writes--;
        free(sw);
    }
}

static void on_abort(minik_http_request_t *r)
{
    exec_call_t *x = r->user;
    minik_http_request_free(r);
    x->req = NULL; /* the command runs to its end; its output goes nowhere */
    x->in_eof = true;
    if (x->writes == 0)
        close_stdin(x);
}

/* Every value of query parameter `key`, decoded; NULL-terminated (caller frees the
 * strings and the vector). *bad on a malformed escape. */
static char **query_all(const char *q, const char *key, bool *bad)
{
    size_t klen = strlen(key), n = 0;
    char **v = xcalloc(1, sizeof(char *));
    for (const char *p = q; p && *p;) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
            char *d = minik_http_unescape(p + klen + 1, len - klen - 1, true);
            if (!d)
                *bad = true;
            else {
                v = xrealloc(v, (n + 2) * sizeof(char *));
                v[n++] = d;
                v[n] = NULL;
            }
        }
        p = end ? end + 1 : NULL;
    }
    return v;
}

/* A pod whose job is running belongs to that job (internal.h): the job may reallocate
 * its container list while we read it. So exec waits, on the loop, until the job hands
 * the pod back — jobs are short unless a start is stuck, which the wait's limit covers.
 * stdin that arrives meanwhile is kept in the request's body (http_conn.h). */
#define EXEC_WAIT_TICK_MS 20
#define EXEC_WAIT_MAX_MS  10000

typedef struct exec_wait {
    uv_timer_t timer;
    struct minik_agent *a;
    minik_http_request_t *req; /* NULL once the client went away */
    char *seg[3];
    int waited_ms;
} exec_wait_t;

static void wait_closed(uv_handle_t *h)
{
    exec_wait_t *w = h->data;
    for (int i = 0; i < 3; i++)
        free(w->seg[i]);
    free(w);
}

static void wait_abort(minik_http_request_t *r)
{
    exec_wait_t *w = r->user;
    minik_http_request_free(r);
    w->req = NULL;
    uv_close((uv_handle_t *)&w->timer, wait_closed);
}

static agent_pod_t *exec_pod(struct minik_agent *a, char **seg)
{
    agent_pod_t *pod = NULL;
    for (agent_pod_t *p = a->pods; p; p = p->next)
        if (strcmp(p->ns, seg[0]) == 0 && strcmp(p->name, seg[1]) == 0 && !p->deleted)
            pod = p;
    return pod;
}

static void wait_tick(uv_timer_t *t)
{
    exec_wait_t *w = t->data;
    agent_pod_t *pod = exec_pod(w->a, w->seg);
    w->waited_ms += EXEC_WAIT_TICK_MS;
    if (pod && pod->busy && w->waited_ms < EXEC_WAIT_MAX_MS && !w->a->stopping)
        return;
    minik_http_request_t *req = w->req;
    req->user = NULL;
    req->on_abort = NULL;
    uv_close((uv_handle_t *)&w->timer, wait_closed);
    if (pod && pod->busy)
        minik_http_respond_status(req, 503,
                                  "the pod is busy (its containers are being "
                                  "started or stopped); try again");
    else
        minik_agent_exec(w->a, req, w->seg);
}

void minik_agent_exec(struct minik_agent *a, minik_http_request_t *req, char **seg)
{
    agent_pod_t *pod = exec_pod(a, seg);
    if (pod && pod->busy) {
        exec_wait_t *w = xcalloc(1, sizeof(*w));
        w->a = a;
        w->req = req;
        for (int i = 0; i < 3; i++)
            w->seg[i] = xstrdup(seg[i]);
        uv_timer_init(a->loop, &w->timer);
        w->timer.data = w;
        uv_timer_start(&w->timer, wait_tick, EXEC_WAIT_TICK_MS, EXEC_WAIT_TICK_MS);
        req->user = w;
        req->on_abort = wait_abort;
        return;
    }
    agent_ctr_t *c = NULL;
    for (size_t i = 0; pod && i < pod->n_ctrs; i++)
        if (strcmp(pod->ctrs[i].name, seg[2]) == 0 && pod->ctrs[i].id && pod->ctrs[i].pid > 0)
            c = &pod->ctrs[i];
    if (!c) {
        minik_http_respond_status(req, 404, "no running container of that name in that pod");
        return;
    }
    bool bad = false;
    cleanup_strv char **cmd = query_all(req->query, "command", &bad);
    size_t n = minik_strv_len(cmd);
    if (bad || n < 1) {
        minik_http_respond_status(req, 400,
                                  bad ? "malformed percent-encoding in command"
                                      : "exec needs at least one command= parameter");
        return;
    }
    cleanup_free char *stdin_s = minik_http_query_param(req->query, "stdin", &bad);
    bool want_stdin = stdin_s && (strcmp(stdin_s, "true") == 0 || strcmp(stdin_s, "1") == 0);
    cleanup_free char *tty_s = minik_http_query_param(req->query, "tty", &bad);
    bool tty = tty_s && (strcmp(tty_s, "true") == 0 || strcmp(tty_s, "1") == 0);
    struct winsize ws = {0};
    cleanup_free char *cols = minik_http_query_param(req->query, "cols", &bad);
    cleanup_free char *rows = minik_http_query_param(req->query, "rows", &bad);
    if (cols && rows) {
        long c_ = strtol(cols, NULL, 10), r_ = strtol(rows, NULL, 10);
        if (c_ > 0 && c_ < 10000 && r_ > 0 && r_ < 10000) {
            ws.ws_col = (unsigned short)c_;
            ws.ws_row = (unsigned short)r_;
        }
    }
    /* -t: a pseudo-terminal pair made here; the helper gets the terminal side as its
     * stdio and makes it the command's controlling terminal. */
    int master = -1, slave = -1;
    if (tty && openpty(&master, &slave, NULL, NULL, ws.ws_col ? &ws : NULL) < 0) {
        cleanup_free char *msg = xasprintf("cannot open a pseudo-terminal: %s", strerror(errno));
        minik_http_respond_status(req, 500, msg);
        return;
    }
    if (tty) {
        fcntl(master, F_SETFD, FD_CLOEXEC); /* no other child may hold either end */
        fcntl(slave, F_SETFD, FD_CLOEXEC);
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
    char **args = xcalloc(n + 12, sizeof(char *));
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
    if (tty)
        args[k++] = "--tty";
    args[k++] = "--";
    for (size_t i = 0; i < n; i++)
        args[k++] = cmd[i];
    exec_call_t *x = xcalloc(1, sizeof(*x));
    x->req = req;
    uv_pipe_init(a->loop, &x->in, 0);
    uv_pipe_init(a->loop, &x->out, 0);
    uv_pipe_init(a->loop, &x->err, 0);
    x->in.data = x->out.data = x->err.data = x->proc.data = x;
    x->open_handles = 4;
    x->tty = tty;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&x->in},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&x->out},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&x->err},
    };
    if (tty)
        for (int i = 0; i < 3; i++)
            stdio[i] = (uv_stdio_container_t){.flags = UV_INHERIT_FD, .data.fd = slave};
    uv_process_options_t po = {
        .file = "/proc/self/exe",
        .args = args,
        .exit_cb = on_exit_cb,
        .stdio = stdio,
        .stdio_count = 3,
    };
    int r = uv_spawn(a->loop, &x->proc, &po);
    free(args);
    if (slave >= 0)
        close(slave); /* the helper has it: the master reads EIO once the command is gone */
    bool spawned = r == 0;
    if (r == 0 && tty && (r = uv_pipe_open(&x->out, master)) == 0)
        master = -1;
    if (master >= 0)
        close(master);
    if (r < 0 && spawned) {
        /* Started, but its terminal cannot be read: end it (the process handle is closed
         * below, so nothing waits for its exit). */
        uv_process_kill(&x->proc, SIGKILL);
        x->open_handles = 4;
        x->req = NULL;
        uv_close((uv_handle_t *)&x->proc, handle_closed);
        uv_close((uv_handle_t *)&x->in, handle_closed);
        uv_close((uv_handle_t *)&x->out, handle_closed);
        uv_close((uv_handle_t *)&x->err, handle_closed);
        minik_http_respond_status(req, 500, "cannot read the exec terminal");
        return;
    }
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
    x->pipes_open = tty ? 1 : 2;
    uv_read_start((uv_stream_t *)&x->out, on_alloc, on_read);
    if (!tty)
        uv_read_start((uv_stream_t *)&x->err, on_alloc, on_read);
    if (!minik_http_stream_start(req, 200, "application/vnd.minik.exec-stream")) {
        x->req = NULL;
        minik_http_request_free(req);
        close_stdin(x);
        return;
    }
    req->user = x;
    req->on_abort = on_abort;
    /* What came with the headers, or the whole body when it was not streamed. */
    if (want_stdin && req->body.len)
        on_body(req, req->body.data, req->body.len);
    minik_buf_reset(&req->body);
    if (!want_stdin || !req->body_streamed || req->body_done)
        on_body(req, NULL, 0);
    else
        req->on_body = on_body;
}
