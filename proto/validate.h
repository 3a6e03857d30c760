/* Validation and defaulting of one object against its kind's field table.
 *
 * The API server calls these on every create/update body (without positions); the CLI
 * calls them on decoded manifests (with positions, for file:line:col errors). */
#ifndef MINIK_PROTO_VALIDATE_H
#define MINIK_PROTO_VALIDATE_H

#include <cjson/cJSON.h>

#include "proto/diag.h"
#include "proto/kinds.h"
#include "proto/manifest.h"

/* At most this many diagnostics per object; the rest are counted in one last entry. */
#define MINIK_VALIDATE_MAX_DIAGS 1000

typedef enum minik_validate_mode {
    MINIK_VALIDATE_STRICT = 0, /* unknown fields are errors */
    MINIK_VALIDATE_WARN,       /* unknown fields are warnings (and are kept) */
} minik_validate_mode_t;

/* Parse "strict" / "warn" (also "true" = strict, as kubectl accepts). -1 if neither. */
int minik_validate_mode_parse(const char *s, minik_validate_mode_t *out);

/* Check `obj` (borrowed) against the table of its apiVersion/kind and add every problem
 * to diags: unknown kind, unknown fields, wrong types, missing required fields, values out
 * of range or not in an enum, bad names/labels, cross-field rules. `pos` (may be NULL)
 * supplies line/column; `source` (may be NULL) the file name. *kind_out (may be NULL)
 * receives the kind (NULL if apiVersion/kind were not recognised).
 * Returns the number of ERROR diagnostics added (0 = valid). */
int minik_validate(const cJSON *obj, const minik_posmap_t *pos, const char *source,
                   minik_validate_mode_t mode, minik_diags_t *diags, const minik_kind_t **kind_out);

/* Fill in defaults in place, as the Kubernetes API server would (restartPolicy Always,
 * imagePullPolicy, protocol TCP, strategy RollingUpdate 25%/25%, namespace "default", ...).
 * Fields set to null are unset: they are removed, then defaulted like absent ones.
 * `obj` should have passed minik_validate; an object of an unknown kind is left alone.
 * Idempotent: defaulting a defaulted object changes nothing. */
void minik_default(cJSON *obj);

#endif
