#include "agent/runtime/crilog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/xalloc.h"

struct minik_crilog {
    char *path;
    int fd;
    uint64_t size;
    uint64_t max_size;
    int max_files;
    minik_buf_t pending[2]; /* partial line per stream */
};

static const char *const stream_names[] = {"stdout", "stderr"};

void minik_crilog_format(minik_buf_t *b, const struct timespec *ts, minik_crilog_stream_t s,
                         char tag, const char *data, size_t len)
{
    struct tm tm;
    time_t secs = ts->tv_sec;
    gmtime_r(&secs, &tm);
    minik_buf_appendf(b, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ %s %c ", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec,
                      stream_names[s], tag);
    minik_buf_append(b, data, len);
    minik_buf_append_char(b, '\n');
}

void minik_crilog_split(minik_buf_t *b, minik_buf_t *pending, const struct timespec *ts,
                        minik_crilog_stream_t s, const char *data, size_t len)
{
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) : len;
        /* Cut over-long lines into P pieces so one line cannot grow memory unbounded. */
        while (pending->len + take > MINIK_CRILOG_MAX_LINE) {
            size_t room = MINIK_CRILOG_MAX_LINE - pending->len;
            minik_buf_append(pending, data, room);
            minik_crilog_format(b, ts, s, 'P', pending->data, pending->len);
            minik_buf_reset(pending);
            data += room;
            len -= room;
            take -= room;
        }
        if (nl == NULL) {
            minik_buf_append(pending, data, take);
            return;
        }
        minik_buf_append(pending, data, take);
        minik_crilog_format(b, ts, s, 'F', pending->data ? pending->data : "", pending->len);
        minik_buf_reset(pending);
        data += take + 1;
        len -= take + 1;
    }
}

int minik_crilog_open(const char *path, uint64_t max_size, int max_files, minik_crilog_t **out,
                      minik_error_t **err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        return minik_error_set(err, errno, "open log \"%s\"", path);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return minik_error_set(err, e, "stat log \"%s\"", path);
    }
    minik_crilog_t *l = xcalloc(1, sizeof *l);
    l->path = xstrdup(path);
    l->fd = fd;
    l->size = (uint64_t)st.st_size;
    l->max_size = max_size;
    l->max_files = max_files < 1 ? 1 : max_files;
    *out = l;
    return 0;
}

static int rotate(minik_crilog_t *l, minik_error_t **err)
{
    close(l->fd);
    l->fd = -1;
    if (l->max_files == 1) {
        if (unlink(l->path) < 0 && errno != ENOENT)
            return minik_error_set(err, errno, "remove log \"%s\"", l->path);
    } else {
        for (int i = l->max_files - 1; i >= 1; i--) {
            cleanup_free char *from =
                i == 1 ? xstrdup(l->path) : xasprintf("%s.%d", l->path, i - 1);
            cleanup_free char *to = xasprintf("%s.%d", l->path, i);
            if (rename(from, to) < 0 && errno != ENOENT)
                return minik_error_set(err, errno, "rotate log \"%s\"", from);
        }
    }
    l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (l->fd < 0)
        return minik_error_set(err, errno, "open log \"%s\"", l->path);
    l->size = 0;
    return 0;
}

static int write_records(minik_crilog_t *l, const minik_buf_t *b, minik_error_t **err)
{
    /* Rotate on record boundaries so no line is split across files. */
    const char *p = b->data;
    size_t left = b->len;
    while (left > 0) {
        const char *nl = memchr(p, '\n', left);
        size_t n = nl ? (size_t)(nl - p) + 1 : left;
        if (l->max_size && l->size > 0 && l->size + n > l->max_size) {
            int r = rotate(l, err);
            if (r < 0)
                return r;
        }
        size_t done = 0;
        while (done < n) {
            ssize_t w = write(l->fd, p + done, n - done);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                return minik_error_set(err, errno, "write log \"%s\"", l->path);
            }
            done += (size_t)w;
        }
        l->size += n;
        p += n;
        left -= n;
    }
    return 0;
}

int minik_crilog_write(minik_crilog_t *l, minik_crilog_stream_t s, const char *data, size_t len,
                       minik_error_t **err)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    cleanup_buf minik_buf_t b = MINIK_BUF_INIT;
    minik_crilog_split(&b, &l->pending[s], &ts, s, data, len);
    return write_records(l, &b, err);
}

int minik_crilog_flush(minik_crilog_t *l, minik_crilog_stream_t s, minik_error_t **err)
{
    if (l->pending[s].len == 0)
        return 0;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    cleanup_buf minik_buf_t b = MINIK_BUF_INIT;
    minik_crilog_format(&b, &ts, s, 'F', l->pending[s].data, l->pending[s].len);
    minik_buf_reset(&l->pending[s]);
    return write_records(l, &b, err);
}

void minik_crilog_free(minik_crilog_t *l)
{
    if (l == NULL)
        return;
    if (l->fd >= 0)
        close(l->fd);
    minik_buf_free(&l->pending[0]);
    minik_buf_free(&l->pending[1]);
    free(l->path);
    free(l);
}
