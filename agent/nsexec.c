/* Running a command inside a running container: the process `minik exec` and exec probes
 * get. It joins the container's cgroup and namespaces (ipc, uts, net, pid, mount), then
 * takes the container's identity from its config.json: user and groups, the capability
 * sets, no_new_privs, the seccomp filter, env and working directory — what runc exec
 * does. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/nsexec.h"
#include "agent/runtime/cgroup.h"
#include "agent/runtime/container.h"
#include "agent/runtime/seccomp.h"
#include "agent/runtime/spec.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"

int minik_nsexec_run(const minik_nsexec_opts_t *o, int *exit_code, minik_error_t **err)
{
    minik_spec_t *spec = NULL;
    if (minik_spec_load(o->bundle, &spec, err) < 0)
        return -1;
    int r = -1;
    minik_seccomp_t *sc = NULL;
    minik_cgroup_t *cg = NULL;
    static const char *const nss[] = {"ipc", "uts", "net", "pid", "mnt"};
    int fds[5] = {-1, -1, -1, -1, -1};
    int own_pidns = -1;
    if (minik_seccomp_prepare(spec->seccomp, &sc, err) < 0)
        goto out;
    for (int i = 0; i < 5; i++) {
        char p[64];
        snprintf(p, sizeof(p), "/proc/%d/ns/%s", o->pid, nss[i]);
        if ((fds[i] = open(p, O_RDONLY | O_CLOEXEC)) < 0) {
            minik_error_set(err, errno, "container process %d: open %s", o->pid, p);
            goto out;
        }
    }
    if (o->cgroup_path) {
        if (minik_cgroup_open(o->cgroup_path, &cg, err) < 0 ||
            minik_cgroup_enter(cg, getpid(), err) < 0)
            goto out;
    }
    /* All but the mount namespace here (pid only takes effect for children); the mount
     * namespace only in the child, so this process keeps the host's /proc — which the
     * sanitizers' exit-time checks read. */
    own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    for (int i = 0; i < 4; i++)
        if (setns(fds[i], 0) < 0) {
            minik_error_set(err, errno, "setns %s", nss[i]);
            goto out;
        }
    pid_t child = fork();
    if (child < 0) {
        minik_error_set(err, errno, "fork");
        goto out;
    }
    if (child == 0) {
        minik_error_t *e = NULL;
        if (setns(fds[4], CLONE_NEWNS) < 0) {
            fprintf(stderr, "exec: setns mnt: %s\n", strerror(errno));
            _exit(126);
        }
        if (chdir(spec->cwd ? spec->cwd : "/") < 0 && chdir("/") < 0)
            _exit(126);
        /* A terminal session of its own (^C reaches the command's process group). */
        if (o->tty && (setsid() < 0 || ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)) {
            fprintf(stderr, "exec: cannot take the terminal: %s\n", strerror(errno));
            _exit(126);
        }
        /* Without no_new_privs the kernel only takes a filter from a process that still
         * has CAP_SYS_ADMIN, so it goes in before the capabilities are dropped (as runc
         * does); with no_new_privs, last, so it also covers the credential changes. */
        if (!spec->no_new_privileges && minik_seccomp_apply(sc) < 0) {
            fprintf(stderr, "exec: cannot install the seccomp filter\n");
            _exit(126);
        }
        /* Every bit of the 64-bit sets: a capability this kernel lacks is skipped (EINVAL). */
        if (minik_container_drop_privileges(spec, 63, &e) < 0) {
            fprintf(stderr, "exec: %s\n", e->msg);
            _exit(126);
        }
        if (spec->no_new_privileges &&
            (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || minik_seccomp_apply(sc) < 0)) {
            fprintf(stderr, "exec: cannot install the seccomp filter\n");
            _exit(126);
        }
        execvpe(o->argv[0], o->argv, spec->env);
        fprintf(stderr, "exec: %s: %s\n", o->argv[0], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    /* Children of this process go to our own pid namespace again (the sanitizers' exit
     * checks clone a tracer that must see us). */
    if (own_pidns >= 0 && setns(own_pidns, CLONE_NEWPID) < 0)
        (void)0; /* only the exit-time tracer cares; the command already runs */
    int st;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR)
        ;
    *exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r = 0;
out:
    if (own_pidns >= 0)
        close(own_pidns);
    for (int i = 0; i < 5; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    minik_cgroup_free(cg);
    minik_seccomp_free(sc);
    minik_spec_free(spec);
    return r;
}
