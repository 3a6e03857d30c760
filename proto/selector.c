/* Label selectors: the Kubernetes selector grammar (k8s.io/apimachinery/pkg/labels)
 *
 *     selector    := requirement ("," requirement)*
 *     requirement := "!" KEY | KEY [ ("=" | "==" | "!=") VALUE | ("in" | "notin") SET ]
 *     SET         := "(" [VALUE ("," VALUE)*] ")"
 *
 * parsed by a small lexer that knows the special characters ! = ( ) , and whitespace. */
#include "proto/selector.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/names.h"

typedef enum tok {
    T_END,
    T_IDENT,
    T_NOT,    /* ! */
    T_EQ,     /* = or == */
    T_NEQ,    /* != */
    T_LPAREN, /* ( */
    T_RPAREN, /* ) */
    T_COMMA,  /* , */
    T_IN,
    T_NOTIN,
    T_CMP, /* < or >, which Kubernetes accepts for numeric values; minik does not */
} tok_t;

typedef struct lexer {
    const char *s;
    size_t pos;       /* next byte */
    size_t tok_start; /* where the current token started (0-based) */
    tok_t tok;
    char *text; /* T_IDENT text, owned */
} lexer_t;

static bool special(char c)
{
    return c == '!' || c == '=' || c == '(' || c == ')' || c == ',' || c == '<' || c == '>' ||
           isspace((unsigned char)c);
}

static void next(lexer_t *l)
{
    free(l->text);
    l->text = NULL;
    while (isspace((unsigned char)l->s[l->pos]))
        l->pos++;
    l->tok_start = l->pos;
    char c = l->s[l->pos];
    if (c == '\0') {
        l->tok = T_END;
        return;
    }
    l->pos++;
    switch (c) {
    case '!':
        if (l->s[l->pos] == '=') {
            l->pos++;
            l->tok = T_NEQ;
        } else {
            l->tok = T_NOT;
        }
        return;
    case '=':
        if (l->s[l->pos] == '=')
            l->pos++;
        l->tok = T_EQ;
        return;
    case '(':
        l->tok = T_LPAREN;
        return;
    case ')':
        l->tok = T_RPAREN;
        return;
    case ',':
        l->tok = T_COMMA;
        return;
    case '<':
    case '>':
        l->tok = T_CMP;
        return;
    default:
        break;
    }
    size_t start = l->pos - 1;
    while (l->s[l->pos] && !special(l->s[l->pos]))
        l->pos++;
    l->text = xstrndup(l->s + start, l->pos - start);
    if (strcmp(l->text, "in") == 0)
        l->tok = T_IN;
    else if (strcmp(l->text, "notin") == 0)
        l->tok = T_NOTIN;
    else
        l->tok = T_IDENT;
}

static void req_clear(minik_sel_req_t *r)
{
    free(r->key);
    minik_strv_free(r->values);
}

void minik_selector_free(minik_selector_t *sel)
{
    if (sel == NULL)
        return;
    for (size_t i = 0; i < sel->n_reqs; i++)
        req_clear(&sel->reqs[i]);
    free(sel->reqs);
    free(sel);
}

static void strv_push(char ***v, size_t *n, const char *s)
{
    *v = xrealloc(*v, (*n + 2) * sizeof **v);
    (*v)[(*n)++] = xstrdup(s);
    (*v)[*n] = NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_req(minik_selector_t *sel, char *key, minik_sel_op_t op, char **values)
{
    sel->reqs = xrealloc(sel->reqs, (sel->n_reqs + 1) * sizeof *sel->reqs);
    sel->reqs[sel->n_reqs].key = key;
    sel->reqs[sel->n_reqs].op = op;
    sel->reqs[sel->n_reqs].values = values ? values : xcalloc(1, sizeof(char *));
    sel->n_reqs++;
}

/* Kubernetes keeps requirements sorted by key (stable for equal keys), which makes the
 * string form canonical. */
static void sort_reqs(minik_selector_t *sel)
{
    for (size_t i = 1; i < sel->n_reqs; i++) {
        minik_sel_req_t r = sel->reqs[i];
        size_t j = i;
        while (j > 0 && strcmp(sel->reqs[j - 1].key, r.key) > 0) {
            sel->reqs[j] = sel->reqs[j - 1];
            j--;
        }
        sel->reqs[j] = r;
    }
}

static int check_key(const char *what, const char *key, minik_error_t **err)
{
    char buf[MINIK_NAME_MSG_MAX];
    const char *why = minik_names_check_qualified_name(key, buf, sizeof buf);
    if (why)
        return minik_error_set(err, 0, "%s: %s", what, why);
    return 0;
}

static int check_value(const char *what, const char *v, minik_error_t **err)
{
    char buf[MINIK_NAME_MSG_MAX];
    const char *why = minik_names_check_label_value(v, buf, sizeof buf);
    if (why)
        return minik_error_set(err, 0, "%s: %s", what, why);
    return 0;
}

static const char *tok_name(const lexer_t *l)
{
    switch (l->tok) {
    case T_END:
        return "end of input";
    case T_NOT:
        return "\"!\"";
    case T_EQ:
        return "\"=\"";
    case T_NEQ:
        return "\"!=\"";
    case T_LPAREN:
        return "\"(\"";
    case T_RPAREN:
        return "\")\"";
    case T_COMMA:
        return "\",\"";
    case T_IN:
        return "\"in\"";
    case T_NOTIN:
        return "\"notin\"";
    case T_CMP:
        return "\"<\" or \">\"";
    default:
        return "a name";
    }
}

#define SYNTAX(l, ...)                                                                             \
    do {                                                                                           \
        cleanup_free char *detail_ = xasprintf(__VA_ARGS__);                                       \
        return minik_error_set(err, 0, "selector \"%s\": %s at position %zu", (l)->s, detail_,     \
                               (l)->tok_start + 1);                                                \
    } while (0)

static int parse_set(lexer_t *l, char ***values, minik_error_t **err)
{
    size_t n = 0;
    if (l->tok != T_LPAREN)
        SYNTAX(l, "expected \"(\" after in/notin, found %s", tok_name(l));
    next(l);
    for (;;) {
        if (l->tok == T_RPAREN && n == 0)
            break;
        if (l->tok != T_IDENT && l->tok != T_IN && l->tok != T_NOTIN)
            SYNTAX(l, "expected a value, found %s", tok_name(l));
        strv_push(values, &n, l->text);
        next(l);
        if (l->tok == T_COMMA) {
            next(l);
            continue;
        }
        if (l->tok == T_RPAREN)
            break;
        SYNTAX(l, "expected \",\" or \")\", found %s", tok_name(l));
    }
    next(l);
    if (n == 0)
        SYNTAX(l, "the value set of in/notin must not be empty");
    return 0;
}

static int parse_requirement(lexer_t *l, minik_selector_t *sel, minik_error_t **err)
{
    bool negate = false;
    if (l->tok == T_NOT) {
        negate = true;
        next(l);
    }
    if (l->tok != T_IDENT)
        SYNTAX(l, "expected a label key, found %s", tok_name(l));
    cleanup_free char *key = steal_pointer(&l->text);
    int r = check_key("selector key", key, err);
    if (r < 0)
        return minik_error_wrap(err, "selector \"%s\"", l->s);
    next(l);
    if (negate) {
        add_req(sel, steal_pointer(&key), MINIK_SEL_NOT_EXISTS, NULL);
        return 0;
    }
    cleanup_strv char **values = NULL;
    size_t n = 0;
    switch (l->tok) {
    case T_END:
    case T_COMMA:
        add_req(sel, steal_pointer(&key), MINIK_SEL_EXISTS, NULL);
        return 0;
    case T_EQ:
    case T_NEQ: {
        minik_sel_op_t op = l->tok == T_EQ ? MINIK_SEL_EQ : MINIK_SEL_NEQ;
        next(l);
        if (l->tok == T_IDENT || l->tok == T_IN || l->tok == T_NOTIN) {
            strv_push(&values, &n, l->text);
            next(l);
        } else if (l->tok == T_END || l->tok == T_COMMA) {
            strv_push(&values, &n, ""); /* "key=" selects the empty value */
        } else {
            SYNTAX(l, "expected a value, found %s", tok_name(l));
        }
        if (check_value("selector value", values[0], err) < 0)
            return minik_error_wrap(err, "selector \"%s\"", l->s);
        add_req(sel, steal_pointer(&key), op, steal_pointer(&values));
        return 0;
    }
    case T_IN:
    case T_NOTIN: {
        minik_sel_op_t op = l->tok == T_IN ? MINIK_SEL_IN : MINIK_SEL_NOTIN;
        next(l);
        r = parse_set(l, &values, err);
        if (r < 0)
            return r;
        for (size_t i = 0; values[i]; i++)
            if (check_value("selector value", values[i], err) < 0)
                return minik_error_wrap(err, "selector \"%s\"", l->s);
        qsort(values, minik_strv_len(values), sizeof *values, cmp_str);
        add_req(sel, steal_pointer(&key), op, steal_pointer(&values));
        return 0;
    }
    case T_CMP:
        SYNTAX(l, "the numeric operators < and > are not supported");
    default:
        SYNTAX(l, "expected =, ==, !=, in, notin, \",\" or end of input after the key, found %s",
               tok_name(l));
    }
}

int minik_selector_parse(const char *s, minik_selector_t **out, minik_error_t **err)
{
    minik_selector_t *sel = xcalloc(1, sizeof *sel);
    lexer_t l = {.s = s};
    next(&l);
    int r = 0;
    if (l.tok != T_END) {
        for (;;) {
            r = parse_requirement(&l, sel, err);
            if (r < 0)
                break;
            if (l.tok == T_END)
                break;
            if (l.tok != T_COMMA) {
                r = minik_error_set(err, 0,
                                    "selector \"%s\": expected \",\" or end of input, "
                                    "found %s at position %zu",
                                    s, tok_name(&l), l.tok_start + 1);
                break;
            }
            next(&l);
        }
    }
    free(l.text);
    if (r < 0) {
        minik_selector_free(sel);
        return r;
    }
    sort_reqs(sel);
    *out = sel;
    return 0;
}

int minik_selector_from_json(const cJSON *ls, minik_selector_t **out, minik_error_t **err)
{
    minik_selector_t *sel = xcalloc(1, sizeof *sel);
    if (ls == NULL || cJSON_IsNull(ls)) {
        sel->nothing = true;
        *out = sel;
        return 0;
    }
    int r = 0;
    if (!cJSON_IsObject(ls)) {
        r = minik_error_set(err, 0, "selector: must be an object");
        goto fail;
    }
    const cJSON *ml = cJSON_GetObjectItemCaseSensitive(ls, "matchLabels");
    const cJSON *me = cJSON_GetObjectItemCaseSensitive(ls, "matchExpressions");
    if (ml && !cJSON_IsNull(ml)) {
        if (!cJSON_IsObject(ml)) {
            r = minik_error_set(err, 0, "selector.matchLabels: must be an object");
            goto fail;
        }
        for (const cJSON *kv = ml->child; kv; kv = kv->next) {
            if (!cJSON_IsString(kv)) {
                r = minik_error_set(err, 0, "selector.matchLabels.%s: must be a string",
                                    kv->string);
                goto fail;
            }
            if ((r = check_key("selector.matchLabels", kv->string, err)) < 0 ||
                (r = check_value("selector.matchLabels", kv->valuestring, err)) < 0)
                goto fail;
            char **v = NULL;
            size_t n = 0;
            strv_push(&v, &n, kv->valuestring);
            add_req(sel, xstrdup(kv->string), MINIK_SEL_EQ, v);
        }
    }
    if (me && !cJSON_IsNull(me)) {
        if (!cJSON_IsArray(me)) {
            r = minik_error_set(err, 0, "selector.matchExpressions: must be a list");
            goto fail;
        }
        int i = 0;
        for (const cJSON *e = me->child; e; e = e->next, i++) {
            const cJSON *key = cJSON_GetObjectItemCaseSensitive(e, "key");
            const cJSON *op = cJSON_GetObjectItemCaseSensitive(e, "operator");
            const cJSON *vals = cJSON_GetObjectItemCaseSensitive(e, "values");
            if (!cJSON_IsString(key) || !cJSON_IsString(op)) {
                r = minik_error_set(err, 0,
                                    "selector.matchExpressions[%d]: key and operator are required "
                                    "strings",
                                    i);
                goto fail;
            }
            if ((r = check_key("selector.matchExpressions", key->valuestring, err)) < 0)
                goto fail;
            minik_sel_op_t o;
            if (strcmp(op->valuestring, "In") == 0)
                o = MINIK_SEL_IN;
            else if (strcmp(op->valuestring, "NotIn") == 0)
                o = MINIK_SEL_NOTIN;
            else if (strcmp(op->valuestring, "Exists") == 0)
                o = MINIK_SEL_EXISTS;
            else if (strcmp(op->valuestring, "DoesNotExist") == 0)
                o = MINIK_SEL_NOT_EXISTS;
            else {
                r = minik_error_set(err, 0,
                                    "selector.matchExpressions[%d].operator: \"%s\" is not one of "
                                    "In, NotIn, Exists, DoesNotExist",
                                    i, op->valuestring);
                goto fail;
            }
            char **v = NULL;
            size_t n = 0;
            if (vals && !cJSON_IsNull(vals)) {
                if (!cJSON_IsArray(vals)) {
                    r = minik_error_set(err, 0,
                                        "selector.matchExpressions[%d].values: must be a "
                                        "list of strings",
                                        i);
                    goto fail;
                }
                for (const cJSON *x = vals->child; x; x = x->next) {
                    if (!cJSON_IsString(x) ||
                        check_value("selector.matchExpressions", x->valuestring, err) < 0) {
                        minik_strv_free(v);
                        r = minik_error_set(err, 0,
                                            "selector.matchExpressions[%d].values: must be a list "
                                            "of label values",
                                            i);
                        goto fail;
                    }
                    strv_push(&v, &n, x->valuestring);
                }
            }
            bool set_op = o == MINIK_SEL_IN || o == MINIK_SEL_NOTIN;
            if (set_op && n == 0) {
                minik_strv_free(v);
                r = minik_error_set(err, 0,
                                    "selector.matchExpressions[%d].values: must be non-empty for "
                                    "In and NotIn",
                                    i);
                goto fail;
            }
            if (!set_op && n > 0) {
                minik_strv_free(v);
                r = minik_error_set(err, 0,
                                    "selector.matchExpressions[%d].values: must be empty for "
                                    "Exists and DoesNotExist",
                                    i);
                goto fail;
            }
            if (v)
                qsort(v, n, sizeof *v, cmp_str);
            add_req(sel, xstrdup(key->valuestring), o, v);
        }
    }
    sort_reqs(sel);
    *out = sel;
    return 0;
fail:
    minik_selector_free(sel);
    return r;
}

static bool in_values(char *const *values, const char *v)
{
    for (; *values; values++)
        if (strcmp(*values, v) == 0)
            return true;
    return false;
}

bool minik_selector_matches(const minik_selector_t *sel, const cJSON *labels)
{
    if (sel == NULL || sel->nothing)
        return false;
    for (size_t i = 0; i < sel->n_reqs; i++) {
        const minik_sel_req_t *r = &sel->reqs[i];
        const cJSON *lv =
            cJSON_IsObject(labels) ? cJSON_GetObjectItemCaseSensitive(labels, r->key) : NULL;
        const char *v = cJSON_IsString(lv) ? lv->valuestring : NULL;
        bool ok;
        switch (r->op) {
        case MINIK_SEL_EQ:
            ok = v && strcmp(v, r->values[0]) == 0;
            break;
        case MINIK_SEL_NEQ:
            ok = !v || strcmp(v, r->values[0]) != 0;
            break;
        case MINIK_SEL_IN:
            ok = v && in_values(r->values, v);
            break;
        case MINIK_SEL_NOTIN:
            ok = !v || !in_values(r->values, v);
            break;
        case MINIK_SEL_EXISTS:
            ok = v != NULL;
            break;
        case MINIK_SEL_NOT_EXISTS:
        default:
            ok = v == NULL;
            break;
        }
        if (!ok)
            return false;
    }
    return true;
}

bool minik_selector_matches_object(const minik_selector_t *sel, const cJSON *obj)
{
    const cJSON *meta =
        cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, "metadata") : NULL;
    const cJSON *labels =
        cJSON_IsObject(meta) ? cJSON_GetObjectItemCaseSensitive(meta, "labels") : NULL;
    return minik_selector_matches(sel, labels);
}

bool minik_selector_is_empty(const minik_selector_t *sel)
{
    return sel && !sel->nothing && sel->n_reqs == 0;
}

char *minik_selector_format(const minik_selector_t *sel)
{
    minik_buf_t b = MINIK_BUF_INIT;
    for (size_t i = 0; sel && i < sel->n_reqs; i++) {
        const minik_sel_req_t *r = &sel->reqs[i];
        if (i)
            minik_buf_append_char(&b, ',');
        switch (r->op) {
        case MINIK_SEL_EQ:
            minik_buf_appendf(&b, "%s=%s", r->key, r->values[0]);
            break;
        case MINIK_SEL_NEQ:
            minik_buf_appendf(&b, "%s!=%s", r->key, r->values[0]);
            break;
        case MINIK_SEL_IN:
        case MINIK_SEL_NOTIN: {
            cleanup_free char *vals = minik_strv_join(r->values, ",");
            minik_buf_appendf(&b, "%s %s (%s)", r->key, r->op == MINIK_SEL_IN ? "in" : "notin",
                              vals);
            break;
        }
        case MINIK_SEL_EXISTS:
            minik_buf_append_str(&b, r->key);
            break;
        case MINIK_SEL_NOT_EXISTS:
            minik_buf_appendf(&b, "!%s", r->key);
            break;
        }
    }
    return minik_buf_steal(&b);
}
