#include "cli/output.h"

#include <string.h>

#include "cli/client_config.h"
#include "cli/printers.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "proto/encode.h"
#include "proto/kinds.h"

int minik_output_parse(const char *s, minik_output_t *out, minik_error_t **err)
{
    if (!s || !*s)
        *out = MINIK_OUTPUT_TABLE;
    else if (strcmp(s, "wide") == 0)
        *out = MINIK_OUTPUT_WIDE;
    else if (strcmp(s, "json") == 0)
        *out = MINIK_OUTPUT_JSON;
    else if (strcmp(s, "yaml") == 0)
        *out = MINIK_OUTPUT_YAML;
    else if (strcmp(s, "name") == 0)
        *out = MINIK_OUTPUT_NAME;
    else
        return minik_error_set(err, 0,
                               "unable to match a printer for output format \"%s\"; allowed "
                               "formats are: json, name, wide, yaml",
                               s);
    return 0;
}

void minik_output_fill_type(cJSON *item, const char *api_version, const char *kind)
{
    if (!cJSON_GetObjectItemCaseSensitive(item, "apiVersion"))
        cJSON_AddStringToObject(item, "apiVersion", api_version);
    if (!cJSON_GetObjectItemCaseSensitive(item, "kind"))
        cJSON_AddStringToObject(item, "kind", kind);
}

static void print_name(const cJSON *o, minik_buf_t *out)
{
    const cJSON *av = cJSON_GetObjectItemCaseSensitive(o, "apiVersion");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(o, "metadata");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(md, "name");
    const minik_kind_t *k = cJSON_IsString(av) && cJSON_IsString(kind)
                                ? minik_cli_kind_lookup(av->valuestring, kind->valuestring)
                                : NULL;
    const char *n = cJSON_IsString(name) ? name->valuestring : "";
    if (k) {
        cleanup_free char *ref = minik_object_ref(k, n);
        minik_buf_appendf(out, "%s\n", ref);
    } else {
        minik_buf_appendf(out, "%s/%s\n", cJSON_IsString(kind) ? kind->valuestring : "unknown", n);
    }
}

void minik_output_objects(minik_output_t fmt, const cJSON *const *objs, size_t n, bool as_list,
                          minik_buf_t *out)
{
    if (fmt == MINIK_OUTPUT_NAME) {
        for (size_t i = 0; i < n; i++)
            print_name(objs[i], out);
        return;
    }
    if (!as_list && n == 1) {
        if (fmt == MINIK_OUTPUT_JSON) {
            minik_encode_json(objs[0], true, out);
            minik_buf_append_char(out, '\n');
        } else {
            minik_encode_yaml(objs[0], out);
        }
        return;
    }
    /* kubectl's List: apiVersion, items, kind, metadata.resourceVersion "". */
    cleanup_cjson cJSON *list = cJSON_CreateObject();
    cJSON_AddStringToObject(list, "apiVersion", "v1");
    cJSON *items = cJSON_AddArrayToObject(list, "items");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(items, cJSON_Duplicate(objs[i], true));
    cJSON_AddStringToObject(list, "kind", "List");
    cJSON *md = cJSON_AddObjectToObject(list, "metadata");
    cJSON_AddStringToObject(md, "resourceVersion", "");
    if (fmt == MINIK_OUTPUT_JSON) {
        minik_encode_json(list, true, out);
        minik_buf_append_char(out, '\n');
    } else {
        minik_encode_yaml(list, out);
    }
}
