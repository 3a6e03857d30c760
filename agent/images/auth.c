/* Registry authentication inputs: the WWW-Authenticate challenge a registry answers 401
 * with (RFC 7235 syntax), and credentials in the ~/.docker/config.json format that docker,
 * podman, skopeo and Kubernetes' dockerconfigjson secrets share. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "lib/lazy_openssl.h"

#include "agent/images/internal.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define AUTH_HEADER_MAX 8192

void minik_registry_auth_challenge_free(minik_registry_auth_challenge_t *c)
{
    if (!c)
        return;
    free(c->scheme);
    free(c->realm);
    free(c->service);
    free(c->scope);
    free(c->error);
    free(c);
}

static bool is_tchar(char c)
{
    return c != '\0' && (isalnum((unsigned char)c) || strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

int minik_registry_auth_parse_challenge(const char *header, minik_registry_auth_challenge_t **out,
                                        minik_error_t **err)
{
    if (!header)
        return minik_error_set(err, 0, "WWW-Authenticate: missing");
    if (strlen(header) > AUTH_HEADER_MAX)
        return minik_error_set(err, 0, "WWW-Authenticate: longer than %d bytes", AUTH_HEADER_MAX);
    const char *p = skip_ws(header);
    const char *s = p;
    while (is_tchar(*p))
        p++;
    if (p == s)
        return minik_error_set(err, 0, "WWW-Authenticate: no auth scheme in \"%.100s\"", header);
    minik_registry_auth_challenge_t *c = xcalloc(1, sizeof(*c));
    c->scheme = xstrndup(s, (size_t)(p - s));
    for (char *q = c->scheme; *q; q++)
        *q = (char)tolower((unsigned char)*q);

    for (;;) {
        p = skip_ws(p);
        while (*p == ',')
            p = skip_ws(p + 1);
        if (!*p)
            break;
        const char *ks = p;
        while (is_tchar(*p))
            p++;
        size_t klen = (size_t)(p - ks);
        p = skip_ws(p);
        if (klen == 0 || *p != '=') {
            /* Either junk, or the start of a second challenge ("Basic realm=x, Bearer ...");
             * the first challenge is the one we act on. */
            if (klen == 0) {
                minik_registry_auth_challenge_free(c);
                return minik_error_set(err, 0,
                                       "WWW-Authenticate: unexpected character '%c' in "
                                       "\"%.100s\"",
                                       *p, header);
            }
            break;
        }
        p = skip_ws(p + 1);
        cleanup_free char *val = NULL;
        if (*p == '"') {
            p++;
            size_t cap = strlen(p) + 1, n = 0;
            val = xmalloc(cap);
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                val[n++] = *p++;
            }
            if (*p != '"') {
                minik_registry_auth_challenge_free(c);
                return minik_error_set(err, 0,
                                       "WWW-Authenticate: unterminated quoted string in "
                                       "\"%.100s\"",
                                       header);
            }
            p++;
            val[n] = '\0';
        } else {
            const char *vs = p;
            while (is_tchar(*p) || *p == '/' || *p == ':' || *p == '=')
                p++;
            val = xstrndup(vs, (size_t)(p - vs));
        }
        char **slot = NULL;
        if (klen == 5 && strncasecmp(ks, "realm", 5) == 0)
            slot = &c->realm;
        else if (klen == 7 && strncasecmp(ks, "service", 7) == 0)
            slot = &c->service;
        else if (klen == 5 && strncasecmp(ks, "scope", 5) == 0)
            slot = &c->scope;
        else if (klen == 5 && strncasecmp(ks, "error", 5) == 0)
            slot = &c->error;
        if (slot && !*slot)
            *slot = steal_pointer(&val);
    }
    if (strcmp(c->scheme, "bearer") == 0 && !c->realm) {
        minik_registry_auth_challenge_free(c);
        return minik_error_set(err, 0, "WWW-Authenticate: Bearer challenge without realm");
    }
    *out = c;
    return 0;
}

void minik_registry_cred_free(minik_registry_cred_t *c)
{
    if (!c)
        return;
    if (c->password)
        memset(c->password, 0, strlen(c->password));
    free(c->username);
    free(c->password);
    free(c->registry_token);
    free(c);
}

/* "https://index.docker.io/v1/" -> "docker.io", "http://host:5000/x" -> "host:5000". */
static char *normalise_key(const char *key)
{
    const char *p = key;
    if (strncmp(p, "https://", 8) == 0)
        p += 8;
    else if (strncmp(p, "http://", 7) == 0)
        p += 7;
    char *host = xstrndup(p, strcspn(p, "/"));
    if (strcmp(host, "index.docker.io") == 0 || strcmp(host, "registry-1.docker.io") == 0 ||
        strcmp(host, "registry.hub.docker.com") == 0) {
        free(host);
        host = xstrdup("docker.io");
    }
    return host;
}

static int decode_auth(const char *b64, const char *key, char **user, char **pass,
                       minik_error_t **err)
{
    size_t n = strlen(b64);
    if (n == 0 || n % 4 != 0 || n > 16384)
        return minik_error_set(err, 0, "credentials for \"%s\": \"auth\" is not base64", key);
    cleanup_free unsigned char *buf = xmalloc(n / 4 * 3 + 1);
    int len = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)n);
    if (len < 0)
        return minik_error_set(err, 0, "credentials for \"%s\": \"auth\" is not base64", key);
    if (n >= 1 && b64[n - 1] == '=')
        len--;
    if (n >= 2 && b64[n - 2] == '=')
        len--;
    buf[len] = '\0';
    if (memchr(buf, '\0', (size_t)len))
        return minik_error_set(err, 0, "credentials for \"%s\": \"auth\" contains NUL", key);
    char *colon = strchr((char *)buf, ':');
    if (!colon)
        return minik_error_set(err, 0, "credentials for \"%s\": \"auth\" must encode user:password",
                               key);
    *user = xstrndup((char *)buf, (size_t)(colon - (char *)buf));
    *pass = xstrdup(colon + 1);
    memset(buf, 0, (size_t)len);
    return 0;
}

static int lookup_doc(const cJSON *j, const char *domain, minik_registry_cred_t **out,
                      minik_error_t **err)
{
    if (!cJSON_IsObject(j))
        return minik_error_set(err, 0, "credentials: not a JSON object");
    const cJSON *auths = cJSON_GetObjectItemCaseSensitive(j, "auths");
    if (auths && !cJSON_IsObject(auths))
        return minik_error_set(err, 0, "credentials: \"auths\" must be an object");
    if (!auths)
        auths = j; /* legacy .dockercfg: the host map is the whole document */

    const cJSON *e;
    cJSON_ArrayForEach(e, auths)
    {
        cleanup_free char *host = normalise_key(e->string);
        if (strcmp(host, domain) != 0)
            continue;
        if (!cJSON_IsObject(e))
            return minik_error_set(err, 0, "credentials for \"%s\": expected an object", e->string);
        minik_registry_cred_t *c = xcalloc(1, sizeof(*c));
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(e, "auth");
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(e, "username");
        const cJSON *pw = cJSON_GetObjectItemCaseSensitive(e, "password");
        const cJSON *rt = cJSON_GetObjectItemCaseSensitive(e, "registrytoken");
        int r = 0;
        if (cJSON_IsString(a) && *a->valuestring)
            r = decode_auth(a->valuestring, e->string, &c->username, &c->password, err);
        else if (cJSON_IsString(u) && cJSON_IsString(pw)) {
            c->username = xstrdup(u->valuestring);
            c->password = xstrdup(pw->valuestring);
        }
        if (r == 0 && cJSON_IsString(rt) && *rt->valuestring)
            c->registry_token = xstrdup(rt->valuestring);
        if (r == 0 && !c->username && !c->registry_token)
            r = minik_error_set(err, 0,
                                "credentials for \"%s\": need \"auth\", "
                                "\"username\"+\"password\" or \"registrytoken\"",
                                e->string);
        if (r < 0) {
            minik_registry_cred_free(c);
            return r;
        }
        *out = c;
        return 0;
    }
    return 0;
}

int minik_registry_auth_lookup(const char *config_json, const char *domain,
                               minik_registry_cred_t **out, minik_error_t **err)
{
    *out = NULL;
    if (!config_json)
        return 0;
    cleanup_cjson cJSON *j = cJSON_Parse(config_json);
    if (!cJSON_IsArray(j))
        return lookup_doc(j, domain, out, err);
    /* Several pull secrets: the first one with credentials for the registry wins, as in
     * the kubelet. */
    const cJSON *doc;
    int i = 0;
    cJSON_ArrayForEach(doc, j)
    {
        int r = lookup_doc(doc, domain, out, err);
        if (r < 0)
            return minik_error_wrap(err, "credentials[%d]", i);
        if (*out)
            return 0;
        i++;
    }
    return 0;
}
