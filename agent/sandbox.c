/* A pod's sandbox: its network, ipc and uts namespaces, kept alive as bind mounts of a
 * short-lived helper's nsfs files under <pod>/ns/.
 *
 * Several pods' jobs create sandboxes at the same time from the thread pool, so the
 * helper (a fork without exec) inherits whatever descriptors the other threads hold at
 * that moment — including the other helpers' control sockets. It must therefore never
 * wait for end-of-file: a sibling helper holding a copy of its socket would keep it
 * waiting, and two helpers holding each other's would wait forever (the "pods stay
 * Pending with no events" stall). The helper closes every inherited descriptor at once
 * and exits on an explicit byte from its parent. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/sandbox.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/xalloc.h"

const char *const minik_agent_sandbox_ns[3] = {"net", "ipc", "uts"};

void (*minik_agent_sandbox_before_fork)(void);

/* The helper's control socket goes to this descriptor; everything above it is closed. */
#define HELPER_FD 3

static void helper_close_inherited(int max_fd)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, HELPER_FD + 1, ~0U, 0) == 0)
        return;
#endif
    for (int fd = HELPER_FD + 1; fd < max_fd; fd++)
        close(fd);
}

/* The helper: only async-signal-safe calls (the parent has other threads). */
static void helper(int sock, int flags, bool host_network, const char *hostname, int max_fd)
{
    if (sock != HELPER_FD) {
        if (dup2(sock, HELPER_FD) < 0)
            _exit(1);
        sock = HELPER_FD;
    }
    helper_close_inherited(max_fd);
    char ok = 1;
    if (unshare(flags) < 0)
        ok = 0;
    if (ok && !host_network) {
        if (sethostname(hostname, strlen(hostname)) < 0)
            ok = 0;
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        memcpy(ifr.ifr_name, "lo", 3);
        if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
            ok = 0;
        ifr.ifr_flags |= IFF_UP;
        if (ok && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
            ok = 0;
    }
    if (write(sock, &ok, 1) != 1)
        _exit(1);
    char c;
    /* Until the parent has bound the namespaces: its byte, or its end closing. */
    while (read(sock, &c, 1) < 0 && errno == EINTR)
        ;
    _exit(0);
}

int minik_agent_sandbox_create(const char *nsdir, const char *hostname, bool host_network,
                               minik_error_t **err)
{
    if (minik_mkdir_p(nsdir, 0700, err) < 0)
        return -1;
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
        return minik_error_set(err, errno, "socketpair");
    int flags = CLONE_NEWIPC | (host_network ? 0 : CLONE_NEWNET | CLONE_NEWUTS);
    struct rlimit rl = {0};
    int max_fd =
        getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;
    if (minik_agent_sandbox_before_fork)
        minik_agent_sandbox_before_fork();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sp[0]);
        close(sp[1]);
        return minik_error_set(err, e, "fork");
    }
    if (pid == 0) {
        close(sp[0]);
        helper(sp[1], flags, host_network, hostname, max_fd);
    }
    close(sp[1]);
    char ok = 0;
    int r = 0;
    if (read(sp[0], &ok, 1) != 1 || !ok)
        r = minik_error_set(err, EPERM, "cannot create the pod's namespaces (hostname \"%s\")",
                            hostname);
    for (int i = 0; r == 0 && i < 3; i++) {
        if (host_network && i != 1)
            continue;
        cleanup_free char *src = xasprintf("/proc/%d/ns/%s", pid, minik_agent_sandbox_ns[i]);
        cleanup_free char *dst = xasprintf("%s/%s", nsdir, minik_agent_sandbox_ns[i]);
        umount2(dst, MNT_DETACH); /* a sandbox made again replaces the old namespace */
        int fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd >= 0)
            close(fd);
        if (fd < 0 || mount(src, dst, NULL, MS_BIND, NULL) < 0)
            r = minik_error_set(err, errno, "bind %s to %s", src, dst);
    }
    /* The byte ends the helper even if a copy of sp[0] lives on in a process another
     * thread forked meanwhile (so the close alone would not be seen). */
    char done = 1;
    (void)!write(sp[0], &done, 1); /* the helper already gone: nothing to tell it */
    close(sp[0]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return r;
}
