#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void minik_buf_reserve(minik_buf_t *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
    b->data[b->len] = '\0';
}

void minik_buf_append(minik_buf_t *b, const void *data, size_t len)
{
    minik_buf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void minik_buf_append_str(minik_buf_t *b, const char *s)
{
    minik_buf_append(b, s, strlen(s));
}

void minik_buf_append_char(minik_buf_t *b, char c)
{
    minik_buf_append(b, &c, 1);
}

void minik_buf_appendv(minik_buf_t *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    minik_buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void minik_buf_appendf(minik_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    minik_buf_appendv(b, fmt, ap);
    va_end(ap);
}

void minik_buf_consume(minik_buf_t *b, size_t n)
{
    if (n >= b->len) {
        minik_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

void minik_buf_reset(minik_buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *minik_buf_steal(minik_buf_t *b)
{
    char *d = b->data ? b->data : xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}

void minik_buf_free(minik_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void minik_cleanup_bufp(minik_buf_t *b)
{
    minik_buf_free(b);
}
