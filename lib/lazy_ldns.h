/* ldns (the agent's DNS responder), loaded with dlopen on first use so that commands which never
 * need it (the OCI runtime, its shim, `minik version`) do not pay for loading and relocating it and
 * its dependency chain (see docs/runtime.md, "Start-up and footprint").
 *
 * Include this header instead of the library's own headers: it includes those first, then
 * redirects each function minik uses to a pointer resolved from libldns.so.3 by
 * minik_ldns_api(), so call sites stay ordinary library calls. A function missing
 * from MINIK_LDNS_SYMBOLS fails to link, because the binary does not link the library. */
#ifndef MINIK_LAZY_LDNS_H
#define MINIK_LAZY_LDNS_H

#include <ldns/ldns.h>

/* cppcheck (make lint, -D__CPPCHECK__) checks the call sites as the plain library calls
 * they stand for; it cannot follow the typeof-built table. */
#ifndef __CPPCHECK__
#define MINIK_LDNS_SONAME "libldns.so.3"

#define MINIK_LDNS_SYMBOLS(X)                                                                      \
    X(ldns_pkt2wire)                                                                               \
    X(ldns_pkt_aa)                                                                                 \
    X(ldns_pkt_edns)                                                                               \
    X(ldns_pkt_edns_udp_size)                                                                      \
    X(ldns_pkt_free)                                                                               \
    X(ldns_pkt_get_opcode)                                                                         \
    X(ldns_pkt_get_rcode)                                                                          \
    X(ldns_pkt_id)                                                                                 \
    X(ldns_pkt_new)                                                                                \
    X(ldns_pkt_push_rr)                                                                            \
    X(ldns_pkt_qr)                                                                                 \
    X(ldns_pkt_question)                                                                           \
    X(ldns_pkt_ra)                                                                                 \
    X(ldns_pkt_rd)                                                                                 \
    X(ldns_pkt_set_aa)                                                                             \
    X(ldns_pkt_set_id)                                                                             \
    X(ldns_pkt_set_opcode)                                                                         \
    X(ldns_pkt_set_qr)                                                                             \
    X(ldns_pkt_set_ra)                                                                             \
    X(ldns_pkt_set_rcode)                                                                          \
    X(ldns_pkt_set_rd)                                                                             \
    X(ldns_pkt_set_tc)                                                                             \
    X(ldns_rdf2str)                                                                                \
    X(ldns_rdf_clone)                                                                              \
    X(ldns_rdf_new_frm_data)                                                                       \
    X(ldns_rr_clone)                                                                               \
    X(ldns_rr_get_class)                                                                           \
    X(ldns_rr_get_type)                                                                            \
    X(ldns_rr_list_rr)                                                                             \
    X(ldns_rr_list_rr_count)                                                                       \
    X(ldns_rr_new)                                                                                 \
    X(ldns_rr_owner)                                                                               \
    X(ldns_rr_push_rdf)                                                                            \
    X(ldns_rr_set_class)                                                                           \
    X(ldns_rr_set_owner)                                                                           \
    X(ldns_rr_set_ttl)                                                                             \
    X(ldns_rr_set_type)                                                                            \
    X(ldns_wire2pkt)
typedef struct minik_ldns_api {
#define MINIK_LAZY_MEMBER(name) __typeof__(name) *name;
    MINIK_LDNS_SYMBOLS(MINIK_LAZY_MEMBER)
#undef MINIK_LAZY_MEMBER
} minik_ldns_api_t;

/* The resolved functions; loads libldns.so.3 on the first call (thread-safe). A library
 * that cannot be loaded is an installation error: the process reports which library and
 * why on stderr and aborts, like an allocation failure. */
const minik_ldns_api_t *minik_ldns_api(void);

#undef ldns_pkt2wire
#define ldns_pkt2wire(...) (minik_ldns_api()->ldns_pkt2wire(__VA_ARGS__))
#undef ldns_pkt_free
#define ldns_pkt_free(...) (minik_ldns_api()->ldns_pkt_free(__VA_ARGS__))
#undef ldns_pkt_get_opcode
#define ldns_pkt_get_opcode(...) (minik_ldns_api()->ldns_pkt_get_opcode(__VA_ARGS__))
#undef ldns_pkt_id
#define ldns_pkt_id(...) (minik_ldns_api()->ldns_pkt_id(__VA_ARGS__))
#undef ldns_pkt_new
#define ldns_pkt_new(...) (minik_ldns_api()->ldns_pkt_new(__VA_ARGS__))
#undef ldns_pkt_push_rr
#define ldns_pkt_push_rr(...) (minik_ldns_api()->ldns_pkt_push_rr(__VA_ARGS__))
#undef ldns_pkt_qr
#define ldns_pkt_qr(...) (minik_ldns_api()->ldns_pkt_qr(__VA_ARGS__))
#undef ldns_pkt_question
#define ldns_pkt_question(...) (minik_ldns_api()->ldns_pkt_question(__VA_ARGS__))
#undef ldns_pkt_rd
#define ldns_pkt_rd(...) (minik_ldns_api()->ldns_pkt_rd(__VA_ARGS__))
#undef ldns_pkt_set_aa
#define ldns_pkt_set_aa(...) (minik_ldns_api()->ldns_pkt_set_aa(__VA_ARGS__))
#undef ldns_pkt_set_id
#define ldns_pkt_set_id(...) (minik_ldns_api()->ldns_pkt_set_id(__VA_ARGS__))
#undef ldns_pkt_set_opcode
#define ldns_pkt_set_opcode(...) (minik_ldns_api()->ldns_pkt_set_opcode(__VA_ARGS__))
#undef ldns_pkt_set_qr
#define ldns_pkt_set_qr(...) (minik_ldns_api()->ldns_pkt_set_qr(__VA_ARGS__))
#undef ldns_pkt_set_ra
#define ldns_pkt_set_ra(...) (minik_ldns_api()->ldns_pkt_set_ra(__VA_ARGS__))
#undef ldns_pkt_set_rcode
#define ldns_pkt_set_rcode(...) (minik_ldns_api()->ldns_pkt_set_rcode(__VA_ARGS__))
#undef ldns_pkt_set_rd
#define ldns_pkt_set_rd(...) (minik_ldns_api()->ldns_pkt_set_rd(__VA_ARGS__))
#undef ldns_rdf2str
#define ldns_rdf2str(...) (minik_ldns_api()->ldns_rdf2str(__VA_ARGS__))
#undef ldns_rdf_clone
#define ldns_rdf_clone(...) (minik_ldns_api()->ldns_rdf_clone(__VA_ARGS__))
#undef ldns_rdf_new_frm_data
#define ldns_rdf_new_frm_data(...) (minik_ldns_api()->ldns_rdf_new_frm_data(__VA_ARGS__))
#undef ldns_rr_clone
#define ldns_rr_clone(...) (minik_ldns_api()->ldns_rr_clone(__VA_ARGS__))
#undef ldns_rr_get_class
#define ldns_rr_get_class(...) (minik_ldns_api()->ldns_rr_get_class(__VA_ARGS__))
#undef ldns_rr_get_type
#define ldns_rr_get_type(...) (minik_ldns_api()->ldns_rr_get_type(__VA_ARGS__))
#undef ldns_rr_list_rr
#define ldns_rr_list_rr(...) (minik_ldns_api()->ldns_rr_list_rr(__VA_ARGS__))
#undef ldns_rr_list_rr_count
#define ldns_rr_list_rr_count(...) (minik_ldns_api()->ldns_rr_list_rr_count(__VA_ARGS__))
#undef ldns_rr_new
#define ldns_rr_new(...) (minik_ldns_api()->ldns_rr_new(__VA_ARGS__))
#undef ldns_rr_owner
#define ldns_rr_owner(...) (minik_ldns_api()->ldns_rr_owner(__VA_ARGS__))
#undef ldns_rr_push_rdf
#define ldns_rr_push_rdf(...) (minik_ldns_api()->ldns_rr_push_rdf(__VA_ARGS__))
#undef ldns_rr_set_class
#define ldns_rr_set_class(...) (minik_ldns_api()->ldns_rr_set_class(__VA_ARGS__))
#undef ldns_rr_set_owner
#define ldns_rr_set_owner(...) (minik_ldns_api()->ldns_rr_set_owner(__VA_ARGS__))
#undef ldns_rr_set_ttl
#define ldns_rr_set_ttl(...) (minik_ldns_api()->ldns_rr_set_ttl(__VA_ARGS__))
#undef ldns_rr_set_type
#define ldns_rr_set_type(...) (minik_ldns_api()->ldns_rr_set_type(__VA_ARGS__))
#undef ldns_wire2pkt
#define ldns_wire2pkt(...) (minik_ldns_api()->ldns_wire2pkt(__VA_ARGS__))
#undef ldns_pkt_aa
#define ldns_pkt_aa(...) (minik_ldns_api()->ldns_pkt_aa(__VA_ARGS__))
#undef ldns_pkt_ra
#define ldns_pkt_ra(...) (minik_ldns_api()->ldns_pkt_ra(__VA_ARGS__))
#undef ldns_pkt_get_rcode
#define ldns_pkt_get_rcode(...) (minik_ldns_api()->ldns_pkt_get_rcode(__VA_ARGS__))
#undef ldns_pkt_set_tc
#define ldns_pkt_set_tc(...) (minik_ldns_api()->ldns_pkt_set_tc(__VA_ARGS__))
#undef ldns_pkt_edns
#define ldns_pkt_edns(...) (minik_ldns_api()->ldns_pkt_edns(__VA_ARGS__))
#undef ldns_pkt_edns_udp_size
#define ldns_pkt_edns_udp_size(...) (minik_ldns_api()->ldns_pkt_edns_udp_size(__VA_ARGS__))
#endif

#endif
