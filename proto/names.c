/* Kubernetes name syntax (k8s.io/apimachinery/pkg/util/validation), message for message
 * where it matters to users. */
#include "proto/names.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
    return isalnum((unsigned char)c) != 0;
}

static const char *fmt(char *buf, size_t bufsz, const char *f, const char *s)
{
    snprintf(buf, bufsz, f, s);
    return buf;
}

static bool label_ok(const char *s, size_t n)
{
    if (n == 0 || n > 63)
        return false;
    if (!is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return false;
    return true;
}

const char *minik_names_check_dns1123_label(const char *s, char *buf, size_t bufsz)
{
    size_t n = strlen(s);
    if (n > 63)
        return "must be no more than 63 characters";
    if (!label_ok(s, n))
        return fmt(buf, bufsz,
                   "invalid name \"%.100s\": a lowercase RFC 1123 label must consist of lower case "
                   "alphanumeric characters or '-', and must start and end with an alphanumeric "
                   "character",
                   s);
    return NULL;
}

const char *minik_names_check_dns1123_subdomain(const char *s, char *buf, size_t bufsz)
{
    size_t n = strlen(s);
    if (n > 253)
        return "must be no more than 253 characters";
    bool ok = n > 0;
    const char *p = s;
    while (ok) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (!label_ok(p, len))
            ok = false;
        if (!dot)
            break;
        p = dot + 1;
    }
    if (!ok)
        return fmt(buf, bufsz,
                   "invalid name \"%.100s\": a lowercase RFC 1123 subdomain must consist of lower "
                   "case alphanumeric characters, '-' or '.', and must start and end with an "
                   "alphanumeric character",
                   s);
    return NULL;
}

const char *minik_names_check_dns1035_label(const char *s, char *buf, size_t bufsz)
{
    size_t n = strlen(s);
    if (n > 63)
        return "must be no more than 63 characters";
    if (!label_ok(s, n) || !(s[0] >= 'a' && s[0] <= 'z'))
        return fmt(buf, bufsz,
                   "invalid name \"%.100s\": a DNS-1035 label must consist of lower case "
                   "alphanumeric characters or '-', start with an alphabetic character, and end "
                   "with an alphanumeric character",
                   s);
    return NULL;
}

static bool qualified_part_ok(const char *s, size_t n)
{
    if (n == 0 || n > 63)
        return false;
    if (!is_alnum(s[0]) || !is_alnum(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

const char *minik_names_check_qualified_name(const char *s, char *buf, size_t bufsz)
{
    const char *slash = strchr(s, '/');
    const char *name = s;
    if (slash) {
        if (strchr(slash + 1, '/'))
            return fmt(buf, bufsz, "invalid key \"%.100s\": a qualified name has at most one '/'",
                       s);
        size_t plen = (size_t)(slash - s);
        char prefix[260];
        if (plen == 0 || plen > 253)
            return fmt(buf, bufsz,
                       "invalid key \"%.100s\": the prefix before '/' must be a DNS subdomain of "
                       "1 to 253 characters",
                       s);
        memcpy(prefix, s, plen);
        prefix[plen] = '\0';
        char tmp[MINIK_NAME_MSG_MAX];
        if (minik_names_check_dns1123_subdomain(prefix, tmp, sizeof tmp))
            return fmt(buf, bufsz,
                       "invalid key \"%.100s\": the prefix before '/' must be a lowercase DNS "
                       "subdomain",
                       s);
        name = slash + 1;
    }
    if (strlen(name) > 63)
        return fmt(buf, bufsz,
                   "invalid key \"%.100s\": the name part must be no more than 63 characters", s);
    if (!qualified_part_ok(name, strlen(name)))
        return fmt(buf, bufsz,
                   "invalid key \"%.100s\": name part must consist of alphanumeric characters, "
                   "'-', '_' or '.', and must start and end with an alphanumeric character",
                   s);
    return NULL;
}

const char *minik_names_check_label_value(const char *s, char *buf, size_t bufsz)
{
    size_t n = strlen(s);
    if (n == 0)
        return NULL;
    if (n > 63)
        return fmt(buf, bufsz, "invalid label value \"%.100s\": must be no more than 63 characters",
                   s);
    if (!qualified_part_ok(s, n))
        return fmt(buf, bufsz,
                   "invalid label value \"%.100s\": a valid label must be an empty string or "
                   "consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                   "with an alphanumeric character",
                   s);
    return NULL;
}

const char *minik_names_check_config_key(const char *s, char *buf, size_t bufsz)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return fmt(buf, bufsz, "invalid key \"%.100s\": must be 1 to 253 characters", s);
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return fmt(buf, bufsz, "invalid key \"%.100s\": must not be '.' or '..'", s);
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return fmt(buf, bufsz,
                       "invalid key \"%.100s\": must consist of alphanumeric characters, '-', "
                       "'_' or '.'",
                       s);
    return NULL;
}

const char *minik_names_check_port_name(const char *s, char *buf, size_t bufsz)
{
    size_t n = strlen(s);
    bool letter = false;
    bool ok = n >= 1 && n <= 15 && s[0] != '-' && s[n - 1] != '-' && !strstr(s, "--");
    for (size_t i = 0; ok && i < n; i++) {
        if (s[i] >= 'a' && s[i] <= 'z')
            letter = true;
        else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
            ok = false;
    }
    if (!ok || !letter)
        return fmt(buf, bufsz,
                   "invalid port name \"%.100s\": must be 1 to 15 lower case alphanumeric "
                   "characters or '-', contain a letter, not start or end with '-' nor contain "
                   "\"--\"",
                   s);
    return NULL;
}

const char *minik_names_check_env_var_name(const char *s, char *buf, size_t bufsz)
{
    bool ok = s[0] != '\0' && !isdigit((unsigned char)s[0]);
    for (const char *p = s; ok && *p; p++)
        if (!is_alnum(*p) && *p != '-' && *p != '_' && *p != '.')
            ok = false;
    if (!ok)
        return fmt(buf, bufsz,
                   "invalid environment variable name \"%.100s\": must consist of alphabetic "
                   "characters, digits, '_', '-' or '.', and must not start with a digit",
                   s);
    return NULL;
}
