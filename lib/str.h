/* String helpers shared by every module. */
#ifndef MINIK_STR_H
#define MINIK_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

bool minik_str_has_prefix(const char *s, const char *prefix);
bool minik_str_has_suffix(const char *s, const char *suffix);
bool minik_str_eq(const char *a, const char *b); /* NULL-safe: NULL equals only NULL */

/* Copy of s without leading and trailing whitespace; the caller owns it. */
char *minik_str_trim(const char *s);

/* Split s on any character of `seps`. Empty fields are kept unless skip_empty.
 * Returns a NULL-terminated array the caller frees with minik_strv_free. */
char **minik_str_split(const char *s, const char *seps, bool skip_empty);
size_t minik_strv_len(char *const *v);
void minik_strv_free(char **v);
/* Join with sep; the caller owns the result. */
char *minik_strv_join(char *const *v, const char *sep);

/* Parse a whole string as a base-10 integer within [min, max]. `what` names the value in
 * the error ("--port"). */
int minik_str_to_i64(const char *s, int64_t min, int64_t max, int64_t *out, const char *what,
                     minik_error_t **err);

/* Parse a duration such as "90s", "1h30m", "250ms", "2d" into milliseconds. A bare number
 * means seconds. */
int minik_str_to_duration_ms(const char *s, int64_t *out_ms, const char *what, minik_error_t **err);

/* Append s to a freshly allocated string in double quotes with \" \\ \n \t and control
 * characters escaped, for log values and error messages that show user input. */
char *minik_str_quote(const char *s);

/* True when s[0..n) is well-formed UTF-8 (no overlong forms, surrogates or code points
 * past U+10FFFF). Untrusted bodies are checked with this before cJSON sees them: cJSON
 * passes invalid bytes through, and re-encoding them would not round-trip. */
bool minik_str_utf8_valid(const char *s, size_t n);

#endif
