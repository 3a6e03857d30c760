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

cJSON *minik_merge_patch_create(const cJSON *from, const cJSON *to)
{
    cJSON *patch = cJSON_CreateObject();
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

cJSON *minik_apply_three_way_patch(const cJSON *original, const cJSON *modified,
                                   const cJSON *current)
{
    cleanup_cjson cJSON *empty = cJSON_CreateObject();
    cleanup_cjson cJSON *del_all = minik_merge_patch_create(original ? original : empty, modified);
    cleanup_cjson cJSON *deletions = filter_nulls(del_all, true);
    cleanup_cjson cJSON *delta_all = minik_merge_patch_create(current ? current : empty, modified);
    cJSON *patch = filter_nulls(delta_all, false);
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
