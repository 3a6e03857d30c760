/* libFuzzer target: the API server's request path without sockets. Bytes go into the
 * HTTP/1.1 connection state machine (split in two feeds at a point the input chooses, so
 * partial reads are exercised), and every complete request is routed, its query
 * selectors parsed, its body decoded as JSON and, for PATCH, applied as a merge patch and
 * as a JSON patch and as a strategic merge patch to a sample object, as the handlers do. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "apiserver/http_conn.h"
#include "apiserver/internal.h"
#include "apiserver/patch.h"
#include "apiserver/router.h"
#include "lib/cleanup.h"

static const char sample[] = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
                             "\"labels\":{\"a\":\"b\"}},"
                             "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}";

static void fz_write(minik_http_conn_t *c, const char *d, size_t n, void *ud)
{
    (void)c;
    *(size_t *)ud += n;
}

static void fz_close(minik_http_conn_t *c, void *ud)
{
    (void)c;
    (void)ud;
}

static void fz_body(minik_http_request_t *req, const char *data, size_t len)
{
    (void)len;
    if (!data) /* the end of a streamed body: answer from inside the parser's callback */
        minik_http_respond(req, 200, "text/plain", "x", 1, NULL);
}

static void fz_abort(minik_http_request_t *req)
{
    minik_http_request_free(req);
}

/* exec-like requests stream their body, as the API server's and agent's do. */
static bool fz_stream_body(minik_http_conn_t *c, const minik_http_request_t *req, void *ud)
{
    (void)c;
    (void)ud;
    size_t n = strlen(req->path);
    return n >= 5 && strcmp(req->path + n - 5, "/exec") == 0;
}

static void fz_request(minik_http_conn_t *c, minik_http_request_t *req, void *ud)
{
    (void)c;
    (void)ud;
    if (req->body_streamed) {
        if (req->n_headers & 1) {
            /* Answered before its body ended: the rest is dropped, the connection closes. */
            minik_http_respond(req, 200, "text/plain", "early", 5, NULL);
            return;
        }
        req->on_body = fz_body;
        req->on_abort = fz_abort;
        return;
    }
    minik_route_t route;
    minik_error_t *err = NULL;
    int code = 200;
    if (minik_route_parse(req->path, &route, &err) < 0) {
        code = err->code;
        minik_error_clear(&err);
    } else {
        minik_api_filter_t f = {0};
        if (minik_api_filter_parse(req->query, &f, &err) == 0) {
            cJSON *obj = cJSON_Parse(sample);
            (void)minik_api_filter_match(obj, &f);
            cJSON_Delete(obj);
        }
        minik_error_clear(&err);
        minik_api_filter_clear(&f);
        cJSON *body = NULL;
        if (req->body.len && minik_api_parse_body(req, false, &body, &err) == 0) {
            cJSON *target = cJSON_Parse(sample);
            cJSON *out = NULL;
            if (minik_patch_merge(target, body, &out, &err) == 0)
                cJSON_Delete(out);
            out = NULL;
            minik_error_clear(&err);
            if (minik_patch_json(target, body, &out, &err) == 0)
                cJSON_Delete(out);
            minik_error_clear(&err);
            out = NULL;
            if (minik_patch_strategic(target, body, &out, &err) == 0)
                cJSON_Delete(out);
            minik_error_clear(&err);
            cJSON_Delete(target);
            cJSON_Delete(body);
        }
        minik_error_clear(&err);
        minik_route_clear(&route);
    }
    if (code == 200 && req->head)
        code = 204;
    if (code == 400 && (req->n_headers & 1))
        minik_http_respond_status(req, code, "bad");
    else if (req->keep_alive && (req->body.len & 1)) {
        /* Exercise the chunked writer too. */
        minik_http_stream_start(req, 200, "application/json");
        minik_http_stream_chunk(req, "{}\n", 3);
        minik_http_stream_end(req);
    } else {
        minik_http_respond(req, code, "text/plain", "x", 1, NULL);
    }
}

static const minik_http_callbacks_t cbs = {fz_write, fz_request, fz_close, NULL, fz_stream_body};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t written = 0;
    /* The split point comes from the last byte so that seeds stay plain requests. */
    size_t split = ((size_t)data[size - 1] * 131) % (size + 1);
    minik_http_conn_t *c = minik_http_conn_new(&cbs, &written);
    minik_http_conn_feed(c, (const char *)data, split);
    minik_http_conn_feed(c, (const char *)data + split, size - split);
    minik_http_conn_eof(c);
    minik_http_conn_free(c);
    return 0;
}
