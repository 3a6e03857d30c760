#include "proto/client_apply.h"

#include <string.h>

#include "lib/cleanup.h"
#include "lib/xalloc.h"

cJSON *minik_apply_annotate(const cJSON *desired)
{
    cJSON *copy = cJSON_Duplicate(desired, true);
    cJSON *md = cJSON_GetObjectItemCaseSensitive(copy, "metadata");
    if (!cJSON_IsObject(md)) {
        cJSON_DeleteItemFromObjectCaseSensitive(copy, "metadata");
        md = cJSON_AddObjectToObject(copy, "metadata");
    }
    cJSON *ann = cJSON_GetObjectItemCaseSensitive(md, "annotations");
    if (cJSON_IsObject(ann)) {
        cJSON_DeleteItemFromObjectCaseSensitive(ann, MINIK_LAST_APPLIED_ANNOTATION);
        /* kubectl records the configuration without an annotations map left empty by
         * removing its own key. */
        if (!ann->child)
            cJSON_DeleteItemFromObjectCaseSensitive(md, "annotations");
    }
    cleanup_free char *text = cJSON_PrintUnformatted(copy);
    ann = cJSON_GetObjectItemCaseSensitive(md, "annotations");
    if (!cJSON_IsObject(ann)) {
        cJSON_DeleteItemFromObjectCaseSensitive(md, "annotations");
        ann = cJSON_AddObjectToObject(md, "annotations");
    }
    cJSON_AddStringToObject(ann, MINIK_LAST_APPLIED_ANNOTATION, text);
    return copy;
}

cJSON *minik_apply_last_applied(const cJSON *live)
{
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(live, "metadata");
    const cJSON *ann = cJSON_GetObjectItemCaseSensitive(md, "annotations");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ann, MINIK_LAST_APPLIED_ANNOTATION);
    if (!cJSON_IsString(v))
        return NULL;
    cJSON *j = cJSON_Parse(v->valuestring);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* A copy of a configuration without the last-applied annotation and without an
 * annotations map left empty (kubectl writes "annotations":{} into its record). */
static cJSON *normalized(const cJSON *cfg)
{
    cJSON *c = cJSON_Duplicate(cfg, true);
    cJSON *md = cJSON_GetObjectItemCaseSensitive(c, "metadata");
    cJSON *ann = cJSON_GetObjectItemCaseSensitive(md, "annotations");
    if (cJSON_IsObject(ann)) {
        cJSON_DeleteItemFromObjectCaseSensitive(ann, MINIK_LAST_APPLIED_ANNOTATION);
        if (!ann->child)
            cJSON_DeleteItemFromObjectCaseSensitive(md, "annotations");
    }
    return c;
}

bool minik_apply_adopt_annotation(cJSON *modified, const cJSON *desired, const cJSON *live)
{
    cleanup_cjson cJSON *recorded = minik_apply_last_applied(live);
    if (!recorded)
        return false;
    cleanup_cjson cJSON *a = normalized(recorded);
    cleanup_cjson cJSON *b = normalized(desired);
    /* cJSON_Compare ignores member order, which is all that differs between writers. */
    if (!cJSON_Compare(a, b, true))
        return false;
    const cJSON *lmd = cJSON_GetObjectItemCaseSensitive(live, "metadata");
    const cJSON *lann = cJSON_GetObjectItemCaseSensitive(lmd, "annotations");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(lann, MINIK_LAST_APPLIED_ANNOTATION);
    cJSON *md = cJSON_GetObjectItemCaseSensitive(modified, "metadata");
    cJSON *ann = cJSON_GetObjectItemCaseSensitive(md, "annotations");
    if (!cJSON_IsString(text) || !cJSON_IsObject(ann))
        return false;
    cJSON_ReplaceItemInObjectCaseSensitive(ann, MINIK_LAST_APPLIED_ANNOTATION,
                                           cJSON_CreateString(text->valuestring));
    return true;
}

cJSON *minik_merge_patch_create(const cJSON *from, const cJSON *to)
{
    cJSON *patch = cJSON_CreateObject();
    /* Only objects have members to compare; anything else is outside the contract. */
    if (!cJSON_IsObject(to))
        return patch;
    if (!cJSON_IsObject(from))
        from = NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, to)
    {
        const cJSON *old = cJSON_GetObjectItemCaseSensitive(from, it->string);
        if (!old) {
            cJSON_AddItemToObject(patch, it->string, cJSON_Duplicate(it, true));
        } else if (cJSON_IsObject(old) && cJSON_IsObject(it)) {
            cJSON *sub = minik_merge_patch_create(old, it);
            if (sub->child)
                cJSON_AddItemToObject(patch, it->string, sub);
            else
                cJSON_Delete(sub);
        } else if (!cJSON_Compare(old, it, true)) {
            cJSON_AddItemToObject(patch, it->string, cJSON_Duplicate(it, true));
        }
    }
    cJSON_ArrayForEach(it, from)
    {
        if (!cJSON_GetObjectItemCaseSensitive(to, it->string))
            cJSON_AddNullToObject(patch, it->string);
    }
    return patch;
}

/* Keep only null leaves (keep_null) or drop them (!keep_null), recursively, as kubectl's
 * keepOrDeleteNullInObj: a map that was empty in the patch is a value (kept without
 * keep_null), a map emptied by the filtering is no change at all (dropped). */
static cJSON *filter_nulls(const cJSON *patch, bool keep_null)
{
    cJSON *out = cJSON_CreateObject();
    const cJSON *it;
    cJSON_ArrayForEach(it, patch)
    {
        if (cJSON_IsNull(it)) {
            if (keep_null)
                cJSON_AddNullToObject(out, it->string);
        } else if (cJSON_IsObject(it) && !it->child) {
            if (!keep_null)
                cJSON_AddItemToObject(out, it->string, cJSON_CreateObject());
        } else if (cJSON_IsObject(it)) {
            cJSON *sub = filter_nulls(it, keep_null);
            if (sub->child)
                cJSON_AddItemToObject(out, it->string, sub);
            else
                cJSON_Delete(sub);
        } else if (!keep_null) {
            cJSON_AddItemToObject(out, it->string, cJSON_Duplicate(it, true));
        }
    }
    return out;
}

/* Merge map b into map a (a is modified; b borrowed); b's leaves win. */
static void merge_into(cJSON *a, const cJSON *b)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, b)
    {
        cJSON *cur = cJSON_GetObjectItemCaseSensitive(a, it->string);
        if (cur && cJSON_IsObject(cur) && cJSON_IsObject(it))
            merge_into(cur, it);
        else if (cur)
            cJSON_ReplaceItemInObjectCaseSensitive(a, it->string, cJSON_Duplicate(it, true));
        else
            cJSON_AddItemToObject(a, it->string, cJSON_Duplicate(it, true));
    }
}

/* Does `live` already say everything `want` says? Objects: every member of want is in live
 * and covered; lists: same length, element by element; scalars: equal. Members only live
 * has (server defaults such as a port's protocol) do not matter. */
static bool covers(const cJSON *live, const cJSON *want)
{
    if (cJSON_IsObject(want)) {
        if (!cJSON_IsObject(live))
            return false;
        const cJSON *it;
        cJSON_ArrayForEach(it, want)
        {
            if (!covers(cJSON_GetObjectItemCaseSensitive(live, it->string), it))
                return false;
        }
        return true;
    }
    if (cJSON_IsArray(want)) {
        if (!cJSON_IsArray(live) || cJSON_GetArraySize(live) != cJSON_GetArraySize(want))
            return false;
        for (const cJSON *a = live->child, *b = want->child; b; a = a->next, b = b->next)
            if (!covers(a, b))
                return false;
        return true;
    }
    return live && cJSON_Compare(live, want, true);
}

/* The changes half of the three-way patch: members of `mod` that differ from `cur`.
 * JSON merge patch replaces lists whole, so a list the server has defaulted inside (a
 * container's imagePullPolicy, a port's protocol) would differ from the file's forever.
 * A list is therefore left out when the user did not change it (the last-applied `orig`
 * has the same list) and the live list already covers it; any other difference sends the
 * file's whole list, as kubectl does for merge-patch kinds. */
static cJSON *changes(const cJSON *cur, const cJSON *mod, const cJSON *orig)
{
    cJSON *patch = cJSON_CreateObject();
    const cJSON *m;
    cJSON_ArrayForEach(m, mod)
    {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(cur, m->string);
        const cJSON *o =
            cJSON_IsObject(orig) ? cJSON_GetObjectItemCaseSensitive(orig, m->string) : NULL;
        if (cJSON_IsNull(m))
            continue; /* an explicit null in the file is a deletion, not a change */
        if (!c) {
            cJSON_AddItemToObject(patch, m->string, cJSON_Duplicate(m, true));
        } else if (cJSON_IsObject(c) && cJSON_IsObject(m)) {
            cJSON *sub = changes(c, m, o);
            if (sub->child)
                cJSON_AddItemToObject(patch, m->string, sub);
            else
                cJSON_Delete(sub);
        } else if (cJSON_Compare(c, m, true)) {
            continue;
        } else if (cJSON_IsArray(m) && o && cJSON_Compare(o, m, true) && covers(c, m)) {
            continue;
        } else {
            cJSON_AddItemToObject(patch, m->string, cJSON_Duplicate(m, true));
        }
    }
    return patch;
}

cJSON *minik_apply_three_way_patch(const cJSON *original, const cJSON *modified,
                                   const cJSON *current)
{
    cleanup_cjson cJSON *empty = cJSON_CreateObject();
    cleanup_cjson cJSON *del_all = minik_merge_patch_create(original ? original : empty, modified);
    cleanup_cjson cJSON *deletions = filter_nulls(del_all, true);
    if (!cJSON_IsObject(modified))
        return cJSON_CreateObject();
    cleanup_cjson cJSON *delta =
        changes(cJSON_IsObject(current) ? current : empty, modified, original);
    cJSON *patch = filter_nulls(delta, false);
    merge_into(patch, deletions);
    return patch;
}

cJSON *minik_merge_patch_apply(const cJSON *target, const cJSON *patch)
{
    if (!cJSON_IsObject(patch))
        return cJSON_Duplicate(patch, true);
    cJSON *out = cJSON_IsObject(target) ? cJSON_Duplicate(target, true) : cJSON_CreateObject();
    const cJSON *it;
    cJSON_ArrayForEach(it, patch)
    {
        if (cJSON_IsNull(it)) {
            cJSON_DeleteItemFromObjectCaseSensitive(out, it->string);
            continue;
        }
        const cJSON *cur = cJSON_GetObjectItemCaseSensitive(out, it->string);
        cJSON *v = minik_merge_patch_apply(cur, it);
        if (cur)
            cJSON_ReplaceItemInObjectCaseSensitive(out, it->string, v);
        else
            cJSON_AddItemToObject(out, it->string, v);
    }
    return out;
}

bool minik_merge_patch_is_empty(const cJSON *patch)
{
    return cJSON_IsObject(patch) && patch->child == NULL;
}
