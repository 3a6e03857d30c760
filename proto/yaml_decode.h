/* Internal to proto/: the libyaml event loop that turns a YAML/JSON stream into cJSON
 * documents. */
#ifndef MINIK_PROTO_YAML_DECODE_H
#define MINIK_PROTO_YAML_DECODE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "proto/diag.h"
#include "proto/manifest.h"

/* Receives each non-empty document (ownership passes to the callback) and the line it
 * starts on. Returning < 0 stops decoding (the callback has reported why). */
typedef int (*minik_yaml_doc_fn)(void *ud, cJSON *doc, unsigned line);

/* Decode every document in data[0..len). Positions go to pm (may be NULL), problems to
 * diags, tagged with `source`. Returns 0 when no error was reported, -1 otherwise. */
int minik_yaml_decode(const char *source, const char *data, size_t len, minik_posmap_t *pm,
                      minik_diags_t *diags, minik_yaml_doc_fn on_doc, void *ud);

/* The value a plain (unquoted) scalar has under Kubernetes' YAML rules: null, bool, int,
 * float or string. NULL (with *why set) for values JSON cannot hold (.inf, .nan). */
cJSON *minik_yaml_resolve_plain(const char *s, const char **why);

#endif
