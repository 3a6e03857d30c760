#include "str.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

bool minik_str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool minik_str_has_suffix(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

bool minik_str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

char *minik_str_trim(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    return xstrndup(s, n);
}

char **minik_str_split(const char *s, const char *seps, bool skip_empty)
{
    size_t cap = 4, n = 0;
    char **v = xcalloc(cap, sizeof *v);
    const char *p = s;
    for (;;) {
        size_t len = strcspn(p, seps);
        if (len > 0 || !skip_empty) {
            if (n + 2 > cap) {
                cap *= 2;
                v = xrealloc(v, cap * sizeof *v);
            }
            v[n++] = xstrndup(p, len);
        }
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    v[n] = NULL;
    return v;
}

size_t minik_strv_len(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

void minik_strv_free(char **v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; v[i]; i++)
        free(v[i]);
    free(v);
}

char *minik_strv_join(char *const *v, const char *sep)
{
    minik_buf_t b = MINIK_BUF_INIT;
    for (size_t i = 0; v && v[i]; i++) {
        if (i)
            minik_buf_append_str(&b, sep);
        minik_buf_append_str(&b, v[i]);
    }
    return minik_buf_steal(&b);
}

int minik_str_to_i64(const char *s, int64_t min, int64_t max, int64_t *out, const char *what,
                     minik_error_t **err)
{
    if (s == NULL || *s == '\0')
        return minik_error_set(err, EINVAL, "%s: empty value, expected a number", what);
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE || *end != '\0' || isspace((unsigned char)*s))
        return minik_error_set(err, 0, "%s: \"%s\" is not a valid number", what, s);
    if (v < min || v > max)
        return minik_error_set(err, 0, "%s: %lld is out of range [%lld, %lld]", what, v,
                               (long long)min, (long long)max);
    *out = v;
    return 0;
}

int minik_str_to_duration_ms(const char *s, int64_t *out_ms, const char *what, minik_error_t **err)
{
    if (s == NULL || *s == '\0')
        return minik_error_set(err, 0, "%s: empty duration", what);
    int64_t total = 0;
    const char *p = s;
    bool bare = true;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return minik_error_set(err, 0, "%s: \"%s\" is not a duration (e.g. 30s, 5m, 1h30m)",
                                   what, s);
        char *end = NULL;
        errno = 0;
        long long n = strtoll(p, &end, 10);
        if (errno == ERANGE || n > INT64_MAX / 86400000LL)
            return minik_error_set(err, 0, "%s: \"%s\" is too large", what, s);
        int64_t unit;
        if (strncmp(end, "ms", 2) == 0) {
            unit = 1;
            end += 2;
        } else if (*end == 's') {
            unit = 1000;
            end++;
        } else if (*end == 'm') {
            unit = 60000;
            end++;
        } else if (*end == 'h') {
            unit = 3600000;
            end++;
        } else if (*end == 'd') {
            unit = 86400000;
            end++;
        } else if (*end == '\0' && bare) {
            unit = 1000; /* a bare number is seconds */
        } else {
            return minik_error_set(err, 0, "%s: \"%s\" has an unknown unit (use ms, s, m, h, d)",
                                   what, s);
        }
        if (total > INT64_MAX - n * unit)
            return minik_error_set(err, 0, "%s: \"%s\" is too large", what, s);
        total += n * unit;
        bare = false;
        p = end;
    }
    *out_ms = total;
    return 0;
}

char *minik_str_quote(const char *s)
{
    minik_buf_t b = MINIK_BUF_INIT;
    minik_buf_append_char(&b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            minik_buf_append_str(&b, "\\\"");
            break;
        case '\\':
            minik_buf_append_str(&b, "\\\\");
            break;
        case '\n':
            minik_buf_append_str(&b, "\\n");
            break;
        case '\t':
            minik_buf_append_str(&b, "\\t");
            break;
        case '\r':
            minik_buf_append_str(&b, "\\r");
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                minik_buf_appendf(&b, "\\x%02x", *p);
            else
                minik_buf_append_char(&b, (char)*p);
        }
    }
    minik_buf_append_char(&b, '"');
    return minik_buf_steal(&b);
}

bool minik_str_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned char ch = s[i];
        size_t len;
        uint32_t cp;
        if (ch < 0x80) {
            i++;
            continue;
        } else if ((ch & 0xe0) == 0xc0) {
            len = 2;
            cp = ch & 0x1f;
        } else if ((ch & 0xf0) == 0xe0) {
            len = 3;
            cp = ch & 0x0f;
        } else if ((ch & 0xf8) == 0xf0) {
            len = 4;
            cp = ch & 0x07;
        } else {
            return false;
        }
        if (i + len > n)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}
