/* Field tables: the declarative description of every supported kind, walked by ONE generic
 * validator and ONE generic defaulter (proto/validate.c). No code is written per field;
 * a kind is a table of rows like
 *
 *     {"containerPort", MINIK_T_INT, .flags = MINIK_F_REQUIRED | MINIK_F_RANGE,
 *      .min = 1, .max = 65535},
 *     {"protocol", MINIK_T_STRING, .enums = protocols, .dflt = "\"TCP\""},
 *     {"ports", MINIK_T_ARRAY, .items = &port_item},
 *
 * and cross-field rules (one of exec/httpGet/tcpSocket, selector matches template labels)
 * are `check` functions attached to a row. Tables end with a row whose name is NULL. */
#ifndef MINIK_PROTO_SCHEMA_H
#define MINIK_PROTO_SCHEMA_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

typedef enum minik_ftype {
    MINIK_T_ANY = 0,       /* anything (status, opaque extension points) */
    MINIK_T_STRING,        /* a string */
    MINIK_T_INT,           /* an integral number (int64) */
    MINIK_T_BOOL,          /* true / false */
    MINIK_T_OBJECT,        /* an object described by .fields */
    MINIK_T_ARRAY,         /* an array whose elements are described by .items */
    MINIK_T_MAP,           /* an object with free keys (.key_check) and values (.items) */
    MINIK_T_INT_OR_STRING, /* Kubernetes IntOrString (ports, maxSurge) */
    MINIK_T_QUANTITY,      /* a resource quantity: string or number ("100m", 2) */
} minik_ftype_t;

enum {
    MINIK_F_REQUIRED = 1 << 0, /* must be present */
    MINIK_F_RANGE = 1 << 1,    /* an INT (or the int form of INT_OR_STRING) in [min, max] */
    MINIK_F_NONEMPTY = 1 << 2, /* a string, array or map that must not be empty */
    MINIK_F_NULLABLE = 1 << 3, /* null is kept as null (creationTimestamp: null); other rows
                                  treat null as "not set" and drop it when defaulting */
};

/* The validator's context, passed to check functions so they can report located errors. */
typedef struct minik_vctx minik_vctx_t;

/* A cross-field or syntax rule. Called with the node once its type is right (for arrays
 * and maps: once for the whole value; put per-element rules on .items). Report problems
 * with minik_vctx_error. */
typedef void (*minik_check_fn)(minik_vctx_t *c, const cJSON *node);

/* Compute defaults that depend on other fields (imagePullPolicy from the image tag,
 * Service targetPort from port). Called on an object after its rows' plain defaults. */
typedef void (*minik_default_fn)(cJSON *obj);

typedef struct minik_field {
    const char *name; /* JSON key; NULL ends a table (and is unused for .items rows) */
    minik_ftype_t type;
    unsigned flags;
    int64_t min, max;                 /* with MINIK_F_RANGE */
    const char *const *enums;         /* NULL-terminated allowed string values */
    const struct minik_field *fields; /* OBJECT: the member table */
    const struct minik_field *items;  /* ARRAY/MAP: what each element/value is */
    minik_check_fn key_check;         /* MAP: rule for each key */
    minik_check_fn check;             /* extra rule on this value */
    const char *dflt;                 /* JSON text inserted when the field is absent */
    minik_default_fn defaulter;       /* OBJECT: computed defaults */
    const char *doc;                  /* one line for docs/manifests.md */
} minik_field_t;

/* Report an error at `node` (or, when node is NULL, at the value being checked).
 * `subpath` (may be NULL) is appended to the current field path and starts with '.' or
 * '[': ".selector", "[2].name". */
void minik_vctx_error(minik_vctx_t *c, const cJSON *node, const char *subpath, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The kind being validated (checks that depend on it, such as metadata.name rules). */
const struct minik_kind *minik_vctx_kind(const minik_vctx_t *c);

#endif
