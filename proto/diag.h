/* Diagnostics: the located errors and warnings that decoding and validation produce.
 *
 * Every problem in a manifest becomes one entry, so a user sees ALL the problems of a file
 * at once, each formatted as kubectl users expect:
 *
 *     app.yaml:14:7: spec.template.spec.containers[0].imagePullPolicyy: unknown field
 *
 * The API server turns the same entries into a Status's details.causes (field = path). */
#ifndef MINIK_PROTO_DIAG_H
#define MINIK_PROTO_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

typedef enum minik_diag_severity {
    MINIK_DIAG_ERROR = 0,
    MINIK_DIAG_WARNING = 1,
} minik_diag_severity_t;

typedef struct minik_diag {
    minik_diag_severity_t severity;
    char *source;  /* file name, "<stdin>", or NULL when the input had no name */
    unsigned line; /* 1-based; 0 when unknown (e.g. a JSON body without positions) */
    unsigned col;  /* 1-based; 0 when unknown */
    char *path;    /* field path "spec.containers[0].image", "" for the document itself */
    char *message; /* "unknown field", "must be between 1 and 65535, got 0" */
} minik_diag_t;

typedef struct minik_diags {
    minik_diag_t *items;
    size_t len, cap;
    size_t n_errors;   /* entries with severity ERROR */
    size_t n_warnings; /* entries with severity WARNING */
} minik_diags_t;

#define MINIK_DIAGS_INIT                                                                           \
    {                                                                                              \
        NULL, 0, 0, 0, 0                                                                           \
    }

/* Append one diagnostic; all strings are copied (source and path may be NULL). */
void minik_diags_add(minik_diags_t *d, minik_diag_severity_t sev, const char *source, unsigned line,
                     unsigned col, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* Format one entry as "source:line:col: path: message" (parts that are unknown are left
 * out: "path: message" for a body without positions), with "warning: " before the path
 * for warnings. Appends to *out. */
void minik_diag_format(const minik_diag_t *d, minik_buf_t *out);

/* Format every entry, one per line, in the order they were added. */
void minik_diags_format(const minik_diags_t *d, minik_buf_t *out);

/* Release the entries; the list is left empty and reusable. NULL is a no-op. */
void minik_diags_clear(minik_diags_t *d);

void minik_cleanup_diagsp(minik_diags_t *d);
#define cleanup_diags __attribute__((cleanup(minik_cleanup_diagsp)))

#endif
