/* Unit tests for watches on an event loop (proto/client_uv.c: curl multi driven by libuv)
 * against a REAL minik API server running on the same loop, over TLS verified with the CA
 * from the admin.conf it writes. Writes come from a second thread with the blocking client,
 * as another process would make them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "apiserver/apiserver.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "proto/client.h"
#include "proto/client_uv.h"
#include "proto/kubeconfig.h"
#include "tests/unit/proto_helpers.h"

typedef struct fx {
    uv_loop_t loop;
    char dir[64];
    minik_apiserver_t *srv;
    minik_client_config_t cfg;
    minik_client_t *client;
    minik_client_uv_t *u;
    /* results */
    int events;
    char names[8][32];
    int done_calls;
    minik_watch_end_t how;
    int err_code;
    char err_msg[512];
    int stop_after;
    uv_timer_t cancel_timer;
    minik_client_uv_watch_t *w;
} fx_t;

static void start_server(fx_t *f)
{
    minik_log_set_level(MINIK_LOG_WARN);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    snprintf(f->dir, sizeof f->dir, "/tmp/minik-client-uv-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    minik_apiserver_options_t o = {.data_dir = f->dir, .host = "127.0.0.1", .port = 0};
    minik_error_t *err = NULL;
    if (minik_apiserver_start(&f->loop, &o, &f->srv, &err) < 0)
        fail_msg("apiserver: %s", err->msg);
    cleanup_free char *conf = xasprintf("%s/admin.conf", f->dir);
    if (minik_kubeconfig_load(conf, NULL, &f->cfg, &err) < 0)
        fail_msg("kubeconfig: %s", err->msg);
    assert_true(strncmp(f->cfg.server, "https://", 8) == 0);
    assert_int_equal(minik_client_new(&f->cfg, &f->client, &err), 0);
    assert_int_equal(minik_client_uv_new(&f->loop, &f->u, &err), 0);
}

static void on_uv_closed(void *ud)
{
    fx_t *f = ud;
    f->u = NULL;
}

static void on_srv_down(void *ud)
{
    fx_t *f = ud;
    f->srv = NULL;
}

/* Close everything; the loop then runs dry. */
static void wind_down(fx_t *f)
{
    if (f->u)
        minik_client_uv_close(f->u, on_uv_closed, f);
    if (f->srv)
        minik_apiserver_shutdown(f->srv, on_srv_down, f);
}

static void finish_fixture(fx_t *f)
{
    assert_null(f->u);
    assert_null(f->srv);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    minik_client_free(f->client);
    minik_client_config_clear(&f->cfg);
    assert_int_equal(minik_rm_rf(f->dir, NULL), 0);
}

static int on_event(const char *type, const cJSON *object, void *ud)
{
    fx_t *f = ud;
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(object, "metadata");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(md, "name");
    if (strcmp(type, "ADDED") == 0 && f->events < 8) {
        snprintf(f->names[f->events], sizeof f->names[0], "%s",
                 cJSON_IsString(name) ? name->valuestring : "?");
        f->events++;
    }
    return f->stop_after && f->events >= f->stop_after ? 1 : 0;
}

static void on_done(minik_watch_end_t how, const minik_error_t *err, void *ud)
{
    fx_t *f = ud;
    f->done_calls++;
    f->how = how;
    f->w = NULL;
    if (err) {
        f->err_code = err->code;
        snprintf(f->err_msg, sizeof f->err_msg, "%s", err->msg);
    }
    wind_down(f);
}

/* The writer thread: three ConfigMaps through the blocking client. */
static void *writer(void *arg)
{
    fx_t *f = arg;
    minik_client_t *c = NULL;
    minik_error_t *err = NULL;
    if (minik_client_new(&f->cfg, &c, &err) < 0)
        return xstrdup(err->msg);
    for (int i = 1; i <= 3; i++) {
        cleanup_cjson cJSON *cm = cJSON_CreateObject();
        cJSON_AddStringToObject(cm, "apiVersion", "v1");
        cJSON_AddStringToObject(cm, "kind", "ConfigMap");
        cJSON *md = cJSON_AddObjectToObject(cm, "metadata");
        char name[16];
        snprintf(name, sizeof name, "cm-%d", i);
        cJSON_AddStringToObject(md, "name", name);
        if (minik_client_json(c, "POST", "/api/v1/namespaces/default/configmaps", NULL, cm, NULL,
                              &err) < 0) {
            char *msg = xstrdup(err->msg);
            minik_error_free(err);
            minik_client_free(c);
            return msg;
        }
    }
    minik_client_free(c);
    return NULL;
}

static void watch_delivers_events_and_stops(void **state)
{
    fx_t f = {0};
    start_server(&f);
    f.stop_after = 3;
    /* From resourceVersion 1 (the default namespace), so writes made before the stream is
     * established are replayed from the change feed and none is missed. */
    f.w = minik_client_uv_watch(f.u, f.client,
                                "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=1",
                                on_event, on_done, &f);
    assert_non_null(f.w);
    assert_int_equal(minik_client_uv_active(f.u), 1);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, writer, &f), 0);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    void *werr = NULL;
    pthread_join(t, &werr);
    if (werr)
        fail_msg("writer: %s", (char *)werr);
    assert_int_equal(f.done_calls, 1);
    assert_int_equal(f.how, MINIK_WATCH_STOPPED);
    assert_int_equal(f.events, 3);
    assert_string_equal(f.names[0], "cm-1");
    assert_string_equal(f.names[1], "cm-2");
    assert_string_equal(f.names[2], "cm-3");
    finish_fixture(&f);
}

static void watch_with_a_bad_token_fails_with_401(void **state)
{
    fx_t f = {0};
    start_server(&f);
    minik_client_config_t bad = f.cfg;
    bad.token = "not-the-token";
    minik_client_t *c = NULL;
    assert_int_equal(minik_client_new(&bad, &c, NULL), 0);
    f.w = minik_client_uv_watch(f.u, c, "/api/v1/namespaces/default/pods?watch=1", on_event,
                                on_done, &f);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    assert_int_equal(f.done_calls, 1);
    assert_int_equal(f.how, MINIK_WATCH_FAILED);
    assert_int_equal(f.err_code, 401);
    assert_non_null(strstr(f.err_msg, "invalid bearer token"));
    minik_client_free(c);
    finish_fixture(&f);
}

static void on_cancel_timer(uv_timer_t *t)
{
    fx_t *f = t->data;
    uv_close((uv_handle_t *)t, NULL);
    assert_non_null(f->w);
    minik_client_uv_watch_cancel(f->w); /* on_done runs inside */
    assert_int_equal(f->done_calls, 1);
}

static void watch_can_be_cancelled(void **state)
{
    fx_t f = {0};
    start_server(&f);
    f.w = minik_client_uv_watch(f.u, f.client, "/api/v1/namespaces/default/pods?watch=1", on_event,
                                on_done, &f);
    uv_timer_init(&f.loop, &f.cancel_timer);
    f.cancel_timer.data = &f;
    uv_timer_start(&f.cancel_timer, on_cancel_timer, 300, 0);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    assert_int_equal(f.done_calls, 1);
    assert_int_equal(f.how, MINIK_WATCH_CANCELLED);
    assert_int_equal(f.err_code, 0);
    finish_fixture(&f);
}

static void unreachable_server_fails_with_the_url(void **state)
{
    fx_t f = {0};
    start_server(&f);
    cleanup_free char *url = xasprintf("http://127.0.0.1:%d", proto_closed_port());
    minik_client_config_t cfg = {.server = url};
    minik_client_t *c = NULL;
    assert_int_equal(minik_client_new(&cfg, &c, NULL), 0);
    f.w = minik_client_uv_watch(f.u, c, "/api/v1/pods?watch=1", on_event, on_done, &f);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    assert_int_equal(f.how, MINIK_WATCH_FAILED);
    cleanup_free char *want =
        xasprintf("cannot reach the minik server at %s: Connection refused", url);
    assert_string_equal(f.err_msg, want);
    minik_client_free(c);
    finish_fixture(&f);
}

/* ---- asynchronous requests ----------------------------------------------------------- */

typedef struct req_fx {
    fx_t *f;
    int step;
    char rv[32];
    char seen[4][256];
    int codes[4];
} req_fx_t;

static cJSON *configmap(const char *name)
{
    cJSON *cm = cJSON_CreateObject();
    cJSON_AddStringToObject(cm, "apiVersion", "v1");
    cJSON_AddStringToObject(cm, "kind", "ConfigMap");
    cJSON *md = cJSON_AddObjectToObject(cm, "metadata");
    cJSON_AddStringToObject(md, "name", name);
    cJSON *data = cJSON_AddObjectToObject(cm, "data");
    cJSON_AddStringToObject(data, "k", "v");
    return cm;
}

static void on_reply(const cJSON *reply, const minik_error_t *err, void *ud)
{
    req_fx_t *r = ud;
    int i = r->step++;
    r->codes[i] = err ? err->code : 200;
    if (err) {
        snprintf(r->seen[i], sizeof r->seen[i], "%s", err->msg);
    } else {
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(reply, "metadata");
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(reply, "data");
        const cJSON *rv = cJSON_GetObjectItemCaseSensitive(md, "resourceVersion");
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(data, "k");
        snprintf(r->seen[i], sizeof r->seen[i], "%s", cJSON_IsString(k) ? k->valuestring : "");
        if (i == 0 && cJSON_IsString(rv))
            snprintf(r->rv, sizeof r->rv, "%s", rv->valuestring);
    }
    minik_error_t *e = NULL;
    if (i == 0) {
        /* Created: read it back. */
        assert_int_equal(minik_client_uv_request(r->f->u, r->f->client, "GET",
                                                 "/api/v1/namespaces/default/configmaps/async-1",
                                                 NULL, NULL, on_reply, r, &e),
                         0);
    } else if (i == 1) {
        assert_int_equal(minik_client_uv_request(r->f->u, r->f->client, "GET",
                                                 "/api/v1/namespaces/default/configmaps/nope", NULL,
                                                 NULL, on_reply, r, &e),
                         0);
    } else {
        wind_down(r->f);
    }
}

static void requests_run_on_the_loop(void **state)
{
    fx_t f = {0};
    start_server(&f);
    req_fx_t r = {.f = &f};
    cleanup_cjson cJSON *cm = configmap("async-1");
    minik_error_t *err = NULL;
    assert_int_equal(minik_client_uv_request(f.u, f.client, "POST",
                                             "/api/v1/namespaces/default/configmaps", NULL, cm,
                                             on_reply, &r, &err),
                     0);
    /* The reply never comes from inside the call. */
    assert_int_equal(r.step, 0);
    assert_int_equal(minik_client_uv_active(f.u), 1);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    assert_int_equal(r.step, 3);
    assert_int_equal(r.codes[0], 200);
    assert_true(r.rv[0] != '\0');
    assert_int_equal(r.codes[1], 200);
    assert_string_equal(r.seen[1], "v");
    assert_int_equal(r.codes[2], 404);
    assert_non_null(strstr(r.seen[2], "not found"));
    finish_fixture(&f);
}

static void closing_cancels_requests_in_flight(void **state)
{
    fx_t f = {0};
    start_server(&f);
    req_fx_t r = {.f = &f, .step = 2}; /* on_reply winds down after this one */
    minik_error_t *err = NULL;
    assert_int_equal(minik_client_uv_request(f.u, f.client, "GET", "/api/v1/namespaces", NULL, NULL,
                                             on_reply, &r, &err),
                     0);
    minik_client_uv_t *u = f.u;
    f.u = NULL; /* wind_down must not close it twice */
    minik_client_uv_close(u, on_uv_closed, &f);
    assert_int_equal(r.step, 3);
    assert_int_equal(r.codes[2], 0);
    assert_non_null(strstr(r.seen[2], "cancelled"));
    uv_run(&f.loop, UV_RUN_DEFAULT);
    finish_fixture(&f);
}

/* Many requests at once: 64 in flight, the rest wait their turn and all complete; urgent
 * ones start at once and never take the waiting ones' slots (here they are watches that
 * stay open until the driver closes); closing fails the ones still waiting, each exactly
 * once. */
#define MANY_REQS 150
#define HANGING   70

typedef struct many_fx {
    fx_t *f;
    int ok, cancelled, other;
    size_t max_in_flight;
    int urgent_done;
} many_fx_t;

static void many_reply(const cJSON *reply, const minik_error_t *err, void *ud)
{
    many_fx_t *m = ud;
    size_t now = m->f->u ? minik_client_uv_in_flight(m->f->u) : 0; /* NULL: closing */
    if (now > m->max_in_flight)
        m->max_in_flight = now;
    if (!err)
        m->ok++;
    else if (strstr(err->msg, "cancelled"))
        m->cancelled++;
    else
        m->other++;
    if (m->ok == MANY_REQS)
        wind_down(m->f);
}

static void urgent_reply(const cJSON *reply, const minik_error_t *err, void *ud)
{
    ((many_fx_t *)ud)->urgent_done++;
}

static void many_requests_wait_their_turn(void **state)
{
    fx_t f = {0};
    start_server(&f);
    many_fx_t m = {.f = &f};
    minik_error_t *err = NULL;
    for (int i = 0; i < HANGING; i++)
        assert_int_equal(minik_client_uv_request_urgent(f.u, f.client, "GET",
                                                        "/api/v1/namespaces?watch=1", NULL, NULL,
                                                        urgent_reply, &m, &err),
                         0);
    for (int i = 0; i < MANY_REQS; i++)
        assert_int_equal(minik_client_uv_request(f.u, f.client, "GET", "/api/v1/namespaces", NULL,
                                                 NULL, many_reply, &m, &err),
                         0);
    assert_int_equal(minik_client_uv_in_flight(f.u), HANGING + 64);
    assert_int_equal(minik_client_uv_active(f.u), HANGING + MANY_REQS);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    assert_int_equal(m.ok, MANY_REQS);
    assert_int_equal(m.other + m.cancelled, 0);
    assert_true(m.max_in_flight <= HANGING + 64);
    assert_int_equal(m.urgent_done, HANGING); /* cancelled by the close */
    finish_fixture(&f);

    /* Closing with requests still waiting: every callback runs once, "cancelled". */
    fx_t g = {0};
    start_server(&g);
    many_fx_t n = {.f = &g};
    for (int i = 0; i < MANY_REQS; i++)
        assert_int_equal(minik_client_uv_request(g.u, g.client, "GET", "/api/v1/namespaces", NULL,
                                                 NULL, many_reply, &n, &err),
                         0);
    minik_client_uv_t *u = g.u;
    g.u = NULL;
    minik_client_uv_close(u, on_uv_closed, &g);
    assert_int_equal(n.cancelled, MANY_REQS);
    assert_int_equal(n.ok + n.other, 0);
    wind_down(&g); /* the server */
    uv_run(&g.loop, UV_RUN_DEFAULT);
    finish_fixture(&g);
}

/* ---- caller-configured transfers (the API server's relay) ---- */

typedef struct xfer_fx {
    fx_t *f;
    minik_client_uv_xfer_t *x;
    struct curl_slist *hdrs;
    const char *body;
    size_t off;
    bool released; /* the body may be sent */
    int pauses;
    int done_calls;
    int curl_code;
    long status;
    minik_buf_t reply;
    uv_timer_t t;
} xfer_fx_t;

static size_t xf_read(char *buf, size_t size, size_t n, void *ud)
{
    xfer_fx_t *x = ud;
    if (!x->released) {
        x->pauses++;
        return CURL_READFUNC_PAUSE;
    }
    size_t left = strlen(x->body) - x->off, room = size * n;
    size_t k = left < room ? left : room;
    memcpy(buf, x->body + x->off, k);
    x->off += k;
    return k;
}

static size_t xf_write(char *p, size_t size, size_t n, void *ud)
{
    minik_buf_append(&((xfer_fx_t *)ud)->reply, p, size * n);
    return size * n;
}

static void xf_done(void *easy, int rc, void *ud)
{
    xfer_fx_t *x = ud;
    x->done_calls++;
    x->curl_code = rc;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &x->status);
    wind_down(x->f);
}

static void xf_release(uv_timer_t *t)
{
    xfer_fx_t *x = t->data;
    x->released = true;
    minik_client_uv_unpause(x->x);
    uv_close((uv_handle_t *)t, NULL);
}

static void xf_cancel(uv_timer_t *t)
{
    xfer_fx_t *x = t->data;
    minik_client_uv_cancel(x->x);
    assert_int_equal(minik_client_uv_active(x->f->u), 0);
    uv_close((uv_handle_t *)t, NULL);
    wind_down(x->f);
}

static CURL *xf_easy(xfer_fx_t *x)
{
    CURL *e = minik_client_stream_easy(x->f->client, "/api/v1/namespaces/default/configmaps",
                                       (void **)&x->hdrs);
    assert_non_null(e);
    x->hdrs = curl_slist_append(x->hdrs, "Transfer-Encoding: chunked");
    x->hdrs = curl_slist_append(x->hdrs, "Content-Type: application/json");
    x->hdrs = curl_slist_append(x->hdrs, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, xf_read);
    curl_easy_setopt(e, CURLOPT_READDATA, x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, xf_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    return e;
}

static void added_transfer_pauses_and_resumes_its_upload(void **state)
{
    fx_t f = {0};
    start_server(&f);
    xfer_fx_t x = {.f = &f,
                   .reply = MINIK_BUF_INIT,
                   .body = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
                           "\"metadata\":{\"name\":\"streamed\"},\"data\":{\"k\":\"v\"}}"};
    x.x = minik_client_uv_add(f.u, xf_easy(&x), xf_done, &x);
    assert_non_null(x.x);
    assert_int_equal(minik_client_uv_active(f.u), 1);
    uv_timer_init(&f.loop, &x.t);
    x.t.data = &x;
    uv_timer_start(&x.t, xf_release, 200, 0);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    assert_true(x.pauses >= 1); /* it waited for the body */
    assert_int_equal(x.done_calls, 1);
    assert_int_equal(x.curl_code, 0);
    assert_int_equal(x.status, 201);
    assert_non_null(strstr(x.reply.data, "\"streamed\""));
    curl_slist_free_all(x.hdrs);
    minik_buf_free(&x.reply);
    finish_fixture(&f);
}

static void added_transfer_can_be_cancelled(void **state)
{
    fx_t f = {0};
    start_server(&f);
    xfer_fx_t x = {.f = &f, .reply = MINIK_BUF_INIT, .body = "{}"};
    x.x = minik_client_uv_add(f.u, xf_easy(&x), xf_done, &x);
    assert_non_null(x.x);
    uv_timer_init(&f.loop, &x.t);
    x.t.data = &x;
    uv_timer_start(&x.t, xf_cancel, 200, 0);
    uv_run(&f.loop, UV_RUN_DEFAULT);
    assert_int_equal(x.done_calls, 0); /* cancelled: no done callback */
    curl_slist_free_all(x.hdrs);
    minik_buf_free(&x.reply);
    finish_fixture(&f);
}

int main(void)
{
    /* The server half writes to sockets the client half may have closed; like `minik
     * server`, this process takes EPIPE instead of dying of SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(watch_delivers_events_and_stops),
        cmocka_unit_test(watch_with_a_bad_token_fails_with_401),
        cmocka_unit_test(watch_can_be_cancelled),
        cmocka_unit_test(unreachable_server_fails_with_the_url),
        cmocka_unit_test(requests_run_on_the_loop),
        cmocka_unit_test(closing_cancels_requests_in_flight),
        cmocka_unit_test(many_requests_wait_their_turn),
        cmocka_unit_test(added_transfer_pauses_and_resumes_its_upload),
        cmocka_unit_test(added_transfer_can_be_cancelled),
    };
    return cmocka_run_group_tests_name("client_uv", tests, NULL, NULL);
}
