/* JSON and YAML writers. Both put apiVersion, kind, metadata, spec, status first at the
 * top level (as kubectl shows objects); everything else keeps its stored order. */
#include "proto/encode.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "proto/num.h"
#include "proto/yaml_decode.h"

static const char *const top_order[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};

static bool is_top_key(const char *k)
{
    for (const char *const *p = top_order; *p; p++)
        if (strcmp(*p, k) == 0)
            return true;
    return false;
}

/* Call fn for each member of obj; at the top level the well-known keys come first. */
typedef void (*member_fn)(const cJSON *kv, void *ud, bool first);

static void for_members(const cJSON *obj, bool top, member_fn fn, void *ud)
{
    bool first = true;
    if (top) {
        for (const char *const *p = top_order; *p; p++) {
            const cJSON *kv = cJSON_GetObjectItemCaseSensitive(obj, *p);
            if (kv) {
                fn(kv, ud, first);
                first = false;
            }
        }
    }
    for (const cJSON *kv = obj->child; kv; kv = kv->next) {
        if (top && is_top_key(kv->string))
            continue;
        fn(kv, ud, first);
        first = false;
    }
}

static void append_number(minik_buf_t *out, double d)
{
    if (!isfinite(d)) {
        minik_buf_append_str(out, "null");
        return;
    }
    if (minik_num_is_int53(d)) {
        minik_buf_appendf(out, "%lld", (long long)d);
        return;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "%.15g", d);
    if (strtod(buf, NULL) != d)
        snprintf(buf, sizeof buf, "%.17g", d);
    minik_buf_append_str(out, buf);
}

/* ---- JSON --------------------------------------------------------------------------- */

static void json_string(minik_buf_t *out, const char *s)
{
    minik_buf_append_char(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            minik_buf_append_str(out, "\\\"");
            break;
        case '\\':
            minik_buf_append_str(out, "\\\\");
            break;
        case '\n':
            minik_buf_append_str(out, "\\n");
            break;
        case '\r':
            minik_buf_append_str(out, "\\r");
            break;
        case '\t':
            minik_buf_append_str(out, "\\t");
            break;
        default:
            if (*p < 0x20)
                minik_buf_appendf(out, "\\u%04x", *p);
            else
                minik_buf_append_char(out, (char)*p);
        }
    }
    minik_buf_append_char(out, '"');
}

typedef struct json_ctx {
    minik_buf_t *out;
    bool pretty;
    int indent;
} json_ctx_t;

static void json_value(json_ctx_t *c, const cJSON *v, bool top);

static void json_newline(json_ctx_t *c)
{
    if (!c->pretty)
        return;
    minik_buf_append_char(c->out, '\n');
    for (int i = 0; i < c->indent; i++)
        minik_buf_append_str(c->out, "    ");
}

static void json_member(const cJSON *kv, void *ud, bool first)
{
    json_ctx_t *c = ud;
    if (!first)
        minik_buf_append_char(c->out, ',');
    json_newline(c);
    json_string(c->out, kv->string);
    minik_buf_append_str(c->out, c->pretty ? ": " : ":");
    json_value(c, kv, false);
}

static void json_value(json_ctx_t *c, const cJSON *v, bool top)
{
    if (cJSON_IsObject(v)) {
        if (v->child == NULL) {
            minik_buf_append_str(c->out, "{}");
            return;
        }
        minik_buf_append_char(c->out, '{');
        c->indent++;
        for_members(v, top, json_member, c);
        c->indent--;
        json_newline(c);
        minik_buf_append_char(c->out, '}');
    } else if (cJSON_IsArray(v)) {
        if (v->child == NULL) {
            minik_buf_append_str(c->out, "[]");
            return;
        }
        minik_buf_append_char(c->out, '[');
        c->indent++;
        for (const cJSON *el = v->child; el; el = el->next) {
            json_newline(c);
            json_value(c, el, false);
            if (el->next)
                minik_buf_append_char(c->out, ',');
        }
        c->indent--;
        json_newline(c);
        minik_buf_append_char(c->out, ']');
    } else if (cJSON_IsString(v)) {
        json_string(c->out, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        append_number(c->out, v->valuedouble);
    } else if (cJSON_IsTrue(v)) {
        minik_buf_append_str(c->out, "true");
    } else if (cJSON_IsFalse(v)) {
        minik_buf_append_str(c->out, "false");
    } else {
        minik_buf_append_str(c->out, "null");
    }
}

void minik_encode_json(const cJSON *obj, bool pretty, minik_buf_t *out)
{
    json_ctx_t c = {out, pretty, 0};
    json_value(&c, obj, true);
}

void minik_encode_json_list(const cJSON *const *objs, size_t n, minik_buf_t *out)
{
    minik_buf_append_str(out, "{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"List\",\n"
                              "    \"items\": [");
    json_ctx_t c = {out, true, 2};
    for (size_t i = 0; i < n; i++) {
        json_newline(&c);
        json_value(&c, objs[i], true);
        if (i + 1 < n)
            minik_buf_append_char(out, ',');
    }
    if (n)
        minik_buf_append_str(out, "\n    ");
    minik_buf_append_str(out, "]\n}");
}

/* ---- YAML --------------------------------------------------------------------------- */

/* Decode one UTF-8 sequence at s; returns its length (1 for an invalid byte, reported as
 * that byte) and the code point in *cp. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0) {
        *cp = c;
        return 1;
    }
    uint32_t v = n == 1 ? c : n == 2 ? (c & 0x1fu) : n == 3 ? (c & 0x0fu) : (c & 0x07u);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *cp = c;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3fu);
    }
    *cp = v;
    return n;
}

/* What libyaml accepts literally in a scalar (yaml_parser_check_printable), minus the
 * characters YAML treats as line breaks (NEL, LS, PS) which it would fold. */
static bool printable(uint32_t cp)
{
    if (cp == 0x85 || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff)
        return false;
    return cp == 0x09 || (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xd7ff) ||
           (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

static bool all_printable(const char *s, bool allow_newline)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        size_t n = utf8_next(p, &cp);
        if (!(printable(cp) || (allow_newline && cp == '\n')) || (n == 1 && *p >= 0x80))
            return false;
        p += n;
    }
    return true;
}

/* Would this string, written plain, read back as something else or not parse? */
static bool needs_quotes(const char *s)
{
    if (s[0] == '\0')
        return true;
    const char *why;
    cJSON *v = minik_yaml_resolve_plain(s, &why);
    bool is_str = v && cJSON_IsString(v);
    cJSON_Delete(v);
    if (!is_str)
        return true;
    if (strchr("[]{},#&*!|>'\"%@`", s[0]))
        return true;
    if ((s[0] == '-' || s[0] == '?' || s[0] == ':') && (s[1] == ' ' || s[1] == '\0'))
        return true;
    size_t len = strlen(s);
    if (s[0] == ' ' || s[len - 1] == ' ' || s[len - 1] == ':' || s[0] == '\t' || s[len - 1] == '\t')
        return true;
    if (strstr(s, ": ") || strstr(s, ":\t") || strstr(s, " #") || strstr(s, "\t#") ||
        strstr(s, "---") == s || strstr(s, "...") == s)
        return true;
    if (strchr(s, '\t'))
        return true;
    return !all_printable(s, false);
}

static void yaml_quoted(minik_buf_t *out, const char *s)
{
    minik_buf_append_char(out, '"');
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        size_t n = utf8_next(p, &cp);
        if (cp == '"')
            minik_buf_append_str(out, "\\\"");
        else if (cp == '\\')
            minik_buf_append_str(out, "\\\\");
        else if (cp == '\n')
            minik_buf_append_str(out, "\\n");
        else if (cp == '\t')
            minik_buf_append_str(out, "\\t");
        else if (cp == '\r')
            minik_buf_append_str(out, "\\r");
        else if (cp == 0x85)
            minik_buf_append_str(out, "\\N");
        else if (cp == 0x2028)
            minik_buf_append_str(out, "\\L");
        else if (cp == 0x2029)
            minik_buf_append_str(out, "\\P");
        else if (n == 1 && *p >= 0x80)
            minik_buf_appendf(out, "\\x%02x", *p); /* not UTF-8: keep the byte's value */
        else if (!printable(cp))
            minik_buf_appendf(out, cp < 0x100 ? "\\x%02x" : "\\u%04x", (unsigned)cp);
        else
            minik_buf_append(out, p, n);
        p += n;
    }
    minik_buf_append_char(out, '"');
}

/* Multi-line text reads best as a literal block (kubectl shows ConfigMap files so), when
 * it can be one: printable, no tabs or carriage returns, no leading space or newline, no
 * trailing spaces on a line. */
static bool literal_ok(const char *s)
{
    if (!strchr(s, '\n') || s[0] == ' ' || s[0] == '\n' || s[0] == '\t')
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\t' || *p == '\r')
            return false;
        if (*p == ' ' && (p[1] == '\n' || p[1] == '\0'))
            return false;
    }
    return all_printable(s, true);
}

static void indent_to(minik_buf_t *out, int n)
{
    for (int i = 0; i < n; i++)
        minik_buf_append_char(out, ' ');
}

static void yaml_literal(minik_buf_t *out, const char *s, int indent)
{
    size_t len = strlen(s);
    size_t trailing = 0;
    while (trailing < len && s[len - 1 - trailing] == '\n')
        trailing++;
    minik_buf_append_str(out, trailing == 0 ? "|-" : trailing == 1 ? "|" : "|+");
    const char *p = s;
    const char *end = s + len - trailing;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        minik_buf_append_char(out, '\n');
        if (n) {
            indent_to(out, indent);
            minik_buf_append(out, p, n);
        }
        p += n + (nl ? 1 : 0);
        if (!nl)
            break;
    }
    for (size_t i = 1; i < trailing; i++)
        minik_buf_append_char(out, '\n');
}

static void yaml_scalar(minik_buf_t *out, const cJSON *v, int indent)
{
    if (cJSON_IsString(v)) {
        if (literal_ok(v->valuestring))
            yaml_literal(out, v->valuestring, indent);
        else if (needs_quotes(v->valuestring))
            yaml_quoted(out, v->valuestring);
        else
            minik_buf_append_str(out, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        append_number(out, v->valuedouble);
    } else if (cJSON_IsTrue(v)) {
        minik_buf_append_str(out, "true");
    } else if (cJSON_IsFalse(v)) {
        minik_buf_append_str(out, "false");
    } else {
        minik_buf_append_str(out, "null");
    }
}

static void yaml_key(minik_buf_t *out, const char *k)
{
    /* a plain "<<" key would be a merge key */
    if (needs_quotes(k) || strchr(k, '\n') || strcmp(k, "<<") == 0)
        yaml_quoted(out, k);
    else
        minik_buf_append_str(out, k);
}

static bool is_empty_collection(const cJSON *v)
{
    return (cJSON_IsObject(v) || cJSON_IsArray(v)) && v->child == NULL;
}

static void yaml_node(minik_buf_t *out, const cJSON *v, int indent, bool top);

typedef struct yaml_ctx {
    minik_buf_t *out;
    int indent;
    bool first_inline; /* the first key continues a "- " line */
} yaml_ctx_t;

static void yaml_member(const cJSON *kv, void *ud, bool first)
{
    yaml_ctx_t *c = ud;
    if (!(first && c->first_inline))
        indent_to(c->out, c->indent);
    cleanup_buf minik_buf_t key = MINIK_BUF_INIT;
    yaml_key(&key, kv->string);
    if (key.len > 1000) {
        /* YAML limits implicit keys to 1024 characters; longer ones need the explicit
         * "? key" / ": value" form. */
        minik_buf_appendf(c->out, "? %s\n", key.data);
        indent_to(c->out, c->indent);
    } else {
        minik_buf_append(c->out, key.data, key.len);
    }
    minik_buf_append_char(c->out, ':');
    if (is_empty_collection(kv)) {
        minik_buf_append_str(c->out, cJSON_IsObject(kv) ? " {}\n" : " []\n");
    } else if (cJSON_IsObject(kv)) {
        minik_buf_append_char(c->out, '\n');
        yaml_node(c->out, kv, c->indent + 2, false);
    } else if (cJSON_IsArray(kv)) {
        /* kubectl style: a sequence under a key is not indented further */
        minik_buf_append_char(c->out, '\n');
        yaml_node(c->out, kv, c->indent, false);
    } else {
        minik_buf_append_char(c->out, ' ');
        yaml_scalar(c->out, kv, c->indent + 2);
        minik_buf_append_char(c->out, '\n');
    }
}

static void yaml_object(minik_buf_t *out, const cJSON *v, int indent, bool top, bool inline_first)
{
    yaml_ctx_t c = {out, indent, inline_first};
    for_members(v, top, yaml_member, &c);
}

static void yaml_node(minik_buf_t *out, const cJSON *v, int indent, bool top)
{
    if (cJSON_IsObject(v)) {
        if (v->child == NULL) {
            indent_to(out, indent);
            minik_buf_append_str(out, "{}\n");
            return;
        }
        yaml_object(out, v, indent, top, false);
    } else if (cJSON_IsArray(v)) {
        if (v->child == NULL) {
            indent_to(out, indent);
            minik_buf_append_str(out, "[]\n");
            return;
        }
        for (const cJSON *el = v->child; el; el = el->next) {
            indent_to(out, indent);
            minik_buf_append_str(out, "-");
            if (cJSON_IsObject(el) && el->child) {
                minik_buf_append_char(out, ' ');
                yaml_object(out, el, indent + 2, false, true);
            } else if (cJSON_IsArray(el) && el->child) {
                minik_buf_append_char(out, '\n');
                yaml_node(out, el, indent + 2, false);
            } else if (is_empty_collection(el)) {
                minik_buf_append_str(out, cJSON_IsObject(el) ? " {}\n" : " []\n");
            } else {
                minik_buf_append_char(out, ' ');
                yaml_scalar(out, el, indent + 2);
                minik_buf_append_char(out, '\n');
            }
        }
    } else {
        indent_to(out, indent);
        yaml_scalar(out, v, indent + 2);
        minik_buf_append_char(out, '\n');
    }
}

void minik_encode_yaml(const cJSON *obj, minik_buf_t *out)
{
    yaml_node(out, obj, 0, true);
}

void minik_encode_yaml_stream(const cJSON *const *objs, size_t n, minik_buf_t *out)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            minik_buf_append_str(out, "---\n");
        minik_encode_yaml(objs[i], out);
    }
}
