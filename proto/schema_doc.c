/* Markdown reference generated from the field tables. */
#include "proto/schema_doc.h"

#include <stdint.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "proto/kinds.h"
#include "proto/schema_common.h"

/* Structures used in several places are documented once and linked. */
static const struct {
    const minik_field_t *table;
    const char *name;
    const char *anchor;
} shared[] = {
    {minik_schema_object_meta, "ObjectMeta", "objectmeta"},
    {minik_schema_template_meta, "ObjectMeta", "objectmeta"},
    {minik_schema_pod_spec, "PodSpec", "podspec"},
    {minik_schema_label_selector, "LabelSelector", "labelselector"},
    {minik_schema_object_ref, "ObjectReference", "objectreference"},
};

static const struct {
    minik_check_fn fn;
    const char *what;
} checks[] = {
    {minik_check_dns_label, "DNS-1123 label"},
    {minik_check_dns_subdomain, "DNS-1123 subdomain"},
    {minik_check_qualified_name, "qualified name ([prefix/]name)"},
    {minik_check_label_value, "label value (<= 63, alphanumeric ends)"},
    {minik_check_config_key, "key: [-._a-zA-Z0-9]+"},
    {minik_check_base64, "base64"},
    {minik_check_port_name, "IANA port name"},
    {minik_check_env_name, "env var name"},
    {minik_check_timestamp, "RFC 3339 time"},
    {minik_check_ip, "IP address"},
    {minik_check_label_selector, "valid selector"},
};

static const char *shared_name(const minik_field_t *t, const char **anchor)
{
    for (size_t i = 0; i < sizeof shared / sizeof shared[0]; i++) {
        if (shared[i].table == t) {
            *anchor = shared[i].anchor;
            return shared[i].name;
        }
    }
    return NULL;
}

static const char *type_word(const minik_field_t *f)
{
    switch (f->type) {
    case MINIK_T_STRING:
        return "string";
    case MINIK_T_INT:
        return "integer";
    case MINIK_T_BOOL:
        return "boolean";
    case MINIK_T_OBJECT:
        return "object";
    case MINIK_T_ARRAY:
        return "list";
    case MINIK_T_MAP:
        return "map";
    case MINIK_T_INT_OR_STRING:
        return "int or string";
    case MINIK_T_QUANTITY:
        return "quantity";
    default:
        return "any";
    }
}

static void constraints(const minik_field_t *f, minik_buf_t *b)
{
    const char *sep = "";
    if (f->enums) {
        minik_buf_append_str(b, "one of");
        for (const char *const *e = f->enums; *e; e++)
            minik_buf_appendf(b, "%s `%s`", e == f->enums ? "" : ",", (*e)[0] ? *e : "\"\"");
        sep = "; ";
    }
    if (f->flags & MINIK_F_RANGE) {
        if (f->type == MINIK_T_QUANTITY || f->max == INT64_MAX)
            minik_buf_appendf(b, "%s>= %lld", sep, (long long)f->min);
        else
            minik_buf_appendf(b, "%s%lld-%lld", sep, (long long)f->min, (long long)f->max);
        sep = "; ";
    }
    if (f->flags & MINIK_F_NONEMPTY) {
        minik_buf_appendf(b, "%snon-empty", sep);
        sep = "; ";
    }
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        if (f->check == checks[i].fn) {
            minik_buf_appendf(b, "%s%s", sep, checks[i].what);
            sep = "; ";
        }
        if (f->key_check == checks[i].fn) {
            minik_buf_appendf(b, "%skeys: %s", sep, checks[i].what);
            sep = "; ";
        }
    }
}

static void rows(minik_buf_t *b, const char *prefix, const minik_field_t *table, int depth);

static void row(minik_buf_t *b, const char *path, const minik_field_t *f, int depth)
{
    const minik_field_t *inner = f->type == MINIK_T_OBJECT ? f : f->items;
    const char *anchor = NULL;
    const char *sname = inner && inner->fields ? shared_name(inner->fields, &anchor) : NULL;
    cleanup_buf minik_buf_t type = MINIK_BUF_INIT;
    minik_buf_append_str(&type, type_word(f));
    if ((f->type == MINIK_T_ARRAY || f->type == MINIK_T_MAP) && f->items)
        minik_buf_appendf(&type, " of %s", sname ? sname : type_word(f->items));
    else if (sname)
        minik_buf_appendf(&type, " ([%s](#%s))", sname, anchor);
    if (sname && f->type != MINIK_T_OBJECT)
        minik_buf_appendf(&type, " ([see](#%s))", anchor);
    cleanup_buf minik_buf_t cons = MINIK_BUF_INIT;
    constraints(f, &cons);
    if (f->items && f->type != MINIK_T_OBJECT) {
        cleanup_buf minik_buf_t ic = MINIK_BUF_INIT;
        constraints(f->items, &ic);
        if (ic.len)
            minik_buf_appendf(&cons, "%sitems: %s", cons.len ? "; " : "", ic.data);
    }
    cleanup_buf minik_buf_t dflt = MINIK_BUF_INIT;
    if (f->dflt)
        minik_buf_appendf(&dflt, "`%s`", f->dflt);
    minik_buf_appendf(b, "| `%s` | %s | %s | %s | %s | %s |\n", path, type.data,
                      (f->flags & MINIK_F_REQUIRED) ? "yes" : "", dflt.len ? dflt.data : "",
                      cons.len ? cons.data : "", f->doc ? f->doc : "");
    if (inner && inner->fields && !sname && depth < 12) {
        cleanup_free char *sub = xasprintf("%s%s", path, f->type == MINIK_T_ARRAY ? "[]" : "");
        rows(b, sub, inner->fields, depth + 1);
    }
}

static void rows(minik_buf_t *b, const char *prefix, const minik_field_t *table, int depth)
{
    for (const minik_field_t *f = table; f->name; f++) {
        cleanup_free char *path =
            prefix[0] ? xasprintf("%s.%s", prefix, f->name) : xstrdup(f->name);
        row(b, path, f, depth);
    }
}

static void table(minik_buf_t *b, const minik_field_t *t)
{
    minik_buf_append_str(b, "| field | type | required | default | constraints | notes |\n"
                            "|---|---|---|---|---|---|\n");
    rows(b, "", t, 0);
    minik_buf_append_char(b, '\n');
}

void minik_schema_doc_markdown(minik_buf_t *out)
{
    minik_buf_append_str(out, "| kind | apiVersion | resource | short names | scope |\n"
                              "|---|---|---|---|---|\n");
    for (const minik_kind_t *k = minik_kinds; k->kind; k++) {
        cleanup_buf minik_buf_t sn = MINIK_BUF_INIT;
        for (const char *const *s = k->short_names; *s; s++)
            minik_buf_appendf(&sn, "%s`%s`", s == k->short_names ? "" : ", ", *s);
        minik_buf_appendf(out, "| [%s](#%s) | `%s` | `%s` | %s | %s |\n", k->kind, k->singular,
                          k->api_version, k->plural, sn.data ? sn.data : "",
                          k->namespaced ? "namespaced" : "cluster");
    }
    minik_buf_append_char(out, '\n');
    for (const minik_kind_t *k = minik_kinds; k->kind; k++) {
        minik_buf_appendf(out, "### %s\n\n", k->kind);
        table(out, k->fields);
    }
    minik_buf_append_str(out, "### ObjectMeta\n\n");
    table(out, minik_schema_object_meta);
    minik_buf_append_str(out, "### PodSpec\n\n");
    table(out, minik_schema_pod_spec);
    minik_buf_append_str(out, "### LabelSelector\n\n");
    table(out, minik_schema_label_selector);
    minik_buf_append_str(out, "### ObjectReference\n\n");
    table(out, minik_schema_object_ref);
}
