/* Leveled, structured logging to stderr in logfmt:
 *
 *     time=2026-11-26T15:04:25.123Z level=info msg="pod started" pod=default/web-1
 *
 * Fields are key/value string pairs ending with NULL; values with spaces, quotes or
 * control characters are quoted so each record stays one parseable line. */
#ifndef MINIK_LOG_H
#define MINIK_LOG_H

#include <stdbool.h>
#include <stdio.h>

#define MINIK_LOG_LEVELS(X)                                                                        \
    X(MINIK_LOG_DEBUG, "debug")                                                                    \
    X(MINIK_LOG_INFO, "info")                                                                      \
    X(MINIK_LOG_WARN, "warn")                                                                      \
    X(MINIK_LOG_ERROR, "error")

typedef enum minik_log_level {
#define X(e, s) e,
    MINIK_LOG_LEVELS(X)
#undef X
} minik_log_level_t;

const char *minik_log_level_name(minik_log_level_t lvl);
/* Parse "debug|info|warn|error"; returns -1 for anything else. */
int minik_log_level_parse(const char *s, minik_log_level_t *out);

void minik_log_set_level(minik_log_level_t lvl);
minik_log_level_t minik_log_get_level(void);
bool minik_log_enabled(minik_log_level_t lvl);
/* Redirect output (tests); NULL restores stderr. The stream is not owned. */
void minik_log_set_output(FILE *f);

/* Log `msg` with key/value string pairs, terminated by NULL. A NULL value is written as
 * an empty string. */
void minik_log(minik_log_level_t lvl, const char *msg, ...) __attribute__((sentinel));

#define minik_log_debug(...) minik_log(MINIK_LOG_DEBUG, __VA_ARGS__)
#define minik_log_info(...)  minik_log(MINIK_LOG_INFO, __VA_ARGS__)
#define minik_log_warn(...)  minik_log(MINIK_LOG_WARN, __VA_ARGS__)
#define minik_log_error(...) minik_log(MINIK_LOG_ERROR, __VA_ARGS__)

#endif
