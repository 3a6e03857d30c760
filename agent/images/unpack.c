/* Layer unpacking with libarchive, into a directory of its own per layer.
 *
 * A layer is untrusted input that we write to disk as root, so every entry is placed by
 * file descriptor relative to the layer's root: parents are resolved with openat2(2)
 * RESOLVE_BENEATH (a symlink that leads outside fails with EXDEV; without openat2 no
 * symlink is followed at all), the last component is created with *at() calls that never
 * follow it, and names with ".." or a leading "/" are refused outright.
 *
 * OCI whiteouts are turned into what overlayfs reads in a lower layer: ".wh.NAME" becomes
 * a 0/0 character device NAME, ".wh..wh..opq" sets trusted.overlay.opaque=y on its
 * directory. Incoming trusted.overlay.* xattrs are dropped so an image cannot forge
 * overlay metadata (redirects, metacopy). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "lib/lazy_archive.h"
#include "lib/lazy_openssl.h"

#include "agent/images/internal.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"

typedef struct unpack_ctx {
    int root;
    const minik_image_unpack_limits_t *lim;
    uint64_t bytes;
    uint64_t entries;
    bool no_openat2;
    const char *entry; /* current entry name, for errors */
} unpack_ctx_t;

static void archive_freep(struct archive **a)
{
    if (*a)
        archive_read_free(*a);
}
#define cleanup_archive __attribute__((cleanup(archive_freep)))

/* Normalise an entry name: drop "./" and empty components. Refuses absolute names and
 * "..". *out is "" for the root itself. */
static int clean_name(const char *name, char **out, minik_error_t **err)
{
    if (!name || !*name)
        return minik_error_set(err, 0, "entry with an empty name");
    if (name[0] == '/')
        return minik_error_set(err, 0, "entry \"%.200s\": absolute path", name);
    if (strlen(name) >= PATH_MAX)
        return minik_error_set(err, 0, "entry \"%.200s...\": name too long", name);
    cleanup_strv char **parts = minik_str_split(name, "/", true);
    cleanup_buf minik_buf_t b = MINIK_BUF_INIT;
    for (char **p = parts; *p; p++) {
        if (strcmp(*p, ".") == 0)
            continue;
        if (strcmp(*p, "..") == 0)
            return minik_error_set(err, 0, "entry \"%.200s\": path contains \"..\"", name);
        minik_buf_appendf(&b, "%s%s", b.len ? "/" : "", *p);
    }
    *out = minik_buf_steal(&b);
    return 0;
}

static int resolve_errno(unpack_ctx_t *c, int e, const char *path, minik_error_t **err)
{
    if (e == EXDEV)
        return minik_error_set(err, 0,
                               "entry \"%.200s\": path \"%.200s\" goes through a symlink that "
                               "leaves the layer",
                               c->entry, path);
    if (e == ELOOP && c->no_openat2)
        return minik_error_set(
            err, EPERM, "entry \"%.200s\": path \"%.200s\" goes through a symlink", c->entry, path);
    return minik_error_set(err, e, "entry \"%.200s\": open \"%.200s\"", c->entry, path);
}

/* Open a directory `path` (clean, relative) beneath the root without ever leaving it. */
static int open_beneath(unpack_ctx_t *c, const char *path)
{
    if (!*path)
        return openat(c->root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (!c->no_openat2) {
        struct open_how how = {
            .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        long fd = syscall(SYS_openat2, c->root, path, &how, sizeof(how));
        if (fd >= 0 || errno != ENOSYS)
            return (int)fd;
        c->no_openat2 = true;
    }
    /* No openat2: walk one component at a time and follow no symlink at all. */
    int cur = openat(c->root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cleanup_strv char **parts = minik_str_split(path, "/", true);
    for (char **p = parts; *p && cur >= 0; p++) {
        int next = openat(cur, *p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int e = errno;
        close(cur);
        cur = next;
        errno = e;
    }
    return cur;
}

/* The directory holding `path`, creating missing parents (0755, root-owned, as tar
 * does). *base points into path at the last component. */
static int open_parent(unpack_ctx_t *c, const char *path, const char **base, minik_error_t **err)
{
    const char *slash = strrchr(path, '/');
    *base = slash ? slash + 1 : path;
    cleanup_free char *dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup("");
    int fd = open_beneath(c, dir);
    if (fd >= 0)
        return fd;
    if (errno != ENOENT)
        return resolve_errno(c, errno, dir, err);
    /* Create the missing components one by one, each resolved from the root again. */
    cleanup_close int cur = open_beneath(c, "");
    cleanup_buf minik_buf_t pre = MINIK_BUF_INIT;
    cleanup_strv char **parts = minik_str_split(dir, "/", true);
    for (char **p = parts; *p; p++) {
        minik_buf_appendf(&pre, "%s%s", pre.len ? "/" : "", *p);
        int next = open_beneath(c, pre.data);
        if (next < 0 && errno == ENOENT) {
            if (mkdirat(cur, *p, 0755) < 0 && errno != EEXIST)
                return minik_error_set(err, errno, "entry \"%.200s\": mkdir \"%.200s\"", c->entry,
                                       pre.data);
            next = open_beneath(c, pre.data);
        }
        if (next < 0)
            return resolve_errno(c, errno, pre.data, err);
        close(cur);
        cur = next;
    }
    return steal_fd(&cur);
}

/* Make room for a new entry: remove what is there unless both are directories. */
static int clear_slot(unpack_ctx_t *c, int dirfd, const char *base, bool keep_dir,
                      minik_error_t **err)
{
    struct stat st;
    if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0
                               : minik_error_set(err, errno, "entry \"%.200s\": stat", c->entry);
    if (S_ISDIR(st.st_mode)) {
        if (keep_dir)
            return 1;
        if (unlinkat(dirfd, base, AT_REMOVEDIR) < 0)
            return minik_error_set(err, errno, "entry \"%.200s\": replace directory", c->entry);
        return 0;
    }
    if (unlinkat(dirfd, base, 0) < 0)
        return minik_error_set(err, errno, "entry \"%.200s\": replace", c->entry);
    return 0;
}

static int apply_xattrs(unpack_ctx_t *c, struct archive_entry *e, int fd, minik_error_t **err)
{
    const char *name;
    const void *value;
    size_t size;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
        if (minik_str_has_prefix(name, "trusted.overlay."))
            continue;
        if (fsetxattr(fd, name, value, size, 0) < 0) {
            if (errno == ENOTSUP || errno == EOPNOTSUPP) {
                minik_log_debug("layer xattr not supported here", "entry", c->entry, "xattr", name,
                                NULL);
                continue;
            }
            return minik_error_set(err, errno, "entry \"%.200s\": set xattr %s", c->entry, name);
        }
    }
    return 0;
}

/* Owner, then mode (chown clears setuid/setgid), then xattrs and times, on an open fd. */
static int apply_meta_fd(unpack_ctx_t *c, struct archive_entry *e, int fd, minik_error_t **err)
{
    if (fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0)
        return minik_error_set(err, errno, "entry \"%.200s\": chown", c->entry);
    if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
        return minik_error_set(err, errno, "entry \"%.200s\": chmod", c->entry);
    int r = apply_xattrs(c, e, fd, err);
    if (r < 0)
        return r;
    struct timespec ts[2] = {
        {archive_entry_atime(e), archive_entry_atime_nsec(e)},
        {archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
    };
    if (!archive_entry_atime_is_set(e))
        ts[0] = ts[1];
    futimens(fd, ts);
    return 0;
}

static int write_file(unpack_ctx_t *c, struct archive *a, struct archive_entry *e, int dirfd,
                      const char *base, minik_error_t **err)
{
    int64_t declared = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
    if (declared < 0 || (uint64_t)declared > c->lim->max_bytes - c->bytes)
        return minik_error_set(err, 0,
                               "layer is larger than the limit of %llu bytes (at entry "
                               "\"%.200s\"): refusing a possible decompression bomb",
                               (unsigned long long)c->lim->max_bytes, c->entry);
    cleanup_close int fd =
        openat(dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return minik_error_set(err, errno, "entry \"%.200s\": create", c->entry);
    const void *buf;
    size_t size;
    la_int64_t off;
    for (;;) {
        int r = archive_read_data_block(a, &buf, &size, &off);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN)
            return minik_error_set(err, 0, "entry \"%.200s\": %s", c->entry,
                                   archive_error_string(a));
        c->bytes += size;
        if (c->bytes > c->lim->max_bytes)
            return minik_error_set(err, 0,
                                   "layer is larger than the limit of %llu bytes (at entry "
                                   "\"%.200s\"): refusing a possible decompression bomb",
                                   (unsigned long long)c->lim->max_bytes, c->entry);
        const char *p = buf;
        while (size > 0) {
            ssize_t n = pwrite(fd, p, size, off);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return minik_error_set(err, errno, "entry \"%.200s\": write", c->entry);
            }
            p += n;
            off += n;
            size -= (size_t)n;
        }
    }
    /* Sparse files end in a hole that no data block covers. */
    if (ftruncate(fd, declared) < 0)
        return minik_error_set(err, errno, "entry \"%.200s\": truncate", c->entry);
    return apply_meta_fd(c, e, fd, err);
}

static int extract_entry(unpack_ctx_t *c, struct archive *a, struct archive_entry *e,
                         minik_error_t **err)
{
    cleanup_free char *path = NULL;
    int r = clean_name(archive_entry_pathname(e), &path, err);
    if (r < 0)
        return r;
    if (!*path)
        return 0; /* the layer root itself ("./"): the root belongs to the store */

    const char *base;
    cleanup_close int dirfd = open_parent(c, path, &base, err);
    if (dirfd < 0)
        return -1;

    if (strcmp(base, WHITEOUT_OPAQUE) == 0) {
        if (fsetxattr(dirfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
            return minik_error_set(err, errno, "entry \"%.200s\": mark directory opaque", c->entry);
        return 0;
    }
    if (minik_str_has_prefix(base, WHITEOUT_PREFIX)) {
        const char *victim = base + strlen(WHITEOUT_PREFIX);
        if (!*victim || strcmp(victim, ".") == 0 || strcmp(victim, "..") == 0)
            return minik_error_set(err, 0, "entry \"%.200s\": bad whiteout", c->entry);
        r = clear_slot(c, dirfd, victim, false, err);
        if (r < 0)
            return r;
        if (mknodat(dirfd, victim, S_IFCHR | 0000, makedev(0, 0)) < 0)
            return minik_error_set(err, errno, "entry \"%.200s\": create whiteout", c->entry);
        return 0;
    }

    const char *link = archive_entry_hardlink(e);
    if (link) {
        cleanup_free char *target = NULL;
        r = clean_name(link, &target, err);
        if (r < 0)
            return minik_error_wrap(err, "hardlink \"%.200s\"", c->entry);
        if (!*target)
            return minik_error_set(err, 0, "entry \"%.200s\": hardlink to the layer root",
                                   c->entry);
        const char *tbase;
        cleanup_close int tdir = open_parent(c, target, &tbase, err);
        if (tdir < 0)
            return -1;
        r = clear_slot(c, dirfd, base, false, err);
        if (r < 0)
            return r;
        if (linkat(tdir, tbase, dirfd, base, 0) < 0)
            return minik_error_set(err, errno, "entry \"%.200s\": hardlink to \"%.200s\"", c->entry,
                                   target);
        return 0;
    }

    mode_t type = archive_entry_filetype(e);
    r = clear_slot(c, dirfd, base, type == AE_IFDIR, err);
    if (r < 0)
        return r;
    switch (type) {
    case AE_IFREG:
        return write_file(c, a, e, dirfd, base, err);
    case AE_IFDIR: {
        if (r == 0 && mkdirat(dirfd, base, 0700) < 0)
            return minik_error_set(err, errno, "entry \"%.200s\": mkdir", c->entry);
        cleanup_close int fd = openat(dirfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return minik_error_set(err, errno, "entry \"%.200s\": open directory", c->entry);
        return apply_meta_fd(c, e, fd, err);
    }
    case AE_IFLNK: {
        const char *target = archive_entry_symlink(e);
        if (!target || !*target)
            return minik_error_set(err, 0, "entry \"%.200s\": symlink without target", c->entry);
        if (symlinkat(target, dirfd, base) < 0)
            return minik_error_set(err, errno, "entry \"%.200s\": symlink", c->entry);
        if (fchownat(dirfd, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
                     AT_SYMLINK_NOFOLLOW) < 0)
            return minik_error_set(err, errno, "entry \"%.200s\": chown", c->entry);
        struct timespec ts[2] = {{archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
                                 {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
        utimensat(dirfd, base, ts, AT_SYMLINK_NOFOLLOW);
        return 0;
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO: {
        dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
        if (mknodat(dirfd, base, type | 0600, type == AE_IFIFO ? 0 : dev) < 0)
            return minik_error_set(err, errno, "entry \"%.200s\": mknod", c->entry);
        /* A device node cannot be opened safely for fchown; the name is ours (we just made
         * it in a directory we hold), and AT_SYMLINK_NOFOLLOW keeps it that way. */
        if (fchownat(dirfd, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
                     AT_SYMLINK_NOFOLLOW) < 0 ||
            fchmodat(dirfd, base, archive_entry_perm(e) & 07777, 0) < 0)
            return minik_error_set(err, errno, "entry \"%.200s\": set owner/mode", c->entry);
        return 0;
    }
    default:
        minik_log_debug("skipping layer entry of unsupported type", "entry", c->entry, NULL);
        return 0;
    }
}

static int unpack_archive(struct archive *a, const char *dest_dir,
                          const minik_image_unpack_limits_t *lim, minik_error_t **err)
{
    cleanup_close int root = open(dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return minik_error_set(err, errno, "open \"%s\"", dest_dir);
    unpack_ctx_t c = {.root = root, .lim = lim};
    struct archive_entry *e;
    for (;;) {
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            const char *msg = archive_error_string(a);
            return minik_error_set(err, 0, "layer is not a valid tar archive: %s",
                                   msg ? msg : "unknown error");
        }
        if (++c.entries > lim->max_entries)
            return minik_error_set(err, 0,
                                   "layer has more than the limit of %llu entries: refusing a "
                                   "possible decompression bomb",
                                   (unsigned long long)lim->max_entries);
        if (r == ARCHIVE_RETRY)
            continue; /* a skippable bad header; counted above so it cannot spin */
        c.entry = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
        r = extract_entry(&c, a, e, err);
        if (r < 0)
            return minik_error_wrap(err, "unpack layer");
    }
    return 0;
}

static struct archive *new_reader(void)
{
    struct archive *a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    return a;
}

/* The layer's diff_id is the sha256 of its decompressed tar stream. To get it in the same
 * pass, two readers are chained: an inner "raw" reader decompresses, and the tar reader
 * reads from it through this callback, which hashes every block on the way. */
typedef struct chain {
    struct archive *inner;
    EVP_MD_CTX *md;
} chain_t;

static la_ssize_t chain_read(struct archive *outer, void *ud, const void **buf)
{
    chain_t *c = ud;
    size_t size = 0;
    la_int64_t off;
    int r = archive_read_data_block(c->inner, buf, &size, &off);
    if (r == ARCHIVE_EOF)
        return 0;
    if (r < ARCHIVE_WARN) {
        archive_set_error(outer, EIO, "%s", archive_error_string(c->inner));
        return -1;
    }
    EVP_DigestUpdate(c->md, *buf, size);
    return (la_ssize_t)size;
}

int minik_image_unpack_layer_fd(int archive_fd, const char *dest_dir,
                                const minik_image_unpack_limits_t *lim, char **diff_id,
                                minik_error_t **err)
{
    cleanup_archive struct archive *inner = archive_read_new();
    archive_read_support_filter_all(inner);
    archive_read_support_format_raw(inner);
    struct archive_entry *e;
    if (archive_read_open_fd(inner, archive_fd, 128 * 1024) != ARCHIVE_OK ||
        archive_read_next_header(inner, &e) != ARCHIVE_OK)
        return minik_error_set(err, 0, "layer is not a valid tar archive: %s",
                               archive_error_string(inner));
    chain_t c = {.inner = inner, .md = EVP_MD_CTX_new()};
    EVP_DigestInit_ex(c.md, EVP_sha256(), NULL);
    cleanup_archive struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    int r = 0;
    if (archive_read_open2(a, &c, NULL, chain_read, NULL, NULL) != ARCHIVE_OK)
        r = minik_error_set(err, 0, "layer is not a valid tar archive: %s",
                            archive_error_string(a));
    if (r == 0)
        r = unpack_archive(a, dest_dir, lim, err);
    /* The stream goes on past the tar's end-of-archive blocks (padding); it is all part
     * of the diff_id. */
    const void *buf;
    while (r == 0) {
        la_ssize_t n = chain_read(a, &c, &buf);
        if (n < 0)
            r = minik_error_set(err, 0, "layer: %s", archive_error_string(inner));
        if (n <= 0)
            break;
    }
    if (r == 0 && diff_id) {
        unsigned char out[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        EVP_DigestFinal_ex(c.md, out, &n);
        char *d = xmalloc(7 + 2 * n + 1);
        memcpy(d, "sha256:", 7);
        for (unsigned i = 0; i < n; i++)
            snprintf(d + 7 + 2 * i, 3, "%02x", out[i]);
        *diff_id = d;
    }
    EVP_MD_CTX_free(c.md);
    return r;
}

int minik_image_unpack_layer_mem(const void *data, size_t len, const char *dest_dir,
                                 const minik_image_unpack_limits_t *lim, minik_error_t **err)
{
    cleanup_archive struct archive *a = new_reader();
    if (archive_read_open_memory(a, data, len) != ARCHIVE_OK)
        return minik_error_set(err, 0, "layer is not a valid tar archive: %s",
                               archive_error_string(a));
    return unpack_archive(a, dest_dir, lim, err);
}

int minik_image_unpack_diff_id(const char *path, char **diff_id, minik_error_t **err)
{
    cleanup_archive struct archive *a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_raw(a);
    if (archive_read_open_filename(a, path, 128 * 1024) != ARCHIVE_OK)
        return minik_error_set(err, 0, "\"%s\": %s", path, archive_error_string(a));
    struct archive_entry *e;
    if (archive_read_next_header(a, &e) != ARCHIVE_OK)
        return minik_error_set(err, 0, "\"%s\": %s", path, archive_error_string(a));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    const void *buf;
    size_t size;
    la_int64_t off;
    int r;
    while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK)
        EVP_DigestUpdate(md, buf, size);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_DigestFinal_ex(md, out, &n);
    EVP_MD_CTX_free(md);
    if (r != ARCHIVE_EOF)
        return minik_error_set(err, 0, "\"%s\": %s", path, archive_error_string(a));
    char *s = xmalloc(7 + 2 * n + 1);
    memcpy(s, "sha256:", 7);
    for (unsigned i = 0; i < n; i++)
        snprintf(s + 7 + 2 * i, 3, "%02x", out[i]);
    *diff_id = s;
    return 0;
}
