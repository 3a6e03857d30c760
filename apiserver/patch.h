/* PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and Kubernetes'
 * strategic merge patch for the lists of the kinds minik serves (docs/api.md). */
#ifndef MINIK_APISERVER_PATCH_H
#define MINIK_APISERVER_PATCH_H

#include <cjson/cJSON.h>

#include "lib/error.h"

/* Apply merge patch `patch` (borrowed) to `target` (borrowed); *out is a new tree the
 * caller owns. Never fails for well-formed JSON. */
int minik_patch_merge(const cJSON *target, const cJSON *patch, cJSON **out, minik_error_t **err);

/* Apply JSON patch `ops` (an array of operations, borrowed) to `target` (borrowed);
 * *out is a new tree. Errors carry err->code: 400 for a malformed operation, 422 when an
 * operation cannot apply (missing path, failed "test"). */
int minik_patch_json(const cJSON *target, const cJSON *ops, cJSON **out, minik_error_t **err);

/* Apply a Kubernetes strategic merge patch: a merge patch in which lists with a merge key
 * (containers, env, volumes, ports, volumeMounts, conditions, ... by field name) are
 * merged element by element on that key, finalizers merge as a set, and the directives
 * $patch (merge/replace/delete), $setElementOrder/<list>, $deleteFromPrimitiveList/<list>
 * and $retainKeys are honoured. Other lists are replaced. Errors: 400 if the patch is not
 * an object. */
int minik_patch_strategic(const cJSON *target, const cJSON *patch, cJSON **out,
                          minik_error_t **err);

#endif
