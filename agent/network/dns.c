/* Cluster DNS (see dns.h): the answer logic is a pure function over a name table; the
 * server around it is one libuv UDP socket plus one short-lived socket per forwarded
 * query. */
#include "agent/network/dns.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lazy_ldns.h"

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* ---- the name table ------------------------------------------------------------------- */

typedef struct {
    char *name;    /* lower case, fully qualified, trailing dot */
    uint32_t *ips; /* network order */
    size_t n_ips;
} record_t;

struct minik_dns_table {
    char *domain; /* "cluster.local." */
    record_t *recs;
    size_t n_recs;
};

minik_dns_table_t *minik_dns_table_new(const char *domain)
{
    minik_dns_table_t *t = xcalloc(1, sizeof(*t));
    t->domain = xasprintf("%s.", domain ? domain : "cluster.local");
    for (char *p = t->domain; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return t;
}

static void table_clear(minik_dns_table_t *t)
{
    for (size_t i = 0; i < t->n_recs; i++) {
        free(t->recs[i].name);
        free(t->recs[i].ips);
    }
    free(t->recs);
    t->recs = NULL;
    t->n_recs = 0;
}

void minik_dns_table_free(minik_dns_table_t *t)
{
    if (!t)
        return;
    table_clear(t);
    free(t->domain);
    free(t);
}

static const char *jstr(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static void add_ip(record_t *r, const char *ip)
{
    struct in_addr a;
    if (!ip || inet_pton(AF_INET, ip, &a) != 1)
        return;
    for (size_t i = 0; i < r->n_ips; i++)
        if (r->ips[i] == a.s_addr)
            return;
    r->ips = xrealloc(r->ips, (r->n_ips + 1) * sizeof(*r->ips));
    r->ips[r->n_ips++] = a.s_addr;
}

void minik_dns_table_load(minik_dns_table_t *t, const cJSON *services, const cJSON *endpoints)
{
    table_clear(t);
    const cJSON *svc;
    cJSON_ArrayForEach(svc, services)
    {
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(svc, "metadata");
        const char *name = jstr(md, "name");
        const char *ns = jstr(md, "namespace") ? jstr(md, "namespace") : "default";
        const char *cip = jstr(cJSON_GetObjectItemCaseSensitive(svc, "spec"), "clusterIP");
        if (!name || !*name)
            continue;
        record_t r = {xasprintf("%s.%s.svc.%s", name, ns, t->domain), NULL, 0};
        for (char *p = r.name; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (cip && strcmp(cip, "None") != 0) {
            add_ip(&r, cip);
        } else {
            /* Headless: the Ready pods themselves. */
            const cJSON *ep;
            cJSON_ArrayForEach(ep, endpoints)
            {
                const cJSON *emd = cJSON_GetObjectItemCaseSensitive(ep, "metadata");
                const char *ens = jstr(emd, "namespace") ? jstr(emd, "namespace") : "default";
                if (!minik_str_eq(jstr(emd, "name"), name) || strcmp(ens, ns) != 0)
                    continue;
                const cJSON *ss, *a;
                cJSON_ArrayForEach(ss, cJSON_GetObjectItemCaseSensitive(ep, "subsets"))
                {
                    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(ss, "addresses"))
                    {
                        add_ip(&r, jstr(a, "ip"));
                    }
                }
            }
        }
        t->recs = xrealloc(t->recs, (t->n_recs + 1) * sizeof(*t->recs));
        t->recs[t->n_recs++] = r;
    }
}

static const record_t *lookup(const minik_dns_table_t *t, const char *name)
{
    for (size_t i = 0; i < t->n_recs; i++)
        if (strcmp(t->recs[i].name, name) == 0)
            return &t->recs[i];
    return NULL;
}

/* ---- answering ------------------------------------------------------------------------ */

static uint8_t *to_wire(ldns_pkt *p, size_t *len)
{
    uint8_t *wire = NULL;
    if (ldns_pkt2wire(&wire, p, len) != LDNS_STATUS_OK)
        return NULL;
    /* ldns allocates with its own malloc (LDNS_XMALLOC = malloc): free() is right. */
    return wire;
}

static ldns_pkt *reply_to(const ldns_pkt *q, ldns_pkt_rcode rcode)
{
    ldns_pkt *r = ldns_pkt_new();
    ldns_pkt_set_id(r, ldns_pkt_id(q));
    ldns_pkt_set_qr(r, true);
    ldns_pkt_set_opcode(r, LDNS_PACKET_QUERY);
    ldns_pkt_set_rd(r, ldns_pkt_rd(q));
    ldns_pkt_set_ra(r, true);
    ldns_pkt_set_rcode(r, rcode);
    const ldns_rr_list *qs = ldns_pkt_question(q);
    for (size_t i = 0; i < ldns_rr_list_rr_count(qs); i++)
        ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, ldns_rr_clone(ldns_rr_list_rr(qs, i)));
    return r;
}

uint8_t *minik_dns_servfail(const uint8_t *query, size_t len, size_t *reply_len)
{
    ldns_pkt *q = NULL;
    if (ldns_wire2pkt(&q, query, len) != LDNS_STATUS_OK)
        return NULL;
    ldns_pkt *r = reply_to(q, LDNS_RCODE_SERVFAIL);
    uint8_t *w = to_wire(r, reply_len);
    ldns_pkt_free(r);
    ldns_pkt_free(q);
    return w;
}

minik_dns_verdict_t minik_dns_answer(const minik_dns_table_t *t, const uint8_t *query, size_t len,
                                     uint8_t **reply, size_t *reply_len)
{
    *reply = NULL;
    *reply_len = 0;
    ldns_pkt *q = NULL;
    if (len < 12 || ldns_wire2pkt(&q, query, len) != LDNS_STATUS_OK)
        return MINIK_DNS_DROP;
    minik_dns_verdict_t v = MINIK_DNS_REPLY;
    ldns_pkt *r = NULL;
    const ldns_rr_list *qs = ldns_pkt_question(q);
    if (ldns_pkt_qr(q)) {
        v = MINIK_DNS_DROP; /* a response sent to us: never answer it (no loops) */
    } else if (ldns_pkt_get_opcode(q) != LDNS_PACKET_QUERY || ldns_rr_list_rr_count(qs) != 1) {
        r = reply_to(q, ldns_pkt_get_opcode(q) != LDNS_PACKET_QUERY ? LDNS_RCODE_NOTIMPL
                                                                    : LDNS_RCODE_FORMERR);
    } else {
        const ldns_rr *qr = ldns_rr_list_rr(qs, 0);
        char *owner = ldns_rdf2str(ldns_rr_owner(qr));
        if (!owner) {
            r = reply_to(q, LDNS_RCODE_FORMERR);
        } else {
            for (char *p = owner; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            size_t ol = strlen(owner), dl = strlen(t->domain);
            bool in_domain =
                (ol == dl && strcmp(owner, t->domain) == 0) ||
                (ol > dl && owner[ol - dl - 1] == '.' && strcmp(owner + ol - dl, t->domain) == 0);
            if (!in_domain) {
                v = MINIK_DNS_FORWARD;
            } else {
                const record_t *rec = lookup(t, owner);
                r = reply_to(q, rec ? LDNS_RCODE_NOERROR : LDNS_RCODE_NXDOMAIN);
                ldns_pkt_set_aa(r, true);
                bool want_a = ldns_rr_get_type(qr) == LDNS_RR_TYPE_A ||
                              ldns_rr_get_type(qr) == LDNS_RR_TYPE_ANY;
                for (size_t i = 0;
                     rec && want_a && ldns_rr_get_class(qr) == LDNS_RR_CLASS_IN && i < rec->n_ips;
                     i++) {
                    ldns_rr *a = ldns_rr_new();
                    ldns_rr_set_type(a, LDNS_RR_TYPE_A);
                    ldns_rr_set_owner(a, ldns_rdf_clone(ldns_rr_owner(qr)));
                    ldns_rr_set_ttl(a, MINIK_DNS_TTL);
                    ldns_rr_set_class(a, LDNS_RR_CLASS_IN);
                    ldns_rr_push_rdf(a, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, &rec->ips[i]));
                    ldns_pkt_push_rr(r, LDNS_SECTION_ANSWER, a);
                }
            }
            free(owner);
        }
    }
    if (r) {
        *reply = to_wire(r, reply_len);
        if (!*reply)
            v = MINIK_DNS_DROP;
        ldns_pkt_free(r);
    }
    ldns_pkt_free(q);
    return v;
}

/* ---- files for pods ------------------------------------------------------------------- */

char *minik_dns_resolv_conf(const char *ns, const char *server, const char *domain)
{
    const char *d = domain ? domain : "cluster.local";
    return xasprintf("search %s.svc.%s svc.%s %s\nnameserver %s\noptions ndots:5\n", ns, d, d, d,
                     server);
}

char *minik_dns_hosts(const char *pod_ip, const char *hostname)
{
    return xasprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                     "%s\t%s\n",
                     pod_ip, hostname);
}

/* ---- the server ----------------------------------------------------------------------- */

struct minik_dns_server {
    uv_udp_t sock;
    uv_loop_t *loop;
    const minik_dns_table_t *table;
    struct sockaddr_in upstream;
    bool has_upstream, stopping, sock_closed;
    int timeout_ms;
    int in_flight; /* forwards and sends that still point at us */
    int port;
    char buf[65536];
};

typedef struct {
    uv_udp_send_t req;
    minik_dns_server_t *srv;
    uint8_t *data;
} send_t;

typedef struct {
    uv_udp_t up;
    uv_timer_t timer;
    minik_dns_server_t *srv;
    struct sockaddr_storage client;
    uint8_t *query;
    size_t len;
    int open_handles;
    bool done;
    char buf[65536];
} forward_t;

static void maybe_free_server(minik_dns_server_t *s)
{
    if (s->stopping && s->sock_closed && s->in_flight == 0)
        free(s);
}

static void send_done(uv_udp_send_t *req, int status)
{
    send_t *sd = (send_t *)req;
    minik_dns_server_t *s = sd->srv;
    free(sd->data);
    free(sd);
    s->in_flight--;
    maybe_free_server(s);
}

/* Takes ownership of data (freed with free()). */
static void send_to_client(minik_dns_server_t *s, const struct sockaddr *to, uint8_t *data,
                           size_t len)
{
    if (s->stopping) {
        free(data);
        return;
    }
    send_t *sd = xcalloc(1, sizeof(*sd));
    sd->srv = s;
    sd->data = data;
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    if (uv_udp_send(&sd->req, &s->sock, &b, 1, to, send_done) < 0) {
        free(data); /* the client retries */
        free(sd);
        return;
    }
    s->in_flight++;
}

static void forward_closed(uv_handle_t *h)
{
    forward_t *f = h->data;
    if (--f->open_handles > 0)
        return;
    minik_dns_server_t *s = f->srv;
    free(f->query);
    free(f);
    s->in_flight--;
    maybe_free_server(s);
}

static void forward_finish(forward_t *f, uint8_t *reply, size_t len)
{
    if (f->done) {
        free(reply);
        return;
    }
    f->done = true;
    if (reply)
        send_to_client(f->srv, (const struct sockaddr *)&f->client, reply, len);
    uv_udp_recv_stop(&f->up);
    uv_timer_stop(&f->timer);
    uv_close((uv_handle_t *)&f->up, forward_closed);
    uv_close((uv_handle_t *)&f->timer, forward_closed);
}

static void forward_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    forward_t *f = h->data;
    *b = uv_buf_init(f->buf, sizeof(f->buf));
}

static void forward_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
                         unsigned flags)
{
    forward_t *f = h->data;
    if (n <= 0 || !from)
        return;
    /* Only the upstream's answer to this very query counts (same id). */
    const struct sockaddr_in *in = (const struct sockaddr_in *)from;
    if (from->sa_family != AF_INET || in->sin_addr.s_addr != f->srv->upstream.sin_addr.s_addr ||
        n < 12 || memcmp(b->base, f->query, 2) != 0)
        return;
    uint8_t *copy = xmalloc((size_t)n);
    memcpy(copy, b->base, (size_t)n);
    forward_finish(f, copy, (size_t)n);
}

static void forward_timeout(uv_timer_t *t)
{
    forward_t *f = t->data;
    size_t len = 0;
    uint8_t *fail = minik_dns_servfail(f->query, f->len, &len);
    forward_finish(f, fail, len);
}

static void forward(minik_dns_server_t *s, const struct sockaddr *client, const uint8_t *q,
                    size_t len)
{
    forward_t *f = xcalloc(1, sizeof(*f));
    f->srv = s;
    memcpy(&f->client, client,
           client->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                         : sizeof(struct sockaddr_in));
    f->query = xmalloc(len);
    memcpy(f->query, q, len);
    f->len = len;
    f->up.data = f;
    f->timer.data = f;
    s->in_flight++;
    uv_udp_init(s->loop, &f->up);
    uv_timer_init(s->loop, &f->timer);
    f->open_handles = 2;
    uv_buf_t b = uv_buf_init((char *)f->query, (unsigned)len);
    if (uv_udp_try_send(&f->up, &b, 1, (const struct sockaddr *)&s->upstream) < 0 ||
        uv_udp_recv_start(&f->up, forward_alloc, forward_recv) < 0) {
        size_t flen = 0;
        uint8_t *fail = minik_dns_servfail(q, len, &flen);
        forward_finish(f, fail, flen);
        return;
    }
    uv_timer_start(&f->timer, forward_timeout, (uint64_t)s->timeout_ms, 0);
}

static void srv_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    minik_dns_server_t *s = h->data;
    *b = uv_buf_init(s->buf, sizeof(s->buf));
}

static void srv_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
                     unsigned flags)
{
    minik_dns_server_t *s = h->data;
    if (n <= 0 || !from || (flags & UV_UDP_PARTIAL))
        return;
    uint8_t *reply = NULL;
    size_t rlen = 0;
    switch (minik_dns_answer(s->table, (const uint8_t *)b->base, (size_t)n, &reply, &rlen)) {
    case MINIK_DNS_REPLY:
        send_to_client(s, from, reply, rlen);
        break;
    case MINIK_DNS_FORWARD:
        if (s->has_upstream) {
            forward(s, from, (const uint8_t *)b->base, (size_t)n);
        } else {
            uint8_t *fail = minik_dns_servfail((const uint8_t *)b->base, (size_t)n, &rlen);
            if (fail)
                send_to_client(s, from, fail, rlen);
        }
        break;
    case MINIK_DNS_DROP:
        break;
    }
}

static int parse_hostport(const char *s, int default_port, struct sockaddr_in *out,
                          minik_error_t **err)
{
    cleanup_free char *host = xstrdup(s);
    int port = default_port;
    char *colon = strchr(host, ':');
    if (colon) {
        *colon = 0;
        int64_t p = 0;
        if (minik_str_to_i64(colon + 1, 1, 65535, &p, "port", err) < 0)
            return minik_error_wrap(err, "address \"%s\"", s);
        port = (int)p;
    }
    memset(out, 0, sizeof(*out));
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &out->sin_addr) != 1)
        return minik_error_set(err, EINVAL, "address \"%s\": not an IPv4 address", s);
    return 0;
}

static void sock_closed(uv_handle_t *h)
{
    minik_dns_server_t *s = h->data;
    s->sock_closed = true;
    maybe_free_server(s);
}

int minik_dns_server_start(uv_loop_t *loop, const minik_dns_server_opts_t *o,
                           const minik_dns_table_t *table, minik_dns_server_t **out,
                           minik_error_t **err)
{
    *out = NULL;
    struct sockaddr_in bind_addr;
    if (parse_hostport(o->listen ? o->listen : "", o->port > 0 ? o->port : 53, &bind_addr, err) < 0)
        return minik_error_wrap(err, "dns listen");
    minik_dns_server_t *s = xcalloc(1, sizeof(*s));
    s->loop = loop;
    s->table = table;
    s->timeout_ms = o->forward_timeout_ms > 0 ? o->forward_timeout_ms : 2000;
    if (o->upstream && *o->upstream) {
        if (parse_hostport(o->upstream, 53, &s->upstream, err) < 0) {
            free(s);
            return minik_error_wrap(err, "dns upstream");
        }
        s->has_upstream = true;
    }
    uv_udp_init(loop, &s->sock);
    s->sock.data = s;
    int r = uv_udp_bind(&s->sock, (const struct sockaddr *)&bind_addr, 0);
    if (r == 0)
        r = uv_udp_recv_start(&s->sock, srv_alloc, srv_recv);
    if (r < 0) {
        s->stopping = true;
        uv_close((uv_handle_t *)&s->sock, sock_closed);
        return minik_error_set(err, -r, "dns: bind %s:%d", o->listen ? o->listen : "",
                               ntohs(bind_addr.sin_port));
    }
    struct sockaddr_in got;
    int glen = sizeof(got);
    s->port = uv_udp_getsockname(&s->sock, (struct sockaddr *)&got, &glen) == 0
                  ? ntohs(got.sin_port)
                  : ntohs(bind_addr.sin_port);
    *out = s;
    return 0;
}

int minik_dns_server_port(const minik_dns_server_t *s)
{
    return s->port;
}

void minik_dns_server_stop(minik_dns_server_t *s)
{
    if (!s)
        return;
    s->stopping = true;
    uv_close((uv_handle_t *)&s->sock, sock_closed);
}
