/* Watch fan-out load generator for the API server (plain HTTP on loopback).
 *
 *   watch_fanout PORT TOKEN NAMESPACE WATCHERS EVENTS
 *
 * Opens WATCHERS connections that each watch configmaps in NAMESPACE (which should be
 * empty), then creates EVENTS configmaps one after another over one more connection. For
 * each create it measures the time from sending the POST until every watcher has received
 * the ADDED event, and prints key=value lines: watchers, events, p50_ms, p99_ms, max_ms,
 * events_per_s (deliveries per second over the whole run). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "lib/xalloc.h"

typedef struct watcher {
    uv_tcp_t tcp;
    uv_connect_t conn;
    char carry[32];
    size_t carry_len;
    int seen;       /* ADDED events received */
    bool streaming; /* got the response headers */
} watcher_t;

static uv_loop_t *loop;
static struct sockaddr_in addr;
static const char *token, *ns;
static int n_watchers, n_events;
static watcher_t *watchers;
static int ready, current, done_for_current;
static uint64_t t_sent, t_start;
static double *lat_ms;
static uv_tcp_t writer;
static uv_connect_t writer_conn;

static void alloc_cb(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    static char buf[65536];
    b->base = buf;
    b->len = sizeof(buf);
}

static void write_done(uv_write_t *w, int status)
{
    free(w->data);
    free(w);
    if (status < 0) {
        fprintf(stderr, "write: %s\n", uv_strerror(status));
        exit(1);
    }
}

static void send_str(uv_stream_t *s, char *msg)
{
    uv_write_t *w = xmalloc(sizeof(*w));
    w->data = msg;
    uv_buf_t b = uv_buf_init(msg, (unsigned)strlen(msg));
    uv_write(w, s, &b, 1, write_done);
}

static void send_event(void)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"ev-%d\"}}",
             current);
    t_sent = uv_hrtime();
    done_for_current = 0;
    send_str((uv_stream_t *)&writer,
             xasprintf("POST /api/v1/namespaces/%s/configmaps HTTP/1.1\r\nHost: x\r\n"
                       "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                       "Content-Length: %zu\r\n\r\n%s",
                       ns, token, strlen(body), body));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void finish(void)
{
    double total_s = (double)(uv_hrtime() - t_start) / 1e9;
    qsort(lat_ms, (size_t)n_events, sizeof(double), cmp_double);
    printf("watchers=%d\nevents=%d\np50_ms=%.2f\np99_ms=%.2f\nmax_ms=%.2f\nevents_per_s=%.0f\n",
           n_watchers, n_events, lat_ms[n_events / 2], lat_ms[(n_events * 99) / 100],
           lat_ms[n_events - 1], (double)n_watchers * n_events / total_s);
    exit(0);
}

static void on_watch_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    watcher_t *w = s->data;
    if (n < 0) {
        fprintf(stderr, "watcher connection closed: %s\n", uv_strerror((int)n));
        exit(1);
    }
    /* Search carry + new bytes for event markers, keeping a tail for split markers. */
    static const char marker[] = "\"type\":\"ADDED\"";
    size_t ml = sizeof(marker) - 1;
    char *buf = xmalloc(w->carry_len + (size_t)n + 1);
    memcpy(buf, w->carry, w->carry_len);
    memcpy(buf + w->carry_len, b->base, (size_t)n);
    size_t len = w->carry_len + (size_t)n;
    buf[len] = '\0';
    if (!w->streaming && strstr(buf, "HTTP/1.1 200")) {
        w->streaming = true;
        if (++ready == n_watchers) {
            t_start = uv_hrtime();
            send_event();
        }
    }
    for (char *p = buf; (p = memmem(p, len - (size_t)(p - buf), marker, ml)); p += ml) {
        w->seen++;
        if (w->seen == current + 1 && ++done_for_current == n_watchers) {
            lat_ms[current] = (double)(uv_hrtime() - t_sent) / 1e6;
            if (++current == n_events)
                finish();
            send_event();
        }
    }
    size_t keep = len < ml ? len : ml - 1;
    memcpy(w->carry, buf + len - keep, keep);
    w->carry_len = keep;
    free(buf);
}

static void on_watch_connect(uv_connect_t *c, int status)
{
    watcher_t *w = c->data;
    if (status < 0) {
        fprintf(stderr, "connect: %s\n", uv_strerror(status));
        exit(1);
    }
    w->tcp.data = w;
    uv_read_start((uv_stream_t *)&w->tcp, alloc_cb, on_watch_read);
    send_str((uv_stream_t *)&w->tcp,
             xasprintf("GET /api/v1/namespaces/%s/configmaps?watch=1 HTTP/1.1\r\nHost: x\r\n"
                       "Authorization: Bearer %s\r\n\r\n",
                       ns, token));
}

static void on_writer_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    if (n < 0) {
        fprintf(stderr, "writer connection closed\n");
        exit(1);
    }
    if (memmem(b->base, (size_t)n, "HTTP/1.1 201", 12) == NULL &&
        memmem(b->base, (size_t)n, "HTTP/1.1 ", 9) != NULL) {
        fprintf(stderr, "create failed: %.*s\n", (int)n, b->base);
        exit(1);
    }
}

static void on_writer_connect(uv_connect_t *c, int status)
{
    if (status < 0) {
        fprintf(stderr, "connect: %s\n", uv_strerror(status));
        exit(1);
    }
    uv_read_start((uv_stream_t *)&writer, alloc_cb, on_writer_read);
    for (int i = 0; i < n_watchers; i++) {
        watchers[i].conn.data = &watchers[i];
        uv_tcp_init(loop, &watchers[i].tcp);
        uv_tcp_connect(&watchers[i].conn, &watchers[i].tcp, (struct sockaddr *)&addr,
                       on_watch_connect);
    }
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: watch_fanout PORT TOKEN NAMESPACE WATCHERS EVENTS\n");
        return 2;
    }
    token = argv[2];
    ns = argv[3];
    n_watchers = atoi(argv[4]);
    n_events = atoi(argv[5]);
    if (n_watchers <= 0 || n_events <= 0)
        return 2;
    watchers = xcalloc((size_t)n_watchers, sizeof(*watchers));
    lat_ms = xcalloc((size_t)n_events, sizeof(double));
    loop = uv_default_loop();
    uv_ip4_addr("127.0.0.1", atoi(argv[1]), &addr);
    uv_tcp_init(loop, &writer);
    uv_tcp_connect(&writer_conn, &writer, (struct sockaddr *)&addr, on_writer_connect);
    return uv_run(loop, UV_RUN_DEFAULT);
}
