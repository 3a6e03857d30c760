/* Encoding objects back to text: JSON (the wire form) and YAML like `kubectl get -o yaml`.
 *
 * YAML output is block style, two-space indents, with the keys of every object in a
 * stable order: apiVersion, kind, metadata, spec, status first (when present), then the
 * rest in stored order. Strings that would re-parse as something else (true, 123, null,
 * "", "- x", "a: b", ...) are quoted, so decode(encode(x)) == x. */
#ifndef MINIK_PROTO_ENCODE_H
#define MINIK_PROTO_ENCODE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "lib/buf.h"

/* Append `obj` (borrowed) as one YAML document (no leading "---"). */
void minik_encode_yaml(const cJSON *obj, minik_buf_t *out);

/* Append n objects as a multi-document YAML stream separated by "---" lines. */
void minik_encode_yaml_stream(const cJSON *const *objs, size_t n, minik_buf_t *out);

/* Append `obj` as JSON; pretty = 4-space indented like kubectl's -o json, else compact.
 * Top-level keys follow the same stable order as YAML. */
void minik_encode_json(const cJSON *obj, bool pretty, minik_buf_t *out);

/* Wrap n objects (copied) in {"apiVersion":"v1","kind":"List","items":[...]} and append
 * it as pretty JSON. */
void minik_encode_json_list(const cJSON *const *objs, size_t n, minik_buf_t *out);

#endif
