/* Image references, normalised exactly as Docker's reference.ParseNormalizedNamed does, so
 * that `image: nginx` in a pod means what it means to every other tool. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "agent/images/internal.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define NAME_MAX_LEN 255
#define TAG_MAX_LEN  128

void minik_image_ref_free(minik_image_ref_t *ref)
{
    if (!ref)
        return;
    free(ref->domain);
    free(ref->path);
    free(ref->tag);
    free(ref->digest);
    free(ref);
}

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* path-component := [a-z0-9]+ (([._]|__|-+) [a-z0-9]+)* */
static bool path_component_valid(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0 || !is_lower_alnum(s[0]))
        return false;
    while (i < n) {
        while (i < n && is_lower_alnum(s[i]))
            i++;
        if (i == n)
            return true;
        size_t sep = i;
        if (s[i] == '.')
            i++;
        else if (s[i] == '_')
            i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
        else if (s[i] == '-')
            while (i < n && s[i] == '-')
                i++;
        else
            return false;
        if (i == sep || i >= n || !is_lower_alnum(s[i]))
            return false;
    }
    return true;
}

/* domain := component ('.' component)* (':' port)?, component := [a-zA-Z0-9-] not starting
 * or ending with '-'; or a bracketed IPv6 address with an optional port. */
static bool domain_valid(const char *s)
{
    const char *port = NULL;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close == s + 1)
            return false;
        for (const char *p = s + 1; p < close; p++)
            if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
                return false;
        if (close[1] == '\0')
            return true;
        if (close[1] != ':')
            return false;
        port = close + 2;
    } else {
        const char *colon = strchr(s, ':');
        const char *end = colon ? colon : s + strlen(s);
        const char *c = s;
        while (c < end) {
            const char *dot = memchr(c, '.', (size_t)(end - c));
            const char *ce = dot ? dot : end;
            if (ce == c || *c == '-' || ce[-1] == '-')
                return false;
            for (const char *p = c; p < ce; p++)
                if (!isalnum((unsigned char)*p) && *p != '-')
                    return false;
            c = dot ? dot + 1 : end;
            if (dot && c == end)
                return false;
        }
        if (end == s)
            return false;
        port = colon ? colon + 1 : NULL;
    }
    if (port) {
        if (*port == '\0' || strlen(port) > 5)
            return false;
        for (const char *p = port; *p; p++)
            if (!isdigit((unsigned char)*p))
                return false;
    }
    return true;
}

static bool tag_valid(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > TAG_MAX_LEN)
        return false;
    if (!isalnum((unsigned char)t[0]) && t[0] != '_')
        return false;
    for (size_t i = 1; i < n; i++)
        if (!isalnum((unsigned char)t[i]) && t[i] != '_' && t[i] != '.' && t[i] != '-')
            return false;
    return true;
}

bool minik_digest_valid(const char *d)
{
    if (!d || strncmp(d, "sha256:", 7) != 0 || strlen(d) != 7 + 64)
        return false;
    for (const char *p = d + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static bool is_hex64(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (; *s; s++)
        if (!isxdigit((unsigned char)*s))
            return false;
    return true;
}

int minik_image_ref_parse(const char *s, minik_image_ref_t **out, minik_error_t **err)
{
    if (!s || !*s)
        return minik_error_set(err, 0, "invalid image reference: empty");
    cleanup_free char *q = minik_str_quote(s);
    if (is_hex64(s))
        return minik_error_set(err, 0,
                               "invalid image reference %s: a 64-character hex string is an "
                               "image ID, not a repository name",
                               q);

    cleanup_free char *work = xstrdup(s);
    cleanup_free char *digest = NULL, *tag = NULL, *domain = NULL, *path = NULL;

    char *at = strchr(work, '@');
    if (at) {
        *at = '\0';
        digest = xstrdup(at + 1);
        if (strncmp(digest, "sha256:", 7) != 0)
            return minik_error_set(err, 0,
                                   "invalid image reference %s: only sha256 digests are "
                                   "supported",
                                   q);
        if (!minik_digest_valid(digest))
            return minik_error_set(err, 0,
                                   "invalid image reference %s: digest must be sha256: "
                                   "followed by 64 lowercase hex digits",
                                   q);
    }
    char *slash = strrchr(work, '/');
    char *colon = strrchr(slash ? slash : work, ':');
    if (colon) {
        *colon = '\0';
        tag = xstrdup(colon + 1);
        if (!tag_valid(tag))
            return minik_error_set(err, 0,
                                   "invalid image reference %s: bad tag \"%s\" (use up to 128 "
                                   "letters, digits, '_', '.', '-', not starting with '.' "
                                   "or '-')",
                                   q, tag);
    }
    if (!*work)
        return minik_error_set(err, 0, "invalid image reference %s: missing repository name", q);

    /* Docker's splitDockerDomain: the first component is a registry only if it looks like
     * one (has '.' or ':', is "localhost", or has uppercase letters). */
    char *first = strchr(work, '/');
    const char *rest = work;
    if (first) {
        size_t n = (size_t)(first - work);
        cleanup_free char *cand = xstrndup(work, n);
        bool has_upper = false;
        for (char *p = cand; *p; p++)
            has_upper |= isupper((unsigned char)*p) != 0;
        if (strpbrk(cand, ".:") || strcmp(cand, "localhost") == 0 || has_upper) {
            domain = steal_pointer(&cand);
            rest = first + 1;
        }
    }
    if (!domain)
        domain = xstrdup("docker.io");
    if (strcmp(domain, "index.docker.io") == 0) {
        free(domain);
        domain = xstrdup("docker.io");
    }
    if (!domain_valid(domain))
        return minik_error_set(err, 0, "invalid image reference %s: bad registry \"%s\"", q,
                               domain);
    if (strcmp(domain, "docker.io") == 0 && !strchr(rest, '/'))
        path = xasprintf("library/%s", rest);
    else
        path = xstrdup(rest);

    for (const char *p = path; *p; p++)
        if (isupper((unsigned char)*p))
            return minik_error_set(err, 0,
                                   "invalid image reference %s: repository name must be "
                                   "lowercase",
                                   q);
    const char *c = path;
    for (;;) {
        const char *e = strchr(c, '/');
        size_t n = e ? (size_t)(e - c) : strlen(c);
        if (!path_component_valid(c, n))
            return minik_error_set(err, 0,
                                   "invalid image reference %s: bad repository path component "
                                   "\"%.*s\"",
                                   q, (int)n, c);
        if (!e)
            break;
        c = e + 1;
    }
    if (strlen(domain) + 1 + strlen(path) > NAME_MAX_LEN)
        return minik_error_set(err, 0, "invalid image reference %s: name longer than %d characters",
                               q, NAME_MAX_LEN);
    if (!tag && !digest)
        tag = xstrdup("latest");

    minik_image_ref_t *r = xcalloc(1, sizeof(*r));
    r->domain = steal_pointer(&domain);
    r->path = steal_pointer(&path);
    r->tag = steal_pointer(&tag);
    r->digest = steal_pointer(&digest);
    *out = r;
    return 0;
}

char *minik_image_ref_name(const minik_image_ref_t *ref)
{
    return xasprintf("%s/%s", ref->domain, ref->path);
}

char *minik_image_ref_string(const minik_image_ref_t *ref)
{
    return xasprintf("%s/%s%s%s%s%s", ref->domain, ref->path, ref->tag ? ":" : "",
                     ref->tag ? ref->tag : "", ref->digest ? "@" : "",
                     ref->digest ? ref->digest : "");
}

const char *minik_image_ref_endpoint(const minik_image_ref_t *ref)
{
    if (strcmp(ref->domain, "docker.io") == 0)
        return "registry-1.docker.io";
    return ref->domain;
}
