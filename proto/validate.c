/* The one generic walker over field tables (proto/schema.h): validation with located
 * errors, and defaulting. Nothing here knows about a particular field; kinds live in
 * proto/kinds.c and the tables in proto/schema_*.c. */
#include "proto/validate.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "proto/num.h"
#include "proto/quantity.h"
#include "proto/schema.h"

struct minik_vctx {
    const minik_posmap_t *pos;
    const char *source;
    minik_validate_mode_t mode;
    minik_diags_t *diags;
    const minik_kind_t *kind;
    minik_buf_t path;
    const cJSON *cur;           /* value being checked */
    const minik_pos_t *cur_pos; /* its position, or the nearest enclosing one */
    int errors;
    int shown;      /* diagnostics added for this object */
    int suppressed; /* beyond MINIK_VALIDATE_MAX_DIAGS */
};

int minik_validate_mode_parse(const char *s, minik_validate_mode_t *out)
{
    if (strcmp(s, "strict") == 0 || strcmp(s, "true") == 0) {
        *out = MINIK_VALIDATE_STRICT;
        return 0;
    }
    if (strcmp(s, "warn") == 0) {
        *out = MINIK_VALIDATE_WARN;
        return 0;
    }
    return -1;
}

const minik_kind_t *minik_vctx_kind(const minik_vctx_t *c)
{
    return c->kind;
}

static void report(minik_vctx_t *c, minik_diag_severity_t sev, const minik_pos_t *p, bool at_key,
                   const char *subpath, const char *msg)
{
    if (sev == MINIK_DIAG_ERROR)
        c->errors++;
    /* A hostile body with 100,000 unknown fields gets a bounded answer. */
    if (c->shown >= MINIK_VALIDATE_MAX_DIAGS) {
        c->suppressed++;
        return;
    }
    c->shown++;
    cleanup_free char *path = NULL;
    const char *base = c->path.data ? c->path.data : "";
    if (subpath && subpath[0]) {
        const char *sp = (base[0] == '\0' && subpath[0] == '.') ? subpath + 1 : subpath;
        path = xasprintf("%s%s", base, sp);
    }
    unsigned line = p ? (at_key ? p->key_line : p->line) : 0;
    unsigned col = p ? (at_key ? p->key_col : p->col) : 0;
    minik_diags_add(c->diags, sev, c->source, line, col, path ? path : base, "%s", msg);
}

void minik_vctx_error(minik_vctx_t *c, const cJSON *node, const char *subpath, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cleanup_free char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    const minik_pos_t *p = node ? minik_posmap_get(c->pos, node) : NULL;
    report(c, MINIK_DIAG_ERROR, p ? p : c->cur_pos, false, subpath, msg);
}

static const char *type_name(const cJSON *n)
{
    if (cJSON_IsString(n))
        return "string";
    if (cJSON_IsNumber(n))
        return "number";
    if (cJSON_IsBool(n))
        return "boolean";
    if (cJSON_IsNull(n))
        return "null";
    if (cJSON_IsArray(n))
        return "list";
    if (cJSON_IsObject(n))
        return "object";
    return "unknown";
}

static bool is_integral(const cJSON *n)
{
    if (!cJSON_IsNumber(n))
        return false;
    double d = n->valuedouble;
    return minik_num_is_int53(d);
}

static void fail(minik_vctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(minik_vctx_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cleanup_free char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    report(c, MINIK_DIAG_ERROR, c->cur_pos, false, NULL, msg);
}

static void check_enum(minik_vctx_t *c, const minik_field_t *f, const char *v)
{
    if (!f->enums)
        return;
    for (const char *const *e = f->enums; *e; e++)
        if (strcmp(*e, v) == 0)
            return;
    minik_buf_t b = MINIK_BUF_INIT;
    for (const char *const *e = f->enums; *e; e++)
        minik_buf_appendf(&b, "%s\"%s\"", e == f->enums ? "" : ", ", *e);
    fail(c, "unsupported value \"%s\": supported values: %s", v, b.data ? b.data : "");
    minik_buf_free(&b);
}

static void check_range(minik_vctx_t *c, const minik_field_t *f, int64_t v)
{
    if (!(f->flags & MINIK_F_RANGE) || (v >= f->min && v <= f->max))
        return;
    if (f->max == INT64_MAX)
        fail(c, "must be greater than or equal to %lld, got %lld", (long long)f->min, (long long)v);
    else
        fail(c, "must be between %lld and %lld, got %lld", (long long)f->min, (long long)f->max,
             (long long)v);
}

static void walk(minik_vctx_t *c, const minik_field_t *f, const cJSON *node);

/* Descend into a child: extend the path, track the nearest known position. */
static void walk_child(minik_vctx_t *c, const minik_field_t *f, const cJSON *node, const char *fmt,
                       const char *key, int idx)
{
    size_t saved_len = c->path.len;
    const minik_pos_t *saved_pos = c->cur_pos;
    const cJSON *saved_cur = c->cur;
    if (key) {
        if (strcmp(fmt, "[%s]") == 0)
            minik_buf_appendf(&c->path, "[%s]", key);
        else
            minik_buf_appendf(&c->path, "%s%s", c->path.len ? "." : "", key);
    } else {
        minik_buf_appendf(&c->path, "[%d]", idx);
    }
    const minik_pos_t *p = minik_posmap_get(c->pos, node);
    if (p)
        c->cur_pos = p;
    c->cur = node;
    walk(c, f, node);
    c->path.len = saved_len;
    if (c->path.data)
        c->path.data[saved_len] = '\0';
    c->cur_pos = saved_pos;
    c->cur = saved_cur;
}

static int cmp_member_key(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    int r = strcmp(x->string, y->string);
    /* equal keys: keep document order so the later one is the one reported */
    return r ? r : (x < y ? -1 : x > y);
}

/* JSON bodies parsed by cJSON may repeat a key (the YAML decoder already refuses that);
 * Kubernetes rejects such bodies, and so do we. Sorting keeps this O(n log n) for
 * objects with very many members. */
static void check_duplicate_keys(minik_vctx_t *c, const cJSON *node)
{
    size_t n = 0;
    for (const cJSON *ch = node->child; ch; ch = ch->next)
        n++;
    if (n < 2)
        return;
    const cJSON **v = xmalloc(n * sizeof *v);
    size_t i = 0;
    for (const cJSON *ch = node->child; ch; ch = ch->next)
        v[i++] = ch;
    qsort(v, n, sizeof *v, cmp_member_key);
    for (i = 1; i < n; i++) {
        if (strcmp(v[i - 1]->string, v[i]->string) == 0) {
            const minik_pos_t *p = minik_posmap_get(c->pos, v[i]);
            cleanup_free char *sub = xasprintf(".%s", v[i]->string);
            report(c, MINIK_DIAG_ERROR, p ? p : c->cur_pos, true, sub, "duplicate key");
        }
    }
    free(v);
}

static void walk_object(minik_vctx_t *c, const minik_field_t *table, const cJSON *node)
{
    check_duplicate_keys(c, node);
    for (const cJSON *ch = node->child; ch; ch = ch->next) {
        const minik_field_t *row = NULL;
        for (const minik_field_t *r = table; r && r->name; r++) {
            if (strcmp(r->name, ch->string) == 0) {
                row = r;
                break;
            }
        }
        if (row) {
            /* Kubernetes reads null as "not set" (Helm output is full of `labels:`) */
            if (!cJSON_IsNull(ch) || (row->flags & MINIK_F_NULLABLE))
                walk_child(c, row, ch, "%s", ch->string, 0);
            continue;
        }
        const minik_pos_t *p = minik_posmap_get(c->pos, ch);
        bool warn = c->mode == MINIK_VALIDATE_WARN;
        cleanup_free char *sub = xasprintf(".%s", ch->string);
        report(c, warn ? MINIK_DIAG_WARNING : MINIK_DIAG_ERROR, p ? p : c->cur_pos, true, sub,
               "unknown field");
    }
    for (const minik_field_t *r = table; r && r->name; r++) {
        if (!(r->flags & MINIK_F_REQUIRED))
            continue;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(node, r->name);
        if (v == NULL || cJSON_IsNull(v)) {
            const minik_pos_t *p = v ? minik_posmap_get(c->pos, v) : NULL;
            cleanup_free char *sub = xasprintf(".%s", r->name);
            report(c, MINIK_DIAG_ERROR, p ? p : c->cur_pos, p != NULL, sub, "required value");
        }
    }
}

/* Free-form values (status, ...) are taken as they are, except numbers JSON cannot
 * carry: cJSON reads 1e999 as infinity, which Kubernetes refuses as out of range. */
static const minik_field_t any_row = {.name = NULL, .type = MINIK_T_ANY};

static void walk_any(minik_vctx_t *c, const cJSON *node)
{
    if (cJSON_IsNumber(node) && !isfinite(node->valuedouble)) {
        fail(c, "number out of range");
        return;
    }
    int i = 0;
    for (const cJSON *ch = node->child; ch; ch = ch->next, i++) {
        if (cJSON_IsArray(node))
            walk_child(c, &any_row, ch, NULL, NULL, i);
        else if (ch->string)
            walk_child(c, &any_row, ch, "%s", ch->string, 0);
    }
}

static void walk(minik_vctx_t *c, const minik_field_t *f, const cJSON *node)
{
    if (cJSON_IsNull(node) && (f->flags & MINIK_F_NULLABLE))
        return;
    switch (f->type) {
    case MINIK_T_ANY:
        walk_any(c, node);
        break;
    case MINIK_T_STRING:
        if (!cJSON_IsString(node)) {
            fail(c, "must be a string, got %s", type_name(node));
            return;
        }
        if ((f->flags & MINIK_F_NONEMPTY) && node->valuestring[0] == '\0') {
            fail(c, "must not be empty");
            return;
        }
        check_enum(c, f, node->valuestring);
        break;
    case MINIK_T_INT:
        if (!is_integral(node)) {
            fail(c, "must be an integer, got %s",
                 !cJSON_IsNumber(node)         ? type_name(node)
                 : isfinite(node->valuedouble) ? "a fraction"
                                               : "a number out of range");
            return;
        }
        check_range(c, f, (int64_t)node->valuedouble);
        break;
    case MINIK_T_BOOL:
        if (!cJSON_IsBool(node)) {
            fail(c, "must be a boolean (true or false), got %s", type_name(node));
            return;
        }
        break;
    case MINIK_T_OBJECT:
        if (!cJSON_IsObject(node)) {
            fail(c, "must be an object, got %s", type_name(node));
            return;
        }
        walk_object(c, f->fields, node);
        break;
    case MINIK_T_ARRAY: {
        if (!cJSON_IsArray(node)) {
            fail(c, "must be a list, got %s", type_name(node));
            return;
        }
        if ((f->flags & MINIK_F_NONEMPTY) && node->child == NULL) {
            fail(c, "must have at least one item");
            return;
        }
        int i = 0;
        for (const cJSON *el = node->child; el; el = el->next, i++)
            if (f->items)
                walk_child(c, f->items, el, NULL, NULL, i);
        break;
    }
    case MINIK_T_MAP:
        if (!cJSON_IsObject(node)) {
            fail(c, "must be an object, got %s", type_name(node));
            return;
        }
        if ((f->flags & MINIK_F_NONEMPTY) && node->child == NULL) {
            fail(c, "must not be empty");
            return;
        }
        check_duplicate_keys(c, node);
        for (const cJSON *kv = node->child; kv; kv = kv->next) {
            if (f->key_check) {
                /* Key checks see the key as a string node positioned at the key. */
                cJSON key = {0};
                key.type = cJSON_String;
                key.valuestring = kv->string;
                size_t saved_len = c->path.len;
                const minik_pos_t *saved = c->cur_pos;
                const minik_pos_t *kp = minik_posmap_get(c->pos, kv);
                minik_pos_t at_key;
                if (kp) {
                    at_key = *kp;
                    at_key.line = kp->key_line;
                    at_key.col = kp->key_col;
                    c->cur_pos = &at_key;
                }
                minik_buf_appendf(&c->path, "[%s]", kv->string);
                const cJSON *saved_cur = c->cur;
                c->cur = &key;
                f->key_check(c, &key);
                c->cur = saved_cur;
                c->path.len = saved_len;
                if (c->path.data)
                    c->path.data[saved_len] = '\0';
                c->cur_pos = saved;
            }
            if (f->items)
                walk_child(c, f->items, kv, "[%s]", kv->string, 0);
        }
        break;
    case MINIK_T_INT_OR_STRING:
        if (cJSON_IsString(node)) {
            if (node->valuestring[0] == '\0') {
                fail(c, "must not be empty");
                return;
            }
        } else if (is_integral(node)) {
            check_range(c, f, (int64_t)node->valuedouble);
        } else {
            fail(c, "must be an integer or a string, got %s", type_name(node));
            return;
        }
        break;
    case MINIK_T_QUANTITY: {
        char buf[64];
        const char *text = NULL;
        if (cJSON_IsString(node)) {
            text = node->valuestring;
        } else if (cJSON_IsNumber(node) && isfinite(node->valuedouble)) {
            snprintf(buf, sizeof buf, "%.15g", node->valuedouble);
            text = buf;
        } else {
            fail(c, "must be a quantity (like 100m, 0.5 or 128Mi), got %s", type_name(node));
            return;
        }
        minik_quantity_t q;
        cleanup_error minik_error_t *err = NULL;
        if (minik_quantity_parse(text, &q, &err) < 0) {
            fail(c, "%s", err->msg);
            return;
        }
        if ((f->flags & MINIK_F_RANGE) && q.milli < 0) {
            fail(c, "must be greater than or equal to 0, got %s", text);
            return;
        }
        break;
    }
    }
    /* Cross-field checks run whenever the value has the right type, even if parts of it
     * were wrong, so that every problem of a file is reported at once. */
    if (f->check)
        f->check(c, node);
}

/* The row that describes a whole object of a kind. */
static minik_field_t kind_row(const minik_kind_t *k)
{
    minik_field_t row = {0};
    row.type = MINIK_T_OBJECT;
    row.fields = k->fields;
    row.check = k->check;
    return row;
}

int minik_validate(const cJSON *obj, const minik_posmap_t *pos, const char *source,
                   minik_validate_mode_t mode, minik_diags_t *diags, const minik_kind_t **kind_out)
{
    minik_vctx_t c = {.pos = pos, .source = source, .mode = mode, .diags = diags};
    c.cur_pos = minik_posmap_get(pos, obj);
    c.cur = obj;
    if (kind_out)
        *kind_out = NULL;
    if (!cJSON_IsObject(obj)) {
        fail(&c, "a manifest must be a mapping with apiVersion, kind and metadata, got %s",
             type_name(obj));
        return c.errors;
    }
    const cJSON *av = cJSON_GetObjectItemCaseSensitive(obj, "apiVersion");
    const cJSON *kd = cJSON_GetObjectItemCaseSensitive(obj, "kind");
    if (!av)
        report(&c, MINIK_DIAG_ERROR, c.cur_pos, false, ".apiVersion", "required value");
    else if (!cJSON_IsString(av))
        minik_vctx_error(&c, av, ".apiVersion", "must be a string, got %s", type_name(av));
    if (!kd)
        report(&c, MINIK_DIAG_ERROR, c.cur_pos, false, ".kind", "required value");
    else if (!cJSON_IsString(kd))
        minik_vctx_error(&c, kd, ".kind", "must be a string, got %s", type_name(kd));
    if (c.errors)
        return c.errors;

    const minik_kind_t *k = minik_kind_lookup(av->valuestring, kd->valuestring);
    if (k == NULL) {
        const minik_kind_t *other = minik_kind_by_kind(kd->valuestring);
        if (other) {
            minik_vctx_error(&c, av, ".apiVersion", "%s is served as \"%s\", not \"%s\"",
                             other->kind, other->api_version, av->valuestring);
        } else {
            minik_buf_t b = MINIK_BUF_INIT;
            for (const minik_kind_t *x = minik_kinds; x->kind; x++)
                minik_buf_appendf(&b, "%s%s", x == minik_kinds ? "" : ", ", x->kind);
            minik_vctx_error(&c, kd, ".kind", "unsupported kind \"%s\" (minik supports %s)",
                             kd->valuestring, b.data);
            minik_buf_free(&b);
        }
        return c.errors;
    }
    c.kind = k;
    if (kind_out)
        *kind_out = k;
    minik_field_t row = kind_row(k);
    walk(&c, &row, obj);
    minik_buf_free(&c.path);
    if (c.suppressed) {
        const minik_pos_t *p = minik_posmap_get(pos, obj);
        minik_diags_add(diags, c.errors > c.shown ? MINIK_DIAG_ERROR : MINIK_DIAG_WARNING, source,
                        p ? p->line : 0, p ? p->col : 0, "",
                        "%d more problems in this document not shown", c.suppressed);
    }
    return c.errors;
}

/* ---- defaulting --------------------------------------------------------------------- */

static void apply_defaults(const minik_field_t *f, cJSON *node)
{
    switch (f->type) {
    case MINIK_T_OBJECT:
        if (!cJSON_IsObject(node))
            return;
        for (const minik_field_t *r = f->fields; r && r->name; r++) {
            cJSON *v = cJSON_GetObjectItemCaseSensitive(node, r->name);
            if (v && cJSON_IsNull(v) && !(r->flags & MINIK_F_NULLABLE)) {
                /* null means unset: drop it, and default it like an absent field */
                cJSON_DeleteItemFromObjectCaseSensitive(node, r->name);
                v = NULL;
            }
            if (v == NULL && r->dflt) {
                v = cJSON_Parse(r->dflt);
                if (v == NULL)
                    continue; /* a broken table literal: caught by the unit tests */
                cJSON_AddItemToObject(node, r->name, v);
            }
            if (v)
                apply_defaults(r, v);
        }
        if (f->defaulter)
            f->defaulter(node);
        break;
    case MINIK_T_ARRAY:
        if (!cJSON_IsArray(node) || !f->items)
            return;
        for (cJSON *el = node->child; el; el = el->next)
            apply_defaults(f->items, el);
        break;
    case MINIK_T_MAP:
        if (!cJSON_IsObject(node) || !f->items)
            return;
        for (cJSON *el = node->child; el; el = el->next)
            apply_defaults(f->items, el);
        break;
    default:
        break;
    }
}

void minik_default(cJSON *obj)
{
    const cJSON *av = cJSON_GetObjectItemCaseSensitive(obj, "apiVersion");
    const cJSON *kd = cJSON_GetObjectItemCaseSensitive(obj, "kind");
    if (!cJSON_IsString(av) || !cJSON_IsString(kd))
        return;
    const minik_kind_t *k = minik_kind_lookup(av->valuestring, kd->valuestring);
    if (k == NULL)
        return;
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    if (k->namespaced && cJSON_IsObject(meta)) {
        cJSON *ns = cJSON_GetObjectItemCaseSensitive(meta, "namespace");
        if (ns && (cJSON_IsNull(ns) || (cJSON_IsString(ns) && ns->valuestring[0] == '\0'))) {
            cJSON_DeleteItemFromObjectCaseSensitive(meta, "namespace");
            ns = NULL;
        }
        if (ns == NULL) {
            /* Right after name, where Kubernetes prints it: append, then move the members
             * that followed name behind it. */
            cJSON *after = NULL;
            for (cJSON *ch = meta->child; ch; ch = ch->next)
                if (strcmp(ch->string, "name") == 0 || strcmp(ch->string, "generateName") == 0)
                    after = ch;
            cJSON_AddStringToObject(meta, "namespace", "default");
            while (after && after->next && strcmp(after->next->string, "namespace") != 0) {
                cJSON *mv = cJSON_DetachItemViaPointer(meta, after->next);
                cJSON_AddItemToArray(meta, mv);
            }
        }
    }
    minik_field_t row = kind_row(k);
    row.defaulter = k->defaulter;
    apply_defaults(&row, obj);
}
