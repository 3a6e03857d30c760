/* Machine-readable output shared by get/apply/scale: -o json|yaml|name. */
#ifndef MINIK_CLI_OUTPUT_H
#define MINIK_CLI_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "lib/buf.h"
#include "lib/error.h"

typedef enum minik_output {
    MINIK_OUTPUT_TABLE = 0,
    MINIK_OUTPUT_WIDE,
    MINIK_OUTPUT_JSON,
    MINIK_OUTPUT_YAML,
    MINIK_OUTPUT_NAME,
} minik_output_t;

/* Parse -o: NULL/"" -> table; "wide", "json", "yaml", "name". < 0 with a message listing
 * the allowed formats otherwise. */
int minik_output_parse(const char *s, minik_output_t *out, minik_error_t **err);

/* Append objects in fmt (JSON, YAML or NAME). as_list wraps several (or zero) objects in a
 * kind: List, as kubectl does for lists; a single object with !as_list prints bare. */
void minik_output_objects(minik_output_t fmt, const cJSON *const *objs, size_t n, bool as_list,
                          minik_buf_t *out);

/* Set apiVersion/kind on an item of a list reply when the server left them out. */
void minik_output_fill_type(cJSON *item, const char *api_version, const char *kind);

#endif
