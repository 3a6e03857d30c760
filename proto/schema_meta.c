/* ObjectMeta, LabelSelector, ObjectReference and the checks shared by every kind. */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "proto/names.h"
#include "proto/schema_common.h"
#include "proto/selector.h"

/* ---- checks ------------------------------------------------------------------------- */

#define NAME_CHECK(fn, checker)                                                                    \
    void fn(minik_vctx_t *c, const cJSON *n)                                                       \
    {                                                                                              \
        char buf[MINIK_NAME_MSG_MAX];                                                              \
        const char *why = checker(n->valuestring, buf, sizeof buf);                                \
        if (why)                                                                                   \
            minik_vctx_error(c, NULL, NULL, "%s", why);                                            \
    }

NAME_CHECK(minik_check_dns_label, minik_names_check_dns1123_label)
NAME_CHECK(minik_check_dns_subdomain, minik_names_check_dns1123_subdomain)
NAME_CHECK(minik_check_qualified_name, minik_names_check_qualified_name)
NAME_CHECK(minik_check_label_value, minik_names_check_label_value)
NAME_CHECK(minik_check_config_key, minik_names_check_config_key)
NAME_CHECK(minik_check_port_name, minik_names_check_port_name)
NAME_CHECK(minik_check_env_name, minik_names_check_env_var_name)

void minik_check_base64(minik_vctx_t *c, const cJSON *n)
{
    const char *s = n->valuestring;
    size_t len = strlen(s), pad = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '=') {
            pad++;
            continue;
        }
        if (pad || !(isalnum((unsigned char)ch) || ch == '+' || ch == '/')) {
            minik_vctx_error(c, NULL, NULL,
                             "invalid base64 data: unexpected character '%c' at offset %zu",
                             isprint((unsigned char)ch) ? ch : '?', i);
            return;
        }
    }
    if (len % 4 != 0 || pad > 2)
        minik_vctx_error(c, NULL, NULL,
                         "invalid base64 data: length %zu is not a multiple of 4 (missing '=' "
                         "padding?)",
                         len);
}

/* RFC 3339 as Kubernetes writes it: 2024-01-31T12:00:00Z, optional fraction and offset. */
void minik_check_timestamp(minik_vctx_t *c, const cJSON *n)
{
    const char *s = n->valuestring;
    const char *pat = "dddd-dd-ddTdd:dd:dd";
    size_t i = 0;
    bool ok = true;
    for (; pat[i] && ok; i++)
        ok = pat[i] == 'd' ? isdigit((unsigned char)s[i]) != 0 : s[i] == pat[i];
    if (ok && s[i] == '.') {
        i++;
        if (!isdigit((unsigned char)s[i]))
            ok = false;
        while (isdigit((unsigned char)s[i]))
            i++;
    }
    if (ok) {
        if (s[i] == 'Z')
            ok = s[i + 1] == '\0';
        else if (s[i] == '+' || s[i] == '-')
            ok = isdigit((unsigned char)s[i + 1]) && isdigit((unsigned char)s[i + 2]) &&
                 s[i + 3] == ':' && isdigit((unsigned char)s[i + 4]) &&
                 isdigit((unsigned char)s[i + 5]) && s[i + 6] == '\0';
        else
            ok = false;
    }
    if (!ok)
        minik_vctx_error(c, NULL, NULL,
                         "invalid timestamp \"%s\": must be RFC 3339, like 2024-01-31T12:00:00Z",
                         s);
}

void minik_check_ip(minik_vctx_t *c, const cJSON *n)
{
    unsigned char buf[16];
    const char *s = n->valuestring;
    if (strcmp(s, "None") == 0 || s[0] == '\0')
        return;
    if (inet_pton(AF_INET, s, buf) != 1 && inet_pton(AF_INET6, s, buf) != 1)
        minik_vctx_error(c, NULL, NULL, "invalid IP address \"%s\"", s);
}

void minik_check_int_or_percent(minik_vctx_t *c, const cJSON *n)
{
    if (!cJSON_IsString(n))
        return;
    const char *s = n->valuestring;
    size_t len = strlen(s);
    bool ok = len >= 2 && s[len - 1] == '%';
    for (size_t i = 0; ok && i + 1 < len; i++)
        ok = isdigit((unsigned char)s[i]) != 0;
    if (!ok)
        minik_vctx_error(c, NULL, NULL,
                         "invalid value \"%s\": must be an integer or a percentage (e.g. '25%%')",
                         s);
}

void minik_check_label_selector(minik_vctx_t *c, const cJSON *sel)
{
    minik_selector_t *s = NULL;
    cleanup_error minik_error_t *err = NULL;
    if (minik_selector_from_json(sel, &s, &err) < 0) {
        minik_vctx_error(c, NULL, NULL, "%s", err->msg);
        return;
    }
    minik_selector_free(s);
}

void minik_check_unique_names(minik_vctx_t *c, const cJSON *arr)
{
    int i = 0;
    for (const cJSON *a = arr->child; a; a = a->next, i++) {
        const cJSON *na = cJSON_GetObjectItemCaseSensitive(a, "name");
        if (!cJSON_IsString(na))
            continue;
        for (const cJSON *b = arr->child; b != a; b = b->next) {
            const cJSON *nb = cJSON_GetObjectItemCaseSensitive(b, "name");
            if (cJSON_IsString(nb) && strcmp(na->valuestring, nb->valuestring) == 0) {
                cleanup_free char *sub = xasprintf("[%d].name", i);
                minik_vctx_error(c, na, sub, "duplicate value \"%s\"", na->valuestring);
                break;
            }
        }
    }
}

static void check_annotations(minik_vctx_t *c, const cJSON *m)
{
    size_t total = 0;
    for (const cJSON *kv = m->child; kv; kv = kv->next)
        total += strlen(kv->string) + (cJSON_IsString(kv) ? strlen(kv->valuestring) : 0);
    if (total > 256 * 1024)
        minik_vctx_error(c, NULL, NULL, "may not be more than 262144 bytes in total, got %zu",
                         total);
}

void minik_check_object_meta(minik_vctx_t *c, const cJSON *meta)
{
    const minik_kind_t *k = minik_vctx_kind(c);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
    const cJSON *gen = cJSON_GetObjectItemCaseSensitive(meta, "generateName");
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(meta, "namespace");
    char buf[MINIK_NAME_MSG_MAX];
    const char *(*rule)(const char *, char *, size_t) = minik_names_check_dns1123_subdomain;
    if (k && k->name_rule == MINIK_NAME_DNS1123_LABEL)
        rule = minik_names_check_dns1123_label;
    else if (k && k->name_rule == MINIK_NAME_DNS1035_LABEL)
        rule = minik_names_check_dns1035_label;

    bool has_name = cJSON_IsString(name) && name->valuestring[0];
    bool has_gen = cJSON_IsString(gen) && gen->valuestring[0];
    if (!has_name && !has_gen) {
        minik_vctx_error(c, name, ".name", "name or generateName is required");
    } else if (has_name) {
        const char *why = rule(name->valuestring, buf, sizeof buf);
        if (why)
            minik_vctx_error(c, name, ".name", "%s", why);
    } else {
        /* generateName is a prefix: Kubernetes checks it with a trailing '-' removed. */
        cleanup_free char *prefix = xstrdup(gen->valuestring);
        size_t l = strlen(prefix);
        if (l > 0 && prefix[l - 1] == '-')
            prefix[l - 1] = '\0';
        const char *why = prefix[0] ? rule(prefix, buf, sizeof buf) : NULL;
        if (why)
            minik_vctx_error(c, gen, ".generateName", "%s", why);
    }
    if (k && !k->namespaced && cJSON_IsString(ns) && ns->valuestring[0]) {
        minik_vctx_error(c, ns, ".namespace", "not allowed: %s is not namespaced", k->kind);
    } else if (cJSON_IsString(ns) && ns->valuestring[0]) {
        const char *why = minik_names_check_dns1123_label(ns->valuestring, buf, sizeof buf);
        if (why)
            minik_vctx_error(c, ns, ".namespace", "%s", why);
    }
}

/* ---- tables ------------------------------------------------------------------------- */

static const minik_field_t label_value = {NULL, MINIK_T_STRING, .check = minik_check_label_value};
static const minik_field_t any_string = {NULL, MINIK_T_STRING};

static const minik_field_t owner_ref_fields[] = {
    {"apiVersion", MINIK_T_STRING, .flags = MINIK_F_REQUIRED | MINIK_F_NONEMPTY},
    {"kind", MINIK_T_STRING, .flags = MINIK_F_REQUIRED | MINIK_F_NONEMPTY},
    {"name", MINIK_T_STRING, .flags = MINIK_F_REQUIRED | MINIK_F_NONEMPTY},
    {"uid", MINIK_T_STRING, .flags = MINIK_F_REQUIRED | MINIK_F_NONEMPTY},
    {"controller", MINIK_T_BOOL},
    {"blockOwnerDeletion", MINIK_T_BOOL},
    ROW_END,
};

#define META_ROWS                                                                                  \
    {"name", MINIK_T_STRING, .doc = "DNS-1123 subdomain (Namespace: label; Service: DNS-1035)"},   \
        {"generateName", MINIK_T_STRING, .doc = "prefix for a generated name"},                    \
        {"namespace", MINIK_T_STRING, .doc = "DNS-1123 label; default \"default\""},               \
        {"labels", MINIK_T_MAP, .key_check = minik_check_qualified_name, .items = &label_value,    \
         .doc = "keys: [prefix/]name; values: <= 63 chars"},                                       \
        {"annotations",                                                                            \
         MINIK_T_MAP,                                                                              \
         .key_check = minik_check_qualified_name,                                                  \
         .items = &any_string,                                                                     \
         .check = check_annotations,                                                               \
         .doc = "keys like labels; <= 256 KiB"},                                                   \
        {"uid", MINIK_T_STRING, .doc = "set by the server"},                                       \
        {"resourceVersion", MINIK_T_STRING, .doc = "set by the server; compare-and-swap"},         \
        {"generation", MINIK_T_INT, NONNEG, .doc = "set by the server"},                           \
        {"creationTimestamp", MINIK_T_STRING, .flags = MINIK_F_NULLABLE,                           \
         .check = minik_check_timestamp, .doc = "RFC 3339; set by the server"},                    \
        {"deletionTimestamp", MINIK_T_STRING, .flags = MINIK_F_NULLABLE,                           \
         .check = minik_check_timestamp, .doc = "RFC 3339; set by the server"},                    \
        {"deletionGracePeriodSeconds", MINIK_T_INT, NONNEG},                                       \
        {"ownerReferences", MINIK_T_ARRAY,                                                         \
         .items = &(const minik_field_t){NULL, MINIK_T_OBJECT, .fields = owner_ref_fields}},       \
        {"finalizers", MINIK_T_ARRAY,                                                              \
         .items =                                                                                  \
             &(const minik_field_t){NULL, MINIK_T_STRING, .check = minik_check_qualified_name}},   \
    {                                                                                              \
        "managedFields", MINIK_T_ANY, .doc = "kept as given; minik does not track field owners"    \
    }

const minik_field_t minik_schema_object_meta[] = {
    META_ROWS,
    ROW_END,
};

const minik_field_t minik_schema_template_meta[] = {
    META_ROWS,
    ROW_END,
};

static const char *const selector_ops[] = {"In", "NotIn", "Exists", "DoesNotExist", NULL};

static const minik_field_t selector_req_fields[] = {
    {"key", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .check = minik_check_qualified_name},
    {"operator", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .enums = selector_ops},
    {"values", MINIK_T_ARRAY, .items = &label_value},
    ROW_END,
};

const minik_field_t minik_schema_label_selector[] = {
    {"matchLabels", MINIK_T_MAP, .key_check = minik_check_qualified_name, .items = &label_value},
    {"matchExpressions", MINIK_T_ARRAY,
     .items = &(const minik_field_t){NULL, MINIK_T_OBJECT, .fields = selector_req_fields}},
    ROW_END,
};

const minik_field_t minik_schema_object_ref[] = {
    {"kind", MINIK_T_STRING},       {"namespace", MINIK_T_STRING},
    {"name", MINIK_T_STRING},       {"uid", MINIK_T_STRING},
    {"apiVersion", MINIK_T_STRING}, {"resourceVersion", MINIK_T_STRING},
    {"fieldPath", MINIK_T_STRING},  ROW_END,
};

/* ---- cJSON helpers ------------------------------------------------------------------ */

void minik_json_set_default(cJSON *obj, const char *key, cJSON *value)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, key) != NULL) {
        cJSON_Delete(value);
        return;
    }
    cJSON_AddItemToObject(obj, key, value);
}

cJSON *minik_json_rolling_update(cJSON *strategy)
{
    const char *type = minik_json_str(strategy, "type");
    if (!type || strcmp(type, "RollingUpdate") != 0)
        return NULL;
    cJSON *ru = cJSON_GetObjectItemCaseSensitive(strategy, "rollingUpdate");
    if (ru == NULL) {
        ru = cJSON_CreateObject();
        cJSON_AddItemToObject(strategy, "rollingUpdate", ru);
    }
    return cJSON_IsObject(ru) ? ru : NULL;
}

bool minik_json_present(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return v != NULL && !cJSON_IsNull(v);
}

const char *minik_json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
