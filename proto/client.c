#include "proto/client.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/client_internal.h"

/* Replies larger than this are refused: no API object or list we serve comes close, and a
 * broken or hostile server must not make the CLI allocate without bound. */
#define MAX_RESPONSE_BYTES (256u * 1024 * 1024)

struct minik_client {
    CURL *easy; /* reused across requests for keep-alive */
    char *server;
    char *ca_pem;
    size_t ca_pem_len;
    bool insecure;
    long timeout_ms;
    long watch_timeout_ms;            /* 0: none */
    struct curl_slist *auth_headers;  /* "Authorization: Bearer ..." (or NULL) */
    struct curl_slist *watch_headers; /* auth + Accept, for watch handles */
};

void minik_client_config_clear(minik_client_config_t *cfg)
{
    if (!cfg)
        return;
    free(cfg->server);
    if (cfg->token)
        memset(cfg->token, 0, strlen(cfg->token));
    free(cfg->token);
    free(cfg->ca_pem);
    free(cfg->namespace);
    free(cfg->source);
    memset(cfg, 0, sizeof *cfg);
}

static void global_init_once(void)
{
    static bool done;
    if (!done) {
        /* Not thread-safe by curl's contract; the CLI and agent call it from main's thread
         * before any other thread exists. */
        curl_global_init(CURL_GLOBAL_DEFAULT);
        done = true;
    }
}

int minik_client_new(const minik_client_config_t *cfg, minik_client_t **out, minik_error_t **err)
{
    if (!cfg->server || !*cfg->server)
        return minik_error_set(err, EINVAL, "no server URL in the client configuration");
    if (!minik_str_has_prefix(cfg->server, "https://") &&
        !minik_str_has_prefix(cfg->server, "http://"))
        return minik_error_set(err, 0, "server URL \"%s\": must start with https:// or http://",
                               cfg->server);
    /* The token goes into a header line: a CR or LF in it would smuggle in other headers. */
    for (const char *p = cfg->token; p && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return minik_error_set(err, 0, "the bearer token%s%s contains control characters",
                                   cfg->source ? " from " : "", cfg->source ? cfg->source : "");
    global_init_once();
    minik_client_t *c = xcalloc(1, sizeof *c);
    c->easy = curl_easy_init();
    if (!c->easy) {
        free(c);
        return minik_error_set(err, ENOMEM, "curl_easy_init");
    }
    c->server = xstrdup(cfg->server);
    size_t n = strlen(c->server);
    while (n > 0 && c->server[n - 1] == '/')
        c->server[--n] = '\0';
    if (cfg->ca_pem && cfg->ca_pem_len) {
        c->ca_pem = xmalloc(cfg->ca_pem_len);
        memcpy(c->ca_pem, cfg->ca_pem, cfg->ca_pem_len);
        c->ca_pem_len = cfg->ca_pem_len;
    }
    c->insecure = cfg->insecure_skip_tls_verify;
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 60000;
    if (cfg->token && *cfg->token) {
        cleanup_free char *h = xasprintf("Authorization: Bearer %s", cfg->token);
        c->auth_headers = curl_slist_append(NULL, h);
        memset(h, 0, strlen(h));
    }
    for (struct curl_slist *h = c->auth_headers; h; h = h->next)
        c->watch_headers = curl_slist_append(c->watch_headers, h->data);
    c->watch_headers = curl_slist_append(c->watch_headers, "Accept: application/json");
    *out = c;
    return 0;
}

void minik_client_free(minik_client_t *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->easy);
    curl_slist_free_all(c->auth_headers);
    curl_slist_free_all(c->watch_headers);
    free(c->server);
    free(c->ca_pem);
    free(c);
}

void minik_cleanup_clientp(minik_client_t **c)
{
    minik_client_free(*c);
}

void minik_client_set_watch_timeout(minik_client_t *c, long timeout_ms)
{
    c->watch_timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
}

const char *minik_client_server(const minik_client_t *c)
{
    return c->server;
}

void minik_client_response_clear(minik_client_response_t *r)
{
    if (!r)
        return;
    free(r->body);
    free(r->content_type);
    memset(r, 0, sizeof *r);
}

/* ---- transfer plumbing ------------------------------------------------------------------ */

typedef struct sink {
    minik_buf_t buf;
    bool too_big;
} sink_t;

static size_t sink_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    sink_t *s = ud;
    size_t n = size * nmemb;
    if (s->buf.len + n > MAX_RESPONSE_BYTES) {
        s->too_big = true;
        return 0; /* makes curl abort with CURLE_WRITE_ERROR */
    }
    minik_buf_append(&s->buf, ptr, n);
    return n;
}

/* Apply the per-client settings (URL, TLS, auth) to an easy handle. */
static void setup_easy(minik_client_t *c, CURL *e, const char *path, char *errbuf)
{
    cleanup_free char *url = xasprintf("%s%s", c->server, path);
    curl_easy_setopt(e, CURLOPT_URL, url);
    if (errbuf)
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "minik");
    /* A debugging aid: curl's own trace of the connection, TLS and headers on stderr. */
    if (getenv("MINIK_CURL_VERBOSE"))
        curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    if (c->ca_pem) {
        struct curl_blob blob = {.data = c->ca_pem, .len = c->ca_pem_len, .flags = CURL_BLOB_COPY};
        curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
        /* Trust only the cluster CA, not also the system's directory of public CAs. */
        curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    }
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
}

int minik_client_unreachable(const minik_client_t *c, void *easy, int rc, const char *errbuf,
                             minik_error_t **err)
{
    long oserr = 0;
    curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &oserr);
    const char *why = oserr > 0           ? strerror((int)oserr)
                      : errbuf && *errbuf ? errbuf
                                          : curl_easy_strerror((CURLcode)rc);
    return minik_error_set(err, 0, "cannot reach the minik server at %s: %s", c->server, why);
}

/* A message for a transfer that produced no HTTP response. */
static int transport_error(minik_client_t *c, CURL *e, CURLcode rc, const char *errbuf,
                           minik_error_t **err)
{
    const char *why = errbuf && *errbuf ? errbuf : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
        return minik_client_unreachable(c, e, rc, errbuf, err);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
        return minik_error_set(err, 0,
                               "cannot verify the minik server at %s against the configured "
                               "CA: %s",
                               c->server, why);
    default:
        return minik_error_set(err, 0, "request to the minik server at %s failed: %s", c->server,
                               why);
    }
}

void *minik_client_watch_easy_setup(minik_client_t *c, const char *path, char *errbuf)
{
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    setup_easy(c, e, path, errbuf);
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->watch_headers);
    if (c->watch_timeout_ms)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->watch_timeout_ms);
    return e;
}

void *minik_client_request_easy_setup(minik_client_t *c, const char *path, char *errbuf)
{
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    setup_easy(c, e, path, errbuf);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    return e;
}

void *minik_client_stream_easy(minik_client_t *c, const char *path, void **headers)
{
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    setup_easy(c, e, path, NULL);
    struct curl_slist *h = NULL;
    for (struct curl_slist *a = c->auth_headers; a; a = a->next)
        h = curl_slist_append(h, a->data);
    *headers = h;
    return e;
}

const void *minik_client_base_headers(const minik_client_t *c)
{
    return c->watch_headers;
}

int minik_client_request(minik_client_t *c, const char *method, const char *path,
                         const char *content_type, const char *body, size_t body_len,
                         minik_client_response_t *resp, minik_error_t **err)
{
    CURL *e = c->easy;
    char errbuf[CURL_ERROR_SIZE] = "";
    /* Reset per-request options but keep the connection cache. */
    curl_easy_reset(e);
    setup_easy(c, e, path, errbuf);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);

    struct curl_slist *headers = NULL;
    for (struct curl_slist *h = c->auth_headers; h; h = h->next)
        headers = curl_slist_append(headers, h->data);
    headers = curl_slist_append(headers, "Accept: application/json");
    cleanup_free char *ct = NULL;
    if (body) {
        ct = xasprintf("Content-Type: %s", content_type ? content_type : "application/json");
        headers = curl_slist_append(headers, ct);
    }
    /* No "Expect: 100-continue" round trip for bodies over 1 KiB. */
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);

    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        if (body) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        }
    }
    sink_t s = {MINIK_BUF_INIT, false};
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);

    CURLcode rc = curl_easy_perform(e);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        minik_buf_free(&s.buf);
        if (s.too_big)
            return minik_error_set(err, EFBIG, "reply from %s%s is larger than %u bytes", c->server,
                                   path, MAX_RESPONSE_BYTES);
        return transport_error(c, e, rc, errbuf, err);
    }
    memset(resp, 0, sizeof *resp);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
    char *ctype = NULL;
    curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ctype);
    resp->content_type = ctype ? xstrdup(ctype) : NULL;
    resp->body_len = s.buf.len;
    resp->body = minik_buf_steal(&s.buf);
    return 0;
}

char *minik_client_status_message(long status, const char *body, size_t len)
{
    if (body && len) {
        cleanup_cjson cJSON *j = cJSON_ParseWithLength(body, len);
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "message");
        if (cJSON_IsString(msg) && msg->valuestring[0])
            return xstrdup(msg->valuestring);
        if (!j) {
            cleanup_free char *raw = xstrndup(body, len > 512 ? 512 : len);
            cleanup_free char *t = minik_str_trim(raw);
            if (*t)
                return steal_pointer(&t);
        }
    }
    return xasprintf("HTTP %ld", status);
}

int minik_client_http_error(long status, const char *body, size_t len, minik_error_t **err)
{
    cleanup_free char *msg = minik_client_status_message(status, body, len);
    if (status == 401) {
        /* kubectl's wording, then the server's reason without a repeated prefix. */
        const char *why = msg;
        if (minik_str_has_prefix(why, "Unauthorized: "))
            why += strlen("Unauthorized: ");
        return minik_error_set_code(err, 401, 0,
                                    "You must be logged in to the server (Unauthorized): %s", why);
    }
    return minik_error_set_code(err, (int)status, 0, "%s", msg);
}

int minik_client_json(minik_client_t *c, const char *method, const char *path,
                      const char *content_type, const cJSON *body, cJSON **out, minik_error_t **err)
{
    cleanup_free char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    minik_client_response_t r = {0};
    int ret =
        minik_client_request(c, method, path, content_type, text, text ? strlen(text) : 0, &r, err);
    if (ret < 0)
        return ret;
    if (r.status >= 400 || r.status < 200) {
        int ret = minik_client_http_error(r.status, r.body, r.body_len, err);
        minik_client_response_clear(&r);
        return ret;
    }
    if (out) {
        *out = NULL;
        if (r.body_len) {
            *out = cJSON_ParseWithLength(r.body, r.body_len);
            if (!*out) {
                minik_client_response_clear(&r);
                return minik_error_set(err, 0, "%s %s: the server's reply is not valid JSON",
                                       method, path);
            }
        }
    }
    minik_client_response_clear(&r);
    return 0;
}

/* ---- paths ------------------------------------------------------------------------------ */

char *minik_client_escape(const char *s)
{
    minik_buf_t b = MINIK_BUF_INIT;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~')
            minik_buf_append_char(&b, (char)*p);
        else
            minik_buf_appendf(&b, "%%%02X", *p);
    }
    return minik_buf_steal(&b);
}

char *minik_client_path(const char *api_version, const char *plural, bool namespaced,
                        const char *ns, const char *name, const char *subresource,
                        const char *query)
{
    minik_buf_t b = MINIK_BUF_INIT;
    if (strchr(api_version, '/'))
        minik_buf_appendf(&b, "/apis/%s", api_version);
    else
        minik_buf_appendf(&b, "/api/%s", api_version);
    if (namespaced && ns) {
        cleanup_free char *e = minik_client_escape(ns);
        minik_buf_appendf(&b, "/namespaces/%s", e);
    }
    minik_buf_appendf(&b, "/%s", plural);
    if (name) {
        cleanup_free char *e = minik_client_escape(name);
        minik_buf_appendf(&b, "/%s", e);
        if (subresource)
            minik_buf_appendf(&b, "/%s", subresource);
    }
    if (query && *query)
        minik_buf_appendf(&b, "?%s", query);
    return minik_buf_steal(&b);
}
