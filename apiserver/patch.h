/* PATCH bodies: JSON merge patch (RFC 7386) and JSON patch (RFC 6902).
 *
 * Kubernetes' strategic-merge-patch is served as a merge patch for the kinds minik
 * supports (docs/api.md): lists are replaced whole instead of merged by key. */
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

#endif
