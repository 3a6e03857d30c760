/* Watch streams: newline-delimited {"type":..., "object":...} events, decoded one at a time
 * from bytes that may arrive split anywhere (chunked transfer, TLS records). */
#include <errno.h>
#include <string.h>

#include <curl/curl.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "proto/client.h"
#include "proto/client_internal.h"

struct minik_watch_decoder {
    minik_watch_event_fn cb;
    void *userdata;
    size_t max_line;
    minik_buf_t line;   /* bytes of the current, incomplete line */
    int stopped;        /* callback's non-zero return, sticky */
    minik_error_t *err; /* set when the decoder failed inside a curl write callback */
    size_t events;
};

minik_watch_decoder_t *minik_watch_decoder_new(minik_watch_event_fn cb, void *userdata,
                                               size_t max_line)
{
    minik_watch_decoder_t *d = xcalloc(1, sizeof *d);
    d->cb = cb;
    d->userdata = userdata;
    d->max_line = max_line ? max_line : 16u * 1024 * 1024;
    return d;
}

void minik_watch_decoder_free(minik_watch_decoder_t *d)
{
    if (!d)
        return;
    minik_buf_free(&d->line);
    minik_error_free(d->err);
    free(d);
}

static int dispatch_line(minik_watch_decoder_t *d, const char *s, size_t n, minik_error_t **err)
{
    while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0)
        return 0; /* blank keep-alive lines are allowed */
    cleanup_cjson cJSON *ev = cJSON_ParseWithLength(s, n);
    if (!ev || !cJSON_IsObject(ev))
        return minik_error_set(err, EBADMSG, "watch event %zu: not a JSON object", d->events + 1);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(ev, "object");
    if (!cJSON_IsString(type) || !cJSON_IsObject(obj))
        return minik_error_set(err, EBADMSG,
                               "watch event %zu: needs a string \"type\" and an object "
                               "\"object\"",
                               d->events + 1);
    d->events++;
    int r = d->cb(type->valuestring, obj, d->userdata);
    if (r < 0)
        return minik_error_set(err, 0, "watch stopped by the event handler");
    if (r > 0)
        d->stopped = r;
    return r;
}

int minik_watch_decoder_feed(minik_watch_decoder_t *d, const char *data, size_t len,
                             minik_error_t **err)
{
    if (d->stopped)
        return d->stopped;
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) : len;
        if (d->line.len + take > d->max_line)
            return minik_error_set(err, EMSGSIZE, "watch event %zu is longer than %zu bytes",
                                   d->events + 1, d->max_line);
        if (!nl) {
            minik_buf_append(&d->line, data, take);
            return 0;
        }
        int r;
        if (d->line.len) {
            minik_buf_append(&d->line, data, take);
            r = dispatch_line(d, d->line.data, d->line.len, err);
            minik_buf_reset(&d->line);
        } else {
            r = dispatch_line(d, data, take, err);
        }
        if (r != 0)
            return r;
        data += take + 1;
        len -= take + 1;
    }
    return 0;
}

int minik_watch_decoder_take_error(minik_watch_decoder_t *d, minik_error_t **err)
{
    if (!d->err)
        return 0;
    minik_error_t *e = steal_pointer(&d->err);
    if (err && !*err) {
        *err = e;
    } else {
        minik_error_free(e);
    }
    return -1;
}

int minik_watch_decoder_finish(minik_watch_decoder_t *d, minik_error_t **err)
{
    if (d->stopped)
        return 0;
    if (d->line.len) {
        /* A final line without '\n' is still a complete event if it parses. */
        int r = dispatch_line(d, d->line.data, d->line.len, err);
        minik_buf_reset(&d->line);
        if (r < 0)
            return minik_error_wrap(err, "truncated watch stream");
    }
    return 0;
}

/* curl write callback: feed the decoder; returning less than given aborts the transfer. */
static size_t watch_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    minik_watch_decoder_t *d = ud;
    size_t n = size * nmemb;
    if (d->err || d->stopped)
        return 0;
    int r = minik_watch_decoder_feed(d, ptr, n, &d->err);
    if (r != 0)
        return 0;
    return n;
}

/* The status line arrives before the body: on an HTTP error we collect the body as text for
 * the Status message instead of decoding it as events. */
typedef struct watch_ctx {
    minik_watch_decoder_t *d;
    CURL *easy;
    long status;
    minik_buf_t error_body;
} watch_ctx_t;

bool minik_client_watch_error_body(void *easy, long *status, minik_buf_t *error_body,
                                   const char *ptr, size_t n)
{
    if (*status == 0)
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, status);
    if (*status < 300)
        return false;
    if (error_body->len < 64 * 1024)
        minik_buf_append(error_body, ptr, n);
    return true;
}

static size_t watch_ctx_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    watch_ctx_t *w = ud;
    if (minik_client_watch_error_body(w->easy, &w->status, &w->error_body, ptr, size * nmemb))
        return size * nmemb;
    return watch_write(ptr, size, nmemb, w->d);
}

int minik_client_watch(minik_client_t *c, const char *path, minik_watch_event_fn cb, void *userdata,
                       minik_error_t **err)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *e = minik_client_watch_easy_setup(c, path, errbuf);
    if (!e)
        return minik_error_set(err, ENOMEM, "curl_easy_init");
    minik_watch_decoder_t *d = minik_watch_decoder_new(cb, userdata, 0);
    watch_ctx_t w = {.d = d, .easy = e, .status = 0, .error_body = MINIK_BUF_INIT};
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, watch_ctx_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &w);
    CURLcode rc = curl_easy_perform(e);
    int ret = 0;
    if (w.status == 0)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &w.status);
    if (d->err) {
        *err = steal_pointer(&d->err);
        ret = -1;
    } else if (d->stopped) {
        ret = 0;
    } else if (rc != CURLE_OK) {
        ret = minik_error_set(err, 0, "watch %s%s: %s", minik_client_server(c), path,
                              *errbuf ? errbuf : curl_easy_strerror(rc));
        if (w.status == 0) {
            minik_error_clear(err);
            ret = minik_client_unreachable(c, e, rc, errbuf, err);
        }
    } else if (w.status >= 300) {
        cleanup_free char *msg =
            minik_client_status_message(w.status, w.error_body.data, w.error_body.len);
        ret = minik_error_set_code(err, (int)w.status, 0, "%s", msg);
    } else {
        ret = minik_watch_decoder_finish(d, err);
    }
    minik_buf_free(&w.error_body);
    minik_watch_decoder_free(d);
    curl_easy_cleanup(e);
    return ret < 0 ? ret : 0;
}

void *minik_client_watch_easy(minik_client_t *c, const char *path, minik_watch_decoder_t *decoder)
{
    /* An event-loop user reads curl's message queue for errors; no error buffer. */
    CURL *e = minik_client_watch_easy_setup(c, path, NULL);
    if (!e)
        return NULL;
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, watch_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, decoder);
    return e;
}
