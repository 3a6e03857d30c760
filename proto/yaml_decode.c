/* YAML (and JSON, YAML's flow subset) to cJSON with libyaml's event API.
 *
 * Scalar typing follows the YAML 1.1 rules that Kubernetes' reader (go-yaml v2 under
 * sigs.k8s.io/yaml) applies, so `replicas: 3` is a number, `enabled: yes` a bool and
 * `"3"` a string. Anchors/aliases and `<<` merge keys are expanded with a cap on the
 * nodes an expansion may produce (billion laughs), nesting is capped, duplicate keys are
 * reported and every node's position is recorded. */
#include "proto/yaml_decode.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "proto/num.h"
#include "proto/posmap.h"

typedef struct frame {
    cJSON *node;
    bool is_map;
    char *key; /* pending key of a mapping, owned */
    bool key_plain;
    minik_pos_t key_pos;
    minik_pos_t pos;
    char *anchor; /* anchor to register when the collection ends, owned */
    size_t start_nodes;
    cJSON *merges; /* pending `<<` merge sources (an array), owned */
} frame_t;

typedef struct anchor {
    char *name;
    const cJSON *node; /* inside the document tree (or graveyard): never freed before us */
    size_t n_nodes;
} anchor_t;

typedef struct decoder {
    const char *source;
    minik_posmap_t *pm;
    minik_diags_t *diags;
    frame_t stack[MINIK_MANIFEST_MAX_DEPTH + 1];
    int depth;
    cJSON *root;
    cJSON *graveyard; /* values dropped (duplicate keys) that anchors may still point into */
    anchor_t *anchors;
    size_t n_anchors, cap_anchors;
    size_t n_nodes;     /* nodes built in this document */
    size_t alias_nodes; /* nodes produced by alias expansion in this document */
    bool failed;        /* an error was reported */
} decoder_t;

static void error_at(decoder_t *d, const minik_pos_t *pos, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void error_at(decoder_t *d, const minik_pos_t *pos, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cleanup_free char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    minik_diags_add(d->diags, MINIK_DIAG_ERROR, d->source, pos ? pos->line : 0, pos ? pos->col : 0,
                    path, "%s", msg);
    d->failed = true;
}

static minik_pos_t mark_pos(const yaml_mark_t *m)
{
    minik_pos_t p = {(unsigned)m->line + 1, (unsigned)m->column + 1, 0, 0};
    p.key_line = p.line;
    p.key_col = p.col;
    return p;
}

/* The dotted path of the value being attached, for duplicate-key messages. */
static char *current_path(decoder_t *d, const char *last_key)
{
    minik_buf_t b = MINIK_BUF_INIT;
    for (int i = 0; i < d->depth; i++) {
        frame_t *f = &d->stack[i];
        if (f->is_map) {
            const char *k = (i == d->depth - 1 && last_key) ? last_key : f->key;
            if (k == NULL)
                break;
            if (b.len)
                minik_buf_append_char(&b, '.');
            minik_buf_append_str(&b, k);
        } else {
            minik_buf_appendf(&b, "[%d]", cJSON_GetArraySize(f->node));
        }
    }
    return minik_buf_steal(&b);
}

/* ---- scalar typing ------------------------------------------------------------------ */

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const true_words[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                         "True", "TRUE", "on",  "On",  "ON",  NULL};
static const char *const false_words[] = {"n",     "N",     "no",  "No",  "NO",  "false",
                                          "False", "FALSE", "off", "Off", "OFF", NULL};

/* go's strconv.ParseInt(s, 0, 64) after removing '_': sign, then 0x / 0o / 0b / 0 (octal)
 * prefixes. */
static bool parse_int(const char *in, int64_t *out)
{
    char buf[80];
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        if (*p == '_')
            continue;
        if (n + 1 >= sizeof buf)
            return false;
        buf[n++] = *p;
    }
    buf[n] = '\0';
    const char *s = buf;
    bool neg = false;
    if (*s == '+' || *s == '-') {
        neg = *s == '-';
        s++;
    }
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    } else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
        base = 8;
        s += 2;
    } else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
        base = 2;
        s += 2;
    } else if (s[0] == '0' && s[1] != '\0') {
        base = 8;
        s += 1;
    }
    if (*s == '\0')
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        int dgt;
        if (isdigit((unsigned char)*s))
            dgt = *s - '0';
        else if (isxdigit((unsigned char)*s))
            dgt = tolower((unsigned char)*s) - 'a' + 10;
        else
            return false;
        if (dgt >= base)
            return false;
        if (v > (UINT64_MAX - (uint64_t)dgt) / (uint64_t)base)
            return false;
        v = v * (uint64_t)base + (uint64_t)dgt;
    }
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* YAML 1.1 float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? (underscores
 * removed first), or the .inf / .nan words. */
static bool is_float_syntax(const char *s)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    bool digits = false;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p) || *p == '_')
            p++;
        digits = true;
    } else {
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p) || *p == '_')
            p++;
        digits = true;
        if (*p == '.') {
            p++;
            while (isdigit((unsigned char)*p) || *p == '_')
                p++;
        }
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return digits && *p == '\0';
}

cJSON *minik_yaml_resolve_plain(const char *s, const char **why)
{
    *why = NULL;
    if (in_list(s, null_words))
        return cJSON_CreateNull();
    if (in_list(s, true_words))
        return cJSON_CreateTrue();
    if (in_list(s, false_words))
        return cJSON_CreateFalse();
    char c = s[0];
    if (!(isdigit((unsigned char)c) || c == '-' || c == '+' || c == '.'))
        return cJSON_CreateString(s);
    int64_t iv;
    if (parse_int(s, &iv)) {
        if (iv > (INT64_C(1) << 53) || iv < -(INT64_C(1) << 53)) {
            /* cJSON holds numbers as doubles: beyond 2^53 an integer would silently
             * change value, so refuse it rather than store a different number. */
            *why = "integer too large (more than 2^53)";
            return NULL;
        }
        return cJSON_CreateNumber((double)iv);
    }
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (strcmp(p, ".inf") == 0 || strcmp(p, ".Inf") == 0 || strcmp(p, ".INF") == 0) {
        *why = "infinity cannot be represented in JSON";
        return NULL;
    }
    if (p == s && (strcmp(p, ".nan") == 0 || strcmp(p, ".NaN") == 0 || strcmp(p, ".NAN") == 0)) {
        *why = "NaN cannot be represented in JSON";
        return NULL;
    }
    if (is_float_syntax(s)) {
        char buf[128];
        size_t n = 0;
        for (const char *q = s; *q && n + 1 < sizeof buf; q++)
            if (*q != '_')
                buf[n++] = *q;
        buf[n] = '\0';
        errno = 0;
        double v = strtod(buf, NULL);
        if (!isfinite(v)) {
            *why = "number out of range";
            return NULL;
        }
        return cJSON_CreateNumber(v);
    }
    return cJSON_CreateString(s);
}

/* ---- tree building ------------------------------------------------------------------ */

/* A copy made by an alias or a merge key gets the positions of the text it copies, so
 * that every decoded node has a position of its own (and errors inside an expanded alias
 * point at the anchored definition). */
static void copy_positions(minik_posmap_t *pm, const cJSON *src, const cJSON *dst)
{
    if (pm == NULL)
        return;
    const minik_pos_t *p = minik_posmap_get(pm, src);
    if (p)
        minik_posmap_set(pm, dst, p);
    const cJSON *a = src->child, *b = dst->child;
    for (; a && b; a = a->next, b = b->next)
        copy_positions(pm, a, b);
}

static void bury(decoder_t *d, cJSON *v)
{
    if (d->graveyard == NULL)
        d->graveyard = cJSON_CreateArray();
    cJSON_AddItemToArray(d->graveyard, v);
}

static void register_anchor(decoder_t *d, const char *name, const cJSON *node, size_t n_nodes)
{
    /* A redefined anchor shadows the earlier one (YAML: the most recent definition). */
    for (size_t i = 0; i < d->n_anchors; i++) {
        if (strcmp(d->anchors[i].name, name) == 0) {
            d->anchors[i].node = node;
            d->anchors[i].n_nodes = n_nodes;
            return;
        }
    }
    if (d->n_anchors == d->cap_anchors) {
        d->cap_anchors = d->cap_anchors ? d->cap_anchors * 2 : 8;
        d->anchors = xrealloc(d->anchors, d->cap_anchors * sizeof *d->anchors);
    }
    d->anchors[d->n_anchors].name = xstrdup(name);
    d->anchors[d->n_anchors].node = node;
    d->anchors[d->n_anchors].n_nodes = n_nodes;
    d->n_anchors++;
}

static void clear_anchors(decoder_t *d)
{
    for (size_t i = 0; i < d->n_anchors; i++)
        free(d->anchors[i].name);
    d->n_anchors = 0;
}

/* The key text for a scalar used as a mapping key: JSON needs strings, and Kubernetes'
 * reader turns typed keys into their text (yes -> "true", 0x10 -> "16"). */
static char *key_text(const char *raw, bool plain)
{
    if (!plain)
        return xstrdup(raw);
    const char *why;
    cJSON *v = minik_yaml_resolve_plain(raw, &why);
    char *out;
    if (v && cJSON_IsBool(v))
        out = xstrdup(cJSON_IsTrue(v) ? "true" : "false");
    else if (v && cJSON_IsNumber(v) && minik_num_is_int53(v->valuedouble))
        out = xasprintf("%lld", (long long)v->valuedouble);
    else
        out = xstrdup(raw);
    cJSON_Delete(v);
    return out;
}

/* Attach a finished value (owned) to the collection on top of the stack, or make it the
 * document root. */
static void attach(decoder_t *d, cJSON *v, minik_pos_t pos)
{
    if (d->depth == 0) {
        if (d->pm)
            minik_posmap_set(d->pm, v, &pos);
        d->root = v;
        return;
    }
    frame_t *f = &d->stack[d->depth - 1];
    if (!f->is_map) {
        if (d->pm)
            minik_posmap_set(d->pm, v, &pos);
        cJSON_AddItemToArray(f->node, v);
        return;
    }
    cleanup_free char *key = steal_pointer(&f->key);
    pos.key_line = f->key_pos.line;
    pos.key_col = f->key_pos.col;
    if (d->pm)
        minik_posmap_set(d->pm, v, &pos);
    if (f->key_plain && strcmp(key, "<<") == 0) {
        if (!cJSON_IsObject(v) && !cJSON_IsArray(v)) {
            cleanup_free char *path = current_path(d, key);
            error_at(d, &f->key_pos, path,
                     "merge key \"<<\" needs a mapping or a list of mappings");
            bury(d, v);
            return;
        }
        if (f->merges == NULL)
            f->merges = cJSON_CreateArray();
        cJSON_AddItemToArray(f->merges, v);
        return;
    }
    const cJSON *prev = cJSON_GetObjectItemCaseSensitive(f->node, key);
    if (prev) {
        const minik_pos_t *pp = d->pm ? minik_posmap_get(d->pm, prev) : NULL;
        /* Point at the key being duplicated; the path ends with that key. */
        cleanup_free char *full = current_path(d, key);
        if (pp)
            error_at(d, &f->key_pos, full, "duplicate key (first defined at line %u)",
                     pp->key_line);
        else
            error_at(d, &f->key_pos, full, "duplicate key");
        bury(d, v);
        return;
    }
    cJSON_AddItemToObject(f->node, key, v);
}

/* Apply pending `<<` merges: keys already present win, then earlier sources win. */
static void apply_merges(decoder_t *d, frame_t *f)
{
    if (f->merges == NULL)
        return;
    cJSON *srcs = f->merges;
    f->merges = NULL;
    for (cJSON *src = srcs->child; src; src = src->next) {
        cJSON *maps = src;
        bool list = cJSON_IsArray(src);
        for (cJSON *m = list ? maps->child : maps; m; m = list ? m->next : NULL) {
            if (!cJSON_IsObject(m)) {
                error_at(d, d->pm ? minik_posmap_get(d->pm, src) : NULL, "",
                         "merge key \"<<\" needs a mapping or a list of mappings");
                continue;
            }
            for (cJSON *kv = m->child; kv; kv = kv->next) {
                if (cJSON_GetObjectItemCaseSensitive(f->node, kv->string))
                    continue;
                cJSON *copy = cJSON_Duplicate(kv, true);
                copy_positions(d->pm, kv, copy);
                cJSON_AddItemToObject(f->node, kv->string, copy);
            }
        }
    }
    bury(d, srcs);
}

static bool push(decoder_t *d, cJSON *node, bool is_map, minik_pos_t pos, const char *anchor)
{
    if (d->depth >= MINIK_MANIFEST_MAX_DEPTH) {
        /* no field path: at this depth it would be a hundred "[0]"s long */
        error_at(d, &pos, "", "nesting deeper than %d levels", MINIK_MANIFEST_MAX_DEPTH);
        cJSON_Delete(node);
        return false;
    }
    frame_t *f = &d->stack[d->depth++];
    memset(f, 0, sizeof *f);
    f->node = node;
    f->is_map = is_map;
    f->pos = pos;
    f->anchor = anchor ? xstrdup(anchor) : NULL;
    f->start_nodes = d->n_nodes;
    return true;
}

static void pop(decoder_t *d)
{
    frame_t *f = &d->stack[--d->depth];
    if (f->is_map)
        apply_merges(d, f);
    cJSON *node = f->node;
    if (f->anchor) {
        register_anchor(d, f->anchor, node, d->n_nodes - f->start_nodes + 1);
        free(f->anchor);
    }
    free(f->key);
    attach(d, node, f->pos);
}

static void unwind(decoder_t *d)
{
    while (d->depth > 0) {
        frame_t *f = &d->stack[--d->depth];
        free(f->key);
        free(f->anchor);
        cJSON_Delete(f->merges);
        cJSON_Delete(f->node);
    }
}

static void reset_doc(decoder_t *d)
{
    unwind(d);
    cJSON_Delete(d->root);
    d->root = NULL;
    cJSON_Delete(d->graveyard);
    d->graveyard = NULL;
    clear_anchors(d);
    d->n_nodes = 0;
    d->alias_nodes = 0;
}

/* A scalar event: either a mapping key, or a value. Returns false to stop. */
static bool on_scalar(decoder_t *d, const yaml_event_t *ev)
{
    minik_pos_t pos = mark_pos(&ev->start_mark);
    const char *text = (const char *)ev->data.scalar.value;
    if (strlen(text) != ev->data.scalar.length) {
        cleanup_free char *path = current_path(d, NULL);
        error_at(d, &pos, path, "NUL character in a string");
        return false;
    }
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    const char *tag = (const char *)ev->data.scalar.tag;
    frame_t *top = d->depth ? &d->stack[d->depth - 1] : NULL;

    if (top && top->is_map && top->key == NULL) {
        top->key = key_text(text, plain && !tag);
        top->key_plain = plain && !tag;
        top->key_pos = pos;
        return true;
    }

    cJSON *v;
    bool typed_tag = tag && (strcmp(tag, YAML_INT_TAG) == 0 || strcmp(tag, YAML_FLOAT_TAG) == 0 ||
                             strcmp(tag, YAML_BOOL_TAG) == 0 || strcmp(tag, YAML_NULL_TAG) == 0);
    bool str_tag =
        tag && (strcmp(tag, YAML_STR_TAG) == 0 || strcmp(tag, "tag:yaml.org,2002:binary") == 0);
    /* Quoted and block scalars are strings; so is anything tagged !!str. An explicit
     * !!int/!!bool/... tag asks for typing even on a quoted scalar. */
    bool force_string = str_tag || (!plain && !typed_tag);
    if (force_string) {
        v = cJSON_CreateString(text);
    } else {
        const char *why;
        v = minik_yaml_resolve_plain(text, &why);
        if (v == NULL) {
            cleanup_free char *path = current_path(d, NULL);
            error_at(d, &pos, path, "%s", why);
            v = cJSON_CreateNull();
        }
    }
    d->n_nodes++;
    if (ev->data.scalar.anchor)
        register_anchor(d, (const char *)ev->data.scalar.anchor, v, 1);
    attach(d, v, pos);
    return true;
}

static bool on_alias(decoder_t *d, const yaml_event_t *ev)
{
    minik_pos_t pos = mark_pos(&ev->start_mark);
    const char *name = (const char *)ev->data.alias.anchor;
    const anchor_t *a = NULL;
    for (size_t i = 0; i < d->n_anchors; i++)
        if (strcmp(d->anchors[i].name, name) == 0)
            a = &d->anchors[i];
    cleanup_free char *path = current_path(d, NULL);
    if (a == NULL) {
        error_at(d, &pos, path, "unknown anchor \"%s\"", name);
        return false;
    }
    d->alias_nodes += a->n_nodes;
    if (d->alias_nodes > MINIK_MANIFEST_MAX_ALIASES) {
        error_at(d, &pos, path,
                 "aliases expand to more than %d nodes (an alias bomb?); refusing to expand",
                 MINIK_MANIFEST_MAX_ALIASES);
        return false;
    }
    frame_t *top = d->depth ? &d->stack[d->depth - 1] : NULL;
    if (top && top->is_map && top->key == NULL) {
        if (!cJSON_IsString(a->node)) {
            error_at(d, &pos, path, "an alias used as a key must name a string");
            return false;
        }
        top->key = xstrdup(a->node->valuestring);
        top->key_plain = false;
        top->key_pos = pos;
        return true;
    }
    cJSON *copy = cJSON_Duplicate(a->node, true);
    copy_positions(d->pm, a->node, copy);
    d->n_nodes += a->n_nodes;
    attach(d, copy, pos);
    return true;
}

static void parser_error(decoder_t *d, const yaml_parser_t *p, const char *data, size_t len)
{
    const yaml_mark_t *m = p->problem ? &p->problem_mark : &p->mark;
    minik_pos_t pos = mark_pos(m);
    if (m->index < len && data[m->index] == '\t')
        error_at(d, &pos, "", "invalid YAML: a tab character; YAML indents with spaces only");
    else if (p->error == YAML_MEMORY_ERROR)
        error_at(d, &pos, "", "out of memory while parsing YAML");
    else if (p->context)
        error_at(d, &pos, "", "invalid YAML: %s (%s at line %u)",
                 p->problem ? p->problem : "syntax error", p->context,
                 (unsigned)p->context_mark.line + 1);
    else
        error_at(d, &pos, "", "invalid YAML: %s", p->problem ? p->problem : "syntax error");
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The code unit of a "\uXXXX" escape at p (which points at the backslash), or -1. */
static long u_escape(const char *p, const char *end)
{
    if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
        return -1;
    long v = 0;
    for (int i = 2; i < 6; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* JSON writes characters beyond U+FFFF as a UTF-16 surrogate pair ("\ud83d\ude00", as
 * Python's json.dumps does); YAML has no such escape and libyaml refuses it. For input
 * that is JSON (starts with '{' or '['), rewrite each pair inside a string as YAML's
 * "\U0001f600". Returns NULL when nothing needs rewriting. Columns after a rewritten
 * pair on the same line shift left by two. */
static char *json_fix_surrogates(const char *data, size_t len, size_t *out_len)
{
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
        i++;
    if (i == len || (data[i] != '{' && data[i] != '['))
        return NULL;
    const char *end = data + len;
    minik_buf_t b = MINIK_BUF_INIT;
    bool in_str = false, changed = false;
    size_t copied = 0;
    for (; i < len; i++) {
        char ch = data[i];
        if (!in_str) {
            in_str = ch == '"';
            continue;
        }
        if (ch == '"') {
            in_str = false;
            continue;
        }
        if (ch != '\\')
            continue;
        long hi = u_escape(data + i, end);
        long lo = hi >= 0xd800 && hi <= 0xdbff ? u_escape(data + i + 6, end) : -1;
        if (lo >= 0xdc00 && lo <= 0xdfff) {
            unsigned long cp =
                0x10000 + (((unsigned long)hi - 0xd800) << 10) + ((unsigned long)lo - 0xdc00);
            minik_buf_append(&b, data + copied, i - copied);
            minik_buf_appendf(&b, "\\U%08lx", cp);
            i += 11;
            copied = i + 1;
            changed = true;
            continue;
        }
        i++; /* skip the escaped character (\" must not end the string) */
    }
    if (!changed) {
        minik_buf_free(&b);
        return NULL;
    }
    minik_buf_append(&b, data + copied, len - copied);
    *out_len = b.len;
    return minik_buf_steal(&b);
}

int minik_yaml_decode(const char *source, const char *data, size_t len, minik_posmap_t *pm,
                      minik_diags_t *diags, minik_yaml_doc_fn on_doc, void *ud)
{
    size_t fixed_len = 0;
    cleanup_free char *fixed = json_fix_surrogates(data, len, &fixed_len);
    if (fixed) {
        data = fixed;
        len = fixed_len;
    }
    decoder_t *d = xcalloc(1, sizeof *d);
    d->source = source;
    d->pm = pm;
    d->diags = diags;

    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        error_at(d, NULL, "", "cannot initialise the YAML parser");
        free(d);
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);

    unsigned doc_line = 1;
    bool done = false;
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            parser_error(d, &parser, data, len);
            break;
        }
        bool ok = true;
        minik_pos_t pos = mark_pos(&ev.start_mark);
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            reset_doc(d);
            doc_line = pos.line;
            break;
        case YAML_DOCUMENT_END_EVENT:
            if (d->root && !cJSON_IsNull(d->root)) {
                cJSON *doc = steal_pointer(&d->root);
                if (on_doc(ud, doc, doc_line) < 0) {
                    d->failed = true;
                    done = true;
                }
            }
            reset_doc(d);
            break;
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT: {
            frame_t *top = d->depth ? &d->stack[d->depth - 1] : NULL;
            if (top && top->is_map && top->key == NULL) {
                cleanup_free char *path = current_path(d, NULL);
                error_at(d, &pos, path, "a mapping key must be a scalar");
                ok = false;
                break;
            }
            bool is_map = ev.type == YAML_MAPPING_START_EVENT;
            const yaml_char_t *anchor =
                is_map ? ev.data.mapping_start.anchor : ev.data.sequence_start.anchor;
            d->n_nodes++;
            ok = push(d, is_map ? cJSON_CreateObject() : cJSON_CreateArray(), is_map, pos,
                      (const char *)anchor);
            break;
        }
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            if (d->depth > 0)
                pop(d);
            break;
        case YAML_SCALAR_EVENT:
            ok = on_scalar(d, &ev);
            break;
        case YAML_ALIAS_EVENT:
            ok = on_alias(d, &ev);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (!ok)
            break;
    }
    reset_doc(d);
    yaml_parser_delete(&parser);
    free(d->anchors);
    bool failed = d->failed;
    free(d);
    return failed ? -1 : 0;
}
