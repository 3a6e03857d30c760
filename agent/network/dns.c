/* Cluster DNS (see dns.h): the answer logic is a pure function over a name table; the
 * server around it is one libuv UDP socket plus one short-lived socket per forwarded
 * query. */
#include "agent/network/dns.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

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

uint8_t *minik_dns_fit_udp(const uint8_t *query, size_t qlen, uint8_t *reply, size_t *len)
{
    size_t limit = 512;
    ldns_pkt *q = NULL;
    if (ldns_wire2pkt(&q, query, qlen) == LDNS_STATUS_OK) {
        /* EDNS0 lets the client say it takes more (RFC 6891); never less than 512. */
        if (ldns_pkt_edns(q) && ldns_pkt_edns_udp_size(q) > limit)
            limit = ldns_pkt_edns_udp_size(q);
        ldns_pkt_free(q);
    }
    if (*len <= limit)
        return reply;
    /* Too big: the header and question with TC set, so the client asks again over TCP
     * (RFC 1035 4.2.1, RFC 7766). */
    ldns_pkt *r = NULL;
    if (ldns_wire2pkt(&r, reply, *len) != LDNS_STATUS_OK) {
        free(reply);
        *len = 0;
        return NULL;
    }
    free(reply);
    ldns_pkt *t = ldns_pkt_new();
    ldns_pkt_set_id(t, ldns_pkt_id(r));
    ldns_pkt_set_qr(t, true);
    ldns_pkt_set_opcode(t, ldns_pkt_get_opcode(r));
    ldns_pkt_set_aa(t, ldns_pkt_aa(r));
    ldns_pkt_set_rd(t, ldns_pkt_rd(r));
    ldns_pkt_set_ra(t, ldns_pkt_ra(r));
    ldns_pkt_set_rcode(t, ldns_pkt_get_rcode(r));
    ldns_pkt_set_tc(t, true);
    const ldns_rr_list *qs = ldns_pkt_question(r);
    for (size_t i = 0; i < ldns_rr_list_rr_count(qs); i++)
        ldns_pkt_push_rr(t, LDNS_SECTION_QUESTION, ldns_rr_clone(ldns_rr_list_rr(qs, i)));
    uint8_t *w = to_wire(t, len);
    ldns_pkt_free(t);
    ldns_pkt_free(r);
    if (!w)
        *len = 0;
    return w;
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

/* At most this many TCP clients at once, each closed after this long without a query: a
 * pod cannot pin the agent's descriptors. */
#define TCP_MAX_CONNS 64
#define TCP_IDLE_MS   10000

typedef struct tcp_conn tcp_conn_t;

struct minik_dns_server {
    uv_udp_t sock;
    uv_tcp_t listener;
    uv_loop_t *loop;
    const minik_dns_table_t *table;
    struct sockaddr_in upstream;
    bool has_upstream, stopping, sock_closed, listener_closed;
    int timeout_ms;
    int in_flight; /* forwards, sends and TCP connections that still point at us */
    int port;
    tcp_conn_t *conns;
    int n_conns;
    char buf[65536];
};

/* One DNS-over-TCP client: 2-byte length-prefixed messages both ways (RFC 1035 4.2.2). */
struct tcp_conn {
    uv_tcp_t h;
    uv_timer_t idle;
    minik_dns_server_t *srv;
    tcp_conn_t *prev, *next;
    uint8_t *buf;
    size_t len, cap;
    int open_handles;
    int refs; /* 1 while open, +1 per forward in flight */
    bool closing;
};

typedef struct {
    uv_write_t req;
    uint8_t *data;
} tcp_write_t;

typedef struct {
    uv_udp_send_t req;
    minik_dns_server_t *srv;
    uint8_t *data;
} send_t;

typedef struct {
    uv_udp_t up;
    uv_timer_t timer;
    minik_dns_server_t *srv;
    tcp_conn_t *conn; /* the TCP client to answer, or NULL: the UDP one in `client` */
    struct sockaddr_storage client;
    uint8_t *query;
    size_t len;
    int open_handles;
    bool done;
    char buf[65536];
} forward_t;

static void maybe_free_server(minik_dns_server_t *s)
{
    if (s->stopping && s->sock_closed && s->listener_closed && s->in_flight == 0)
        free(s);
}

static void tcp_send(tcp_conn_t *c, uint8_t *data, size_t len);
static void conn_unref(tcp_conn_t *c);

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
    if (f->conn)
        conn_unref(f->conn);
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
    if (reply && f->conn)
        tcp_send(f->conn, reply, len);
    else if (reply)
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

/* Ask the upstream (over UDP) for the UDP client `client` or the TCP client `conn`. */
static void forward(minik_dns_server_t *s, const struct sockaddr *client, tcp_conn_t *conn,
                    const uint8_t *q, size_t len)
{
    forward_t *f = xcalloc(1, sizeof(*f));
    f->srv = s;
    if (conn) {
        f->conn = conn;
        conn->refs++;
    } else {
        memcpy(&f->client, client,
               client->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                             : sizeof(struct sockaddr_in));
    }
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
        reply = minik_dns_fit_udp((const uint8_t *)b->base, (size_t)n, reply, &rlen);
        if (reply)
            send_to_client(s, from, reply, rlen);
        break;
    case MINIK_DNS_FORWARD:
        if (s->has_upstream) {
            forward(s, from, NULL, (const uint8_t *)b->base, (size_t)n);
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

/* ---- DNS over TCP ------------------------------------------------------------------- */

static void conn_unref(tcp_conn_t *c)
{
    if (--c->refs > 0)
        return;
    minik_dns_server_t *s = c->srv;
    free(c->buf);
    free(c);
    s->in_flight--;
    maybe_free_server(s);
}

static void conn_handle_closed(uv_handle_t *h)
{
    tcp_conn_t *c = h->data;
    if (--c->open_handles == 0)
        conn_unref(c);
}

static void conn_close(tcp_conn_t *c)
{
    if (c->closing)
        return;
    c->closing = true;
    minik_dns_server_t *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_conns--;
    uv_close((uv_handle_t *)&c->h, conn_handle_closed);
    uv_close((uv_handle_t *)&c->idle, conn_handle_closed);
}

static void tcp_write_done(uv_write_t *req, int status)
{
    tcp_write_t *w = (tcp_write_t *)req;
    free(w->data);
    free(w);
}

/* Send one message (takes ownership of data) with its length prefix. */
static void tcp_send(tcp_conn_t *c, uint8_t *data, size_t len)
{
    if (c->closing || len > 65535) {
        free(data);
        return;
    }
    tcp_write_t *w = xcalloc(1, sizeof(*w));
    w->data = xmalloc(len + 2);
    w->data[0] = (uint8_t)(len >> 8);
    w->data[1] = (uint8_t)(len & 0xff);
    memcpy(w->data + 2, data, len);
    free(data);
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)(len + 2));
    if (uv_write(&w->req, (uv_stream_t *)&c->h, &b, 1, tcp_write_done) < 0) {
        free(w->data);
        free(w);
        conn_close(c);
    }
}

static void tcp_query(tcp_conn_t *c, const uint8_t *q, size_t len)
{
    minik_dns_server_t *s = c->srv;
    uint8_t *reply = NULL;
    size_t rlen = 0;
    switch (minik_dns_answer(s->table, q, len, &reply, &rlen)) {
    case MINIK_DNS_REPLY:
        tcp_send(c, reply, rlen);
        break;
    case MINIK_DNS_FORWARD:
        /* Asked upstream over UDP: an answer the upstream truncates stays truncated. */
        if (s->has_upstream) {
            forward(s, NULL, c, q, len);
        } else {
            uint8_t *fail = minik_dns_servfail(q, len, &rlen);
            if (fail)
                tcp_send(c, fail, rlen);
        }
        break;
    case MINIK_DNS_DROP:
        conn_close(c); /* not DNS: nothing more to expect from this client */
        break;
    }
}

static void conn_idle(uv_timer_t *t)
{
    conn_close(t->data);
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    tcp_conn_t *c = h->data;
    if (c->cap - c->len < 4096) {
        /* One message is at most 2 + 65535 bytes; a client may send the next early. */
        c->cap = c->cap ? c->cap * 2 : 4096;
        if (c->cap > 2 * 65537)
            c->cap = 2 * 65537;
        c->buf = xrealloc(c->buf, c->cap);
    }
    *b = uv_buf_init((char *)c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void conn_read(uv_stream_t *h, ssize_t n, const uv_buf_t *b)
{
    tcp_conn_t *c = h->data;
    if (n < 0 || c->closing) {
        conn_close(c);
        return;
    }
    c->len += (size_t)n;
    uv_timer_start(&c->idle, conn_idle, TCP_IDLE_MS, 0);
    size_t off = 0;
    while (!c->closing && c->len - off >= 2) {
        size_t mlen = ((size_t)c->buf[off] << 8) | c->buf[off + 1];
        if (c->len - off - 2 < mlen)
            break;
        tcp_query(c, c->buf + off + 2, mlen);
        off += 2 + mlen;
    }
    if (c->closing)
        return;
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
    if (c->len == c->cap) /* cannot happen with the caps above; never spin on a full buffer */
        conn_close(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    minik_dns_server_t *s = server->data;
    if (status < 0 || s->stopping)
        return;
    tcp_conn_t *c = xcalloc(1, sizeof(*c));
    c->srv = s;
    c->refs = 1;
    c->open_handles = 2;
    uv_tcp_init(s->loop, &c->h);
    uv_timer_init(s->loop, &c->idle);
    c->h.data = c->idle.data = c;
    s->in_flight++;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    if (uv_accept(server, (uv_stream_t *)&c->h) < 0 || s->n_conns > TCP_MAX_CONNS ||
        uv_read_start((uv_stream_t *)&c->h, conn_alloc, conn_read) < 0) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->idle, conn_idle, TCP_IDLE_MS, 0);
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

static void listener_closed(uv_handle_t *h)
{
    minik_dns_server_t *s = h->data;
    s->listener_closed = true;
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
    uv_tcp_init(loop, &s->listener);
    s->sock.data = s->listener.data = s;
    int r = uv_udp_bind(&s->sock, (const struct sockaddr *)&bind_addr, 0);
    if (r == 0)
        r = uv_udp_recv_start(&s->sock, srv_alloc, srv_recv);
    const char *what = "bind";
    struct sockaddr_in got;
    int glen = sizeof(got);
    if (r == 0) {
        s->port = uv_udp_getsockname(&s->sock, (struct sockaddr *)&got, &glen) == 0
                      ? ntohs(got.sin_port)
                      : ntohs(bind_addr.sin_port);
        /* TCP on the same address and port, for answers too big for UDP. */
        bind_addr.sin_port = htons((uint16_t)s->port);
        what = "bind TCP";
        r = uv_tcp_bind(&s->listener, (const struct sockaddr *)&bind_addr, 0);
        if (r == 0)
            r = uv_listen((uv_stream_t *)&s->listener, 16, on_connection);
    }
    if (r < 0) {
        s->stopping = true;
        uv_close((uv_handle_t *)&s->sock, sock_closed);
        uv_close((uv_handle_t *)&s->listener, listener_closed);
        return minik_error_set(err, -r, "dns: %s %s:%d", what, o->listen ? o->listen : "",
                               ntohs(bind_addr.sin_port));
    }
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
    uv_close((uv_handle_t *)&s->listener, listener_closed);
    while (s->conns)
        conn_close(s->conns);
}
