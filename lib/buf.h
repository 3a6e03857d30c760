/* A growable byte buffer, always NUL-terminated so text can be used as a C string. */
#ifndef MINIK_BUF_H
#define MINIK_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct minik_buf {
    char *data; /* NULL until the first append; then always NUL-terminated */
    size_t len; /* bytes used, not counting the terminating NUL */
    size_t cap; /* bytes allocated */
} minik_buf_t;

#define MINIK_BUF_INIT                                                                             \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Make room for at least `extra` more bytes (plus the NUL). */
void minik_buf_reserve(minik_buf_t *b, size_t extra);
void minik_buf_append(minik_buf_t *b, const void *data, size_t len);
void minik_buf_append_str(minik_buf_t *b, const char *s);
void minik_buf_append_char(minik_buf_t *b, char c);
void minik_buf_appendf(minik_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void minik_buf_appendv(minik_buf_t *b, const char *fmt, va_list ap);
/* Drop the first n bytes (consumed input), keeping the rest. */
void minik_buf_consume(minik_buf_t *b, size_t n);
/* Empty the buffer but keep its memory for reuse. */
void minik_buf_reset(minik_buf_t *b);
/* Hand the contents to the caller (never NULL: "" for an empty buffer) and reset. */
char *minik_buf_steal(minik_buf_t *b);
/* Release the memory; the buffer is left empty and reusable. */
void minik_buf_free(minik_buf_t *b);
void minik_cleanup_bufp(minik_buf_t *b);

#define cleanup_buf __attribute__((cleanup(minik_cleanup_bufp)))

#endif
