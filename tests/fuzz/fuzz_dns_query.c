/* libFuzzer target: DNS query packets (untrusted: any pod or host can send them) through
 * the cluster responder's answer logic, the UDP size fitting (truncation) and the SERVFAIL
 * builder. Any reply produced must decode again. */
#include <stdint.h>
#include <stdlib.h>

#include <ldns/ldns.h>

#include "agent/network/dns.h"
#include "lib/cleanup.h"

static minik_dns_table_t *table;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!table) {
        table = minik_dns_table_new(NULL);
        cleanup_cjson cJSON *s = cJSON_Parse(
            "[{\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"},\"spec\":{\"clusterIP\":"
            "\"10.43.0.10\"}},{\"metadata\":{\"name\":\"db\"},\"spec\":{\"clusterIP\":\"None\"}}]");
        cleanup_cjson cJSON *e = cJSON_Parse("[{\"metadata\":{\"name\":\"db\"},\"subsets\":[{"
                                             "\"addresses\":[{\"ip\":\"10.42.1.2\"}]}]}]");
        minik_dns_table_load(table, s, e);
    }
    uint8_t *reply = NULL;
    size_t len = 0;
    if (minik_dns_answer(table, data, size, &reply, &len) == MINIK_DNS_REPLY) {
        ldns_pkt *p = NULL;
        if (ldns_wire2pkt(&p, reply, len) != LDNS_STATUS_OK)
            abort(); /* we produced a packet we cannot read back */
        ldns_pkt_free(p);
        /* Fitted to the query's UDP size: still a packet, never bigger than allowed. */
        reply = minik_dns_fit_udp(data, size, reply, &len);
        if (!reply || len > 65535)
            abort();
        p = NULL;
        if (ldns_wire2pkt(&p, reply, len) != LDNS_STATUS_OK)
            abort();
        ldns_pkt_free(p);
    }
    free(reply);
    uint8_t *sf = minik_dns_servfail(data, size, &len);
    free(sf);
    return 0;
}
