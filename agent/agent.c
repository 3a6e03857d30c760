/* The agent's lifecycle: options, the handles it owns, start and shutdown. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lazy_openssl.h"

#include "agent/internal.h"
#include "apiserver/pki.h"
#include "agent/network/dns.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

static char **strv_dup(char *const *v)
{
    size_t n = minik_strv_len(v);
    char **out = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        out[i] = xstrdup(v[i]);
    return out;
}

static void copy_config(minik_client_config_t *dst, const minik_client_config_t *src)
{
    *dst = (minik_client_config_t){0};
    dst->server = src->server ? xstrdup(src->server) : NULL;
    if (src->ca_pem) {
        dst->ca_pem = xmalloc(src->ca_pem_len + 1);
        memcpy(dst->ca_pem, src->ca_pem, src->ca_pem_len);
        dst->ca_pem[src->ca_pem_len] = '\0';
        dst->ca_pem_len = src->ca_pem_len;
    }
    dst->token = src->token ? xstrdup(src->token) : NULL;
    dst->insecure_skip_tls_verify = src->insecure_skip_tls_verify;
    dst->timeout_ms = src->timeout_ms ? src->timeout_ms : 30000;
}

static void agent_free(minik_agent_t *a)
{
    while (a->pods) {
        agent_pod_t *p = a->pods;
        a->pods = p->next;
        minik_agent_pod_free(p);
    }
    minik_client_free(a->client);
    minik_client_config_clear(&a->ccfg);
    minik_images_close(a->images);
    pthread_mutex_destroy(&a->images_lock);
    pthread_mutex_destroy(&a->stage_lock);
    free(a->node_name);
    free(a->data_dir);
    free(a->node_ip);
    free(a->oci_root);
    free(a->pods_dir);
    free(a->pod_cidr);
    free(a->cni_dir);
    minik_agent_net_free(a);
    free(a->cluster_cidr);
    free(a->service_cidr);
    free(a->dns_listen);
    free(a->dns_upstream);
    free(a->pods_rv);
    free(a->endpoint_token);
    free(a->hollow_control);
    free(a->endpoint_pin);
    SSL_CTX_free(a->endpoint_tls);
    minik_strv_free(a->labels);
    minik_strv_free(a->taints);
    free(a);
}

static void register_later(uv_timer_t *t)
{
    minik_agent_node_register(t->data);
}

int minik_agent_start(uv_loop_t *loop, const minik_agent_opts_t *opts, minik_agent_t **out,
                      minik_error_t **err)
{
    for (char *const *l = opts->labels; l && *l; l++)
        if (!strchr(*l, '=') || **l == '=')
            return minik_error_set(err, EINVAL, "--labels: \"%s\": expected KEY=VALUE", *l);
    for (char *const *t = opts->taints; t && *t; t++) {
        cJSON *tj = NULL;
        if (minik_agent_parse_taint(*t, &tj, err) < 0)
            return minik_error_wrap(err, "--taints");
        cJSON_Delete(tj);
    }
    if (opts->pod_network && !minik_str_eq(opts->pod_network, "cni") &&
        !minik_str_eq(opts->pod_network, "none"))
        return minik_error_set(err, EINVAL, "--pod-network \"%s\": expected cni or none",
                               opts->pod_network);
    if (!opts->client || !opts->client->server)
        return minik_error_set(err, EINVAL, "no API server URL (--server)");
    minik_agent_t *a = xcalloc(1, sizeof(*a));
    a->loop = loop;
    pthread_mutex_init(&a->images_lock, NULL);
    pthread_mutex_init(&a->stage_lock, NULL);
    char host[256] = "localhost";
    gethostname(host, sizeof(host) - 1);
    a->node_name = xstrdup(opts->node_name && *opts->node_name ? opts->node_name : host);
    for (char *p = a->node_name; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32); /* node names are DNS names: lower case */
    a->data_dir = xstrdup(opts->data_dir ? opts->data_dir : "/var/lib/minik/agent");
    a->node_ip = xstrdup(opts->node_ip ? opts->node_ip : "127.0.0.1");
    a->oci_root = xasprintf("%s/oci", a->data_dir);
    a->pods_dir = xasprintf("%s/pods", a->data_dir);
    a->cni_dir = xasprintf("%s/cni", a->data_dir);
    a->pod_network_none = minik_str_eq(opts->pod_network, "none");
    a->cluster_cidr = xstrdup(opts->cluster_cidr ? opts->cluster_cidr : "10.42.0.0/16");
    a->service_cidr = xstrdup(opts->service_cidr ? opts->service_cidr : "10.43.0.0/16");
    a->masquerade_outbound = opts->masquerade_outbound;
    a->dns_listen = opts->dns_listen && *opts->dns_listen ? xstrdup(opts->dns_listen) : NULL;
    a->dns_upstream =
        opts->dns_upstream && *opts->dns_upstream ? xstrdup(opts->dns_upstream) : NULL;
    a->dns_port = opts->dns_port;
    a->dns_table = minik_dns_table_new(NULL);
    a->labels = strv_dup(opts->labels);
    a->taints = strv_dup(opts->taints);
    a->heartbeat_ms = opts->heartbeat_ms ? opts->heartbeat_ms : 1000;
    a->sync_ms = opts->sync_ms ? opts->sync_ms : 1000;
    a->backoff_base_ms = opts->backoff_base_ms ? opts->backoff_base_ms : 10000;
    a->port = opts->port;
    a->hollow = opts->hollow;
    a->hollow_control = opts->hollow && opts->hollow_control ? xstrdup(opts->hollow_control) : NULL;
    unsigned char rnd[24];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        agent_free(a);
        return minik_error_set(err, EIO, "no random bytes for the agent endpoint token");
    }
    minik_buf_t tok = MINIK_BUF_INIT;
    for (size_t i = 0; i < sizeof(rnd); i++)
        minik_buf_appendf(&tok, "%02x", rnd[i]);
    a->endpoint_token = minik_buf_steal(&tok);
    copy_config(&a->ccfg, opts->client);
    if ((!a->hollow &&
         (minik_mkdir_p(a->pods_dir, 0700, err) < 0 || minik_mkdir_p(a->oci_root, 0700, err) < 0 ||
          minik_images_open(a->data_dir, &a->images, err) < 0)) ||
        minik_client_new(&a->ccfg, &a->client, err) < 0) {
        agent_free(a);
        return -1;
    }
    if (a->hollow && opts->shared_cuv) {
        a->cuv = opts->shared_cuv;
        a->cuv_borrowed = true;
    } else if (minik_client_uv_new(loop, &a->cuv, err) < 0) {
        agent_free(a);
        return -1;
    }
    /* TLS for the endpoint: a key made now, pinned by the API server through the
     * heartbeats. A hollow node runs nothing, so it has no logs or exec to serve (and
     * 5,000 of them would hold 5,000 listening sockets): no endpoint at all. */
    if (!a->hollow &&
        minik_pki_self_signed_ctx(a->node_name, &a->endpoint_tls, &a->endpoint_pin, err) < 0) {
        minik_client_uv_close(a->cuv, NULL, NULL);
        agent_free(a);
        return -1;
    }
    if (!a->hollow && minik_agent_http_start(a, err) < 0) {
        minik_client_uv_close(a->cuv, NULL, NULL);
        agent_free(a);
        return -1;
    }
    uv_timer_init(loop, &a->heartbeat_timer);
    uv_timer_init(loop, &a->sync_timer);
    uv_timer_init(loop, &a->retry_timer);
    a->heartbeat_timer.data = a->sync_timer.data = a->retry_timer.data = a;
    a->handles_open = 3;
    if (!a->hollow) {
        minik_agent_adopt(a);
        minik_agent_net_recover(a);
    }
    uv_timer_start(&a->sync_timer, minik_agent_sync_tick, a->sync_ms, a->sync_ms);
    if (opts->start_delay_ms)
        uv_timer_start(&a->retry_timer, register_later, opts->start_delay_ms, 0);
    else
        minik_agent_node_register(a);
    char port[16];
    snprintf(port, sizeof(port), "%d", a->port);
    minik_log_info("agent started", "node", a->node_name, "data_dir", a->data_dir, "endpoint_port",
                   port, NULL);
    *out = a;
    return 0;
}

void minik_agent_log_busy(minik_agent_t *a)
{
    for (agent_pod_t *p = a->pods; p; p = p->next) {
        if (!p->busy)
            continue;
        char stage[sizeof(p->stage)];
        pthread_mutex_lock(&a->stage_lock);
        memcpy(stage, p->stage, sizeof(stage));
        pthread_mutex_unlock(&a->stage_lock);
        minik_log_warn("pod job still running", "pod", p->name, "stage", stage, NULL);
    }
}

void minik_agent_maybe_done(minik_agent_t *a)
{
    if (a->handles_open > 0 || a->jobs > 0 || a->cuv || a->http)
        return;
    void (*done)(void *) = a->done;
    void *ud = a->done_ud;
    agent_free(a);
    if (done)
        done(ud);
}

static void handle_closed(uv_handle_t *h)
{
    minik_agent_t *a = h->data;
    a->handles_open--;
    minik_agent_maybe_done(a);
}

static void cuv_closed(void *ud)
{
    minik_agent_t *a = ud;
    a->cuv = NULL;
    minik_agent_maybe_done(a);
}

void minik_agent_client_closed(minik_agent_t *a)
{
    if (a && a->cuv_borrowed)
        cuv_closed(a);
}

static void http_closed(void *ud)
{
    minik_agent_t *a = ud;
    a->http = NULL;
    minik_agent_maybe_done(a);
}

void minik_agent_shutdown(minik_agent_t *a, void (*done)(void *ud), void *ud)
{
    if (!a)
        return;
    /* Atomic: pod jobs in the pool read it to cut their work short. */
    __atomic_store_n(&a->stopping, true, __ATOMIC_RELAXED);
    a->done = NULL;
    a->done_ud = NULL;
    if (a->watch)
        minik_client_uv_watch_cancel(a->watch);
    minik_agent_net_stop(a);
    uv_close((uv_handle_t *)&a->heartbeat_timer, handle_closed);
    uv_close((uv_handle_t *)&a->sync_timer, handle_closed);
    uv_close((uv_handle_t *)&a->retry_timer, handle_closed);
    if (a->http)
        minik_http_server_shutdown(a->http, http_closed, a);
    if (!a->cuv_borrowed)
        minik_client_uv_close(a->cuv, cuv_closed, a);
    /* Jobs in flight finish in the pool; their after-work callbacks see `stopping`. */
    a->done = done;
    a->done_ud = ud;
    minik_log_info("agent stopping; containers keep running", NULL);
}
