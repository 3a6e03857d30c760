/* Fuzz what the client does with objects a server sends back (untrusted JSON): every
 * kind's table row (normal and wide), describe, and the three-way merge patch. Input: a
 * JSON value; an array [last-applied, file, live] also drives the merge. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "cli/describe.h"
#include "cli/printers.h"
#include "lib/buf.h"
#include "proto/client_apply.h"
#include "proto/kinds.h"

static void rows(const cJSON *obj)
{
    for (const minik_kind_t *k = minik_kinds; k->kind; k++) {
        for (int wide = 0; wide < 2; wide++) {
            size_t n;
            minik_printer_headers(k, wide, &n);
            char **cells = minik_printer_row(k, obj, wide, 1795694400, "x/");
            for (size_t i = 0; i < n; i++)
                free(cells[i]);
            free(cells);
        }
        minik_buf_t b = MINIK_BUF_INIT;
        minik_describe(k, obj, obj, 1795694400, &b);
        minik_buf_free(&b);
        /* The same object as the related one too (a Service's Endpoints). */
        minik_describe_with(k, obj, obj, obj, 1795694400, &b);
        minik_buf_free(&b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *v = cJSON_ParseWithLength((const char *)data, size);
    if (!v)
        return 0;
    rows(v);
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) >= 3) {
        const cJSON *orig = cJSON_GetArrayItem(v, 0);
        const cJSON *file = cJSON_GetArrayItem(v, 1);
        const cJSON *live = cJSON_GetArrayItem(v, 2);
        cJSON *modified = minik_apply_annotate(file);
        cJSON *patch = minik_apply_three_way_patch(orig, modified, live);
        cJSON *merged = minik_merge_patch_apply(live, patch);
        /* Applying the patch must leave nothing to do for file-owned fields. */
        cJSON *again = minik_apply_three_way_patch(orig, modified, merged);
        cJSON_Delete(again);
        cJSON_Delete(merged);
        cJSON_Delete(patch);
        cJSON_Delete(modified);
    }
    cJSON_Delete(v);
    return 0;
}
