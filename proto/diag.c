#include "proto/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/xalloc.h"

void minik_diags_add(minik_diags_t *d, minik_diag_severity_t sev, const char *source, unsigned line,
                     unsigned col, const char *path, const char *fmt, ...)
{
    if (d->len == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->items = xrealloc(d->items, d->cap * sizeof *d->items);
    }
    minik_diag_t *e = &d->items[d->len++];
    e->severity = sev;
    e->source = source ? xstrdup(source) : NULL;
    e->line = line;
    e->col = col;
    e->path = xstrdup(path ? path : "");
    va_list ap;
    va_start(ap, fmt);
    e->message = xvasprintf(fmt, ap);
    va_end(ap);
    if (sev == MINIK_DIAG_ERROR)
        d->n_errors++;
    else
        d->n_warnings++;
}

void minik_diag_format(const minik_diag_t *d, minik_buf_t *out)
{
    if (d->source) {
        minik_buf_append_str(out, d->source);
        minik_buf_append_str(out, ":");
    }
    if (d->line) {
        minik_buf_appendf(out, "%u:%u:", d->line, d->col);
    }
    if (d->source || d->line)
        minik_buf_append_str(out, " ");
    if (d->severity == MINIK_DIAG_WARNING)
        minik_buf_append_str(out, "warning: ");
    if (d->path && d->path[0])
        minik_buf_appendf(out, "%s: ", d->path);
    minik_buf_append_str(out, d->message);
}

void minik_diags_format(const minik_diags_t *d, minik_buf_t *out)
{
    for (size_t i = 0; i < d->len; i++) {
        minik_diag_format(&d->items[i], out);
        minik_buf_append_char(out, '\n');
    }
}

void minik_diags_clear(minik_diags_t *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->len; i++) {
        free(d->items[i].source);
        free(d->items[i].path);
        free(d->items[i].message);
    }
    free(d->items);
    d->items = NULL;
    d->len = d->cap = d->n_errors = d->n_warnings = 0;
}

void minik_cleanup_diagsp(minik_diags_t *d)
{
    minik_diags_clear(d);
}
