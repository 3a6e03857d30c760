/* Bearer-token authentication and the node authorizer.
 *
 * Tokens look like "<id>.<secret>" (8 + 32 lowercase hex characters, 128 random bits of
 * secret, from OpenSSL's RAND_bytes). Only SHA-256(token) is stored, as an internal object
 * of kind MinikToken (apiVersion minik.io/v1, cluster-scoped, name "token-<id>") in the
 * store, which the REST API never serves. A presented token is found by its id and its
 * hash compared with CRYPTO_memcmp (constant time).
 *
 * Roles: "admin" may do anything; "node" is limited to what a node agent needs (see
 * minik_authz_node). A node token is bound to a node name by its first request that names
 * a Node (creating or reading nodes/NAME); from then on it acts only as that node. A join
 * token is normally exchanged at once for a node credential (minik_auth_exchange): a node
 * token bound from birth, with no expiry; the join token is then deleted. */
#ifndef MINIK_APISERVER_AUTH_H
#define MINIK_APISERVER_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "apiserver/router.h"
#include "lib/error.h"
#include "store/store.h"

#define MINIK_TOKEN_KIND        "MinikToken"
#define MINIK_TOKEN_API_VERSION "minik.io/v1"
#define MINIK_TOKEN_ID_LEN      8
#define MINIK_TOKEN_SECRET_LEN  32

typedef enum minik_role {
    MINIK_ROLE_ADMIN,
    MINIK_ROLE_NODE,
} minik_role_t;

typedef struct minik_identity {
    minik_role_t role;
    char id[MINIK_TOKEN_ID_LEN + 1];
    char node[254]; /* bound node name, "" while unbound (node role only) */
} minik_identity_t;

/* ---- tokens (pure) -------------------------------------------------------------------- */

/* A new random token "<id>.<secret>"; the caller owns it. */
char *minik_token_generate(void);
/* Lower-case hex SHA-256 of `token` into hex[65]. */
void minik_token_hash(const char *token, char hex[65]);
/* Check the shape of a token and copy its id out. */
bool minik_token_parse(const char *token, char id[MINIK_TOKEN_ID_LEN + 1]);
/* The token from an Authorization header value ("Bearer <token>"), or NULL. Points into
 * `header`. */
const char *minik_token_from_header(const char *header);
/* Constant-time comparison of two 64-character hex digests. */
bool minik_token_hash_equal(const char *a, const char *b);

/* ---- the token table (store-backed) ---------------------------------------------------- */

typedef struct minik_auth minik_auth_t;

/* Load the token objects from the store (borrowed; must outlive the table). */
int minik_auth_new(minik_store_t *store, minik_auth_t **out, minik_error_t **err);
void minik_auth_free(minik_auth_t *a);
/* Whether an admin token exists. */
bool minik_auth_has_admin(const minik_auth_t *a);
/* Create and persist a token of `role`; *token receives the plain token (caller frees),
 * shown once and never stored. */
int minik_auth_create(minik_auth_t *a, minik_role_t role, char **token, minik_error_t **err);
/* Create a node-join token: `ttl_s` > 0 makes it unusable for joining after that many
 * seconds (0: no expiry); `description` (may be NULL) is shown by `minik token list`.
 * Expiry limits when a token may join a node: once bound to its node, the token is that
 * node's credential until deleted. */
int minik_auth_create_join(minik_auth_t *a, int64_t ttl_s, const char *description, char **token,
                           minik_error_t **err);
/* The token objects as a JSON array of {id, role, node, description, created, expires}
 * (times in RFC 3339, "" when unset); never hashes. */
int minik_auth_list(minik_auth_t *a, cJSON **out, minik_error_t **err);
/* Revoke a node token by id (404 if unknown; 403 for the admin token). A node bound to it
 * is refused from its next request on. */
int minik_auth_delete(minik_auth_t *a, const char *id, minik_error_t **err);
/* Authenticate an Authorization header value. Returns 0 and fills *id, or < 0 (401). A
 * token unknown to the in-memory table is looked up in the store once, so tokens written
 * by another process sharing the database are picked up. */
int minik_auth_authenticate(minik_auth_t *a, const char *header, minik_identity_t *id,
                            minik_error_t **err);
/* Bind an unbound node token to `node` (persisted). */
int minik_auth_bind_node(minik_auth_t *a, const char *token_id, const char *node,
                         minik_error_t **err);

/* Exchange join token `token_id` (unbound, or bound to `node`) for a node credential: a new
 * node token bound to `node`, with no expiry, stored hashed and marked "credential". The
 * join token is deleted (spent: single use) and so are older credentials of `node` (a
 * re-joined node replaces its credential). *credential receives the plain token, shown
 * once (caller frees). 403 for an admin token, a credential, or a join token bound to
 * another node. */
int minik_auth_exchange(minik_auth_t *a, const char *token_id, const char *node, char **credential,
                        minik_error_t **err);

/* ---- node authorization (pure) --------------------------------------------------------- */

typedef enum minik_authz {
    MINIK_AUTHZ_DENY,
    MINIK_AUTHZ_ALLOW,
    /* Allowed only if the object addressed has spec.nodeName == the node (the handler
     * checks after reading it: pods get and pods/status writes). */
    MINIK_AUTHZ_IF_POD_ON_NODE,
    /* The request names node `bind_to`; the token must be bound to it (the handler binds
     * an unbound token first). For POST nodes the name comes from the body. */
    MINIK_AUTHZ_BIND_NODE,
} minik_authz_t;

/* May identity `id` do `verb` (get, list, watch, create, update, patch, delete) on
 * `route`? `field_selector` is the raw fieldSelector of list/watch (may be NULL).
 * *why receives a static explanation for a denial. Admins are always allowed. */
minik_authz_t minik_authz_check(const minik_identity_t *id, const char *verb,
                                const minik_route_t *route, const char *field_selector,
                                const char **why);

#endif
