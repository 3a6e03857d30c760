/* Resource quantities with Kubernetes semantics (apimachinery resource.Quantity):
 *
 *     100m  0.5  2  128Mi  1.5Gi  1G  1e3  500k
 *
 * A quantity is a decimal number with an optional suffix: a binary SI one (Ki Mi Gi Ti Pi
 * Ei), a decimal SI one (n u m "" k M G T P E) or a decimal exponent (e3, E-2). It is
 * held as an exact count of milli-units (so 100m CPU = 100, 128Mi = 134217728000);
 * anything finer than a milli-unit is rounded up, as Kubernetes' MilliValue does.
 *
 * The canonical form is what Kubernetes prints back: the suffix family of the input,
 * the largest suffix that keeps the number integral ("1.5Gi" -> "1536Mi", "0.5" -> "500m",
 * "1000m" -> "1", "1e3" -> "1e3", "1024Ki" -> "1Mi"). */
#ifndef MINIK_PROTO_QUANTITY_H
#define MINIK_PROTO_QUANTITY_H

#include <stdint.h>

#include "lib/error.h"

typedef enum minik_quantity_format {
    MINIK_QTY_DECIMAL_SI = 0, /* 1k, 500m, 2 */
    MINIK_QTY_BINARY_SI,      /* 128Mi */
    MINIK_QTY_DECIMAL_EXP,    /* 1e3 */
} minik_quantity_format_t;

typedef struct minik_quantity {
    int64_t milli; /* value in thousandths of a unit; may be negative */
    minik_quantity_format_t format;
} minik_quantity_t;

/* Largest magnitude accepted, in milli-units (about 9.2 PB / 9.2e15 cores). */
#define MINIK_QUANTITY_MAX_MILLI INT64_MAX

/* Parse a whole string. Errors name the input: `quantity "12x": unknown suffix "x"`. */
int minik_quantity_parse(const char *s, minik_quantity_t *out, minik_error_t **err);

/* The canonical string form; the caller owns it. */
char *minik_quantity_format(const minik_quantity_t *q);

/* Whole units, rounded up (Kubernetes Value()): 100m -> 1, 128Mi -> 134217728. */
int64_t minik_quantity_value(const minik_quantity_t *q);

/* -1, 0 or 1 as a < b, a == b, a > b. */
int minik_quantity_cmp(const minik_quantity_t *a, const minik_quantity_t *b);

#endif
