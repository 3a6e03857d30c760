/* The whole client-side pipeline behind `minik apply`: read inputs, decode, validate,
 * default. The CLI's dry run prints the result; the server path sends it. */
#ifndef MINIK_PROTO_LOAD_H
#define MINIK_PROTO_LOAD_H

#include <cjson/cJSON.h>

#include "proto/diag.h"
#include "proto/validate.h"

/* Decode every path (file, directory or "-"), validate every document with `mode`, and
 * default the valid ones. *objects (always set) is a new cJSON array, owned by the
 * caller, of the defaulted objects in input order. Every problem goes to diags with its
 * location. Returns 0 when there are no error diagnostics, -1 otherwise (objects then
 * holds only the documents that were valid). */
int minik_manifest_load(char *const *paths, minik_validate_mode_t mode, cJSON **objects,
                        minik_diags_t *diags);

#endif
