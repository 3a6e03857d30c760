#include "agent/runtime/oci.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/runtime/cgroup.h"
#include "agent/runtime/selfcopy.h"
#include "agent/runtime/spec.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/str.h"
#include "lib/xalloc.h"

extern char **environ;

static char *state_dir(const char *root, const char *id)
{
    return xasprintf("%s/%s", root, id);
}

static void argv_push(char ***v, size_t *n, char *s)
{
    *v = xrealloc(*v, (*n + 2) * sizeof **v);
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
}

int minik_oci_create(const minik_oci_create_opts_t *o, const char *id, pid_t *pid_out,
                     minik_error_t **err)
{
    int r = minik_oci_id_check(id, err);
    if (r < 0)
        return r;
    cleanup_free char *bundle = realpath(o->bundle, NULL);
    if (bundle == NULL)
        return minik_error_set(err, errno, "bundle \"%s\"", o->bundle);
    /* Parse now so a bad config fails here with its message, before any process exists. */
    minik_spec_t *spec = NULL;
    if ((r = minik_spec_load(bundle, &spec, err)) < 0)
        return r;
    minik_spec_free(spec);

    if ((r = minik_mkdir_p(o->root, 0700, err)) < 0)
        return r;
    cleanup_free char *dir = state_dir(o->root, id);
    if (mkdir(dir, 0700) < 0) {
        if (errno == EEXIST)
            return minik_error_set(err, EEXIST, "container \"%s\" already exists", id);
        return minik_error_set(err, errno, "mkdir \"%s\"", dir);
    }
    cleanup_free char *fifo = xasprintf("%s/exec.fifo", dir);
    cleanup_close int exe = -1;
    cleanup_buf minik_buf_t answer = MINIK_BUF_INIT;
    int ready[2] = {-1, -1};
    /* 0622: the init may run as a mapped user of a user namespace by the time it opens
     * the fifo for writing. */
    if (mkfifo(fifo, 0622) < 0 || chmod(fifo, 0622) < 0) {
        r = minik_error_set(err, errno, "mkfifo \"%s\"", fifo);
        goto fail;
    }
    if ((exe = minik_selfcopy_fd(err)) < 0) {
        r = exe;
        goto fail;
    }
    if (pipe2(ready, O_CLOEXEC) < 0) {
        r = minik_error_set(err, errno, "pipe");
        goto fail;
    }

    /* Build argv before forking: the children only dup2, fork and exec. */
    int ready_fd = 3 + o->preserve_fds;
    char **argv = NULL;
    size_t argc = 0;
    argv_push(&argv, &argc, xstrdup("minik"));
    argv_push(&argv, &argc, xstrdup("shim"));
    argv_push(&argv, &argc, xasprintf("--root=%s", o->root));
    argv_push(&argv, &argc, xasprintf("--bundle=%s", bundle));
    argv_push(&argv, &argc, xasprintf("--ready-fd=%d", ready_fd));
    argv_push(&argv, &argc, xasprintf("--preserve-fds=%d", o->preserve_fds));
    if (o->log_path) {
        argv_push(&argv, &argc, xasprintf("--log-path=%s", o->log_path));
        argv_push(&argv, &argc,
                  xasprintf("--log-max-size=%llu", (unsigned long long)o->log_max_size));
        argv_push(&argv, &argc, xasprintf("--log-max-files=%d", o->log_max_files));
    }
    argv_push(&argv, &argc, xstrdup(id));

    pid_t child = fork();
    if (child == 0) {
        /* Double fork: the shim is re-parented to init (or a subreaper) and lives on
         * when the caller exits or is killed. */
        setsid();
        pid_t shim = fork();
        if (shim != 0)
            _exit(shim < 0 ? 1 : 0);
        /* Move the binary copy above the fds the shim expects, then put the ready pipe
         * at its agreed number; every other fd of the caller is closed. */
        int hi = fcntl(exe, F_DUPFD_CLOEXEC, ready_fd + 1);
        if (hi < 0)
            _exit(1);
        if (ready[1] == ready_fd) {
            fcntl(ready_fd, F_SETFD, 0);
        } else if (dup2(ready[1], ready_fd) < 0) {
            _exit(1);
        }
        if (hi > ready_fd + 1)
            syscall(SYS_close_range, ready_fd + 1, hi - 1, 0);
        syscall(SYS_close_range, hi + 1, ~0U, 0);
        fexecve(hi, argv, environ);
        _exit(127);
    }
    int fork_errno = errno;
    minik_strv_free(argv);
    close(ready[1]);
    ready[1] = -1;
    if (child < 0) {
        r = minik_error_set(err, fork_errno, "fork the shim");
        goto fail;
    }

    for (;;) {
        char buf[1024];
        ssize_t n = read(ready[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        minik_buf_append(&answer, buf, (size_t)n);
        /* One line is the whole answer; the container init may hold the pipe open. */
        if (memchr(answer.data, '\n', answer.len))
            break;
    }
    close(ready[0]);
    ready[0] = -1;
    /* Reaped only now: the intermediate child exits at once, and waiting for it first
     * would put a scheduling round trip before reading the shim's answer. */
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
        ;
    if (answer.len == 0) {
        r = minik_error_set(err, 0, "the shim exited without reporting (see %s/shim.log)", dir);
        goto fail;
    }
    if (minik_str_has_prefix(answer.data, "error ")) {
        answer.data[strcspn(answer.data, "\n")] = '\0';
        r = minik_error_set(err, 0, "%s", answer.data + 6);
        goto fail;
    }
    int pid = 0;
    if (sscanf(answer.data, "ok %d", &pid) != 1 || pid <= 0) {
        r = minik_error_set(err, EPROTO, "unexpected answer from the shim: %s", answer.data);
        goto fail;
    }
    if (o->pid_file) {
        char text[32];
        int n = snprintf(text, sizeof text, "%d", pid);
        if ((r = minik_file_write_atomic(o->pid_file, text, (size_t)n, 0644, err)) < 0) {
            minik_error_t *ignored = NULL;
            minik_oci_delete(o->root, id, true, &ignored);
            minik_error_free(ignored);
            return r;
        }
    }
    *pid_out = pid;
    return 0;
fail:
    for (int i = 0; i < 2; i++)
        if (ready[i] >= 0)
            close(ready[i]);
    {
        /* Best effort: the error being reported is the one that matters. */
        minik_error_t *ignored = NULL;
        minik_rm_rf(dir, &ignored);
        minik_error_free(ignored);
    }
    return r;
}

int minik_oci_load(const char *root, const char *id, minik_oci_state_t **st, const char **status,
                   minik_error_t **err)
{
    int r = minik_oci_id_check(id, err);
    if (r < 0)
        return r;
    cleanup_free char *dir = state_dir(root, id);
    struct stat sb;
    if (stat(dir, &sb) < 0)
        return minik_error_set(err, ENOENT, "container \"%s\" does not exist", id);
    minik_error_t *e = NULL;
    if (minik_oci_state_read(dir, st, &e) < 0) {
        if (e->errnum == ENOENT) {
            minik_error_free(e);
            /* A create in progress, or one whose shim died before writing its state. */
            return minik_error_set(err, ENOENT, "container \"%s\" has no state yet", id);
        }
        *err = e;
        return -1;
    }
    if (status)
        *status = minik_oci_status(dir, *st);
    return 0;
}

static bool pid_alive_checked(pid_t pid, uint64_t start)
{
    return minik_proc_alive(pid, start);
}

int minik_oci_start(const char *root, const char *id, minik_error_t **err)
{
    minik_oci_state_t *st = NULL;
    const char *status = NULL;
    int r = minik_oci_load(root, id, &st, &status, err);
    if (r < 0)
        return r;
    if (strcmp(status, "created") != 0) {
        r = minik_error_set(err, 0, "cannot start a container that is %s", status);
        minik_oci_state_free(st);
        return r;
    }
    cleanup_free char *dir = state_dir(root, id);
    cleanup_free char *fifo = xasprintf("%s/exec.fifo", dir);
    /* Non-blocking open: if the init died we must not wait for a writer forever. */
    cleanup_close int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        r = minik_error_set(err, errno, "open the exec fifo of \"%s\"", id);
        minik_oci_state_free(st);
        return r;
    }
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, 50);
        if (n < 0 && errno != EINTR) {
            r = minik_error_set(err, errno, "poll the exec fifo");
            break;
        }
        if (n > 0 && (p.revents & POLLIN)) {
            char c;
            if (read(fd, &c, 1) == 1) {
                r = 0;
                break;
            }
        }
        if (!pid_alive_checked(st->pid, st->pid_start)) {
            r = minik_error_set(err, 0, "container \"%s\": the init exited before start", id);
            break;
        }
    }
    if (r == 0)
        unlink(fifo);
    minik_oci_state_free(st);
    return r;
}

int minik_oci_kill(const char *root, const char *id, int sig, bool all, minik_error_t **err)
{
    minik_oci_state_t *st = NULL;
    const char *status = NULL;
    int r = minik_oci_load(root, id, &st, &status, err);
    if (r < 0)
        return r;
    if (strcmp(status, "stopped") == 0) {
        r = minik_error_set(err, ESRCH, "container \"%s\" is not running", id);
    } else if (all && st->cgroup_path[0]) {
        minik_cgroup_t *cg = NULL;
        r = minik_cgroup_open(st->cgroup_path, &cg, err);
        if (r == 0)
            r = minik_cgroup_kill(cg, sig, err);
        minik_cgroup_free(cg);
    } else if (kill(st->pid, sig) < 0) {
        r = minik_error_set(err, errno, "kill container \"%s\" (pid %d)", id, (int)st->pid);
    }
    minik_oci_state_free(st);
    return r;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait for a process that is not our child; true if it is gone within timeout_ms. */
static bool wait_gone(pid_t pid, uint64_t start, int timeout_ms)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0) {
        /* Re-check after opening: the pid may have been recycled in between. */
        if (!minik_proc_alive(pid, start)) {
            close(fd);
            return true;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n;
        do
            n = poll(&p, 1, timeout_ms);
        while (n < 0 && errno == EINTR);
        close(fd);
        if (n > 0)
            return true;
    }
    for (int i = 0; i < timeout_ms / 10; i++) {
        if (!minik_proc_alive(pid, start))
            return true;
        sleep_ms(10);
    }
    return !minik_proc_alive(pid, start);
}

int minik_oci_delete(const char *root, const char *id, bool force, minik_error_t **err)
{
    minik_oci_state_t *st = NULL;
    const char *status = NULL;
    cleanup_free char *dir = state_dir(root, id);
    minik_error_t *e = NULL;
    int r = minik_oci_load(root, id, &st, &status, &e);
    if (r < 0) {
        bool nostate = e->errnum == ENOENT && access(dir, F_OK) == 0;
        if (!nostate || !force) {
            *err = e;
            return r;
        }
        /* --force on a half-created container: just remove what is there. */
        minik_error_free(e);
        return minik_rm_rf(dir, err);
    }
    if (strcmp(status, "running") == 0 && !force) {
        r = minik_error_set(err, 0, "cannot delete container \"%s\" that is not stopped: running",
                            id);
        minik_oci_state_free(st);
        return r;
    }
    minik_cgroup_t *cg = NULL;
    if (st->cgroup_path[0]) {
        minik_error_t *ce = NULL;
        if (minik_cgroup_open(st->cgroup_path, &cg, &ce) < 0)
            minik_error_free(ce); /* already gone: nothing left to kill or remove */
    }
    if (strcmp(status, "stopped") != 0) {
        if (minik_proc_alive(st->pid, st->pid_start))
            kill(st->pid, SIGKILL);
    }
    /* Without a pid namespace, processes can outlive the init: the cgroup has them all. */
    if (cg) {
        /* Only when something is left: killing freezes and thaws the group on v1. */
        pid_t *pids = NULL;
        size_t n = 0;
        minik_error_t *ke = NULL;
        if (minik_cgroup_pids(cg, &pids, &n, &ke) < 0 || n > 0) {
            minik_error_free(ke);
            ke = NULL;
            if (minik_cgroup_kill(cg, SIGKILL, &ke) < 0)
                minik_error_free(ke); /* an empty or vanished group is fine */
        }
        free(pids);
    }
    if (!wait_gone(st->pid, st->pid_start, 5000)) {
        r = minik_error_set(err, EBUSY, "container \"%s\": init %d did not exit", id, (int)st->pid);
        goto out;
    }
    /* The shim records the exit and exits by itself; give it a moment, then stop it. */
    if (!wait_gone(st->shim_pid, st->shim_start, 2000) &&
        minik_proc_alive(st->shim_pid, st->shim_start)) {
        kill(st->shim_pid, SIGKILL);
        wait_gone(st->shim_pid, st->shim_start, 1000);
    }
    if (cg && (r = minik_cgroup_destroy(cg, err)) < 0)
        goto out;
    r = minik_rm_rf(dir, err);
out:
    minik_cgroup_free(cg);
    minik_oci_state_free(st);
    return r;
}

int minik_oci_wait(const char *root, const char *id, int *exit_code, volatile pid_t *forward_pid,
                   minik_error_t **err)
{
    minik_oci_state_t *st = NULL;
    int r = minik_oci_load(root, id, &st, NULL, err);
    if (r < 0)
        return r;
    if (forward_pid)
        *forward_pid = st->pid;
    cleanup_free char *dir = state_dir(root, id);
    /* The shim exits right after writing exit.json. */
    while (!wait_gone(st->shim_pid, st->shim_start, 1000))
        ;
    if (forward_pid)
        *forward_pid = 0;
    minik_oci_exit_t ex = {0};
    r = minik_oci_exit_read(dir, &ex, err);
    if (r == 0)
        r = minik_error_set(err, 0, "container \"%s\": the shim exited without an exit status", id);
    if (r > 0) {
        *exit_code = ex.exit_code;
        if (ex.error)
            fprintf(stderr, "error: container \"%s\": %s\n", id, ex.error);
        if (ex.oom_killed)
            fprintf(stderr, "container \"%s\" was OOM-killed\n", id);
        free(ex.error);
        r = 0;
    }
    minik_oci_state_free(st);
    return r;
}
