#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "xalloc.h"

int minik_file_read(const char *path, size_t max_size, char **out, size_t *out_len,
                    minik_error_t **err)
{
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return minik_error_set(err, errno, "open \"%s\"", path);

    size_t cap = 4096, len = 0;
    cleanup_free char *buf = xmalloc(cap);
    for (;;) {
        if (len + 1 >= cap) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return minik_error_set(err, errno, "read \"%s\"", path);
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > max_size)
            return minik_error_set(err, EFBIG, "read \"%s\": larger than %zu bytes", path,
                                   max_size);
    }
    buf[len] = '\0';
    *out = steal_pointer(&buf);
    if (out_len)
        *out_len = len;
    return 0;
}

static int fsync_dir_of(const char *path, minik_error_t **err)
{
    cleanup_free char *copy = xstrdup(path);
    const char *dir = dirname(copy);
    cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return minik_error_set(err, errno, "open directory \"%s\"", dir);
    if (fsync(dfd) < 0)
        return minik_error_set(err, errno, "fsync directory \"%s\"", dir);
    return 0;
}

int minik_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                            minik_error_t **err)
{
    cleanup_free char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return minik_error_set(err, errno, "create \"%s\"", tmp);

    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            unlink(tmp);
            return minik_error_set(err, e, "write \"%s\"", tmp);
        }
        p += n;
        left -= (size_t)n;
    }
    /* open() honours the umask; the caller asked for an exact mode (e.g. 0600 secrets). */
    if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
        int e = errno;
        unlink(tmp);
        return minik_error_set(err, e, "sync \"%s\"", tmp);
    }
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return minik_error_set(err, e, "rename \"%s\" to \"%s\"", tmp, path);
    }
    return fsync_dir_of(path, err);
}

int minik_mkdir_p(const char *path, mode_t mode, minik_error_t **err)
{
    cleanup_free char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST)
            return minik_error_set(err, errno, "mkdir \"%s\"", p);
        *s = '/';
    }
    if (mkdir(p, mode) < 0 && errno != EEXIST)
        return minik_error_set(err, errno, "mkdir \"%s\"", p);
    struct stat st;
    if (stat(p, &st) < 0)
        return minik_error_set(err, errno, "stat \"%s\"", p);
    if (!S_ISDIR(st.st_mode))
        return minik_error_set(err, ENOTDIR, "mkdir \"%s\"", p);
    return 0;
}

static int rm_one(const char *fpath, const struct stat *sb, int typeflag, struct FTW *ftwbuf)
{
    (void)sb;
    (void)ftwbuf;
    int r = (typeflag == FTW_DP) ? rmdir(fpath) : unlink(fpath);
    if (r < 0 && errno != ENOENT)
        return errno;
    return 0;
}

int minik_rm_rf(const char *path, minik_error_t **err)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return minik_error_set(err, errno, "stat \"%s\"", path);
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) < 0 && errno != ENOENT)
            return minik_error_set(err, errno, "unlink \"%s\"", path);
        return 0;
    }
    int r = nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    if (r < 0)
        return minik_error_set(err, errno, "remove \"%s\"", path);
    if (r > 0)
        return minik_error_set(err, r, "remove \"%s\"", path);
    return 0;
}
