/* Unit tests for the HTTP connection state machine (apiserver/http_conn.c), the router
 * and Status objects: bytes in, responses out, no sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "apiserver/http_conn.h"
#include "apiserver/router.h"
#include "apiserver/status.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"

typedef struct fixture {
    minik_buf_t out;
    int closed;
    int requests;
    bool defer; /* keep the request instead of answering */
    minik_http_request_t *held;
    char last_path[256];
    char last_body[256];
} fixture_t;

static void fx_write(minik_http_conn_t *c, const char *d, size_t n, void *ud)
{
    minik_buf_append(&((fixture_t *)ud)->out, d, n);
}

static void fx_close(minik_http_conn_t *c, void *ud)
{
    ((fixture_t *)ud)->closed++;
}

static void fx_request(minik_http_conn_t *c, minik_http_request_t *r, void *ud)
{
    fixture_t *f = ud;
    f->requests++;
    snprintf(f->last_path, sizeof(f->last_path), "%s %s", r->method, r->path);
    snprintf(f->last_body, sizeof(f->last_body), "%s", r->body.data ? r->body.data : "");
    if (f->defer) {
        f->held = r;
        return;
    }
    char body[64];
    int n = snprintf(body, sizeof(body), "req%d", f->requests);
    minik_http_respond(r, 200, "text/plain", body, (size_t)n, NULL);
}

static const minik_http_callbacks_t cbs = {fx_write, fx_request, fx_close, NULL, NULL};

static void feed(minik_http_conn_t *c, const char *s)
{
    minik_http_conn_feed(c, s, strlen(s));
}

static void get_then_keepalive_then_pipelined(void **state)
{
    fixture_t f = {0};
    minik_http_conn_t *c = minik_http_conn_new(&cbs, &f);
    feed(c, "GET /api/v1/pods?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(f.requests, 1);
    assert_string_equal(f.last_path, "GET /api/v1/pods");
    assert_non_null(strstr(f.out.data, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(f.out.data, "Content-Length: 4\r\n\r\nreq1"));
    assert_int_equal(f.closed, 0);
    assert_int_equal(minik_http_conn_phase(c), MINIK_HTTP_IDLE);
    minik_buf_reset(&f.out);
    /* Two pipelined requests in one segment, the second with a body. */
    feed(c, "GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\n"
            "Content-Length: 5\r\n\r\nhello");
    assert_int_equal(f.requests, 3);
    assert_string_equal(f.last_path, "POST /b");
    assert_string_equal(f.last_body, "hello");
    const char *first = strstr(f.out.data, "req2");
    const char *second = strstr(f.out.data, "req3");
    assert_non_null(first);
    assert_non_null(second);
    assert_true(first < second);
    minik_http_conn_free(c);
    minik_buf_free(&f.out);
}

static void request_split_byte_by_byte(void **state)
{
    fixture_t f = {0};
    minik_http_conn_t *c = minik_http_conn_new(&cbs, &f);
    const char *req = "PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    for (const char *p = req; *p; p++) {
        minik_http_conn_feed(c, p, 1);
        if (p[1])
            assert_int_equal(f.requests, 0);
    }
    assert_int_equal(f.requests, 1);
    assert_string_equal(f.last_body, "abcde");
    minik_http_conn_free(c);
    minik_buf_free(&f.out);
}

static void malformed_request_gets_400_and_close(void **state)
{
    fixture_t f = {0};
    minik_http_conn_t *c = minik_http_conn_new(&cbs, &f);
    feed(c, "GET / HTTP/1.1\r\nBad Header\r\n\r\n");
    assert_int_equal(f.requests, 0);
    assert_non_null(strstr(f.out.data, "HTTP/1.1 400 Bad Request"));
    assert_non_null(strstr(f.out.data, "\"kind\":\"Status\""));
    assert_non_null(strstr(f.out.data, "Connection: close"));
    assert_int_equal(f.closed, 1);
    minik_http_conn_free(c);
    minik_buf_free(&f.out);
}

static void oversized_body_gets_413(void **state)
{
    fixture_t f = {0};
    minik_http_conn_t *c = minik_http_conn_new(&cbs, &f);
    feed(c, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3145729\r\n\r\n");
    assert_non_null(strstr(f.out.data, "HTTP/1.1 413 "));
    assert_non_null(strstr(f.out.data, "\"reason\":\"RequestEntityTooLarge\""));
    assert_int_equal(f.closed, 1);
    assert_int_equal(f.requests, 0);
    minik_http_conn_free(c);
    minik_buf_free(&f.out);

    /* Chunked: no declared length, the limit is enforced on what arrives. */
    fixture_t g = {0};
    c = minik_http_conn_new(&cbs, &g);
    feed(c, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
    char *chunk = xmalloc(1024 * 1024 + 16);
    int hl = sprintf(chunk, "100000\r\n");
    memset(chunk + hl, 'a', 1024 * 1024);
    memcpy(chunk + hl + 1024 * 1024, "\r\n", 2);
    for (int i = 0; i < 4 && !g.closed; i++)
        minik_http_conn_feed(c, chunk, (size_t)hl + 1024 * 1024 + 2);
    free(chunk);
    assert_non_null(strstr(g.out.data, "HTTP/1.1 413 "));
    assert_int_equal(g.requests, 0);
    minik_http_conn_free(c);
    minik_buf_free(&g.out);
}

static void oversized_headers_get_431(void **state)
{
    fixture_t f = {0};
    minik_http_conn_t *c = minik_http_conn_new(&cbs, &f);
    feed(c, "GET / HTTP/1.1\r\nHost: a\r\n");
    char line[1100];
    memset(line, 'x', sizeof(line));
    memcpy(line, "X-Pad: ", 7);
    memcpy(line + sizeof(line) - 2, "\r\n", 2);
    for (int i = 0; i < 20 && !f.closed; i++)
        minik_http_conn_feed(c, line, sizeof(line));
    assert_non_null(strstr(f.out.data, "HTTP/1.1 431 "));
    assert_int_equal(f.closed, 1);
    assert_int_equal(f.requests, 0);
    minik_http_conn_free(c);
    minik_buf_free(&f.out);
}

static void truncated_request_at_eof_gets_400(void **state)
{
    fixture_t f = {0};
    minik_http_conn_t *c = minik_http_conn_new(&cbs, &f);
    feed(c, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
    assert_int_equal(minik_http_conn_phase(c), MINIK_HTTP_BODY);
    minik_http_conn_eof(c);
    assert_non_null(strstr(f.out.data, "HTTP/1.1 400 "));
    assert_non_null(strstr(f.out.data, "truncated"));
    assert_int_equal(f.closed, 1);
    assert_int_equal(f.requests, 0);
    minik_http_conn_free(c);
    minik_buf_free(&f.out);
}

static void deferred_response_and_abort(void **state)
{
    fixture_t f = {.defer = true};
    minik_http_conn_t *c = minik_http_conn_new(&cbs, &f);
    feed(c, "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n");
    /* The second request waits until the first is answered. */
    assert_int_equal(f.requests, 1);
    assert_int_equal(minik_http_conn_phase(c), MINIK_HTTP_ACTIVE);
    minik_http_request_t *r = f.held;
    minik_http_respond(r, 201, "text/plain", "x", 1, NULL);
    assert_int_equal(f.requests, 2);
    assert_string_equal(f.last_path, "GET /b");
    /* The connection goes away with /b unanswered: the handler still owns the request. */
    r = f.held;
    minik_http_conn_free(c);
    assert_null(r->conn);
    minik_http_respond(r, 200, "text/plain", "late", 4, NULL); /* frees r, writes nothing */
    assert_null(strstr(f.out.data, "late"));
    minik_buf_free(&f.out);
}

static void chunked_stream_framing(void **state)
{
    fixture_t f = {.defer = true};
    minik_http_conn_t *c = minik_http_conn_new(&cbs, &f);
    feed(c, "GET /w HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_true(minik_http_stream_start(f.held, 200, "application/json"));
    assert_true(minik_http_stream_chunk(f.held, "{\"a\":1}\n", 8));
    minik_http_stream_end(f.held);
    assert_non_null(
        strstr(f.out.data, "Transfer-Encoding: chunked\r\n\r\n8\r\n{\"a\":1}\n\r\n0\r\n\r\n"));
    assert_int_equal(minik_http_conn_phase(c), MINIK_HTTP_IDLE);
    minik_http_conn_free(c);
    minik_buf_free(&f.out);
}

static void connection_close_header_closes_after_response(void **state)
{
    fixture_t f = {0};
    minik_http_conn_t *c = minik_http_conn_new(&cbs, &f);
    feed(c, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\n\r\n");
    assert_int_equal(f.requests, 1);
    assert_int_equal(f.closed, 1);
    assert_non_null(strstr(f.out.data, "Connection: close"));
    minik_http_conn_free(c);
    minik_buf_free(&f.out);
}

static void expect_100_continue_is_answered_before_the_body(void **state)
{
    fixture_t f = {0};
    minik_http_conn_t *c = minik_http_conn_new(&cbs, &f);
    feed(c, "POST /p HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    assert_string_equal(f.out.data, "HTTP/1.1 100 Continue\r\n\r\n");
    assert_int_equal(f.requests, 0);
    feed(c, "ok");
    assert_int_equal(f.requests, 1);
    assert_string_equal(f.last_body, "ok");
    /* Too large: no 100, a 413 instead. */
    minik_buf_reset(&f.out);
    feed(c,
         "POST /p HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 99999999\r\n\r\n");
    assert_null(strstr(f.out.data, "100 Continue"));
    assert_non_null(strstr(f.out.data, "HTTP/1.1 413 "));
    minik_http_conn_free(c);
    minik_buf_free(&f.out);
}

static void unescape_and_query(void **state)
{
    cleanup_free char *a = minik_http_unescape("a%2Fb+c", 7, false);
    assert_string_equal(a, "a/b+c");
    cleanup_free char *b = minik_http_unescape("a+b%20", 6, true);
    assert_string_equal(b, "a b ");
    assert_null(minik_http_unescape("a%00b", 5, false));
    assert_null(minik_http_unescape("a%2", 3, false));
    assert_null(minik_http_unescape("%zz", 3, false));
    bool bad = false;
    cleanup_free char *v =
        minik_http_query_param("watch=1&labelSelector=app%3Dweb", "labelSelector", &bad);
    assert_string_equal(v, "app=web");
    cleanup_free char *w = minik_http_query_param("watch&x=1", "watch", &bad);
    assert_string_equal(w, "");
    assert_null(minik_http_query_param("x=1", "watch", &bad));
    assert_false(bad);
    assert_null(minik_http_query_param("x=%g1", "x", &bad));
    assert_true(bad);
}

static void router_paths(void **state)
{
    minik_route_t r;
    minik_error_t *err = NULL;
    assert_int_equal(minik_route_parse("/api/v1/namespaces/default/pods/web-1", &r, &err), 0);
    assert_int_equal(r.type, MINIK_ROUTE_RESOURCE);
    assert_string_equal(r.res->kind, "Pod");
    assert_string_equal(r.ns, "default");
    assert_string_equal(r.name, "web-1");
    assert_null(r.sub);
    minik_route_clear(&r);

    assert_int_equal(minik_route_parse("/api/v1/pods", &r, &err), 0);
    assert_null(r.ns);
    assert_null(r.name);
    assert_string_equal(r.res->name, "pods");
    minik_route_clear(&r);

    assert_int_equal(minik_route_parse("/apis/apps/v1/namespaces/x/deployments/d/scale", &r, &err),
                     0);
    assert_string_equal(r.res->kind, "Deployment");
    assert_string_equal(r.sub, "scale");
    minik_route_clear(&r);

    assert_int_equal(minik_route_parse("/api/v1/namespaces/kube-system", &r, &err), 0);
    assert_string_equal(r.res->kind, "Namespace");
    assert_string_equal(r.name, "kube-system");
    assert_null(r.ns);
    minik_route_clear(&r);

    assert_int_equal(minik_route_parse("/api/v1/namespaces/a/status", &r, &err), 0);
    assert_string_equal(r.res->kind, "Namespace");
    assert_string_equal(r.sub, "status");
    minik_route_clear(&r);

    assert_int_equal(minik_route_parse("/api/v1/nodes/n1/status", &r, &err), 0);
    assert_string_equal(r.name, "n1");
    minik_route_clear(&r);

    assert_int_equal(minik_route_parse("/apis/apps/v1/", &r, &err), 0);
    assert_int_equal(r.type, MINIK_ROUTE_RESOURCE_LIST);
    minik_route_clear(&r);
    assert_int_equal(minik_route_parse("/openapi/v3", &r, &err), 0);
    assert_int_equal(r.type, MINIK_ROUTE_OPENAPI_ROOT);
    minik_route_clear(&r);
    assert_int_equal(minik_route_parse("/openapi/v3/apis/apps/v1", &r, &err), 0);
    assert_int_equal(r.type, MINIK_ROUTE_OPENAPI_GV);
    assert_string_equal(r.group, "apps");
    assert_string_equal(r.version, "v1");
    minik_route_clear(&r);
    assert_int_equal(minik_route_parse("/openapi/v3/api/v1", &r, &err), 0);
    assert_string_equal(r.group, "");
    minik_route_clear(&r);
    assert_int_equal(minik_route_parse("/apis/minik.io/v1/tokens", &r, &err), 0);
    assert_int_equal(r.type, MINIK_ROUTE_TOKENS);
    minik_route_clear(&r);
    assert_int_equal(minik_route_parse("/apis/minik.io/v1/nodes/n1/credential", &r, &err), 0);
    assert_int_equal(r.type, MINIK_ROUTE_CREDENTIAL);
    assert_string_equal(r.name, "n1");
    minik_route_clear(&r);
    assert_int_equal(minik_route_parse("/apis/minik.io/v1/nodes/n1/heartbeat", &r, &err), 0);
    assert_int_equal(r.type, MINIK_ROUTE_HEARTBEAT);
    minik_route_clear(&r);
    assert_int_equal(minik_route_parse("/version", &r, &err), 0);
    assert_int_equal(r.type, MINIK_ROUTE_VERSION);
    minik_route_clear(&r);

    static const struct {
        const char *path;
        int code;
    } bad[] = {
        {"/api/v1/namespaces/default/pods/..", 400},
        {"/api/v1/namespaces/default/pods/a%2Fb", 400},
        {"/api/v1/namespaces/default/pods/a%00b", 400},
        {"/api/v1/namespaces/%2e%2e/pods", 400},
        {"/api/v1/namespaces/default/pods/a/b", 404},
        {"/api/v1/namespaces/default/pods/a/scale", 404},
        {"/api/v1/namespaces/default/nodes", 404},
        {"/api/v1/namespaces/default/widgets", 404},
        {"/api/v1/pods/web-1", 404}, /* namespaced objects need their namespace */
        {"/api//v1", 404},
        {"/nope", 404},
        {"/openapi/v2", 404},
        {"/openapi/v3/apis/apps", 404},
        {"relative", 400},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_true(minik_route_parse(bad[i].path, &r, &err) < 0);
        assert_int_equal(err->code, bad[i].code);
        minik_error_clear(&err);
    }
}

static void status_shape(void **state)
{
    cJSON *causes = cJSON_CreateArray();
    cJSON *st = minik_status_new(422, NULL, "bad", "Pod", "p", causes);
    assert_string_equal(cJSON_GetObjectItem(st, "kind")->valuestring, "Status");
    assert_string_equal(cJSON_GetObjectItem(st, "status")->valuestring, "Failure");
    assert_string_equal(cJSON_GetObjectItem(st, "reason")->valuestring, "Invalid");
    assert_int_equal(cJSON_GetObjectItem(st, "code")->valueint, 422);
    cJSON *d = cJSON_GetObjectItem(st, "details");
    assert_string_equal(cJSON_GetObjectItem(d, "name")->valuestring, "p");
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(d, "causes")));
    cJSON_Delete(st);
    assert_string_equal(minik_status_reason(409), "Conflict");
    assert_string_equal(minik_status_reason(404), "NotFound");
}

/* ---- streamed request bodies (exec stdin) ---- */

typedef struct sfix {
    fixture_t f;
    minik_buf_t got; /* body pieces, in order */
    int ends;
    minik_http_request_t *req;
} sfix_t;

static void sx_write(minik_http_conn_t *c, const char *d, size_t n, void *ud)
{
    minik_buf_append(&((sfix_t *)ud)->f.out, d, n);
}

static void sx_close(minik_http_conn_t *c, void *ud)
{
    ((sfix_t *)ud)->f.closed++;
}

static void sx_body(minik_http_request_t *r, const char *d, size_t n)
{
    sfix_t *s = r->user;
    if (d)
        minik_buf_append(&s->got, d, n);
    else
        s->ends++;
}

static void sx_request(minik_http_conn_t *c, minik_http_request_t *r, void *ud)
{
    sfix_t *s = ud;
    s->f.requests++;
    snprintf(s->f.last_path, sizeof(s->f.last_path), "%s %s", r->method, r->path);
    if (!r->body_streamed) {
        minik_http_respond(r, 200, "text/plain", "plain", 5, NULL);
        return;
    }
    s->req = r;
    r->user = s;
    r->on_body = sx_body;
}

static bool sx_stream(minik_http_conn_t *c, const minik_http_request_t *r, void *ud)
{
    return strcmp(r->path, "/exec") == 0;
}

static const minik_http_callbacks_t scbs = {sx_write, sx_request, sx_close, NULL, sx_stream};

static void streamed_body_is_dispatched_at_headers(void **state)
{
    sfix_t s = {0};
    minik_http_conn_t *c = minik_http_conn_new(&scbs, &s);
    feed(c, "POST /exec HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
    /* Dispatched before any of its body arrived. */
    assert_int_equal(s.f.requests, 1);
    assert_non_null(s.req);
    assert_true(s.req->body_streamed);
    assert_int_equal(minik_http_conn_phase(c), MINIK_HTTP_ACTIVE);
    feed(c, "3\r\nabc\r\n");
    assert_int_equal(s.got.len, 3);
    assert_memory_equal(s.got.data, "abc", 3);
    assert_false(s.req->body_done);
    /* The response can stream while the body is still coming. */
    assert_true(minik_http_stream_start(s.req, 200, "text/plain"));
    assert_true(minik_http_stream_chunk(s.req, "out", 3));
    feed(c, "2\r\nde\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(s.got.len, 5);
    assert_int_equal(s.ends, 1);
    assert_true(s.req->body_done);
    /* The pipelined request waits for this answer. */
    assert_int_equal(s.f.requests, 1);
    minik_http_stream_end(s.req);
    assert_int_equal(s.f.requests, 2);
    assert_string_equal(s.f.last_path, "GET /next");
    assert_int_equal(s.f.closed, 0);
    minik_http_conn_free(c);
    minik_buf_free(&s.got);
    minik_buf_free(&s.f.out);
}

static void streamed_body_answered_early_closes(void **state)
{
    sfix_t s = {0};
    minik_http_conn_t *c = minik_http_conn_new(&scbs, &s);
    feed(c, "POST /exec HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n");
    assert_int_equal(s.got.len, 1);
    minik_http_respond(s.req, 200, "text/plain", "done", 4, NULL);
    /* The body had not ended: the rest would be mistaken for requests, so close. */
    assert_int_equal(s.f.closed, 1);
    assert_non_null(strstr(s.f.out.data, "Connection: close"));
    feed(c, "1\r\ny\r\n0\r\n\r\n");
    assert_int_equal(s.got.len, 1);
    assert_int_equal(s.f.requests, 1);
    minik_http_conn_free(c);
    minik_buf_free(&s.got);
    minik_buf_free(&s.f.out);
}

/* Trailers after a streamed chunked body: the request was handed over at its headers,
 * so they are dropped (they used to be written into a request no longer there). */
static void streamed_body_trailers_are_dropped(void **state)
{
    sfix_t s = {0};
    minik_http_conn_t *c = minik_http_conn_new(&scbs, &s);
    feed(c, "POST /exec HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            "3\r\nabc\r\n0\r\nX-One: 1\r\nX-Two: 2\r\n\r\n");
    assert_int_equal(s.got.len, 3);
    assert_int_equal(s.ends, 1);
    assert_true(s.req->body_done);
    assert_null(minik_http_request_header(s.req, "x-one"));
    minik_http_respond(s.req, 200, "text/plain", "done", 4, NULL);
    assert_int_equal(s.f.closed, 0);
    minik_http_conn_free(c);
    minik_buf_free(&s.got);
    minik_buf_free(&s.f.out);
}

static void body_less_post_is_not_streamed(void **state)
{
    sfix_t s = {0};
    minik_http_conn_t *c = minik_http_conn_new(&scbs, &s);
    feed(c, "POST /exec HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(s.f.requests, 1);
    assert_null(s.req);
    assert_non_null(strstr(s.f.out.data, "plain"));
    minik_http_conn_free(c);
    minik_buf_free(&s.f.out);
}

static void router_node_proxy_path(void **state)
{
    minik_route_t r;
    minik_error_t *err = NULL;
    assert_int_equal(minik_route_parse("/api/v1/nodes/n1/proxy/stats/summary", &r, &err), 0);
    assert_string_equal(r.sub, "proxy");
    assert_string_equal(r.rest, "stats/summary");
    assert_string_equal(r.name, "n1");
    minik_route_clear(&r);
    assert_int_equal(minik_route_parse("/api/v1/namespaces/d/pods/p/log", &r, &err), 0);
    assert_string_equal(r.sub, "log");
    assert_null(r.rest);
    minik_route_clear(&r);
    /* No climbing out of the agent's paths, and only nodes have a proxy. */
    assert_true(minik_route_parse("/api/v1/nodes/n1/proxy/%2e%2e/x", &r, &err) < 0);
    minik_error_clear(&err);
    assert_true(minik_route_parse("/api/v1/namespaces/d/pods/p/proxy/x", &r, &err) < 0);
    minik_error_clear(&err);
    assert_true(minik_route_parse("/api/v1/namespaces/d/pods/p/log/x", &r, &err) < 0);
    minik_error_clear(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_then_keepalive_then_pipelined),
        cmocka_unit_test(streamed_body_is_dispatched_at_headers),
        cmocka_unit_test(streamed_body_answered_early_closes),
        cmocka_unit_test(streamed_body_trailers_are_dropped),
        cmocka_unit_test(body_less_post_is_not_streamed),
        cmocka_unit_test(router_node_proxy_path),
        cmocka_unit_test(request_split_byte_by_byte),
        cmocka_unit_test(malformed_request_gets_400_and_close),
        cmocka_unit_test(oversized_body_gets_413),
        cmocka_unit_test(oversized_headers_get_431),
        cmocka_unit_test(truncated_request_at_eof_gets_400),
        cmocka_unit_test(deferred_response_and_abort),
        cmocka_unit_test(chunked_stream_framing),
        cmocka_unit_test(connection_close_header_closes_after_response),
        cmocka_unit_test(expect_100_continue_is_answered_before_the_body),
        cmocka_unit_test(unescape_and_query),
        cmocka_unit_test(router_paths),
        cmocka_unit_test(status_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
