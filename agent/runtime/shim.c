#include "agent/runtime/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "agent/runtime/cgroup.h"
#include "agent/runtime/container.h"
#include "agent/runtime/crilog.h"
#include "agent/runtime/spec.h"
#include "agent/runtime/state.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/xalloc.h"

static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
#define N_FORWARDED (sizeof forwarded / sizeof forwarded[0])

typedef struct shim {
    uv_loop_t loop;
    uv_signal_t sigchld;
    uv_signal_t fwd[N_FORWARDED];
    uv_pipe_t pipes[2]; /* container stdout, stderr (log mode only) */
    bool pipe_open[2];
    const char *dir;
    minik_crilog_t *log;
    minik_cgroup_t *cg;
    int sync_fd;
    pid_t init;
    bool finished;
} shim_t;

static void report(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(int fd, const char *fmt, ...)
{
    if (fd < 0)
        return;
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    /* The starter may be gone (killed): then nobody needs the answer. */
    ssize_t w = write(fd, buf, (size_t)n);
    (void)w;
}

static void rfc3339_now(char *buf, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
}

/* Milliseconds since `t0`, as text for debug logs of the start-up phases. */
static const char *since(const struct timespec *t0, char *buf, size_t n)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    snprintf(buf, n, "%.3f",
             (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6);
    return buf;
}

static void log_error(shim_t *s, const char *what, minik_error_t *e)
{
    minik_log_error(what, "error", e ? e->msg : "", NULL);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char chunk[64 * 1024];
    (void)h;
    (void)suggested;
    buf->base = chunk;
    buf->len = sizeof chunk;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    shim_t *s = st->loop->data;
    int idx = st == (uv_stream_t *)&s->pipes[0] ? 0 : 1;
    if (n > 0) {
        cleanup_error minik_error_t *e = NULL;
        if (minik_crilog_write(s->log, (minik_crilog_stream_t)idx, buf->base, (size_t)n, &e) < 0)
            log_error(s, "write container log", e);
        return;
    }
    if (n < 0) {
        /* EOF or error: the stream is done. */
        cleanup_error minik_error_t *e = NULL;
        minik_crilog_flush(s->log, (minik_crilog_stream_t)idx, &e);
        uv_read_stop(st);
        if (s->pipe_open[idx]) {
            s->pipe_open[idx] = false;
            uv_close((uv_handle_t *)st, NULL);
        }
    }
}

/* Read what is left in a log pipe without waiting: other processes of a container without
 * its own pid namespace may keep the pipe open after the init exits. */
static void drain(shim_t *s, int idx)
{
    if (!s->pipe_open[idx])
        return;
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&s->pipes[idx], &fd) == 0) {
        char buf[16384];
        for (;;) {
            ssize_t n = read(fd, buf, sizeof buf);
            if (n <= 0)
                break;
            cleanup_error minik_error_t *e = NULL;
            minik_crilog_write(s->log, (minik_crilog_stream_t)idx, buf, (size_t)n, &e);
        }
    }
    cleanup_error minik_error_t *e = NULL;
    minik_crilog_flush(s->log, (minik_crilog_stream_t)idx, &e);
    uv_read_stop((uv_stream_t *)&s->pipes[idx]);
    s->pipe_open[idx] = false;
    uv_close((uv_handle_t *)&s->pipes[idx], NULL);
}

static void finish(shim_t *s, int status)
{
    s->finished = true;
    for (int i = 0; i < 2; i++)
        drain(s, i);
    minik_oci_exit_t ex = {0};
    if (WIFSIGNALED(status)) {
        ex.signal = WTERMSIG(status);
        ex.exit_code = 128 + ex.signal;
    } else {
        ex.exit_code = WEXITSTATUS(status);
    }
    char *msg = NULL;
    if (s->sync_fd >= 0 && minik_container_read_error(s->sync_fd, &msg) > 0) {
        ex.error = msg;
        minik_log_error("container process failed", "error", msg, NULL);
    }
    if (s->cg) {
        minik_cgroup_stats_t st;
        cleanup_error minik_error_t *e = NULL;
        if (minik_cgroup_stats(s->cg, &st, &e) == 0)
            ex.oom_killed = st.oom_kills > 0;
        else
            log_error(s, "read cgroup stats", e);
    }
    cleanup_error minik_error_t *e = NULL;
    if (minik_oci_exit_write(s->dir, &ex, &e) < 0)
        log_error(s, "write exit status", e);
    free(ex.error);
    uv_signal_stop(&s->sigchld);
    uv_close((uv_handle_t *)&s->sigchld, NULL);
    for (size_t i = 0; i < N_FORWARDED; i++) {
        uv_signal_stop(&s->fwd[i]);
        uv_close((uv_handle_t *)&s->fwd[i], NULL);
    }
}

static void reap_children(shim_t *s)
{
    for (;;) {
        int status;
        pid_t p = waitpid(-1, &status, WNOHANG);
        if (p <= 0)
            return;
        /* Orphans of a container without a pid namespace land here too (we are a
         * subreaper); only the init's status matters. */
        if (p == s->init && !s->finished)
            finish(s, status);
    }
}

static void on_sigchld(uv_signal_t *h, int signum)
{
    (void)signum;
    reap_children(h->loop->data);
}

static void on_forward(uv_signal_t *h, int signum)
{
    shim_t *s = h->loop->data;
    if (!s->finished && kill(s->init, signum) < 0 && errno != ESRCH)
        minik_log_warn("forward signal failed", "error", strerror(errno), NULL);
}

static FILE *open_log_output(const char *dir)
{
    cleanup_free char *path = xasprintf("%s/shim.log", dir);
    FILE *f = fopen(path, "ae");
    if (f == NULL)
        return NULL;
    setvbuf(f, NULL, _IOLBF, 0);
    minik_log_set_output(f);
    return f;
}

int minik_shim_run(const minik_shim_opts_t *o)
{
    cleanup_free char *dir = xasprintf("%s/%s", o->root, o->id);
    cleanup_error minik_error_t *err = NULL;
    int ready = o->ready_fd;
    /* The container init is forked from us: it must not keep the starter waiting. */
    if (ready >= 0)
        fcntl(ready, F_SETFD, FD_CLOEXEC);
    cleanup_fclose FILE *shim_log = open_log_output(dir);

    /* Orphans of the container (and the init, once its first parent exits) come to us. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
        report(ready, "error prctl(PR_SET_CHILD_SUBREAPER): %s\n", strerror(errno));
        return 1;
    }

    minik_spec_t *spec = NULL;
    minik_cgroup_t *cg = NULL;
    minik_crilog_t *log = NULL;
    cleanup_free char *rootfs = NULL;
    cleanup_free char *rootpath = NULL;
    cleanup_free char *cgpath = NULL;
    cleanup_close int dirfd = -1, fifo = -1, devnull = -1;
    int pipes[2][2] = {{-1, -1}, {-1, -1}};
    int sync_fd = -1;
    pid_t init = 0;
    int rc = 1;

    if (minik_spec_load(o->bundle, &spec, &err) < 0)
        goto fail;
    rootpath = spec->root_path[0] == '/' ? xstrdup(spec->root_path)
                                         : xasprintf("%s/%s", o->bundle, spec->root_path);
    rootfs = realpath(rootpath, NULL);
    if (rootfs == NULL) {
        minik_error_set(&err, errno, "root.path \"%s\"", rootpath);
        goto fail;
    }
    dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    fifo = dirfd < 0 ? -1 : openat(dirfd, "exec.fifo", O_PATH | O_CLOEXEC);
    if (fifo < 0) {
        minik_error_set(&err, errno, "open the exec fifo in \"%s\"", dir);
        goto fail;
    }
    struct timespec t0;
    char ms[32];
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cgpath = spec->cgroups_path ? xstrdup(spec->cgroups_path) : xasprintf("/minik/%s", o->id);
    if (minik_cgroup_create(cgpath, spec->resources, &cg, &err) < 0)
        goto fail;

    minik_log_debug("cgroup created", "ms", since(&t0, ms, sizeof ms), NULL);
    minik_container_config_t cfg = {
        .spec = spec,
        .rootfs = rootfs,
        .exec_fifo_fd = fifo,
        .seccomp = spec->seccomp,
        .cgroup = cg,
        .stdio = {-1, -1, -1},
        .preserve_fds = o->preserve_fds,
    };
    if (o->log_path) {
        if (minik_crilog_open(o->log_path, o->log_max_size, o->log_max_files, &log, &err) < 0)
            goto fail;
        devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull < 0 || pipe2(pipes[0], O_CLOEXEC) < 0 || pipe2(pipes[1], O_CLOEXEC) < 0) {
            minik_error_set(&err, errno, "create the log pipes");
            goto fail;
        }
        cfg.stdio[0] = devnull;
        cfg.stdio[1] = pipes[0][1];
        cfg.stdio[2] = pipes[1][1];
    }
    if (minik_container_spawn(&cfg, &init, &sync_fd, &err) < 0)
        goto fail;
    minik_log_debug("container set up", "ms", since(&t0, ms, sizeof ms), NULL);
    for (int i = 0; i < 2; i++)
        if (pipes[i][1] >= 0) {
            close(pipes[i][1]);
            pipes[i][1] = -1;
        }

    shim_t s = {.dir = dir, .log = log, .cg = cg, .sync_fd = sync_fd, .init = init};
    uv_loop_init(&s.loop);
    s.loop.data = &s;
    uv_signal_init(&s.loop, &s.sigchld);
    uv_signal_start(&s.sigchld, on_sigchld, SIGCHLD);
    for (size_t i = 0; i < N_FORWARDED; i++) {
        uv_signal_init(&s.loop, &s.fwd[i]);
        uv_signal_start(&s.fwd[i], on_forward, forwarded[i]);
    }
    for (int i = 0; i < 2; i++) {
        if (pipes[i][0] < 0)
            continue;
        uv_pipe_init(&s.loop, &s.pipes[i], 0);
        uv_pipe_open(&s.pipes[i], pipes[i][0]);
        pipes[i][0] = -1;
        s.pipe_open[i] = true;
        uv_read_start((uv_stream_t *)&s.pipes[i], on_alloc, on_read);
    }

    minik_oci_state_t st = {
        .oci_version = spec->oci_version,
        .id = (char *)o->id,
        .bundle = (char *)o->bundle,
        .rootfs = rootfs,
        .cgroup_path = (char *)minik_cgroup_path(cg),
        .pid = init,
        .shim_pid = getpid(),
        .annotations = (cJSON *)spec->annotations,
    };
    char created[64];
    rfc3339_now(created, sizeof created);
    st.created = created;
    if (minik_proc_start_time(init, &st.pid_start) < 0 ||
        minik_proc_start_time(getpid(), &st.shim_start) < 0) {
        minik_error_set(&err, ESRCH, "the container init exited during setup");
    } else if (minik_oci_state_write(dir, &st, &err) == 0) {
        report(ready, "ok %d\n", (int)init);
    }
    if (err) {
        report(ready, "error %s\n", err->msg);
        kill(init, SIGKILL);
    }
    if (ready >= 0)
        close(ready);
    ready = -1;
    /* The container has what it needs of our stdio; we must not hold the starter's
     * terminal or pipes open. */
    {
        int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (nul >= 0) {
            dup2(nul, 0);
            dup2(nul, 1);
            dup2(nul, 2);
            close(nul);
        }
    }
    if (spec->seccomp == NULL)
        minik_log_debug("default seccomp profile", "id", o->id, NULL);
    minik_spec_free(spec);
    spec = NULL;

    /* A SIGCHLD that came before the handler was installed is not lost: the zombie is. */
    reap_children(&s);
    uv_run(&s.loop, UV_RUN_DEFAULT);
    uv_loop_close(&s.loop);
    rc = 0;
    goto out;

fail:
    report(ready, "error %s\n", err && err->msg ? err->msg : "shim failed");
    if (cg) {
        cleanup_error minik_error_t *e = NULL;
        minik_cgroup_destroy(cg, &e);
    }
out:
    if (sync_fd >= 0)
        close(sync_fd);
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 2; k++)
            if (pipes[i][k] >= 0)
                close(pipes[i][k]);
    minik_crilog_free(log);
    minik_cgroup_free(cg);
    minik_spec_free(spec);
    minik_log_set_output(NULL);
    return rc;
}
