/* Lifecycle of the API server: first-start set-up (store, default namespace, TLS
 * material, admin token and admin.conf), listening, and graceful shutdown. */
#include "apiserver/apiserver.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "apiserver/internal.h"
#include "apiserver/pki.h"
#include "apiserver/tls.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/client_uv.h"
#include "proto/jointoken.h"

bool minik_apiserver_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return false;
}

static int ensure_default_namespace(minik_store_t *store, minik_error_t **err)
{
    cleanup_cjson cJSON *ns = cJSON_CreateObject();
    cJSON_AddStringToObject(ns, "apiVersion", "v1");
    cJSON_AddStringToObject(ns, "kind", "Namespace");
    cJSON *md = cJSON_AddObjectToObject(ns, "metadata");
    cJSON_AddStringToObject(md, "name", "default");
    cJSON_AddNumberToObject(md, "generation", 1);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(ns, "status"), "phase", "Active");
    minik_error_t *e = NULL;
    int r = minik_store_create(store, ns, NULL, &e);
    if (r < 0 && e->code == 409) {
        minik_error_free(e);
        return 0;
    }
    if (r < 0) {
        *err = e;
        return minik_error_wrap(err, "create the default namespace");
    }
    minik_log_info("created namespace", "name", "default", NULL);
    return 0;
}

/* The token in an admin.conf we wrote earlier ("    token: <t>" line), or NULL. */
static char *read_admin_token(const char *path)
{
    cleanup_free char *data = NULL;
    size_t len;
    cleanup_error minik_error_t *err = NULL;
    if (minik_file_read(path, 1 << 20, &data, &len, &err) < 0)
        return NULL;
    const char *p = strstr(data, "\n    token: ");
    if (!p)
        return NULL;
    p += strlen("\n    token: ");
    size_t n = strcspn(p, "\r\n");
    return xstrndup(p, n);
}

static char *base64(const char *data, size_t len)
{
    char *out = xmalloc(4 * ((len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
    return out;
}

static int write_admin_conf(minik_apiserver_t *s, const char *ca_path, minik_error_t **err)
{
    cleanup_free char *path = xasprintf("%s/admin.conf", s->data_dir);
    cleanup_free char *token = read_admin_token(path);
    if (token) {
        /* Keep the admin's credentials across restarts if they are still valid. */
        cleanup_free char *hdr = xasprintf("Bearer %s", token);
        minik_identity_t id;
        cleanup_error minik_error_t *aerr = NULL;
        if (minik_auth_authenticate(s->auth, hdr, &id, &aerr) < 0 || id.role != MINIK_ROLE_ADMIN) {
            free(token);
            token = NULL;
        }
    }
    if (!token) {
        int r = minik_auth_create(s->auth, MINIK_ROLE_ADMIN, &token, err);
        if (r < 0)
            return r;
        minik_log_info("created admin token", "kubeconfig", path, NULL);
    }
    cleanup_buf minik_buf_t out = MINIK_BUF_INIT;
    minik_buf_appendf(&out,
                      "apiVersion: v1\nkind: Config\nclusters:\n- name: minik\n  cluster:\n"
                      "    server: %s\n",
                      s->server_url);
    if (ca_path) {
        cleanup_free char *ca = NULL;
        size_t ca_len = 0;
        int r = minik_file_read(ca_path, 1 << 20, &ca, &ca_len, err);
        if (r < 0)
            return r;
        cleanup_free char *b64 = base64(ca, ca_len);
        minik_buf_appendf(&out, "    certificate-authority-data: %s\n", b64);
    }
    minik_buf_appendf(&out,
                      "users:\n- name: minik-admin\n  user:\n    token: %s\n"
                      "contexts:\n- name: minik\n  context:\n    cluster: minik\n"
                      "    user: minik-admin\n    namespace: default\n"
                      "current-context: minik\npreferences: {}\n",
                      token);
    return minik_file_write_atomic(path, out.data, out.len, 0600, err);
}

char **minik_apiserver_cert_names(const minik_apiserver_options_t *opts)
{
    size_t n = 0, cap = 16;
    char **v = xcalloc(cap, sizeof(char *));
#define PUSH(x)                                                                                    \
    do {                                                                                           \
        if (n + 2 > cap) {                                                                         \
            cap *= 2;                                                                              \
            v = xrealloc(v, cap * sizeof(char *));                                                 \
        }                                                                                          \
        v[n++] = xstrdup(x);                                                                       \
        v[n] = NULL;                                                                               \
    } while (0)
    for (size_t i = 0; opts->tls_sans && opts->tls_sans[i]; i++)
        PUSH(opts->tls_sans[i]);
    bool wildcard = strcmp(opts->host, "0.0.0.0") == 0 || strcmp(opts->host, "::") == 0;
    if (!wildcard) {
        PUSH(opts->host);
    } else {
        struct ifaddrs *ifs = NULL;
        if (getifaddrs(&ifs) == 0) {
            for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
                if (!i->ifa_addr ||
                    (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
                    continue;
                char buf[INET6_ADDRSTRLEN];
                const void *a =
                    i->ifa_addr->sa_family == AF_INET
                        ? (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
                        : (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
                if (i->ifa_addr->sa_family == AF_INET6 &&
                    IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr))
                    continue; /* scoped addresses cannot be certificate names */
                if (inet_ntop(i->ifa_addr->sa_family, a, buf, sizeof(buf)))
                    PUSH(buf);
            }
            freeifaddrs(ifs);
        }
    }
#undef PUSH
    return v;
}

static void server_free(minik_apiserver_t *s)
{
    minik_api_agents_free(s);
    minik_netalloc_free(s->netalloc);
    minik_auth_free(s->auth);
    free(s->ca_pem);
    minik_store_free(s->store);
    minik_metrics_free(s->metrics);
    SSL_CTX_free(s->tls);
    free(s->data_dir);
    free(s->server_url);
    minik_buf_free(&s->event_cache);
    free(s);
}

/* The allocator keeps no state of its own: replay what the stored Nodes and Services
 * hold. */
static int netalloc_start(minik_apiserver_t *s, const minik_apiserver_options_t *opts,
                          minik_error_t **err)
{
    minik_netalloc_opts_t no = {.cluster_cidr = opts->cluster_cidr,
                                .service_cidr = opts->service_cidr};
    if (minik_netalloc_new(&no, &s->netalloc, err) < 0)
        return -1;
    static const char *const kinds[] = {"Node", "Service"};
    for (size_t k = 0; k < 2; k++) {
        cJSON *items = NULL;
        if (minik_store_list(s->store, kinds[k], NULL, NULL, NULL, &items, NULL, err) < 0)
            return -1;
        const cJSON *it;
        cJSON_ArrayForEach(it, items)
        {
            minik_netalloc_observe(s->netalloc, it);
        }
        cJSON_Delete(items);
    }
    return 0;
}

int minik_apiserver_start(uv_loop_t *loop, const minik_apiserver_options_t *opts,
                          minik_apiserver_t **out, minik_error_t **err)
{
    if (opts->insecure_http && !minik_apiserver_is_loopback(opts->host))
        return minik_error_set(err, EINVAL,
                               "--insecure-http is only allowed on a loopback address, not %s",
                               opts->host);
    int r = minik_mkdir_p(opts->data_dir, 0700, err);
    if (r < 0)
        return r;
    minik_apiserver_t *s = xcalloc(1, sizeof(*s));
    s->loop = loop;
    s->data_dir = xstrdup(opts->data_dir);
    s->metrics = minik_metrics_new();
    cleanup_free char *db = xasprintf("%s/state.db", opts->data_dir);
    minik_pki_paths_t pki = {0};
    minik_store_options_t sopts = {.event_retention = opts->event_retention};
    if ((r = minik_store_open(db, opts->event_retention > 0 ? &sopts : NULL, &s->store, err)) < 0 ||
        (r = minik_store_attach_loop(s->store, loop, err)) < 0 ||
        (r = ensure_default_namespace(s->store, err)) < 0 ||
        (r = minik_auth_new(s->store, &s->auth, err)) < 0 || (r = netalloc_start(s, opts, err)) < 0)
        goto fail;
    if (!opts->insecure_http) {
        cleanup_strv char **sans = minik_apiserver_cert_names(opts);
        if ((r = minik_pki_ensure(opts->data_dir, sans, &pki, err)) < 0 ||
            (r = minik_tls_server_ctx_new(pki.server_cert, pki.server_key, &s->tls, err)) < 0 ||
            (r = minik_file_read(pki.ca_cert, 1 << 20, &s->ca_pem, &s->ca_pem_len, err)) < 0)
            goto fail;
        minik_join_ca_hash(s->ca_pem, s->ca_pem_len, s->ca_hash);
    }
    minik_http_server_options_t hopts = {
        .host = opts->host,
        .port = opts->port,
        .tls = s->tls,
        .idle_ms = opts->idle_ms,
        .header_ms = opts->header_ms,
        .body_ms = opts->body_ms,
        .on_request = minik_api_on_request,
        .on_response = minik_api_on_response,
        .stream_body = minik_api_stream_body,
        .ud = s,
    };
    if ((r = minik_http_server_start(loop, &hopts, &s->http, err)) < 0)
        goto fail;
    const char *host = opts->host;
    if (strcmp(host, "0.0.0.0") == 0)
        host = "127.0.0.1";
    else if (strcmp(host, "::") == 0)
        host = "::1";
    bool v6 = strchr(host, ':') != NULL;
    s->server_url = xasprintf("%s://%s%s%s:%d", s->tls ? "https" : "http", v6 ? "[" : "", host,
                              v6 ? "]" : "", minik_http_server_port(s->http));
    if ((r = write_admin_conf(s, s->tls ? pki.ca_cert : NULL, err)) < 0) {
        minik_http_server_shutdown(s->http, NULL, NULL);
        s->http = NULL;
        goto fail;
    }
    minik_pki_paths_free(&pki);
    *out = s;
    return 0;
fail:
    minik_pki_paths_free(&pki);
    server_free(s);
    return r;
}

minik_store_t *minik_apiserver_store(minik_apiserver_t *s)
{
    return s->store;
}

int minik_apiserver_port(const minik_apiserver_t *s)
{
    return minik_http_server_port(s->http);
}

const char *minik_apiserver_url(const minik_apiserver_t *s)
{
    return s->server_url;
}

static void store_closed(void *ud)
{
    minik_apiserver_t *s = ud;
    void (*done)(void *) = s->done;
    void *done_ud = s->done_ud;
    server_free(s);
    if (done)
        done(done_ud);
}

static void close_store(void *ud)
{
    minik_apiserver_t *s = ud;
    s->cuv = NULL;
    s->store_closing = true;
    minik_store_close_async(s->store, store_closed, s);
}

static void http_done(void *ud)
{
    minik_apiserver_t *s = ud;
    s->http = NULL;
    if (s->cuv)
        minik_client_uv_close(s->cuv, close_store, s);
    else
        close_store(s);
}

void minik_apiserver_shutdown(minik_apiserver_t *s, void (*done)(void *ud), void *ud)
{
    if (s->shutting_down)
        return;
    s->shutting_down = true;
    s->done = done;
    s->done_ud = ud;
    minik_api_watch_end_all(s);
    minik_api_proxy_end_all(s);
    minik_http_server_shutdown(s->http, http_done, s);
}

void minik_apiserver_set_heartbeat_fn(minik_apiserver_t *s, void (*fn)(const char *node, void *ud),
                                      void *ud)
{
    s->heartbeat_fn = fn;
    s->heartbeat_ud = ud;
}
