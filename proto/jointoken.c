/* Join-token syntax (see jointoken.h). Pure: no I/O. */
#include "proto/jointoken.h"

#include <string.h>

#include "lib/lazy_openssl.h"

#include "lib/xalloc.h"

void minik_join_ca_hash(const char *data, size_t len, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (size_t i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
}

char *minik_join_token_format(const char *ca_hash, const char *bearer)
{
    return xasprintf(MINIK_JOIN_TOKEN_PREFIX "%s::%s", ca_hash, bearer);
}

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* "<8 hex>.<32 hex>", the shape apiserver/auth.h issues. */
static bool bearer_ok(const char *b)
{
    return strlen(b) == 41 && b[8] == '.' && all_hex(b, 8) && all_hex(b + 9, 32);
}

const char *minik_join_token_bearer(const char *s)
{
    if (strncmp(s, MINIK_JOIN_TOKEN_PREFIX, 3) != 0)
        return s;
    const char *sep = strstr(s, "::");
    return sep ? sep + 2 : NULL;
}

int minik_join_token_parse(const char *s, minik_join_token_t *out, minik_error_t **err)
{
    memset(out, 0, sizeof(*out));
    const char *bearer = s;
    if (strncmp(s, MINIK_JOIN_TOKEN_PREFIX, 3) == 0) {
        const char *sep = strstr(s, "::");
        if (!sep)
            return minik_error_set(err, 0,
                                   "join token: missing \"::\" after the CA hash "
                                   "(want K10<sha256>::<id>.<secret>)");
        size_t hlen = (size_t)(sep - (s + 3));
        if (hlen != 64 || !all_hex(s + 3, 64))
            return minik_error_set(err, 0,
                                   "join token: the CA hash after K10 must be 64 lower-case "
                                   "hex characters (got %zu characters)",
                                   hlen);
        memcpy(out->ca_hash, s + 3, 64);
        out->ca_hash[64] = '\0';
        out->has_ca_hash = true;
        bearer = sep + 2;
    }
    if (!bearer_ok(bearer))
        return minik_error_set(err, 0,
                               "join token: the part after the CA hash must be <id>.<secret> "
                               "(8 and 32 lower-case hex characters)");
    memcpy(out->bearer, bearer, 42);
    return 0;
}
