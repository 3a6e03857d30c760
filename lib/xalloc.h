/* Allocation helpers that never return NULL.
 *
 * minik treats running out of memory as fatal (as crun and redis do): a half-built
 * object graph is harder to recover from than a crash that the supervisor restarts. */
#ifndef MINIK_XALLOC_H
#define MINIK_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a freshly allocated string; the caller owns the result. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same for a variadic caller's va_list (consumed, as vsprintf does). */
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
