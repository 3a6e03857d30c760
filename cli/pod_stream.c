/* See pod_stream.h. With stdin the transfer runs on a curl multi handle so that reading
 * the answer never waits for a line of input: the upload pauses when stdin has nothing,
 * and stdin's readiness (polled with curl's sockets) resumes it. */
#include "cli/pod_stream.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli/client_config.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "proto/client.h"

typedef struct run {
    const minik_cli_pod_stream_t *s;
    CURL *easy;
    long status;
    minik_buf_t err_body;
    bool stopped, paused, eof;
} run_t;

static size_t on_write(char *ptr, size_t size, size_t n, void *ud)
{
    run_t *r = ud;
    size_t len = size * n;
    if (!r->status)
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->status < 200 || r->status >= 300) {
        if (r->err_body.len < 64 * 1024)
            minik_buf_append(&r->err_body, ptr, len);
        return len;
    }
    if (!r->s->on_data(ptr, len, r->s->ud)) {
        r->stopped = true;
        return 0;
    }
    return len;
}

/* What stdin has now; pause the upload when it has nothing yet. */
static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
    run_t *r = ud;
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0) {
        r->paused = true;
        return CURL_READFUNC_PAUSE;
    }
    ssize_t got;
    do
        got = read(STDIN_FILENO, buf, size * n);
    while (got < 0 && errno == EINTR);
    if (got < 0 && errno == EAGAIN) {
        r->paused = true;
        return CURL_READFUNC_PAUSE;
    }
    if (got <= 0) {
        r->eof = true;
        return 0;
    }
    return (size_t)got;
}

static CURLcode drive(run_t *r)
{
    CURLM *m = curl_multi_init();
    curl_multi_add_handle(m, r->easy);
    int running = 1;
    CURLcode rc = CURLE_OK;
    while (running && !r->stopped) {
        if (curl_multi_perform(m, &running) != CURLM_OK)
            break;
        if (!running || r->stopped)
            break;
        struct curl_waitfd in = {.fd = STDIN_FILENO, .events = CURL_WAIT_POLLIN};
        bool watch_in = r->paused && !r->eof;
        curl_multi_poll(m, watch_in ? &in : NULL, watch_in ? 1 : 0, 1000, NULL);
        if (watch_in && in.revents) {
            r->paused = false;
            curl_easy_pause(r->easy, CURLPAUSE_CONT);
        }
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left)))
        if (msg->msg == CURLMSG_DONE)
            rc = msg->data.result;
    curl_multi_remove_handle(m, r->easy);
    curl_multi_cleanup(m);
    return rc;
}

int minik_cli_pod_stream(const minik_cli_pod_stream_t *s, minik_error_t **err)
{
    cleanup_client minik_client_t *cl = NULL;
    cleanup_free char *ns = NULL;
    if (minik_cli_client_open(&cl, &ns, err) < 0)
        return -1;
    cleanup_free char *path = minik_client_path("v1", "pods", true, ns, s->pod, s->sub, s->query);
    struct curl_slist *hdrs = NULL;
    run_t r = {.s = s, .err_body = MINIK_BUF_INIT};
    r.easy = minik_client_stream_easy(cl, path, (void **)&hdrs);
    if (!r.easy)
        return minik_error_set(err, ENOMEM, "curl_easy_init");
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(r.easy, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(r.easy, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(r.easy, CURLOPT_WRITEDATA, &r);
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (s->post && s->send_stdin) {
        hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
        hdrs = curl_slist_append(hdrs, "Content-Type: application/octet-stream");
        curl_easy_setopt(r.easy, CURLOPT_POST, 1L);
        curl_easy_setopt(r.easy, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(r.easy, CURLOPT_READDATA, &r);
    } else if (s->post) {
        curl_easy_setopt(r.easy, CURLOPT_POSTFIELDS, "");
    }
    curl_easy_setopt(r.easy, CURLOPT_HTTPHEADER, hdrs);
    CURLcode rc = drive(&r);
    if (!r.status)
        curl_easy_getinfo(r.easy, CURLINFO_RESPONSE_CODE, &r.status);
    int ret = 0;
    if (r.status >= 300 || (r.status && r.status < 200)) {
        cleanup_free char *msg =
            minik_client_status_message(r.status, r.err_body.data, r.err_body.len);
        ret = minik_error_set_code(err, (int)r.status, 0, "%s", msg);
    } else if (rc != CURLE_OK && !r.stopped) {
        const char *server = minik_client_server(cl);
        ret = r.status ? minik_error_set(err, EIO, "the stream from %s broke off: %s", server,
                                         *errbuf ? errbuf : curl_easy_strerror(rc))
                       : minik_error_set(err, EIO, "cannot reach the minik server at %s: %s",
                                         server, *errbuf ? errbuf : curl_easy_strerror(rc));
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(r.easy);
    minik_buf_free(&r.err_body);
    return ret;
}
