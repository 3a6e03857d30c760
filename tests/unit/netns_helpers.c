/* See netns_helpers.h. */
#include "netns_helpers.h"

#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/file.h"
#include "lib/xalloc.h"

bool netns_test_isolate(void)
{
    if (geteuid() != 0)
        return false;
    if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
        return false;
    /* Mounts made from here on must not propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return false;
    /* A fresh namespace starts with lo down; loopback tests need it. */
    return system("ip link set lo up") == 0;
}

int netns_test_make(const char *path)
{
    cleanup_close int cur = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (cur < 0)
        return -1;
    int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    close(fd);
    if (unshare(CLONE_NEWNET) < 0)
        return -1;
    int r = mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL);
    if (setns(cur, CLONE_NEWNET) < 0)
        abort(); /* the test would go on in the wrong namespace */
    return r;
}

int netns_test_run(const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cleanup_free char *cmd = NULL;
    if (vasprintf(&cmd, fmt, ap) < 0)
        abort();
    va_end(ap);
    cleanup_free char *full = xasprintf("nsenter --net=%s sh -c '%s'", path, cmd);
    int st = system(full);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

char *netns_test_tmpdir(void)
{
    char tmpl[] = "/tmp/minik-net-XXXXXX";
    if (!mkdtemp(tmpl))
        abort();
    return xstrdup(tmpl);
}

void netns_test_rmdir(const char *dir)
{
    minik_error_t *e = NULL;
    if (minik_rm_rf(dir, &e) < 0)
        minik_error_free(e); /* best effort: it is a temp dir */
}
