/* Per-container root filesystems: <root>/rootfs/<id>/{merged,upper,work,image.json}.
 *
 * The normal form is an overlayfs mount whose lower layers are the image's shared layer
 * directories (read-only, never copied) and whose upper/work are the container's own.
 * Where overlayfs is missing or refuses (old kernels, odd backing filesystems, too many
 * layers for one mount option string) the layers are copied into merged/ instead, applying
 * the overlay-form whiteouts the way overlayfs would. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "agent/images/internal.h"
#include "agent/runtime/state.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define MOUNT_OPTS_MAX 4000 /* the kernel takes one page of mount data */

static int read_record(const char *dir, cJSON **out, minik_error_t **err)
{
    cleanup_free char *p = xasprintf("%s/image.json", dir);
    cleanup_free char *data = NULL;
    int r = minik_file_read(p, 1 << 20, &data, NULL, err);
    if (r < 0)
        return r;
    cJSON *j = cJSON_Parse(data);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "manifest");
    if (!cJSON_IsString(m) || !minik_image_digest_valid(m->valuestring)) {
        cJSON_Delete(j);
        return minik_error_set(err, 0, "%s: corrupt", p);
    }
    *out = j;
    return 0;
}

char **minik_images_rootfs_in_use(minik_images_t *s)
{
    cleanup_closedir DIR *d = opendir(s->rootfs);
    size_t n = 0, cap = 8;
    char **v = xcalloc(cap, sizeof(char *));
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        cleanup_free char *dir = xasprintf("%s/%s", s->rootfs, de->d_name);
        cleanup_cjson cJSON *rec = NULL;
        cleanup_error minik_error_t *e = NULL;
        if (read_record(dir, &rec, &e) < 0)
            continue; /* being prepared (the record is written last) or damaged */
        if (n + 2 > cap)
            v = xrealloc(v, (cap *= 2) * sizeof(char *));
        v[n++] = xstrdup(cJSON_GetObjectItemCaseSensitive(rec, "manifest")->valuestring);
        v[n] = NULL;
    }
    return v;
}

static bool is_mountpoint(const char *path)
{
    struct stat a, b;
    cleanup_free char *parent = xasprintf("%s/..", path);
    if (stat(path, &a) < 0 || stat(parent, &b) < 0)
        return false;
    return a.st_dev != b.st_dev;
}

/* ---- copy fallback -------------------------------------------------------------------- */

static int copy_xattrs(int src, int dst, const char *what, minik_error_t **err)
{
    char names[4096];
    ssize_t n = flistxattr(src, names, sizeof(names));
    for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(names + off) + 1) {
        const char *name = names + off;
        if (minik_str_has_prefix(name, "trusted.overlay."))
            continue;
        char val[4096];
        ssize_t vl = fgetxattr(src, name, val, sizeof(val));
        if (vl >= 0 && fsetxattr(dst, name, val, (size_t)vl, 0) < 0 && errno != ENOTSUP)
            return minik_error_set(err, errno, "copy xattr %s of \"%s\"", name, what);
    }
    return 0;
}

static int copy_meta(int dst, const struct stat *st, const char *what, minik_error_t **err)
{
    if (fchown(dst, st->st_uid, st->st_gid) < 0 || fchmod(dst, st->st_mode & 07777) < 0)
        return minik_error_set(err, errno, "set owner/mode of \"%s\"", what);
    struct timespec ts[2] = {st->st_atim, st->st_mtim};
    futimens(dst, ts);
    return 0;
}

static int copy_file(int sdir, int ddir, const char *name, const struct stat *st, const char *what,
                     minik_error_t **err)
{
    cleanup_close int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    cleanup_close int out =
        openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (in < 0 || out < 0)
        return minik_error_set(err, errno, "copy \"%s\"", what);
    off_t left = st->st_size;
    while (left > 0) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL)) {
            char buf[65536];
            n = read(in, buf, sizeof(buf));
            if (n > 0 && write(out, buf, (size_t)n) != n)
                n = -1;
        }
        if (n < 0)
            return minik_error_set(err, errno, "copy \"%s\"", what);
        if (n == 0)
            break;
        left -= n;
    }
    int r = copy_meta(out, st, what, err);
    return r < 0 ? r : copy_xattrs(in, out, what, err);
}

static int copy_layer(int sdir, int ddir, const char *dpath, minik_error_t **err);

static int apply_entry(int sdir, int ddir, const char *dpath, const char *name, minik_error_t **err)
{
    struct stat st, dst;
    cleanup_free char *what = xasprintf("%s/%s", dpath, name);
    if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return minik_error_set(err, errno, "stat layer entry for \"%s\"", what);
    bool exists = fstatat(ddir, name, &dst, AT_SYMLINK_NOFOLLOW) == 0;
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
        return exists ? minik_rm_rf(what, err) : 0; /* whiteout */
    if (S_ISDIR(st.st_mode)) {
        cleanup_close int s = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0)
            return minik_error_set(err, errno, "open layer dir for \"%s\"", what);
        char opq[2] = "";
        bool opaque = fgetxattr(s, "trusted.overlay.opaque", opq, 1) == 1 && opq[0] == 'y';
        if (exists && (!S_ISDIR(dst.st_mode) || opaque)) {
            int r = minik_rm_rf(what, err);
            if (r < 0)
                return r;
            exists = false;
        }
        if (!exists && mkdirat(ddir, name, 0700) < 0)
            return minik_error_set(err, errno, "mkdir \"%s\"", what);
        cleanup_close int d = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (d < 0)
            return minik_error_set(err, errno, "open \"%s\"", what);
        int r = copy_layer(s, d, what, err);
        if (r == 0)
            r = copy_meta(d, &st, what, err);
        return r < 0 ? r : copy_xattrs(s, d, what, err);
    }
    if (exists) {
        int r = minik_rm_rf(what, err);
        if (r < 0)
            return r;
    }
    if (S_ISREG(st.st_mode))
        return copy_file(sdir, ddir, name, &st, what, err);
    if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);
        if (n < 0)
            return minik_error_set(err, errno, "readlink for \"%s\"", what);
        target[n] = '\0';
        if (symlinkat(target, ddir, name) < 0 ||
            fchownat(ddir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
            return minik_error_set(err, errno, "symlink \"%s\"", what);
        return 0;
    }
    if (mknodat(ddir, name, st.st_mode, st.st_rdev) < 0 ||
        fchownat(ddir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
        return minik_error_set(err, errno, "mknod \"%s\"", what);
    return 0;
}

static int copy_layer(int sdir, int ddir, const char *dpath, minik_error_t **err)
{
    int fd = dup(sdir);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return minik_error_set(err, errno, "read layer dir for \"%s\"", dpath);
    }
    struct dirent *de;
    int r = 0;
    while (r == 0 && (de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            r = apply_entry(sdir, ddir, dpath, de->d_name, err);
    closedir(d);
    return r;
}

static int copy_rootfs(minik_images_t *s, char **ids, const char *merged, minik_error_t **err)
{
    cleanup_close int dfd = open(merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return minik_error_set(err, errno, "open \"%s\"", merged);
    for (size_t i = 0; ids[i]; i++) {
        cleanup_free char *ld = minik_images_layer_dir(s, ids[i]);
        cleanup_close int sfd = open(ld, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sfd < 0)
            return minik_error_set(err, errno, "open layer \"%s\"", ld);
        int r = copy_layer(sfd, dfd, merged, err);
        if (r < 0)
            return r;
    }
    return 0;
}

/* ---- prepare / remove ----------------------------------------------------------------- */

/* Build the overlay mount options. by_fd names each layer as /proc/self/fd/N of an O_PATH
 * descriptor (kept open in fds until the mount is done), which keeps the option string
 * short enough for images with many layers: the kernel takes one page of options. */
static int overlay_opts(minik_images_t *s, char **ids, size_t n, const char *dir, bool by_fd,
                        int *fds, minik_buf_t *o, minik_error_t **err)
{
    minik_buf_append_str(o, "lowerdir=");
    /* overlayfs lists the topmost lower layer first. */
    for (size_t i = n; i-- > 0;) {
        cleanup_free char *ld = minik_images_layer_dir(s, ids[i]);
        const char *sep = i + 1 == n ? "" : ":";
        if (!by_fd) {
            minik_buf_appendf(o, "%s%s", sep, ld);
            continue;
        }
        fds[i] = open(ld, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fds[i] < 0)
            return minik_error_set(err, errno, "open layer \"%s\"", ld);
        minik_buf_appendf(o, "%s/proc/self/fd/%d", sep, fds[i]);
    }
    minik_buf_appendf(o, ",upperdir=%s/upper,workdir=%s/work", dir, dir);
    return 0;
}

static int mount_overlay(minik_images_t *s, char **ids, const char *dir, minik_error_t **err)
{
    cleanup_buf minik_buf_t o = MINIK_BUF_INIT;
    size_t n = minik_strv_len(ids);
    int *fds = xcalloc(n + 1, sizeof(int));
    for (size_t i = 0; i < n; i++)
        fds[i] = -1;
    int r = overlay_opts(s, ids, n, dir, false, fds, &o, err);
    if (r == 0 && o.len > MOUNT_OPTS_MAX) {
        minik_buf_reset(&o);
        r = overlay_opts(s, ids, n, dir, true, fds, &o, err);
        if (r == 0 && o.len > MOUNT_OPTS_MAX)
            r = minik_error_set(err, 0, "overlay options too long (%zu layers)", n);
    }
    cleanup_free char *merged = xasprintf("%s/merged", dir);
    if (r == 0 && mount("overlay", merged, "overlay", 0, o.data) < 0)
        r = minik_error_set(err, errno, "mount overlay on \"%s\"", merged);
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(fds);
    return r;
}

int minik_images_rootfs_prepare(minik_images_t *s, const char *ref, const char *id,
                                char **rootfs_path, minik_error_t **err)
{
    /* The id names a directory under the store: the runtime's rule keeps it one name. */
    if (minik_oci_id_check(id, err) < 0)
        return -1;
    cleanup_close int gc_lock = -1;
    int r = minik_images_gc_lock(s, LOCK_SH, &gc_lock, err);
    if (r < 0)
        return r;
    minik_image_t *img = NULL;
    r = minik_images_resolve(s, ref, &img, err);
    if (r < 0)
        return r;
    cleanup_free char *digest = xstrdup(img->manifest_digest);
    minik_image_free(img);

    cleanup_free char *dir = xasprintf("%s/%s", s->rootfs, id);
    cleanup_free char *merged = xasprintf("%s/merged", dir);
    cleanup_cjson cJSON *rec = NULL;
    cleanup_error minik_error_t *rec_err = NULL;
    if (read_record(dir, &rec, &rec_err) == 0) {
        const char *had = cJSON_GetObjectItemCaseSensitive(rec, "manifest")->valuestring;
        const cJSON *mode = cJSON_GetObjectItemCaseSensitive(rec, "mode");
        if (strcmp(had, digest) != 0)
            return minik_error_set(
                err, EEXIST, "container %s already has a root filesystem from image %s", id, had);
        if (is_mountpoint(merged) ||
            (cJSON_IsString(mode) && strcmp(mode->valuestring, "copy") == 0)) {
            *rootfs_path = steal_pointer(&merged);
            return 0;
        }
        /* An overlay record without its mount (the node rebooted): mount it again. */
    } else {
        /* No record: nothing, or what a crash during an earlier prepare left (maybe even a
         * mount). Start from a clean directory. */
        r = minik_images_rootfs_remove(s, id, err);
        if (r < 0)
            return r;
    }

    minik_image_manifest_t *m = NULL;
    cleanup_strv char **ids = NULL;
    r = minik_images_unpack_manifest(s, digest, err);
    if (r == 0)
        r = minik_images_load_manifest(s, digest, &m, err);
    if (r == 0)
        r = minik_images_diff_ids(s, m, &ids, err);
    const char *mode = "overlay";
    if (r == 0) {
        cleanup_free char *upper = xasprintf("%s/upper", dir);
        cleanup_free char *work = xasprintf("%s/work", dir);
        r = minik_mkdir_p(upper, 0700, err);
        if (r == 0)
            r = minik_mkdir_p(work, 0700, err);
        if (r == 0)
            r = minik_mkdir_p(merged, 0755, err);
        if (r == 0 && chmod(upper, 0755) < 0)
            r = minik_error_set(err, errno, "chmod \"%s\"", upper);
    }
    if (r == 0 && !s->copy_rootfs && m->n_layers > 0) {
        cleanup_error minik_error_t *merr = NULL;
        if (mount_overlay(s, ids, dir, &merr) < 0) {
            minik_log_warn("overlayfs unavailable, copying the image's layers instead", "error",
                           merr->msg, NULL);
            mode = "copy";
        }
    } else {
        mode = "copy";
    }
    if (r == 0 && strcmp(mode, "copy") == 0)
        r = copy_rootfs(s, ids, merged, err);
    if (r == 0) {
        cleanup_cjson cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "manifest", digest);
        cJSON_AddStringToObject(j, "ref", ref);
        cJSON_AddStringToObject(j, "mode", mode);
        cleanup_free char *text = cJSON_Print(j);
        cleanup_free char *p = xasprintf("%s/image.json", dir);
        r = minik_file_write_atomic(p, text, strlen(text), 0600, err);
    }
    minik_image_manifest_free(m);
    if (r < 0) {
        cleanup_error minik_error_t *e2 = NULL;
        minik_images_rootfs_remove(s, id, &e2); /* best effort: leave nothing half-made */
        return minik_error_wrap(err, "prepare root filesystem for %s", id);
    }
    *rootfs_path = steal_pointer(&merged);
    return 0;
}

int minik_images_rootfs_remove(minik_images_t *s, const char *id, minik_error_t **err)
{
    if (minik_oci_id_check(id, err) < 0)
        return -1;
    cleanup_free char *dir = xasprintf("%s/%s", s->rootfs, id);
    cleanup_free char *merged = xasprintf("%s/merged", dir);
    if (is_mountpoint(merged) && umount2(merged, 0) < 0) {
        if (errno != EBUSY || umount2(merged, MNT_DETACH) < 0)
            return minik_error_set(err, errno, "unmount \"%s\"", merged);
    }
    /* The record goes first, so a half-removed rootfs no longer pins its image. */
    cleanup_free char *rec = xasprintf("%s/image.json", dir);
    if (unlink(rec) < 0 && errno != ENOENT)
        return minik_error_set(err, errno, "remove \"%s\"", rec);
    return minik_rm_rf(dir, err);
}
