#include "agent/runtime/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"

/* The procfs root directory always has inode number 1 (PROC_ROOT_INO). */
#define PROC_ROOT_INO 1

int minik_procfs_open(const char *path, minik_error_t **err)
{
    cleanup_close int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return minik_error_set(err, errno, "open procfs \"%s\"", path);
    struct statfs sfs;
    struct stat st;
    if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0)
        return minik_error_set(err, errno, "stat procfs \"%s\"", path);
    if (sfs.f_type != PROC_SUPER_MAGIC || st.st_ino != PROC_ROOT_INO)
        return minik_error_set(err, EXDEV, "\"%s\" is not the root of a procfs mount", path);
    return steal_fd(&fd);
}

int minik_procfs_write(int procfd, const char *rel, const char *value, minik_error_t **err)
{
    struct open_how how = {
        .flags = O_WRONLY | O_CLOEXEC | O_NOCTTY,
        /* "self" is an ordinary symlink inside procfs, so symlinks stay allowed; magic
         * links (fd/N, exe, root) and other mounts over procfs files do not. */
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
    };
    cleanup_close int fd = (int)syscall(SYS_openat2, procfd, rel, &how, sizeof how);
    if (fd < 0)
        return minik_error_set(err, errno, "open /proc/%s", rel);
    struct statfs sfs;
    if (fstatfs(fd, &sfs) < 0)
        return minik_error_set(err, errno, "stat /proc/%s", rel);
    if (sfs.f_type != PROC_SUPER_MAGIC)
        return minik_error_set(err, EXDEV, "/proc/%s is not on procfs", rel);
    size_t len = strlen(value);
    ssize_t n = write(fd, value, len);
    if (n < 0)
        return minik_error_set(err, errno, "write \"%s\" to /proc/%s", value, rel);
    if ((size_t)n != len)
        return minik_error_set(err, EIO, "short write to /proc/%s", rel);
    return 0;
}
