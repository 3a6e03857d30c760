/* The pure half of auth.h: token syntax, hashing and the node authorizer. */
#include "apiserver/auth.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/jointoken.h"

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

char *minik_token_generate(void)
{
    unsigned char raw[(MINIK_TOKEN_ID_LEN + MINIK_TOKEN_SECRET_LEN) / 2];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        abort(); /* no entropy: nothing safe to hand out; treat like OOM */
    char hex[sizeof(raw) * 2 + 1];
    to_hex(raw, sizeof(raw), hex);
    return xasprintf("%.*s.%s", MINIK_TOKEN_ID_LEN, hex, hex + MINIK_TOKEN_ID_LEN);
}

void minik_token_hash(const char *token, char hex[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(token, strlen(token), md, &len, EVP_sha256(), NULL);
    to_hex(md, 32, hex);
}

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool minik_token_parse(const char *token, char id[MINIK_TOKEN_ID_LEN + 1])
{
    if (strlen(token) != MINIK_TOKEN_ID_LEN + 1 + MINIK_TOKEN_SECRET_LEN ||
        token[MINIK_TOKEN_ID_LEN] != '.' || !is_hex(token, MINIK_TOKEN_ID_LEN) ||
        !is_hex(token + MINIK_TOKEN_ID_LEN + 1, MINIK_TOKEN_SECRET_LEN))
        return false;
    memcpy(id, token, MINIK_TOKEN_ID_LEN);
    id[MINIK_TOKEN_ID_LEN] = '\0';
    return true;
}

const char *minik_token_from_header(const char *header)
{
    if (!header || strncasecmp(header, "Bearer ", 7) != 0)
        return NULL;
    header += 7;
    while (*header == ' ')
        header++;
    /* A whole join token (K10<ca-hash>::<id>.<secret>) works as a bearer too. */
    header = minik_join_token_bearer(header);
    return header && *header ? header : NULL;
}

bool minik_token_hash_equal(const char *a, const char *b)
{
    if (strlen(a) != 64 || strlen(b) != 64)
        return false;
    return CRYPTO_memcmp(a, b, 64) == 0;
}

/* Does the fieldSelector pin `field` to `value`? Accepts "field=value" or "field==value"
 * among other comma-separated terms (all terms must hold, so one pinning term suffices). */
static bool selector_pins(const char *fs, const char *field, const char *value)
{
    if (!fs)
        return false;
    size_t fl = strlen(field);
    cleanup_strv char **terms = minik_str_split(fs, ",", true);
    for (size_t i = 0; terms[i]; i++) {
        const char *t = terms[i];
        if (strncmp(t, field, fl) != 0 || t[fl] != '=')
            continue;
        t += fl + 1;
        if (*t == '=')
            t++;
        if (strcmp(t, value) == 0)
            return true;
    }
    return false;
}

minik_authz_t minik_authz_check(const minik_identity_t *id, const char *verb,
                                const minik_route_t *route, const char *field_selector,
                                const char **why)
{
    *why = NULL;
    if (id->role == MINIK_ROLE_ADMIN)
        return MINIK_AUTHZ_ALLOW;
    if (route->type != MINIK_ROUTE_RESOURCE)
        return MINIK_AUTHZ_ALLOW; /* discovery, metrics: harmless to a node */
    const char *res = route->res->name;
    bool bound = id->node[0] != '\0';
    bool is_read = strcmp(verb, "get") == 0;
    bool is_write = strcmp(verb, "update") == 0 || strcmp(verb, "patch") == 0;
    bool is_list = strcmp(verb, "list") == 0 || strcmp(verb, "watch") == 0;

    if (strcmp(res, "nodes") == 0) {
        if (strcmp(verb, "create") == 0 && !route->name)
            return MINIK_AUTHZ_BIND_NODE; /* the name is in the body */
        if (route->name && (is_read || is_write) &&
            (!route->sub || strcmp(route->sub, "status") == 0)) {
            if (!bound || strcmp(route->name, id->node) == 0)
                return MINIK_AUTHZ_BIND_NODE;
        }
        /* Reading every Node, as Kubernetes' node role may: the agent routes to the other
         * nodes' pod CIDRs. */
        if (bound && !route->sub && (is_read || is_list))
            return MINIK_AUTHZ_ALLOW;
        *why = "a node may only read Nodes and update its own Node object";
        return MINIK_AUTHZ_DENY;
    }
    if (!bound) {
        *why = "this node token is not bound to a node yet: create or read the Node first";
        return MINIK_AUTHZ_DENY;
    }
    if (strcmp(res, "pods") == 0) {
        if (!route->name && (strcmp(verb, "list") == 0 || strcmp(verb, "watch") == 0)) {
            if (selector_pins(field_selector, "spec.nodeName", id->node))
                return MINIK_AUTHZ_ALLOW;
            *why = "a node may only list pods with fieldSelector spec.nodeName=<its name>";
            return MINIK_AUTHZ_DENY;
        }
        if (route->name && !route->sub && is_read)
            return MINIK_AUTHZ_IF_POD_ON_NODE;
        if (route->name && route->sub && strcmp(route->sub, "status") == 0 && (is_read || is_write))
            return MINIK_AUTHZ_IF_POD_ON_NODE;
        *why = "a node may only read the pods bound to it and write their status";
        return MINIK_AUTHZ_DENY;
    }
    /* Every node programs every Service's rules and answers cluster DNS: it reads (never
     * writes) Services and Endpoints, as Kubernetes' node role does. */
    if ((strcmp(res, "services") == 0 || strcmp(res, "endpoints") == 0) && !route->sub &&
        (is_read || is_list))
        return MINIK_AUTHZ_ALLOW;
    if (strcmp(res, "events") == 0 && strcmp(verb, "create") == 0)
        return MINIK_AUTHZ_ALLOW;
    /* The agent reads the ConfigMaps and Secrets its pods use (env, volumes) one by name.
     * Kubernetes narrows this to objects referenced by pods on the node; minik does not
     * track those references yet, so a bound node may get any by name (never list). */
    if ((strcmp(res, "configmaps") == 0 || strcmp(res, "secrets") == 0) && route->name &&
        !route->sub && is_read)
        return MINIK_AUTHZ_ALLOW;
    *why = "node tokens may not access this resource";
    return MINIK_AUTHZ_DENY;
}
