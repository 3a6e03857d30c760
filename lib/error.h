/* The error type every fallible minik function reports through.
 *
 * Convention (DESIGN.md §4): a function that can fail returns int, < 0 on failure, and
 * takes `minik_error_t **err` last. On failure it stores a new error in *err (which must
 * be NULL on entry) and returns the value of minik_error_set(), so call sites read
 *
 *     if (ret < 0)
 *         return ret;
 *
 * and the outermost caller prints err->msg and frees it. */
#ifndef MINIK_ERROR_H
#define MINIK_ERROR_H

#include <stdarg.h>

typedef struct minik_error {
    int errnum; /* errno-style cause, 0 if none applies */
    int code;   /* optional domain code (e.g. an HTTP status), 0 if unset */
    char *msg;  /* human-readable, with context; strerror(errnum) already appended */
} minik_error_t;

/* Store a new error in *err (if err is not NULL) and return a negative value
 * (-errnum, or -1 when errnum is 0). When errnum != 0, ": strerror(errnum)" is appended. */
int minik_error_set(minik_error_t **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int minik_error_setv(minik_error_t **err, int errnum, const char *fmt, va_list ap);

/* As minik_error_set, also recording a domain code (HTTP status, exit code...). */
int minik_error_set_code(minik_error_t **err, int code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prefix an existing error with more context: "what: <old message>". Returns the same
 * negative value minik_error_set would have returned for the original error. */
int minik_error_wrap(minik_error_t **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Release an error; minik_error_free(NULL) is a no-op. */
void minik_error_free(minik_error_t *err);

/* Free *err and set it to NULL: used when an error is deliberately handled. */
void minik_error_clear(minik_error_t **err);

#endif
