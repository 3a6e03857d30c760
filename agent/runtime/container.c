#include "agent/runtime/container.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/runtime/procfs.h"
#include "agent/runtime/rootfs.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

enum {
    MSG_GO = 1, /* parent -> child: in the cgroup, go on */
    MSG_USERNS, /* child -> parent: user namespace created, write my maps */
    MSG_MAPPED, /* parent -> child: maps written */
    MSG_PID,    /* child -> parent: the init's pid */
    MSG_READY,  /* init -> parent: set up, waiting on the exec fifo */
    MSG_ERROR,  /* init -> parent: text says what failed */
};

typedef struct sync_msg {
    int type;
    int pid;
    char text[2048];
} sync_msg_t;

static void send_msg(int fd, int type, int pid, const char *text)
{
    sync_msg_t m = {.type = type, .pid = pid};
    if (text)
        snprintf(m.text, sizeof m.text, "%s", text);
    /* Nothing useful to do if the peer is gone; the parent sees EOF instead. */
    while (send(fd, &m, sizeof m, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

static int recv_msg(int fd, sync_msg_t *m)
{
    ssize_t n;
    do
        n = recv(fd, m, sizeof *m, 0);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return (int)n;
    m->text[sizeof m->text - 1] = '\0';
    return 1;
}

static _Noreturn void child_fail(int sock, minik_error_t *e)
{
    send_msg(sock, MSG_ERROR, 0, e && e->msg ? e->msg : "container setup failed");
    _exit(1);
}

static _Noreturn void child_failf(int sock, int errnum, const char *what)
{
    minik_error_t *e = NULL;
    minik_error_set(&e, errnum, "%s", what);
    child_fail(sock, e);
}

/* ---- privileges ------------------------------------------------------------------------ */

static int read_last_cap(int procfd)
{
    int fd = openat(procfd, "sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return CAP_LAST_CAP;
    char buf[16] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    int v = n > 0 ? atoi(buf) : 0;
    return v > 0 && v < 64 ? v : CAP_LAST_CAP;
}

int minik_container_drop_privileges(const minik_spec_t *s, int last_cap, minik_error_t **err)
{
    for (int c = 0; c <= last_cap; c++)
        if (!(s->cap_bounding & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
            errno != EINVAL)
            return minik_error_set(err, errno, "drop capability %d from the bounding set", c);
    /* Keep the permitted set across setuid; capset below trims it to the config's. */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return minik_error_set(err, errno, "prctl(PR_SET_KEEPCAPS)");
    if (setgroups(s->n_additional_gids, s->additional_gids) < 0)
        return minik_error_set(err, errno, "setgroups");
    if (setresgid(s->gid, s->gid, s->gid) < 0)
        return minik_error_set(err, errno, "setgid %u", (unsigned)s->gid);
    if (setresuid(s->uid, s->uid, s->uid) < 0)
        return minik_error_set(err, errno, "setuid %u", (unsigned)s->uid);
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return minik_error_set(err, errno, "prctl(PR_SET_KEEPCAPS)");

    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2] = {{0}};
    data[0].effective = (uint32_t)s->cap_effective;
    data[1].effective = (uint32_t)(s->cap_effective >> 32);
    data[0].permitted = (uint32_t)s->cap_permitted;
    data[1].permitted = (uint32_t)(s->cap_permitted >> 32);
    /* inheritable stays 0 (CVE-2022-29162). */
    if (syscall(SYS_capset, &hdr, data) < 0) {
        int e = errno;
        /* Name a capability we were asked for but do not hold ourselves. */
        struct __user_cap_data_struct cur[2] = {{0}};
        struct __user_cap_header_struct h2 = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        if (syscall(SYS_capget, &h2, cur) == 0) {
            uint64_t have = cur[0].permitted | ((uint64_t)cur[1].permitted << 32);
            uint64_t missing = (s->cap_permitted | s->cap_effective) & ~have;
            for (int c = 0; c < 64; c++)
                if (missing & (1ULL << c))
                    return minik_error_set(err, e,
                                           "capset: %s is requested but the runtime does not "
                                           "hold it",
                                           minik_spec_cap_name(c));
        }
        return minik_error_set(err, e, "capset");
    }
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    for (int c = 0; c <= last_cap; c++)
        if (s->cap_ambient & (1ULL << c))
            /* With an empty inheritable set the kernel refuses ambient capabilities; like
             * runc we go on without them rather than fail the container. */
            (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
    return 0;
}

/* ---- the process to exec --------------------------------------------------------------- */

static const char *env_get(char *const *env, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
            return env[i] + n + 1;
    return NULL;
}

static bool is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Find args[0] inside the container (after pivot_root), the way execvp would, so a typo
 * fails `create` instead of the container after `start`. Caller frees *out. */
static int find_executable(const minik_spec_t *s, char **out, minik_error_t **err)
{
    const char *name = s->args[0];
    if (strchr(name, '/')) {
        if (!is_executable(name))
            return minik_error_set(err, errno ? errno : EACCES, "exec: \"%s\"", name);
        *out = xstrdup(name);
        return 0;
    }
    const char *path = env_get(s->env, "PATH");
    if (path == NULL)
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    cleanup_strv char **dirs = minik_str_split(path, ":", true);
    for (size_t i = 0; dirs[i]; i++) {
        cleanup_free char *cand = xasprintf("%s/%s", dirs[i], name);
        if (is_executable(cand)) {
            *out = steal_pointer(&cand);
            return 0;
        }
    }
    return minik_error_set(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
}

/* ---- init ------------------------------------------------------------------------------ */

static _Noreturn void init_main(const minik_container_config_t *cfg, int sock, bool in_userns,
                                const minik_seccomp_t *seccomp)
{
    const minik_spec_t *s = cfg->spec;
    minik_error_t *err = NULL;

    if (setsid() < 0)
        child_failf(sock, errno, "setsid");
    for (int i = 0; i < 3; i++)
        if (cfg->stdio[i] >= 0 && cfg->stdio[i] != i && dup2(cfg->stdio[i], i) < 0)
            child_failf(sock, errno, "dup2 stdio");
    umask(0);

    int procfd = minik_procfs_open("/proc", &err);
    if (procfd < 0)
        child_fail(sock, err);
    int last_cap = read_last_cap(procfd);

    for (size_t i = 0; i < s->n_rlimits; i++) {
        struct rlimit rl = {.rlim_cur = s->rlimits[i].soft, .rlim_max = s->rlimits[i].hard};
        if (setrlimit(s->rlimits[i].resource, &rl) < 0)
            child_failf(sock, errno, "setrlimit");
    }
    if (s->has_oom_score_adj) {
        char v[16];
        snprintf(v, sizeof v, "%d", s->oom_score_adj);
        if (minik_procfs_write(procfd, "self/oom_score_adj", v, &err) < 0)
            child_fail(sock, err);
    }
    /* The sysctls allowed (spec.c) are all per-namespace: the kernel picks the namespace
     * of the writer, which is already the container's. */
    for (size_t i = 0; i < s->n_sysctls; i++) {
        cleanup_free char *rel = xasprintf("sys/%s", s->sysctls[i].key);
        for (char *p = rel + 4; *p; p++)
            if (*p == '.')
                *p = '/';
        if (minik_procfs_write(procfd, rel, s->sysctls[i].value, &err) < 0) {
            minik_error_wrap(&err, "sysctl %s", s->sysctls[i].key);
            child_fail(sock, err);
        }
    }
    if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
        child_failf(sock, errno, "sethostname");

    if (minik_rootfs_prepare(s, cfg->rootfs, procfd, in_userns, &err) < 0 ||
        minik_rootfs_pivot(s, cfg->rootfs, &err) < 0)
        child_fail(sock, err);

    /* CVE-2024-21626: the cwd is resolved inside the new root without magic links, so a
     * "/proc/self/fd/N" cwd cannot reach a host directory through a leaked fd, and the
     * result must be reachable from the root. */
    {
        int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
            child_failf(sock, errno, "open /");
        int cwdfd = minik_rootfs_mkpath(rootfd, s->cwd, false, &err);
        if (cwdfd < 0) {
            minik_error_wrap(&err, "process.cwd \"%s\"", s->cwd);
            child_fail(sock, err);
        }
        if (fchdir(cwdfd) < 0)
            child_failf(sock, errno, "chdir to process.cwd");
        close(cwdfd);
        close(rootfd);
        char buf[4096];
        if (getcwd(buf, sizeof buf) == NULL || buf[0] != '/')
            child_failf(sock, EPERM, "process.cwd resolves outside the container");
    }

    char *exe = NULL;
    if (find_executable(s, &exe, &err) < 0)
        child_fail(sock, err);

    send_msg(sock, MSG_READY, 0, NULL);

    /* Block until `start` opens the fifo for reading. The fifo is reached through the fd
     * the shim opened and our (detached, verified) host procfs. */
    {
        char rel[32];
        snprintf(rel, sizeof rel, "self/fd/%d", cfg->exec_fifo_fd);
        int fifo;
        do
            fifo = openat(procfd, rel, O_WRONLY | O_CLOEXEC);
        while (fifo < 0 && errno == EINTR);
        if (fifo < 0)
            child_failf(sock, errno, "open the exec fifo");
        if (write(fifo, "0", 1) != 1)
            child_failf(sock, errno, "write the exec fifo");
        close(fifo);
        close(cfg->exec_fifo_fd);
    }
    close(procfd);

    /* seccomp needs no_new_privs or CAP_SYS_ADMIN: without no_new_privs it must go in
     * before the capabilities are dropped. */
    int r;
    if (seccomp && !s->no_new_privileges && (r = minik_seccomp_apply(seccomp)) < 0)
        child_failf(sock, -r, "install the seccomp filter");
    if (minik_container_drop_privileges(s, last_cap, &err) < 0)
        child_fail(sock, err);
    if (s->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        child_failf(sock, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
    umask(022);

    /* Only stdio and the preserved fds survive the exec; the sync socket is close-on-exec
     * so a failed exec can still be reported. */
    for (int fd = 3; fd < 3 + cfg->preserve_fds; fd++) {
        int fl = fcntl(fd, F_GETFD);
        if (fl >= 0)
            fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
    }
    if (syscall(SYS_close_range, 3 + cfg->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        child_failf(sock, errno, "close_range");
    if (seccomp && s->no_new_privileges && (r = minik_seccomp_apply(seccomp)) < 0)
        child_failf(sock, -r, "install the seccomp filter");

    execve(exe, s->args, s->env);
    int e = errno;
    char msg[512];
    snprintf(msg, sizeof msg, "exec \"%s\": %s", exe, strerror(e));
    send_msg(sock, MSG_ERROR, 0, msg);
    _exit(127);
}

/* ---- the first child: namespaces ------------------------------------------------------- */

static _Noreturn void child1_main(const minik_container_config_t *cfg, int sock, const int *nsfds)
{
    const minik_spec_t *s = cfg->spec;
    /* Join namespaces by path first (a joined user namespace before the others, so we have
     * rights over what it owns); new namespaces are then created under them. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < s->n_namespaces; i++) {
            const minik_spec_namespace_t *ns = &s->namespaces[i];
            if (nsfds[i] < 0 || (pass == 0) != (ns->type == CLONE_NEWUSER))
                continue;
            if (setns(nsfds[i], ns->type) < 0) {
                minik_error_t *e = NULL;
                minik_error_set(&e, errno, "join namespace \"%s\"", ns->path);
                child_fail(sock, e);
            }
            close(nsfds[i]);
        }

    int flags = 0;
    bool join_pid = false;
    for (size_t i = 0; i < s->n_namespaces; i++) {
        if (s->namespaces[i].path == NULL)
            flags |= s->namespaces[i].type;
        else if (s->namespaces[i].type == CLONE_NEWPID)
            join_pid = true;
    }
    /* The cgroup namespace must be created once we are in the container's cgroup (after
     * MSG_GO); everything else right away, in parallel with the parent's cgroup work. */
    if (unshare(flags & ~CLONE_NEWCGROUP) < 0)
        child_failf(sock, errno, "unshare the container namespaces");
    bool in_userns = minik_spec_namespace(s, CLONE_NEWUSER) != NULL;
    if (flags & CLONE_NEWUSER)
        send_msg(sock, MSG_USERNS, 0, NULL);

    minik_seccomp_t *seccomp = NULL;
    minik_error_t *err = NULL;
    if (minik_seccomp_prepare(cfg->seccomp, &seccomp, &err) < 0) {
        minik_error_wrap(&err, "config.json: linux.seccomp");
        child_fail(sock, err);
    }

    bool go = false, mapped = !(flags & CLONE_NEWUSER);
    while (!go || !mapped) {
        sync_msg_t m;
        if (recv_msg(sock, &m) <= 0)
            _exit(1);
        if (m.type == MSG_GO)
            go = true;
        else if (m.type == MSG_MAPPED)
            mapped = true;
    }
    if (flags & CLONE_NEWUSER) {
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
            child_failf(sock, errno, "become root in the user namespace");
    }
    if ((flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
        child_failf(sock, errno, "unshare the cgroup namespace");
    if ((flags & CLONE_NEWPID) || join_pid) {
        /* Only children enter a new (or joined) pid namespace. */
        pid_t pid = fork();
        if (pid < 0)
            child_failf(sock, errno, "fork into the pid namespace");
        if (pid == 0)
            init_main(cfg, sock, in_userns, seccomp);
        send_msg(sock, MSG_PID, pid, NULL);
        _exit(0);
    }
    send_msg(sock, MSG_PID, getpid(), NULL);
    init_main(cfg, sock, in_userns, seccomp);
}

/* ---- the parent ------------------------------------------------------------------------ */

static int write_idmap(int procfd, pid_t pid, const char *file, const minik_spec_idmap_t *map,
                       size_t n, minik_error_t **err)
{
    minik_buf_t b = MINIK_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        minik_buf_appendf(&b, "%u %u %u\n", map[i].container_id, map[i].host_id, map[i].size);
    cleanup_free char *rel = xasprintf("%d/%s", (int)pid, file);
    int r = minik_procfs_write(procfd, rel, b.data ? b.data : "", err);
    minik_buf_free(&b);
    return r;
}

static void reap(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

int minik_container_spawn(const minik_container_config_t *cfg, pid_t *pid_out, int *sync_out,
                          minik_error_t **err)
{
    const minik_spec_t *s = cfg->spec;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return minik_error_set(err, errno, "socketpair");
    cleanup_close int psock = sv[0];
    int csock = sv[1];

    cleanup_free int *nsfds = xcalloc(s->n_namespaces ? s->n_namespaces : 1, sizeof *nsfds);
    int ret = 0;
    for (size_t i = 0; i < s->n_namespaces; i++) {
        nsfds[i] = -1;
        if (s->namespaces[i].path == NULL)
            continue;
        nsfds[i] = open(s->namespaces[i].path, O_RDONLY | O_CLOEXEC);
        if (nsfds[i] < 0) {
            ret = minik_error_set(err, errno, "open namespace \"%s\"", s->namespaces[i].path);
            break;
        }
    }
    cleanup_close int procfd = ret < 0 ? -1 : minik_procfs_open("/proc", err);
    if (ret < 0 || procfd < 0) {
        for (size_t i = 0; i < s->n_namespaces; i++)
            if (nsfds[i] >= 0)
                close(nsfds[i]);
        close(csock);
        return ret < 0 ? ret : procfd;
    }

    pid_t c1 = fork();
    if (c1 == 0) {
        close(psock);
        child1_main(cfg, csock, nsfds);
    }
    int fork_errno = errno;
    close(csock);
    for (size_t i = 0; i < s->n_namespaces; i++)
        if (nsfds[i] >= 0)
            close(nsfds[i]);
    if (c1 < 0)
        return minik_error_set(err, fork_errno, "fork the container");

    pid_t init = 0;
    bool ready = false, c1_reaped = false;
    if (cfg->cgroup && (ret = minik_cgroup_enter(cfg->cgroup, c1, err)) < 0)
        goto fail;
    send_msg(psock, MSG_GO, 0, NULL);
    while (!ready || init == 0) {
        sync_msg_t m;
        int n = recv_msg(psock, &m);
        if (n < 0) {
            ret = minik_error_set(err, errno, "read from the container init");
            goto fail;
        }
        if (n == 0) {
            ret = minik_error_set(err, 0, "the container init exited during setup");
            goto fail;
        }
        switch (m.type) {
        case MSG_USERNS:
            if ((ret = write_idmap(procfd, c1, "uid_map", s->uid_mappings, s->n_uid_mappings,
                                   err)) < 0 ||
                (ret = write_idmap(procfd, c1, "gid_map", s->gid_mappings, s->n_gid_mappings,
                                   err)) < 0)
                goto fail;
            send_msg(psock, MSG_MAPPED, 0, NULL);
            break;
        case MSG_PID:
            init = m.pid;
            if (init != c1) {
                /* The first child exits right after forking the init. */
                while (waitpid(c1, NULL, 0) < 0 && errno == EINTR)
                    ;
                c1_reaped = true;
            }
            break;
        case MSG_READY:
            ready = true;
            break;
        case MSG_ERROR:
            ret = minik_error_set(err, 0, "%s", m.text);
            goto fail;
        default:
            ret = minik_error_set(err, EPROTO, "unexpected message %d from the container init",
                                  m.type);
            goto fail;
        }
    }
    *pid_out = init;
    *sync_out = steal_fd(&psock);
    return 0;
fail:
    if (!c1_reaped)
        reap(c1);
    if (init > 0 && init != c1)
        reap(init); /* ours once the first child exited, as the caller is a subreaper */
    return ret;
}

int minik_container_read_error(int sync_fd, char **msg)
{
    sync_msg_t m;
    int n = recv_msg(sync_fd, &m);
    if (n <= 0)
        return n;
    if (m.type != MSG_ERROR)
        return 0;
    *msg = xstrdup(m.text);
    return 1;
}
