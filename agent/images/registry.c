/* A client for the OCI distribution API on libcurl: /v2/ ping, the anonymous or
 * credentialed bearer-token flow that a 401's WWW-Authenticate starts, HTTP basic auth,
 * manifests, and blobs fetched concurrently on one curl multi handle straight into the
 * blob store (hashed as they arrive, renamed into place only when the digest matches).
 *
 * Requests that fail in a way that may pass (connection errors, 429, 5xx) are retried
 * with exponential backoff. Everything here blocks; see images.h. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "lib/lazy_curl.h"

#include "agent/images/internal.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/version.h"
#include "lib/xalloc.h"

#define MAX_ATTEMPTS    4
#define BACKOFF_BASE_MS 250
#define MANIFEST_MAX    (4 * 1024 * 1024)
#define TOKEN_MAX       (1024 * 1024)
#define PARALLEL_BLOBS  4
#define SMALL_BLOB      (4 * 1024 * 1024)
#define MANIFEST_ACCEPT                                                                            \
    "Accept: " MINIK_MT_OCI_INDEX ", " MINIK_MT_OCI_MANIFEST ", " MINIK_MT_DOCKER_LIST             \
    ", " MINIK_MT_DOCKER_MANIFEST

struct minik_registry {
    char *domain;
    char *path;
    char *base; /* "https://host:port" */
    minik_registry_cred_t *cred;
    char *token; /* bearer token once obtained */
    bool basic;  /* the registry asked for HTTP basic auth */
    bool pinged;
    CURL *easy; /* reused for the sequential requests, keeps the connection */
};

typedef struct response {
    minik_buf_t body;
    size_t max;
    bool too_big;
    char *content_type;
    char *www_auth;
    long status;
} response_t;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static bool host_is_loopback(const char *domain)
{
    cleanup_free char *host = NULL;
    if (domain[0] == '[') {
        host = xstrndup(domain + 1, strcspn(domain + 1, "]"));
    } else {
        host = xstrndup(domain, strcspn(domain, ":"));
    }
    return strcmp(host, "localhost") == 0 || minik_str_has_prefix(host, "127.") ||
           strcmp(host, "::1") == 0;
}

static bool is_plain_http(const char *domain, char *const *list)
{
    if (host_is_loopback(domain))
        return true;
    for (size_t i = 0; list && list[i]; i++) {
        if (strcmp(list[i], domain) == 0)
            return true;
        /* "host" in the list covers every port of that host. */
        size_t n = strlen(list[i]);
        if (!strchr(list[i], ':') && strncmp(domain, list[i], n) == 0 && domain[n] == ':')
            return true;
    }
    return false;
}

void minik_registry_free(minik_registry_t *r)
{
    if (!r)
        return;
    free(r->domain);
    free(r->path);
    free(r->base);
    minik_registry_cred_free(r->cred);
    free(r->token);
    if (r->easy)
        curl_easy_cleanup(r->easy);
    free(r);
}

int minik_registry_new(const minik_image_ref_t *ref, const char *creds_json,
                       char *const *plain_http, minik_registry_t **out, minik_error_t **err)
{
    pthread_once(&curl_once, curl_init_once);
    minik_registry_t *r = xcalloc(1, sizeof(*r));
    r->domain = xstrdup(ref->domain);
    r->path = xstrdup(ref->path);
    r->base = xasprintf("%s://%s", is_plain_http(ref->domain, plain_http) ? "http" : "https",
                        minik_image_ref_endpoint(ref));
    int ret = minik_registry_auth_lookup(creds_json, ref->domain, &r->cred, err);
    if (ret < 0) {
        minik_registry_free(r);
        return ret;
    }
    if (r->cred && r->cred->registry_token)
        r->token = xstrdup(r->cred->registry_token);
    r->easy = curl_easy_init();
    *out = r;
    return 0;
}

static size_t body_cb(char *data, size_t sz, size_t n, void *ud)
{
    response_t *resp = ud;
    size_t len = sz * n;
    if (resp->body.len + len > resp->max) {
        resp->too_big = true;
        return 0;
    }
    minik_buf_append(&resp->body, data, len);
    return len;
}

static size_t header_cb(char *data, size_t sz, size_t n, void *ud)
{
    response_t *resp = ud;
    size_t len = sz * n;
    /* A new status line (redirect, 100-continue) starts a new set of headers. */
    if (len > 5 && strncmp(data, "HTTP/", 5) == 0) {
        free(resp->content_type);
        free(resp->www_auth);
        resp->content_type = resp->www_auth = NULL;
        return len;
    }
    const char *colon = memchr(data, ':', len);
    if (!colon)
        return len;
    size_t klen = (size_t)(colon - data);
    cleanup_free char *raw = xstrndup(colon + 1, len - klen - 1);
    if (klen == 12 && strncasecmp(data, "Content-Type", 12) == 0) {
        free(resp->content_type);
        resp->content_type = minik_str_trim(raw);
    } else if (klen == 16 && strncasecmp(data, "WWW-Authenticate", 16) == 0 && !resp->www_auth) {
        resp->www_auth = minik_str_trim(raw);
    }
    return len;
}

static void response_clear(response_t *resp)
{
    minik_buf_free(&resp->body);
    free(resp->content_type);
    free(resp->www_auth);
    size_t max = resp->max;
    memset(resp, 0, sizeof(*resp));
    resp->max = max;
}

static bool curl_retryable(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_COULDNT_RESOLVE_HOST:
        return true;
    default:
        return false;
    }
}

static bool status_retryable(long s)
{
    return s == 429 || s == 408 || (s >= 500 && s <= 599);
}

static void common_opts(CURL *h)
{
    char ua[64]; /* curl copies option strings */
    snprintf(ua, sizeof(ua), "minik/%s", minik_version());
    curl_easy_setopt(h, CURLOPT_USERAGENT, ua);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
    /* A stalled transfer (under 1 byte/s for 60 s) fails and is retried. */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
}

/* Authorization for requests to the registry itself. Owned list, or NULL. */
static struct curl_slist *auth_headers(minik_registry_t *r, CURL *h, struct curl_slist *l)
{
    if (r->token) {
        cleanup_free char *hdr = xasprintf("Authorization: Bearer %s", r->token);
        l = curl_slist_append(l, hdr);
    } else if (r->basic && r->cred && r->cred->username) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, r->cred->username);
        curl_easy_setopt(h, CURLOPT_PASSWORD, r->cred->password);
    }
    return l;
}

/* One GET with retries. `use_auth` adds the registry's credentials; `basic_user` (token
 * server requests) sends the user's credentials as basic auth instead. */
static int http_get(minik_registry_t *r, const char *url, const char *accept, bool use_auth,
                    bool basic_user, response_t *resp, minik_error_t **err)
{
    CURL *h = r->easy;
    for (int attempt = 1;; attempt++) {
        response_clear(resp);
        curl_easy_reset(h);
        common_opts(h);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_cb);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
        char errbuf[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        struct curl_slist *hdrs = NULL;
        if (accept)
            hdrs = curl_slist_append(hdrs, accept);
        if (use_auth)
            hdrs = auth_headers(r, h, hdrs);
        if (basic_user && r->cred && r->cred->username) {
            curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
            curl_easy_setopt(h, CURLOPT_USERNAME, r->cred->username);
            curl_easy_setopt(h, CURLOPT_PASSWORD, r->cred->password);
        }
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        CURLcode c = curl_easy_perform(h);
        curl_slist_free_all(hdrs);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
        if (c == CURLE_WRITE_ERROR && resp->too_big)
            return minik_error_set(err, 0, "GET %s: response larger than %zu bytes", url,
                                   resp->max);
        bool retry = c != CURLE_OK ? curl_retryable(c) : status_retryable(resp->status);
        if (retry && attempt < MAX_ATTEMPTS) {
            uint64_t delay = (uint64_t)BACKOFF_BASE_MS << (attempt - 1);
            minik_log_warn("registry request failed, retrying", "url", url, "error",
                           c != CURLE_OK ? (errbuf[0] ? errbuf : curl_easy_strerror(c)) : "status",
                           NULL);
            sleep_ms(delay);
            continue;
        }
        if (c != CURLE_OK)
            return minik_error_set(err, 0, "GET %s: %s", url,
                                   errbuf[0] ? errbuf : curl_easy_strerror(c));
        return 0;
    }
}

static int get_token(minik_registry_t *r, const minik_registry_auth_challenge_t *ch,
                     minik_error_t **err)
{
    cleanup_free char *scope =
        ch->scope ? xstrdup(ch->scope) : xasprintf("repository:%s:pull", r->path);
    CURL *h = r->easy;
    char *es = curl_easy_escape(h, scope, 0);
    char *esvc = ch->service ? curl_easy_escape(h, ch->service, 0) : NULL;
    cleanup_free char *url =
        xasprintf("%s%sscope=%s%s%s", ch->realm, strchr(ch->realm, '?') ? "&" : "?", es,
                  esvc ? "&service=" : "", esvc ? esvc : "");
    curl_free(es);
    curl_free(esvc);
    if (!minik_str_has_prefix(url, "https://") && !minik_str_has_prefix(url, "http://"))
        return minik_error_set(err, 0, "registry %s: token realm \"%.200s\" is not an HTTP URL",
                               r->domain, ch->realm);
    response_t resp = {.max = TOKEN_MAX};
    int ret = http_get(r, url, NULL, false, true, &resp, err);
    if (ret == 0 && (resp.status == 401 || resp.status == 403))
        ret = minik_error_set_code(err, (int)resp.status, 0,
                                   "registry %s: authentication failed: the token server "
                                   "rejected %s (HTTP %ld)",
                                   r->domain, r->cred ? "the credentials" : "anonymous access",
                                   resp.status);
    else if (ret == 0 && resp.status != 200)
        ret = minik_error_set_code(err, (int)resp.status, 0,
                                   "registry %s: token server answered HTTP %ld", r->domain,
                                   resp.status);
    if (ret == 0) {
        cleanup_cjson cJSON *j = cJSON_Parse(resp.body.data ? resp.body.data : "");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "token");
        if (!cJSON_IsString(t) || !*t->valuestring)
            t = cJSON_GetObjectItemCaseSensitive(j, "access_token");
        if (!cJSON_IsString(t) || !*t->valuestring)
            ret = minik_error_set(err, 0, "registry %s: token server sent no token", r->domain);
        else {
            free(r->token);
            r->token = xstrdup(t->valuestring);
        }
    }
    response_clear(&resp);
    return ret;
}

/* React to a 401: set up basic auth or fetch a bearer token. */
static int authenticate(minik_registry_t *r, const char *www_auth, minik_error_t **err)
{
    if (!www_auth)
        return minik_error_set_code(
            err, 401, 0, "registry %s: unauthorized, and no WWW-Authenticate challenge", r->domain);
    minik_registry_auth_challenge_t *ch = NULL;
    int ret = minik_registry_auth_parse_challenge(www_auth, &ch, err);
    if (ret < 0)
        return minik_error_wrap(err, "registry %s", r->domain);
    if (strcmp(ch->scheme, "basic") == 0) {
        if (!r->cred || !r->cred->username)
            ret = minik_error_set_code(err, 401, 0,
                                       "registry %s requires a login: no credentials for it "
                                       "(pass a docker config.json with --creds-file)",
                                       r->domain);
        else
            r->basic = true;
    } else if (strcmp(ch->scheme, "bearer") == 0) {
        ret = get_token(r, ch, err);
    } else {
        ret = minik_error_set(err, 0, "registry %s: unsupported auth scheme \"%s\"", r->domain,
                              ch->scheme);
    }
    minik_registry_auth_challenge_free(ch);
    return ret;
}

static int ping(minik_registry_t *r, minik_error_t **err)
{
    if (r->pinged)
        return 0;
    cleanup_free char *url = xasprintf("%s/v2/", r->base);
    response_t resp = {.max = 64 * 1024};
    int ret = http_get(r, url, NULL, false, false, &resp, err);
    if (ret == 0 && resp.status == 401 && !r->token)
        ret = authenticate(r, resp.www_auth, err);
    else if (ret == 0 && resp.status != 200 && resp.status != 401)
        ret = minik_error_set_code(err, (int)resp.status, 0,
                                   "registry %s: GET /v2/ answered HTTP %ld (not a registry?)",
                                   r->domain, resp.status);
    response_clear(&resp);
    if (ret == 0)
        r->pinged = true;
    return ret;
}

/* GET on the registry with its auth; a 401 re-authenticates once. */
static int registry_get(minik_registry_t *r, const char *url, const char *accept, response_t *resp,
                        minik_error_t **err)
{
    int ret = ping(r, err);
    if (ret < 0)
        return ret;
    for (int i = 0;; i++) {
        ret = http_get(r, url, accept, true, false, resp, err);
        if (ret < 0 || resp->status != 401)
            return ret;
        if (i == 1 || (r->basic && !r->token)) {
            if (!r->cred)
                return minik_error_set_code(err, 401, 0,
                                            "registry %s: authentication failed: %s needs a "
                                            "login (HTTP 401); pass credentials with "
                                            "--creds-file",
                                            r->domain, r->path);
            return minik_error_set_code(err, 401, 0,
                                        "registry %s: authentication failed: credentials "
                                        "rejected (HTTP 401)",
                                        r->domain);
        }
        cleanup_free char *wa = resp->www_auth ? xstrdup(resp->www_auth) : NULL;
        ret = authenticate(r, wa, err);
        if (ret < 0)
            return ret;
    }
}

int minik_registry_get_manifest(minik_registry_t *r, const char *reference, char **body,
                                size_t *len, char **content_type, char **digest,
                                minik_error_t **err)
{
    cleanup_free char *url = xasprintf("%s/v2/%s/manifests/%s", r->base, r->path, reference);
    response_t resp = {.max = MANIFEST_MAX};
    int ret = registry_get(r, url, MANIFEST_ACCEPT, &resp, err);
    if (ret == 0 && resp.status == 404)
        ret = minik_error_set_code(
            err, 404, 0, "manifest %s/%s%s%s not found in registry", r->domain, r->path,
            minik_str_has_prefix(reference, "sha256:") ? "@" : ":", reference);
    else if (ret == 0 && resp.status == 403)
        ret = minik_error_set_code(err, 403, 0, "registry %s: access to %s denied (HTTP 403)",
                                   r->domain, r->path);
    else if (ret == 0 && resp.status != 200)
        ret = minik_error_set_code(err, (int)resp.status, 0,
                                   "registry %s: GET manifest %s answered HTTP %ld", r->domain,
                                   reference, resp.status);
    if (ret == 0) {
        size_t n = resp.body.len;
        char *d = minik_image_digest_of(resp.body.data ? resp.body.data : "", n);
        if (minik_str_has_prefix(reference, "sha256:") && strcmp(d, reference) != 0) {
            ret = minik_error_set(err, 0,
                                  "manifest %s from %s: digest mismatch (content hashes to %s)",
                                  reference, r->domain, d);
            free(d);
        } else {
            *digest = d;
            *len = n;
            *content_type = resp.content_type ? xstrdup(resp.content_type) : NULL;
            *body = minik_buf_steal(&resp.body);
        }
    }
    response_clear(&resp);
    return ret;
}

/* ---- blobs over curl multi ----------------------------------------------------------- */

typedef struct xfer {
    minik_registry_t *r;
    const minik_image_descriptor_t *d;
    minik_image_blob_writer_t *w;
    CURL *h;
    struct curl_slist *hdrs;
    int lockfd;
    int attempts;
    uint64_t not_before;
    bool active, finished;
    bool bad_status;
    minik_error_t *werr; /* error raised inside the write callback */
    char errbuf[CURL_ERROR_SIZE];
    minik_pull_progress_fn progress;
    void *progress_data;
} xfer_t;

static size_t blob_write_cb(char *data, size_t sz, size_t n, void *ud)
{
    xfer_t *x = ud;
    long status = 0;
    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        x->bad_status = true;
        return sz * n; /* an error page: read and discard, never store */
    }
    if (minik_image_blob_writer_write(x->w, data, sz * n, &x->werr) < 0)
        return 0;
    return sz * n;
}

static int blob_progress_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ut,
                            curl_off_t un)
{
    xfer_t *x = ud;
    if (x->progress)
        x->progress(x->progress_data, x->d->digest, minik_image_blob_writer_size(x->w), x->d->size,
                    false);
    return 0;
}

static void xfer_setup(xfer_t *x)
{
    minik_registry_t *r = x->r;
    if (!x->h)
        x->h = curl_easy_init();
    else
        curl_easy_reset(x->h);
    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
    CURL *h = x->h;
    common_opts(h);
    cleanup_free char *url = xasprintf("%s/v2/%s/blobs/%s", r->base, r->path, x->d->digest);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, blob_write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_PRIVATE, x);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, blob_progress_cb);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
    x->hdrs = auth_headers(r, h, NULL);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hdrs);
    x->errbuf[0] = '\0';
    x->bad_status = false;
}

static void xfer_clear(xfer_t *x)
{
    if (x->h)
        curl_easy_cleanup(x->h);
    curl_slist_free_all(x->hdrs);
    minik_image_blob_writer_free(x->w);
    minik_error_free(x->werr);
    if (x->lockfd >= 0)
        close(x->lockfd);
    memset(x, 0, sizeof(*x));
    x->lockfd = -1;
}

/* Handle a finished transfer: 0 done, 1 to retry, < 0 failed. */
static int xfer_done(xfer_t *x, CURLcode c, minik_error_t **err)
{
    long status = 0;
    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    const char *dg = x->d->digest;
    if (x->werr) {
        return minik_error_set(err, 0, "blob %s: %s", dg, x->werr->msg);
    }
    if (c == CURLE_OK && status == 200) {
        int ret = minik_image_blob_writer_commit(x->w, NULL, err);
        if (ret < 0)
            return minik_error_wrap(err, "blob %s from %s", dg, x->r->domain);
        if (x->progress)
            x->progress(x->progress_data, dg, x->d->size, x->d->size, true);
        return 0;
    }
    if (c == CURLE_OK && status == 401 && x->attempts < MAX_ATTEMPTS) {
        /* The token expired mid-pull: get a new one and go again. */
        free(x->r->token);
        x->r->token = NULL;
        x->r->pinged = false;
        int ret = ping(x->r, err);
        return ret < 0 ? ret : 1;
    }
    bool retry = c != CURLE_OK ? curl_retryable(c) : status_retryable(status);
    if (retry && x->attempts < MAX_ATTEMPTS) {
        minik_log_warn("blob download failed, retrying", "digest", dg, "error",
                       c != CURLE_OK ? (x->errbuf[0] ? x->errbuf : curl_easy_strerror(c))
                                     : "HTTP error status",
                       NULL);
        return 1;
    }
    if (c != CURLE_OK)
        return minik_error_set(err, 0, "blob %s from %s: %s", dg, x->r->domain,
                               x->errbuf[0] ? x->errbuf : curl_easy_strerror(c));
    if (status == 404)
        return minik_error_set_code(err, 404, 0, "blob %s not found in registry %s", dg,
                                    x->r->domain);
    return minik_error_set_code(err, (int)status, 0, "blob %s from %s: HTTP %ld", dg, x->r->domain,
                                status);
}

/* Download every xfer (each holding its blob lock) concurrently. */
static int run_multi(xfer_t *xs, size_t n, const char *blobs_dir, minik_error_t **err)
{
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)PARALLEL_BLOBS);
    size_t left = n;
    int ret = 0;
    for (size_t i = 0; i < n; i++) {
        ret = minik_image_blob_writer_new(blobs_dir, xs[i].d->digest, xs[i].d->size, &xs[i].w, err);
        if (ret < 0)
            goto out;
    }
    while (left > 0) {
        uint64_t now = now_ms(), wait = 1000;
        for (size_t i = 0; i < n; i++) {
            xfer_t *x = &xs[i];
            if (x->finished || x->active)
                continue;
            if (x->not_before > now) {
                if (x->not_before - now < wait)
                    wait = x->not_before - now;
                continue;
            }
            x->attempts++;
            xfer_setup(x);
            curl_multi_add_handle(m, x->h);
            x->active = true;
        }
        int running = 0;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int q;
        while ((msg = curl_multi_info_read(m, &q))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            xfer_t *x = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            CURLcode c = msg->data.result;
            curl_multi_remove_handle(m, x->h);
            x->active = false;
            int r = xfer_done(x, c, err);
            if (r < 0) {
                ret = r;
                goto out;
            }
            if (r == 1) {
                ret = minik_image_blob_writer_reset(x->w, err);
                if (ret < 0)
                    goto out;
                x->not_before = now_ms() + ((uint64_t)BACKOFF_BASE_MS << (x->attempts - 1));
                continue;
            }
            x->finished = true;
            left--;
        }
        if (left > 0)
            curl_multi_poll(m, NULL, 0, (int)(wait > 1000 ? 1000 : wait), NULL);
    }
out:
    for (size_t i = 0; i < n; i++)
        if (xs[i].active)
            curl_multi_remove_handle(m, xs[i].h);
    curl_multi_cleanup(m);
    return ret;
}

int minik_registry_fetch_blobs(minik_registry_t *r, const char *blobs_dir,
                               const minik_image_descriptor_t *const *descs, size_t n,
                               minik_pull_progress_fn progress, void *progress_data,
                               minik_error_t **err)
{
    cleanup_free char *locks = xasprintf("%s/locks", blobs_dir);
    int ret = minik_mkdir_p(locks, 0700, err);
    if (ret < 0)
        return ret;
    ret = ping(r, err);
    if (ret < 0)
        return ret;
    xfer_t *mine = xcalloc(n + 1, sizeof(*mine));
    const minik_image_descriptor_t **busy = xcalloc(n + 1, sizeof(*busy));
    size_t n_mine = 0, n_busy = 0;
    for (size_t i = 0; i < n; i++) {
        const minik_image_descriptor_t *d = descs[i];
        bool dup = false;
        for (size_t k = 0; k < i; k++)
            dup |= strcmp(descs[k]->digest, d->digest) == 0;
        if (dup)
            continue;
        /* Small blobs (configs) are cheap to check again; big layers are trusted once
         * stored, and what containers use is their verified unpacked form anyway. */
        if (d->size <= SMALL_BLOB ? minik_image_blob_intact(blobs_dir, d->digest, SMALL_BLOB + 1)
                                  : minik_image_blob_exists(blobs_dir, d->digest))
            continue;
        int fd = -1;
        ret = minik_images_lock_take(locks, d->digest + 7, LOCK_EX | LOCK_NB, &fd, err);
        if (ret < 0)
            goto out;
        if (fd < 0) {
            busy[n_busy++] = d; /* another pull is fetching it: wait for that one below */
            continue;
        }
        if (minik_image_blob_exists(blobs_dir, d->digest)) {
            close(fd);
            continue;
        }
        mine[n_mine] = (xfer_t){
            .r = r, .d = d, .lockfd = fd, .progress = progress, .progress_data = progress_data};
        n_mine++;
    }
    ret = run_multi(mine, n_mine, blobs_dir, err);
    for (size_t i = 0; i < n_mine; i++)
        xfer_clear(&mine[i]);
    n_mine = 0;
    if (ret < 0)
        goto out;
    /* Blobs someone else was fetching: wait for their lock; fetch only if they failed. */
    for (size_t i = 0; i < n_busy; i++) {
        const minik_image_descriptor_t *d = busy[i];
        int fd = -1;
        ret = minik_images_lock_take(locks, d->digest + 7, LOCK_EX, &fd, err);
        if (ret < 0)
            goto out;
        if (minik_image_blob_exists(blobs_dir, d->digest)) {
            close(fd);
            if (progress)
                progress(progress_data, d->digest, d->size, d->size, true);
            continue;
        }
        mine[n_mine++] = (xfer_t){
            .r = r, .d = d, .lockfd = fd, .progress = progress, .progress_data = progress_data};
    }
    ret = run_multi(mine, n_mine, blobs_dir, err);
out:
    for (size_t i = 0; i < n_mine; i++)
        xfer_clear(&mine[i]);
    free(mine);
    free(busy);
    return ret;
}
