/* Label and field selector parsers: never crash, and a parsed label selector's canonical
 * form parses back to the same canonical form and the same matches. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "proto/selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = xstrndup((const char *)data, size);
    static const char labels_json[] =
        "{\"app\":\"web\",\"tier\":\"a\",\"env\":\"\",\"x.io/k\":\"v-1\"}";
    cJSON *labels = cJSON_Parse(labels_json);

    minik_selector_t *sel = NULL;
    minik_error_t *err = NULL;
    if (minik_selector_parse(s, &sel, &err) == 0) {
        char *canon = minik_selector_format(sel);
        minik_selector_t *again = NULL;
        if (minik_selector_parse(canon, &again, &err) < 0)
            abort();
        char *canon2 = minik_selector_format(again);
        if (strcmp(canon, canon2) != 0)
            abort();
        if (minik_selector_matches(sel, labels) != minik_selector_matches(again, labels))
            abort();
        free(canon);
        free(canon2);
        minik_selector_free(again);
        minik_selector_free(sel);
    } else {
        minik_error_clear(&err);
    }

    minik_field_selector_t *fs = NULL;
    if (minik_field_selector_parse(s, &fs, &err) == 0) {
        (void)minik_field_selector_matches(fs, labels);
        minik_field_selector_free(fs);
    } else {
        minik_error_clear(&err);
    }

    cJSON *ls = cJSON_ParseWithLength((const char *)data, size);
    if (ls) {
        if (minik_selector_from_json(ls, &sel, &err) == 0) {
            (void)minik_selector_matches(sel, labels);
            free(minik_selector_format(sel));
            minik_selector_free(sel);
        } else {
            minik_error_clear(&err);
        }
        cJSON_Delete(ls);
    }
    cJSON_Delete(labels);
    free(s);
    return 0;
}
