#include "agent/runtime/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* "/proc/self/fd/N": mount(2) takes paths, and this magic link names exactly the object we
 * resolved, so nothing can be swapped between resolution and mount. */
typedef struct {
    char s[40];
} fdpath_t;

static fdpath_t fdpath(int fd)
{
    fdpath_t p;
    snprintf(p.s, sizeof p.s, "/proc/self/fd/%d", fd);
    return p;
}

static int openat2_in_root(int rootfd, const char *path, int flags, unsigned long long resolve)
{
    struct open_how how = {
        .flags = (unsigned long long)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve,
    };
    /* RESOLVE_IN_ROOT wants a path relative to the root fd. */
    while (*path == '/')
        path++;
    if (*path == '\0')
        path = ".";
    int fd;
    do
        fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
    while (fd < 0 && errno == EAGAIN);
    return fd;
}

int minik_rootfs_open_in_root(int rootfd, const char *path, int flags, minik_error_t **err)
{
    int fd = openat2_in_root(rootfd, path, flags, 0);
    if (fd < 0)
        return minik_error_set(err, errno, "open \"%s\" in the container", path);
    return fd;
}

int minik_rootfs_mkpath(int rootfd, const char *path, bool file, minik_error_t **err)
{
    cleanup_strv char **parts = minik_str_split(path, "/", true);
    size_t n = minik_strv_len(parts);
    cleanup_close int cur = openat2_in_root(rootfd, ".", O_PATH | O_DIRECTORY, 0);
    if (cur < 0)
        return minik_error_set(err, errno, "open the container root");
    minik_buf_t prefix = MINIK_BUF_INIT;
    int ret = 0;
    for (size_t i = 0; i < n; i++) {
        bool last = i + 1 == n;
        minik_buf_append_char(&prefix, '/');
        minik_buf_append_str(&prefix, parts[i]);
        /* Neither mkdirat nor O_CREAT|O_EXCL follows a symlink in the last component; an
         * existing entry (possibly a symlink) is then resolved again from the root. */
        if (last && file) {
            int f =
                openat(cur, parts[i], O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
            if (f < 0 && errno != EEXIST) {
                ret = minik_error_set(err, errno, "create \"%s\" in the container", prefix.data);
                break;
            }
            if (f >= 0)
                close(f);
        } else if (mkdirat(cur, parts[i], 0755) < 0 && errno != EEXIST) {
            ret = minik_error_set(err, errno, "mkdir \"%s\" in the container", prefix.data);
            break;
        }
        int next =
            openat2_in_root(rootfd, prefix.data, O_PATH | (last && file ? 0 : O_DIRECTORY), 0);
        if (next < 0) {
            ret = minik_error_set(err, errno, "open \"%s\" in the container", prefix.data);
            break;
        }
        close(cur);
        cur = next;
    }
    minik_buf_free(&prefix);
    if (ret < 0)
        return ret;
    return steal_fd(&cur);
}

/* Mount flags a bind remount must keep: in a user namespace the kernel refuses to clear
 * nosuid/nodev/noexec/ro ("locked") flags the source mount already has. */
static unsigned long locked_flags(int fd)
{
    struct statvfs sv;
    if (fstatvfs(fd, &sv) < 0)
        return 0;
    unsigned long f = 0;
    if (sv.f_flag & ST_NOSUID)
        f |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV)
        f |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC)
        f |= MS_NOEXEC;
    return f;
}

static int bind_remount(int rootfd, const char *dest, unsigned long flags, bool in_userns,
                        minik_error_t **err)
{
    /* Re-resolve: the fd we mounted onto names the covered directory, not the new mount. */
    cleanup_close int fd = openat2_in_root(rootfd, dest, O_PATH, 0);
    if (fd < 0)
        return minik_error_set(err, errno, "reopen \"%s\" in the container", dest);
    unsigned long f = MS_BIND | MS_REMOUNT | (flags & ~(unsigned long)(MS_REC | MS_BIND));
    if (in_userns)
        f |= locked_flags(fd);
    if (mount(NULL, fdpath(fd).s, NULL, f, NULL) < 0)
        return minik_error_set(err, errno, "remount \"%s\"", dest);
    return 0;
}

static int do_mount(int rootfd, const minik_spec_mount_t *m, bool in_userns, minik_error_t **err)
{
    bool file = false;
    if (m->bind) {
        struct stat st;
        if (stat(m->source, &st) < 0)
            return minik_error_set(err, errno, "bind mount source \"%s\"", m->source);
        file = !S_ISDIR(st.st_mode);
    }
    cleanup_close int target = minik_rootfs_mkpath(rootfd, m->destination, file, err);
    if (target < 0)
        return minik_error_wrap(err, "mount on \"%s\"", m->destination);
    fdpath_t tp = fdpath(target);

    if (m->bind) {
        if (mount(m->source, tp.s, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0)
            return minik_error_set(err, errno, "bind mount \"%s\" on \"%s\"", m->source,
                                   m->destination);
        if (m->flags & ~(unsigned long)MS_REC) {
            int r = bind_remount(rootfd, m->destination, m->flags, in_userns, err);
            if (r < 0)
                return r;
        }
    } else {
        const char *type = m->type;
        /* A "cgroup" mount gets the unified hierarchy: inside the container's cgroup
         * namespace it shows only the container's own group. */
        if (strcmp(type, "cgroup") == 0)
            type = "cgroup2";
        unsigned long flags = m->flags & ~(unsigned long)MS_REC;
        const char *data = m->data;
        if (strcmp(type, "cgroup2") == 0)
            data = NULL;
        if (mount(m->source, tp.s, type, flags, data) < 0) {
            int e = errno;
            /* sysfs cannot be mounted in a user namespace that does not own the network
             * namespace; fall back to a read-only recursive bind of the host's, as runc
             * does. */
            if (strcmp(type, "sysfs") == 0 && (e == EPERM || e == EACCES)) {
                if (mount("/sys", tp.s, NULL, MS_BIND | MS_REC, NULL) < 0)
                    return minik_error_set(err, errno, "bind /sys on \"%s\"", m->destination);
                return bind_remount(rootfd, m->destination, flags | MS_RDONLY, true, err);
            }
            return minik_error_set(err, e, "mount %s on \"%s\"", type, m->destination);
        }
    }
    if (m->propagation) {
        cleanup_close int fd = openat2_in_root(rootfd, m->destination, O_PATH, 0);
        if (fd < 0 || mount(NULL, fdpath(fd).s, NULL, m->propagation, NULL) < 0)
            return minik_error_set(err, errno, "set propagation of \"%s\"", m->destination);
    }
    return 0;
}

/* ---- /dev ------------------------------------------------------------------------------ */

static const struct {
    const char *name;
    unsigned int major, minor;
} default_devices[] = {
    {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static const struct {
    const char *name, *target;
} default_links[] = {
    {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},         {"core", "/proc/kcore"},
};

/* Create one device node at `path` inside the root. mknod is not allowed in a user
 * namespace; there the host's node of the same name is bind-mounted onto an empty file. */
static int make_device(int rootfd, const char *path, char type, unsigned int major,
                       unsigned int minor, mode_t mode, uid_t uid, gid_t gid, bool in_userns,
                       minik_error_t **err)
{
    cleanup_free char *copy = xstrdup(path);
    char *slash = strrchr(copy, '/');
    const char *base = slash + 1;
    *slash = '\0';
    cleanup_close int dir = minik_rootfs_mkpath(rootfd, copy[0] ? copy : "/", false, err);
    if (dir < 0)
        return dir;
    mode_t fmt = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
    if (!in_userns || type == 'p') {
        if (mknodat(dir, base, fmt | (mode & 07777), makedev(major, minor)) < 0 && errno != EEXIST)
            return minik_error_set(err, errno, "mknod \"%s\" in the container", path);
        if (fchownat(dir, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
            return minik_error_set(err, errno, "chown \"%s\" in the container", path);
        return 0;
    }
    cleanup_close int target = minik_rootfs_mkpath(rootfd, path, true, err);
    if (target < 0)
        return target;
    if (mount(path, fdpath(target).s, NULL, MS_BIND, NULL) < 0)
        return minik_error_set(err, errno, "bind host \"%s\" into the container", path);
    return 0;
}

static int setup_dev(int rootfd, const minik_spec_t *spec, bool in_userns, minik_error_t **err)
{
    bool dev_is_ours = false;
    for (size_t i = 0; i < spec->n_mounts; i++)
        if (strcmp(spec->mounts[i].destination, "/dev") == 0 && !spec->mounts[i].bind)
            dev_is_ours = true;
    if (dev_is_ours) {
        cleanup_close int devfd = openat2_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY, 0);
        if (devfd < 0)
            return minik_error_set(err, errno, "open /dev in the container");
        for (size_t i = 0; i < sizeof default_devices / sizeof default_devices[0]; i++) {
            cleanup_free char *p = xasprintf("/dev/%s", default_devices[i].name);
            int r = make_device(rootfd, p, 'c', default_devices[i].major, default_devices[i].minor,
                                0666, 0, 0, in_userns, err);
            if (r < 0)
                return r;
        }
        for (size_t i = 0; i < sizeof default_links / sizeof default_links[0]; i++)
            if (symlinkat(default_links[i].target, devfd, default_links[i].name) < 0 &&
                errno != EEXIST)
                return minik_error_set(err, errno, "symlink /dev/%s", default_links[i].name);
    }
    for (size_t i = 0; i < spec->n_devices; i++) {
        const minik_spec_device_t *d = &spec->devices[i];
        int r = make_device(rootfd, d->path, d->type, (unsigned int)d->major,
                            (unsigned int)d->minor, d->mode, d->uid, d->gid, in_userns, err);
        if (r < 0)
            return r;
    }
    return 0;
}

/* ---- masked and read-only paths --------------------------------------------------------- */

/* The container's /dev/null, checked to really be the null device before anything is
 * bind-mounted from it: an image (or a process racing us) could make it a symlink to a
 * host-sensitive file such as /proc/sys/kernel/core_pattern (CVE-2025-31133). */
static int open_dev_null(int rootfd, minik_error_t **err)
{
    cleanup_close int fd = openat2_in_root(rootfd, "/dev/null", O_PATH, RESOLVE_NO_SYMLINKS);
    if (fd < 0) {
        if (errno == ELOOP)
            return minik_error_set(
                err, ELOOP,
                "/dev/null in the container is a symlink: refusing to mask paths with it");
        return minik_error_set(err, errno, "open /dev/null in the container");
    }
    struct stat st;
    if (fstat(fd, &st) < 0)
        return minik_error_set(err, errno, "stat /dev/null in the container");
    if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3)
        return minik_error_set(err, EPERM,
                               "/dev/null in the container is not the null device (1:3): refusing "
                               "to mask paths with it");
    return steal_fd(&fd);
}

static int mask_paths(int rootfd, const minik_spec_t *spec, minik_error_t **err)
{
    cleanup_close int nullfd = -1;
    for (size_t i = 0; spec->masked_paths[i]; i++) {
        const char *p = spec->masked_paths[i];
        cleanup_close int fd = openat2_in_root(rootfd, p, O_PATH, 0);
        if (fd < 0) {
            if (errno == ENOENT)
                continue;
            return minik_error_set(err, errno, "mask \"%s\"", p);
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
            return minik_error_set(err, errno, "stat \"%s\"", p);
        if (S_ISDIR(st.st_mode)) {
            if (mount("tmpfs", fdpath(fd).s, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                      "size=0,nr_inodes=1") < 0)
                return minik_error_set(err, errno, "mask directory \"%s\"", p);
            continue;
        }
        if (nullfd < 0) {
            nullfd = open_dev_null(rootfd, err);
            if (nullfd < 0)
                return nullfd;
        }
        if (mount(fdpath(nullfd).s, fdpath(fd).s, NULL, MS_BIND, NULL) < 0)
            return minik_error_set(err, errno, "mask \"%s\"", p);
    }
    return 0;
}

static int readonly_paths(int rootfd, const minik_spec_t *spec, bool in_userns, minik_error_t **err)
{
    for (size_t i = 0; spec->readonly_paths[i]; i++) {
        const char *p = spec->readonly_paths[i];
        cleanup_close int fd = openat2_in_root(rootfd, p, O_PATH, 0);
        if (fd < 0) {
            if (errno == ENOENT)
                continue;
            return minik_error_set(err, errno, "make \"%s\" read-only", p);
        }
        if (mount(fdpath(fd).s, fdpath(fd).s, NULL, MS_BIND | MS_REC, NULL) < 0)
            return minik_error_set(err, errno, "bind \"%s\" for read-only", p);
        int r =
            bind_remount(rootfd, p, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, in_userns, err);
        if (r < 0)
            return r;
    }
    return 0;
}

int minik_rootfs_prepare(const minik_spec_t *spec, const char *rootfs, int procfd, bool in_userns,
                         minik_error_t **err)
{
    (void)procfd; /* verified by the caller; the /proc/self/fd paths below go through it */
    /* Nothing we mount may propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return minik_error_set(err, errno, "make / a slave mount");
    /* pivot_root needs the new root to be a mount point. */
    if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        return minik_error_set(err, errno, "bind the rootfs \"%s\"", rootfs);
    cleanup_close int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return minik_error_set(err, errno, "open the rootfs \"%s\"", rootfs);
    int r;
    for (size_t i = 0; i < spec->n_mounts; i++)
        if ((r = do_mount(rootfd, &spec->mounts[i], in_userns, err)) < 0)
            return r;
    if ((r = setup_dev(rootfd, spec, in_userns, err)) < 0)
        return r;
    if ((r = mask_paths(rootfd, spec, err)) < 0)
        return r;
    if ((r = readonly_paths(rootfd, spec, in_userns, err)) < 0)
        return r;
    return 0;
}

int minik_rootfs_pivot(const minik_spec_t *spec, const char *rootfs, minik_error_t **err)
{
    cleanup_close int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    cleanup_close int newroot = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (oldroot < 0 || newroot < 0)
        return minik_error_set(err, errno, "open the roots for pivot_root");
    if (fchdir(newroot) < 0)
        return minik_error_set(err, errno, "chdir to the rootfs");
    /* pivot_root(".", "."): the old root ends up stacked under the new one, no directory
     * for it is needed in the image. */
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return minik_error_set(err, errno, "pivot_root into \"%s\"", rootfs);
    if (fchdir(oldroot) < 0)
        return minik_error_set(err, errno, "chdir to the old root");
    /* Unmounting must not propagate to the host's mounts. */
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return minik_error_set(err, errno, "make the old root a slave");
    if (umount2(".", MNT_DETACH) < 0)
        return minik_error_set(err, errno, "detach the old root");
    if (chdir("/") < 0)
        return minik_error_set(err, errno, "chdir /");
    if (spec->root_readonly) {
        unsigned long f = MS_BIND | MS_REMOUNT | MS_RDONLY;
        struct statvfs sv;
        if (statvfs("/", &sv) == 0) {
            if (sv.f_flag & ST_NOSUID)
                f |= MS_NOSUID;
            if (sv.f_flag & ST_NODEV)
                f |= MS_NODEV;
            if (sv.f_flag & ST_NOEXEC)
                f |= MS_NOEXEC;
        }
        if (mount(NULL, "/", NULL, f, NULL) < 0)
            return minik_error_set(err, errno, "remount / read-only");
    }
    if (spec->rootfs_propagation && mount(NULL, "/", NULL, spec->rootfs_propagation, NULL) < 0)
        return minik_error_set(err, errno, "set rootfs propagation");
    return 0;
}
