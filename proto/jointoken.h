/* Node-join tokens that carry the cluster CA's fingerprint, as k3s's "secure" tokens do:
 *
 *     K10<ca-sha256>::<id>.<secret>
 *
 * <ca-sha256> is the lower-case hex SHA-256 of the cluster CA certificate exactly as the
 * server stores and serves it (DIR/tls/ca.crt, GET /cacerts), so `sha256sum ca.crt` shows
 * it. <id>.<secret> is the bearer token the API server knows (8 + 32 hex characters). A
 * joining agent fetches /cacerts without sending anything secret, checks the hash, and only
 * then talks to the server over TLS verified with that CA. A bare "<id>.<secret>" is also
 * accepted (then the CA must come from --ca-file). */
#ifndef MINIK_PROTO_JOINTOKEN_H
#define MINIK_PROTO_JOINTOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

#define MINIK_JOIN_TOKEN_PREFIX "K10"

typedef struct minik_join_token {
    bool has_ca_hash;
    char ca_hash[65]; /* lower-case hex, when has_ca_hash */
    char bearer[64];  /* "<id>.<secret>" */
} minik_join_token_t;

/* Lower-case hex SHA-256 of `len` bytes at `data` into hex[65]. */
void minik_join_ca_hash(const char *data, size_t len, char hex[65]);

/* "K10<ca_hash>::<bearer>"; the caller frees it. */
char *minik_join_token_format(const char *ca_hash, const char *bearer);

/* Parse a join token (either form). Errors name what is wrong, never echoing the secret. */
int minik_join_token_parse(const char *s, minik_join_token_t *out, minik_error_t **err);

/* The bearer part of a join token in either form, pointing into s; NULL if s has the K10
 * shape but no "::". Used by the server so a whole join token also works as a bearer. */
const char *minik_join_token_bearer(const char *s);

#endif
