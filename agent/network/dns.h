/* Cluster DNS in the agent: answers <svc>.<ns>.svc.<domain> with the Service's ClusterIP
 * (headless Services: the Ready pods' IPs), NXDOMAIN for other names inside the cluster
 * domain, and forwards everything else to the node's upstream resolver. Packets are
 * decoded and encoded with libldns. Pods find it through the /etc/resolv.conf minik
 * writes for them (search <ns>.svc.<domain> svc.<domain> <domain>, ndots:5). */
#ifndef MINIK_AGENT_NETWORK_DNS_H
#define MINIK_AGENT_NETWORK_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "lib/error.h"

#define MINIK_DNS_TTL 5 /* seconds: Services change; clients must not cache for long */

/* The names the responder knows. Rebuilt whole from the watched Services and Endpoints
 * (cheap: a homelab has tens of Services). */
typedef struct minik_dns_table minik_dns_table_t;

minik_dns_table_t *minik_dns_table_new(const char *domain /* NULL: "cluster.local" */);
void minik_dns_table_free(minik_dns_table_t *t);
/* Replace the records with those of `services` and `endpoints` (arrays, may be NULL). */
void minik_dns_table_load(minik_dns_table_t *t, const cJSON *services, const cJSON *endpoints);

typedef enum minik_dns_verdict {
    MINIK_DNS_REPLY,   /* *reply holds the answer to send back */
    MINIK_DNS_FORWARD, /* not a cluster name: ask the upstream resolver */
    MINIK_DNS_DROP,    /* not a DNS query at all: say nothing */
} minik_dns_verdict_t;

/* Answer one query packet (untrusted bytes). For MINIK_DNS_REPLY, *reply (caller frees)
 * and *reply_len hold the wire-format response: A records for cluster names, NODATA for
 * other types of a known name, NXDOMAIN for unknown names under the domain, FORMERR for
 * a malformed question. */
minik_dns_verdict_t minik_dns_answer(const minik_dns_table_t *t, const uint8_t *query, size_t len,
                                     uint8_t **reply, size_t *reply_len);

/* Make `reply` (taken; ownership returned) fit the UDP answer size of `query`: 512 bytes,
 * or the EDNS0 size the query advertises. A bigger reply becomes its header and question
 * with the TC bit set (the client then asks over TCP). NULL (and *len 0) only if the reply
 * cannot be decoded. */
uint8_t *minik_dns_fit_udp(const uint8_t *query, size_t qlen, uint8_t *reply, size_t *len);

/* A SERVFAIL reply to `query` (when forwarding is impossible or timed out); NULL when the
 * query cannot be parsed. */
uint8_t *minik_dns_servfail(const uint8_t *query, size_t len, size_t *reply_len);

/* The /etc/resolv.conf of a pod in namespace `ns` whose nameserver is `server`. */
char *minik_dns_resolv_conf(const char *ns, const char *server, const char *domain);

/* The /etc/hosts of a pod: localhost lines plus "<ip> <hostname>". */
char *minik_dns_hosts(const char *pod_ip, const char *hostname);

/* The responder on a libuv loop: UDP, and TCP on the same address and port (RFC 7766:
 * length-prefixed messages, several per connection; at most 64 clients, each closed after
 * 10 s without a query). Names outside the cluster are asked upstream over UDP either way. */
typedef struct minik_dns_server minik_dns_server_t;

typedef struct minik_dns_server_opts {
    const char *listen;     /* address to bind, e.g. the bridge address "10.42.1.1" */
    int port;               /* 0: 53 */
    const char *upstream;   /* "ip" or "ip:port" of the node's resolver; NULL: no forwarding */
    int forward_timeout_ms; /* 0: 2000 */
} minik_dns_server_opts_t;

/* Bind (UDP, then TCP on the port UDP got) and start answering from `table` (not owned;
 * it must outlive the server). */
int minik_dns_server_start(uv_loop_t *loop, const minik_dns_server_opts_t *opts,
                           const minik_dns_table_t *table, minik_dns_server_t **out,
                           minik_error_t **err);
/* The port actually bound (for port 0 in tests... and 53 otherwise). */
int minik_dns_server_port(const minik_dns_server_t *s);
/* Close the sockets; the memory goes in the close callbacks (keep running the loop). */
void minik_dns_server_stop(minik_dns_server_t *s);

#endif
