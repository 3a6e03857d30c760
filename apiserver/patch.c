#include "apiserver/patch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/client_apply.h"

int minik_patch_merge(const cJSON *target, const cJSON *patch, cJSON **out, minik_error_t **err)
{
    /* The same RFC 7386 code `minik apply` and `minik diff` compute their results with. */
    *out = minik_merge_patch_apply(target, patch);
    return 0;
}

/* ---- RFC 6902 ---------------------------------------------------------------------- */

/* Split a JSON pointer into unescaped tokens ("~1" -> "/", "~0" -> "~"). */
static int pointer_tokens(const char *ptr, char ***out, minik_error_t **err)
{
    if (ptr[0] == '\0') {
        *out = xcalloc(1, sizeof(char *));
        return 0;
    }
    if (ptr[0] != '/')
        return minik_error_set_code(err, 400, 0, "JSON pointer \"%s\" must start with \"/\"", ptr);
    cleanup_strv char **parts = minik_str_split(ptr + 1, "/", false);
    for (size_t i = 0; parts[i]; i++) {
        char *s = parts[i], *w = s;
        for (char *r = s; *r; r++) {
            if (*r == '~') {
                if (r[1] == '0')
                    *w++ = '~';
                else if (r[1] == '1')
                    *w++ = '/';
                else
                    return minik_error_set_code(err, 400, 0, "JSON pointer \"%s\": bad escape",
                                                ptr);
                r++;
            } else {
                *w++ = *r;
            }
        }
        *w = '\0';
    }
    *out = steal_pointer(&parts);
    return 0;
}

/* An array index token: digits without leading zeros. -1 when not an index. */
static long array_index(const char *tok)
{
    if (!tok[0] || (tok[0] == '0' && tok[1]) || strlen(tok) > 9)
        return -1;
    for (const char *p = tok; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    return strtol(tok, NULL, 10);
}

static cJSON *child(cJSON *node, const char *tok)
{
    if (cJSON_IsObject(node))
        return cJSON_GetObjectItemCaseSensitive(node, tok);
    if (cJSON_IsArray(node)) {
        long i = array_index(tok);
        return i < 0 ? NULL : cJSON_GetArrayItem(node, (int)i);
    }
    return NULL;
}

/* Resolve all tokens but the last; *parent is the container holding the last one. */
static int resolve_parent(cJSON *doc, char **toks, const char *ptr, cJSON **parent,
                          minik_error_t **err)
{
    size_t n = minik_strv_len(toks);
    cJSON *cur = doc;
    for (size_t i = 0; i + 1 < n; i++) {
        cur = child(cur, toks[i]);
        if (!cur)
            return minik_error_set_code(err, 422, 0, "path \"%s\" does not exist", ptr);
    }
    *parent = cur;
    return 0;
}

static int do_remove(cJSON *doc, const char *ptr, cJSON **removed, minik_error_t **err)
{
    cleanup_strv char **toks = NULL;
    int r = pointer_tokens(ptr, &toks, err);
    if (r < 0)
        return r;
    size_t n = minik_strv_len(toks);
    if (n == 0)
        return minik_error_set_code(err, 422, 0, "cannot remove the whole document");
    cJSON *parent;
    if ((r = resolve_parent(doc, toks, ptr, &parent, err)) < 0)
        return r;
    cJSON *item = NULL;
    if (cJSON_IsObject(parent)) {
        item = cJSON_DetachItemFromObjectCaseSensitive(parent, toks[n - 1]);
    } else if (cJSON_IsArray(parent)) {
        long i = array_index(toks[n - 1]);
        if (i >= 0 && i < cJSON_GetArraySize(parent))
            item = cJSON_DetachItemFromArray(parent, (int)i);
    }
    if (!item)
        return minik_error_set_code(err, 422, 0, "path \"%s\" does not exist", ptr);
    if (removed)
        *removed = item;
    else
        cJSON_Delete(item);
    return 0;
}

/* Insert `item` before index idx (< size). Hand-made because cJSON_InsertItemInArray of
 * some libcjson builds (Debian 12's 1.7.15) refuses valid indexes. cJSON keeps the first
 * child's prev pointing at the last element; this preserves that. */
static void array_insert(cJSON *arr, int idx, cJSON *item)
{
    cJSON *after = cJSON_GetArrayItem(arr, idx);
    if (!after) {
        cJSON_AddItemToArray(arr, item);
        return;
    }
    item->next = after;
    item->prev = after->prev;
    if (after == arr->child)
        arr->child = item;
    else
        after->prev->next = item;
    after->prev = item;
}

/* Add `value` (ownership taken) at ptr; replace=true requires the target to exist. */
static int do_add(cJSON **doc, const char *ptr, cJSON *value, bool replace, minik_error_t **err)
{
    cleanup_cjson cJSON *v = value;
    cleanup_strv char **toks = NULL;
    int r = pointer_tokens(ptr, &toks, err);
    if (r < 0)
        return r;
    size_t n = minik_strv_len(toks);
    if (n == 0) {
        cJSON_Delete(*doc);
        *doc = steal_pointer(&v);
        return 0;
    }
    cJSON *parent;
    if ((r = resolve_parent(*doc, toks, ptr, &parent, err)) < 0)
        return r;
    const char *last = toks[n - 1];
    if (cJSON_IsObject(parent)) {
        bool exists = cJSON_GetObjectItemCaseSensitive(parent, last) != NULL;
        if (replace && !exists)
            return minik_error_set_code(err, 422, 0, "path \"%s\" does not exist", ptr);
        if (exists)
            cJSON_DeleteItemFromObjectCaseSensitive(parent, last);
        cJSON_AddItemToObject(parent, last, steal_pointer(&v));
        return 0;
    }
    if (cJSON_IsArray(parent)) {
        int size = cJSON_GetArraySize(parent);
        if (!replace && strcmp(last, "-") == 0) {
            cJSON_AddItemToArray(parent, steal_pointer(&v));
            return 0;
        }
        long i = array_index(last);
        if (i < 0 || i > size || (replace && i == size))
            return minik_error_set_code(err, 422, 0, "array index in \"%s\" is out of range", ptr);
        if (replace)
            cJSON_ReplaceItemInArray(parent, (int)i, steal_pointer(&v));
        else if (i == size)
            cJSON_AddItemToArray(parent, steal_pointer(&v));
        else
            array_insert(parent, (int)i, steal_pointer(&v));
        return 0;
    }
    return minik_error_set_code(err, 422, 0, "path \"%s\" does not exist", ptr);
}

static cJSON *lookup(cJSON *doc, const char *ptr, minik_error_t **err, int *ret)
{
    cleanup_strv char **toks = NULL;
    *ret = pointer_tokens(ptr, &toks, err);
    if (*ret < 0)
        return NULL;
    cJSON *cur = doc;
    for (size_t i = 0; toks[i] && cur; i++)
        cur = child(cur, toks[i]);
    if (!cur)
        *ret = minik_error_set_code(err, 422, 0, "path \"%s\" does not exist", ptr);
    return cur;
}

static const char *op_str(const cJSON *op, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(op, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int minik_patch_json(const cJSON *target, const cJSON *ops, cJSON **out, minik_error_t **err)
{
    if (!cJSON_IsArray(ops))
        return minik_error_set_code(err, 400, 0, "a JSON patch must be an array of operations");
    cleanup_cjson cJSON *doc = cJSON_Duplicate(target, 1);
    int i = 0, r = 0;
    for (const cJSON *op = ops->child; op; op = op->next, i++) {
        const char *name = op_str(op, "op");
        const char *path = op_str(op, "path");
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(op, "value");
        if (!cJSON_IsObject(op) || !name || !path)
            return minik_error_set_code(
                err, 400, 0, "JSON patch operation %d needs string \"op\" and \"path\"", i);
        if (strcmp(name, "add") == 0 || strcmp(name, "replace") == 0) {
            if (!value)
                return minik_error_set_code(err, 400, 0, "JSON patch operation %d needs \"value\"",
                                            i);
            r = do_add(&doc, path, cJSON_Duplicate(value, 1), name[0] == 'r', err);
        } else if (strcmp(name, "remove") == 0) {
            r = do_remove(doc, path, NULL, err);
        } else if (strcmp(name, "move") == 0 || strcmp(name, "copy") == 0) {
            const char *from = op_str(op, "from");
            if (!from)
                return minik_error_set_code(err, 400, 0, "JSON patch operation %d needs \"from\"",
                                            i);
            cJSON *v = NULL;
            if (name[0] == 'm') {
                if (minik_str_has_prefix(path, from) && strlen(path) > strlen(from) &&
                    path[strlen(from)] == '/')
                    return minik_error_set_code(err, 422, 0,
                                                "cannot move \"%s\" into its own child", from);
                r = do_remove(doc, from, &v, err);
            } else {
                cJSON *src = lookup(doc, from, err, &r);
                if (src)
                    v = cJSON_Duplicate(src, 1);
            }
            if (r >= 0)
                r = do_add(&doc, path, v, false, err);
        } else if (strcmp(name, "test") == 0) {
            if (!value)
                return minik_error_set_code(err, 400, 0, "JSON patch operation %d needs \"value\"",
                                            i);
            cJSON *cur = lookup(doc, path, err, &r);
            if (cur && !cJSON_Compare(cur, value, 1))
                r = minik_error_set_code(err, 422, 0, "test failed at \"%s\"", path);
        } else {
            return minik_error_set_code(err, 400, 0, "unknown JSON patch operation \"%s\"", name);
        }
        if (r < 0)
            return minik_error_wrap(err, "JSON patch operation %d (%s)", i, name);
    }
    *out = steal_pointer(&doc);
    return 0;
}

/* ---- strategic merge patch ------------------------------------------------------------ */

/* The patchMergeKey Kubernetes declares for the lists of the kinds minik serves, by field
 * name. "ports" is keyed by containerPort in pods and by port in services. NULL: the list
 * is replaced whole (as a merge patch would). PRIMITIVE_SET: a list of scalars merged as
 * a set (finalizers). */
#define PRIMITIVE_SET "$set"

static const char *merge_key(const char *field, const cJSON *patch_list)
{
    static const struct {
        const char *field, *key;
    } keys[] = {
        {"containers", "name"},
        {"initContainers", "name"},
        {"ephemeralContainers", "name"},
        {"env", "name"},
        {"volumes", "name"},
        {"volumeMounts", "mountPath"},
        {"volumeDevices", "devicePath"},
        {"imagePullSecrets", "name"},
        {"conditions", "type"},
        {"ownerReferences", "uid"},
        {"hostAliases", "ip"},
        {"topologySpreadConstraints", "topologyKey"},
        {"resourceClaims", "name"},
        {"finalizers", PRIMITIVE_SET},
    };
    if (strcmp(field, "ports") == 0) {
        const cJSON *it;
        cJSON_ArrayForEach(it, patch_list)
        {
            if (cJSON_GetObjectItemCaseSensitive(it, "containerPort"))
                return "containerPort";
        }
        return "port";
    }
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(keys[i].field, field) == 0)
            return keys[i].key;
    return NULL;
}

static bool is_directive(const char *k)
{
    return k[0] == '$';
}

static cJSON *smp(cJSON *target, const cJSON *patch, bool *deleted);

/* Find the element of `list` whose `key` equals that of `item`. */
static cJSON *find_by_key(cJSON *list, const char *key, const cJSON *item)
{
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(item, key);
    if (!want)
        return NULL;
    cJSON *el;
    cJSON_ArrayForEach(el, list)
    {
        const cJSON *have = cJSON_GetObjectItemCaseSensitive(el, key);
        if (have && cJSON_Compare(have, want, 1))
            return el;
    }
    return NULL;
}

static cJSON *merge_list(cJSON *cur, const cJSON *patch, const char *key)
{
    if (!cJSON_IsArray(cur)) {
        cJSON_Delete(cur);
        cur = cJSON_CreateArray();
    }
    const cJSON *it;
    /* {"$patch": "replace"} in a list: the other elements are the whole list. */
    cJSON_ArrayForEach(it, patch)
    {
        const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "$patch"));
        if (p && strcmp(p, "replace") == 0) {
            cJSON_Delete(cur);
            cur = cJSON_CreateArray();
            break;
        }
    }
    if (strcmp(key, PRIMITIVE_SET) == 0) {
        cJSON_ArrayForEach(it, patch)
        {
            bool seen = false;
            const cJSON *el;
            cJSON_ArrayForEach(el, cur)
            {
                seen = seen || cJSON_Compare(el, it, 1);
            }
            if (!seen)
                cJSON_AddItemToArray(cur, cJSON_Duplicate(it, 1));
        }
        return cur;
    }
    cJSON_ArrayForEach(it, patch)
    {
        if (!cJSON_IsObject(it)) {
            cJSON_AddItemToArray(cur, cJSON_Duplicate(it, 1));
            continue;
        }
        const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "$patch"));
        if (p && strcmp(p, "replace") == 0 && cJSON_GetArraySize(it) == 1)
            continue;
        cJSON *existing = find_by_key(cur, key, it);
        if (p && strcmp(p, "delete") == 0) {
            if (existing)
                cJSON_Delete(cJSON_DetachItemViaPointer(cur, existing));
            continue;
        }
        bool del = false;
        if (existing) {
            cJSON *merged = smp(cJSON_Duplicate(existing, 1), it, &del);
            if (merged)
                cJSON_ReplaceItemViaPointer(cur, existing, merged);
        } else {
            cJSON *merged = smp(NULL, it, &del);
            if (merged)
                cJSON_AddItemToArray(cur, merged);
        }
    }
    return cur;
}

/* Remove the values of `drop` from the primitive list `list`. */
static void delete_from_list(cJSON *list, const cJSON *drop)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, drop)
    {
        for (int i = cJSON_GetArraySize(list) - 1; i >= 0; i--)
            if (cJSON_Compare(cJSON_GetArrayItem(list, i), d, 1))
                cJSON_DeleteItemFromArray(list, i);
    }
}

/* Reorder `list` as `order` says (by merge key, or by value for primitives); elements
 * not named keep their relative order after the named ones. */
static void set_order(cJSON *list, const cJSON *order, const char *key)
{
    if (!cJSON_IsArray(list) || !cJSON_IsArray(order))
        return;
    cJSON *sorted = cJSON_CreateArray();
    const cJSON *o;
    cJSON_ArrayForEach(o, order)
    {
        cJSON *el = NULL;
        if (key && strcmp(key, PRIMITIVE_SET) != 0 && cJSON_IsObject(o)) {
            el = find_by_key(list, key, o);
        } else {
            cJSON *x;
            cJSON_ArrayForEach(x, list)
            {
                if (!el && cJSON_Compare(x, o, 1))
                    el = x;
            }
        }
        if (el)
            cJSON_AddItemToArray(sorted, cJSON_DetachItemViaPointer(list, el));
    }
    while (cJSON_GetArraySize(list) > 0)
        cJSON_AddItemToArray(sorted, cJSON_DetachItemFromArray(list, 0));
    while (cJSON_GetArraySize(sorted) > 0)
        cJSON_AddItemToArray(list, cJSON_DetachItemFromArray(sorted, 0));
    cJSON_Delete(sorted);
}

/* Apply a strategic patch map to `target` (owned, may be NULL); returns the new value, or
 * NULL with *deleted set for {"$patch": "delete"}. */
static cJSON *smp(cJSON *target, const cJSON *patch, bool *deleted)
{
    if (!cJSON_IsObject(patch)) {
        cJSON_Delete(target);
        return cJSON_Duplicate(patch, 1);
    }
    const char *directive = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(patch, "$patch"));
    if (directive && strcmp(directive, "delete") == 0) {
        cJSON_Delete(target);
        *deleted = true;
        return NULL;
    }
    if (directive && strcmp(directive, "replace") == 0) {
        cJSON_Delete(target);
        target = NULL;
    }
    if (!cJSON_IsObject(target)) {
        cJSON_Delete(target);
        target = cJSON_CreateObject();
    }
    for (const cJSON *p = patch->child; p; p = p->next) {
        if (is_directive(p->string))
            continue;
        if (cJSON_IsNull(p)) {
            cJSON_DeleteItemFromObjectCaseSensitive(target, p->string);
            continue;
        }
        cJSON *cur = cJSON_DetachItemFromObjectCaseSensitive(target, p->string);
        cJSON *merged;
        bool del = false;
        if (cJSON_IsArray(p)) {
            const char *key = merge_key(p->string, p);
            if (key)
                merged = merge_list(cur, p, key);
            else {
                cJSON_Delete(cur);
                merged = cJSON_Duplicate(p, 1);
            }
        } else {
            merged = smp(cur, p, &del);
        }
        if (merged)
            cJSON_AddItemToObject(target, p->string, merged);
    }
    /* List directives apply after the lists were merged. */
    for (const cJSON *p = patch->child; p; p = p->next) {
        const char *k = p->string;
        if (minik_str_has_prefix(k, "$deleteFromPrimitiveList/")) {
            cJSON *list = cJSON_GetObjectItemCaseSensitive(target, strchr(k, '/') + 1);
            if (cJSON_IsArray(list))
                delete_from_list(list, p);
        } else if (minik_str_has_prefix(k, "$setElementOrder/")) {
            const char *field = strchr(k, '/') + 1;
            set_order(cJSON_GetObjectItemCaseSensitive(target, field), p, merge_key(field, p));
        }
    }
    const cJSON *retain = cJSON_GetObjectItemCaseSensitive(patch, "$retainKeys");
    if (cJSON_IsArray(retain)) {
        for (cJSON *t = target->child, *next; t; t = next) {
            next = t->next;
            bool keep = false;
            const cJSON *r;
            cJSON_ArrayForEach(r, retain)
            {
                keep = keep || (cJSON_IsString(r) && strcmp(r->valuestring, t->string) == 0);
            }
            if (!keep)
                cJSON_Delete(cJSON_DetachItemViaPointer(target, t));
        }
    }
    return target;
}

int minik_patch_strategic(const cJSON *target, const cJSON *patch, cJSON **out, minik_error_t **err)
{
    if (!cJSON_IsObject(patch))
        return minik_error_set_code(err, 400, 0, "a strategic merge patch must be a JSON object");
    bool deleted = false;
    cJSON *r = smp(cJSON_Duplicate(target, 1), patch, &deleted);
    if (!r)
        return minik_error_set_code(err, 422, 0,
                                    "a strategic merge patch cannot delete the object");
    *out = r;
    return 0;
}
