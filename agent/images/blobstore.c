/* Content-addressed blobs: <blobs>/sha256/<hex>. A blob is written to a temp file beside
 * its final name while its sha256 is computed, checked against the digest it was asked
 * for, fsynced and renamed into place, so a blob that exists is always complete and
 * correct, whatever crashed or lied on the way. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/lazy_openssl.h"

#include "agent/images/internal.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/xalloc.h"

struct minik_image_blob_writer {
    char *dir;
    char *tmp;
    char *expected;
    int64_t expected_size;
    int64_t size;
    int fd;
    EVP_MD_CTX *md;
};

static char *hex_of(const unsigned char *d, unsigned n)
{
    char *s = xmalloc(7 + 2 * n + 1);
    memcpy(s, "sha256:", 7);
    for (unsigned i = 0; i < n; i++)
        snprintf(s + 7 + 2 * i, 3, "%02x", d[i]);
    return s;
}

char *minik_image_digest_of(const void *data, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    return hex_of(md, n);
}

char *minik_image_blob_path(const char *blobs_dir, const char *digest)
{
    return xasprintf("%s/sha256/%s", blobs_dir, digest + 7);
}

bool minik_image_blob_exists(const char *blobs_dir, const char *digest)
{
    if (!minik_image_digest_valid(digest))
        return false;
    cleanup_free char *p = minik_image_blob_path(blobs_dir, digest);
    return access(p, F_OK) == 0;
}

int minik_image_blob_read(const char *blobs_dir, const char *digest, size_t max, char **data,
                          size_t *len, minik_error_t **err)
{
    if (!minik_image_digest_valid(digest))
        return minik_error_set(err, 0, "bad digest \"%.80s\"", digest);
    cleanup_free char *p = minik_image_blob_path(blobs_dir, digest);
    cleanup_free char *buf = NULL;
    size_t n = 0;
    int r = minik_file_read(p, max, &buf, &n, err);
    if (r < 0)
        return r;
    cleanup_free char *got = minik_image_digest_of(buf, n);
    if (strcmp(got, digest) != 0)
        return minik_error_set(err, 0, "blob %s is corrupt on disk (content hashes to %s)", digest,
                               got);
    *data = steal_pointer(&buf);
    if (len)
        *len = n;
    return 0;
}

int minik_image_blob_writer_new(const char *blobs_dir, const char *expected_digest,
                                int64_t expected_size, minik_image_blob_writer_t **out,
                                minik_error_t **err)
{
    if (expected_digest && !minik_image_digest_valid(expected_digest))
        return minik_error_set(err, 0, "bad digest \"%.80s\"", expected_digest);
    cleanup_free char *dir = xasprintf("%s/sha256", blobs_dir);
    int r = minik_mkdir_p(dir, 0700, err);
    if (r < 0)
        return r;
    cleanup_free char *tmp = xasprintf("%s/.tmp-XXXXXX", dir);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return minik_error_set(err, errno, "create temp file in \"%s\"", dir);
    minik_image_blob_writer_t *w = xcalloc(1, sizeof(*w));
    w->dir = steal_pointer(&dir);
    w->tmp = steal_pointer(&tmp);
    w->fd = fd;
    w->expected = expected_digest ? xstrdup(expected_digest) : NULL;
    w->expected_size = expected_size;
    w->md = EVP_MD_CTX_new();
    if (!w->md || !EVP_DigestInit_ex(w->md, EVP_sha256(), NULL)) {
        minik_image_blob_writer_free(w);
        return minik_error_set(err, ENOMEM, "sha256 init");
    }
    *out = w;
    return 0;
}

int minik_image_blob_writer_write(minik_image_blob_writer_t *w, const void *data, size_t len,
                                  minik_error_t **err)
{
    if (w->expected_size >= 0 && w->size + (int64_t)len > w->expected_size)
        return minik_error_set(err, 0, "blob %s: more data than the %lld bytes announced",
                               w->expected ? w->expected : "", (long long)w->expected_size);
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(w->fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return minik_error_set(err, errno, "write \"%s\"", w->tmp);
        }
        p += n;
        left -= (size_t)n;
    }
    EVP_DigestUpdate(w->md, data, len);
    w->size += (int64_t)len;
    return 0;
}

int minik_image_blob_writer_reset(minik_image_blob_writer_t *w, minik_error_t **err)
{
    if (ftruncate(w->fd, 0) < 0 || lseek(w->fd, 0, SEEK_SET) < 0)
        return minik_error_set(err, errno, "truncate \"%s\"", w->tmp);
    EVP_DigestInit_ex(w->md, EVP_sha256(), NULL);
    w->size = 0;
    return 0;
}

int64_t minik_image_blob_writer_size(const minik_image_blob_writer_t *w)
{
    return w->size;
}

int minik_image_blob_writer_commit(minik_image_blob_writer_t *w, char **digest_out,
                                   minik_error_t **err)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_DigestFinal_ex(w->md, md, &n);
    cleanup_free char *got = hex_of(md, n);
    if (w->expected && strcmp(got, w->expected) != 0)
        return minik_error_set(err, 0,
                               "digest mismatch: expected %s, content hashes to %s (%lld bytes)",
                               w->expected, got, (long long)w->size);
    if (w->expected_size >= 0 && w->size != w->expected_size)
        return minik_error_set(err, 0, "blob %s: got %lld bytes, expected %lld", got,
                               (long long)w->size, (long long)w->expected_size);
    if (fchmod(w->fd, 0644) < 0 || fsync(w->fd) < 0)
        return minik_error_set(err, errno, "sync \"%s\"", w->tmp);
    cleanup_free char *final = xasprintf("%s/%s", w->dir, got + 7);
    if (rename(w->tmp, final) < 0)
        return minik_error_set(err, errno, "rename \"%s\" to \"%s\"", w->tmp, final);
    free(w->tmp);
    w->tmp = NULL;
    if (digest_out)
        *digest_out = steal_pointer(&got);
    return 0;
}

void minik_image_blob_writer_free(minik_image_blob_writer_t *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (w->tmp)
        unlink(w->tmp);
    free(w->tmp);
    free(w->dir);
    free(w->expected);
    EVP_MD_CTX_free(w->md);
    free(w);
}

bool minik_image_blob_intact(const char *blobs_dir, const char *digest, size_t max)
{
    cleanup_free char *data = NULL;
    cleanup_error minik_error_t *e = NULL;
    if (minik_image_blob_read(blobs_dir, digest, max, &data, NULL, &e) == 0)
        return true;
    if (minik_image_blob_exists(blobs_dir, digest)) {
        /* Damaged on disk: drop it so that it is fetched or written again. */
        minik_log_warn("removing damaged blob", "digest", digest, "error", e->msg, NULL);
        cleanup_free char *p = minik_image_blob_path(blobs_dir, digest);
        unlink(p);
    }
    return false;
}

int minik_image_blob_put(const char *blobs_dir, const void *data, size_t len,
                         const char *expected_digest, char **digest_out, minik_error_t **err)
{
    if (expected_digest && minik_image_blob_intact(blobs_dir, expected_digest, len + 1)) {
        if (digest_out)
            *digest_out = xstrdup(expected_digest);
        return 0;
    }
    minik_image_blob_writer_t *w = NULL;
    int r = minik_image_blob_writer_new(blobs_dir, expected_digest, (int64_t)len, &w, err);
    if (r == 0)
        r = minik_image_blob_writer_write(w, data, len, err);
    if (r == 0)
        r = minik_image_blob_writer_commit(w, digest_out, err);
    minik_image_blob_writer_free(w);
    return r;
}

int minik_images_lock_take(const char *dir, const char *name, int op, int *fd_out,
                           minik_error_t **err)
{
    *fd_out = -1;
    cleanup_free char *p = xasprintf("%s/%s.lock", dir, name);
    cleanup_close int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return minik_error_set(err, errno, "open lock \"%s\"", p);
    while (flock(fd, op) < 0) {
        if (errno == EINTR)
            continue;
        if (errno == EWOULDBLOCK && (op & LOCK_NB))
            return 0;
        return minik_error_set(err, errno, "lock \"%s\"", p);
    }
    *fd_out = steal_fd(&fd);
    return 0;
}
