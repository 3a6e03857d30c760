#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static int ret_for(const minik_error_t *e)
{
    return e->errnum > 0 ? -e->errnum : -1;
}

int minik_error_setv(minik_error_t **err, int errnum, const char *fmt, va_list ap)
{
    int ret = errnum > 0 ? -errnum : -1;
    if (err == NULL)
        return ret;
    if (*err != NULL) {
        /* Never overwrite: the first error is the cause, later ones are consequences. */
        return ret_for(*err);
    }

    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    minik_error_t *e = xcalloc(1, sizeof *e);
    e->errnum = errnum;
    if (msg && errnum > 0) {
        e->msg = xasprintf("%s: %s", msg, strerror(errnum));
        free(msg);
    } else {
        e->msg = msg ? msg : xstrdup("(error message unavailable)");
    }
    *err = e;
    return ret;
}

int minik_error_set(minik_error_t **err, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = minik_error_setv(err, errnum, fmt, ap);
    va_end(ap);
    return r;
}

int minik_error_set_code(minik_error_t **err, int code, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = minik_error_setv(err, errnum, fmt, ap);
    va_end(ap);
    if (err && *err && (*err)->code == 0)
        (*err)->code = code;
    return r;
}

int minik_error_wrap(minik_error_t **err, const char *fmt, ...)
{
    if (err == NULL || *err == NULL)
        return -1;

    char *prefix = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&prefix, fmt, ap) < 0)
        prefix = NULL;
    va_end(ap);
    if (prefix) {
        char *msg = xasprintf("%s: %s", prefix, (*err)->msg);
        free(prefix);
        free((*err)->msg);
        (*err)->msg = msg;
    }
    return ret_for(*err);
}

void minik_error_free(minik_error_t *err)
{
    if (err == NULL)
        return;
    free(err->msg);
    free(err);
}

void minik_error_clear(minik_error_t **err)
{
    if (err == NULL)
        return;
    minik_error_free(*err);
    *err = NULL;
}
