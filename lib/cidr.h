/* IPv4 CIDR ranges ("10.42.0.0/16") as the network code and the API server's allocator read
 * them: one parser. */
#ifndef MINIK_CIDR_H
#define MINIK_CIDR_H

#include <stdint.h>

/* Parse "A.B.C.D/N" (N from 1 to 32) into the address in host byte order and N. Returns 0,
 * or -1 (outputs untouched) for NULL or anything else. Host bits may be set ("10.42.0.1/16");
 * callers that need a network address check base against the prefix. */
int minik_cidr4_parse(const char *s, uint32_t *base, int *prefix);

#endif
