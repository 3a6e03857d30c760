#include "log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "str.h"

static minik_log_level_t current_level = MINIK_LOG_INFO;
static FILE *out_stream;

static const char *const level_names[] = {
#define X(e, s) [e] = s,
    MINIK_LOG_LEVELS(X)
#undef X
};

const char *minik_log_level_name(minik_log_level_t lvl)
{
    if ((unsigned)lvl >= sizeof level_names / sizeof level_names[0])
        return "unknown";
    return level_names[lvl];
}

int minik_log_level_parse(const char *s, minik_log_level_t *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (s && strcmp(s, level_names[i]) == 0) {
            *out = (minik_log_level_t)i;
            return 0;
        }
    }
    return -1;
}

void minik_log_set_level(minik_log_level_t lvl)
{
    current_level = lvl;
}

minik_log_level_t minik_log_get_level(void)
{
    return current_level;
}

bool minik_log_enabled(minik_log_level_t lvl)
{
    return lvl >= current_level;
}

void minik_log_set_output(FILE *f)
{
    out_stream = f;
}

static bool needs_quotes(const char *v)
{
    if (*v == '\0')
        return true;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            return true;
    return false;
}

static void append_value(minik_buf_t *b, const char *v)
{
    if (needs_quotes(v)) {
        char *q = minik_str_quote(v);
        minik_buf_append_str(b, q);
        free(q);
    } else {
        minik_buf_append_str(b, v);
    }
}

void minik_log(minik_log_level_t lvl, const char *msg, ...)
{
    if (!minik_log_enabled(lvl))
        return;

    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);

    minik_buf_t b = MINIK_BUF_INIT;
    minik_buf_appendf(&b, "time=%s.%03ldZ level=%s msg=", when, ts.tv_nsec / 1000000,
                      minik_log_level_name(lvl));
    char *q = minik_str_quote(msg ? msg : "");
    minik_buf_append_str(&b, q);
    free(q);

    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (k == NULL)
            break;
        const char *v = va_arg(ap, const char *);
        minik_buf_appendf(&b, " %s=", k);
        append_value(&b, v ? v : "");
    }
    va_end(ap);
    minik_buf_append_char(&b, '\n');

    /* One fwrite per record keeps lines whole when several threads/processes share stderr. */
    FILE *f = out_stream ? out_stream : stderr;
    fwrite(b.data, 1, b.len, f);
    fflush(f);
    minik_buf_free(&b);
}
