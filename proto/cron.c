/* Cron schedule parsing and next-time computation: see cron.h. */
#include "proto/cron.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"

typedef struct field_def {
    const char *name;
    int min, max;
    const char *const *names; /* names[i] is value min+i, or NULL */
} field_def_t;

static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                     "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const field_def_t defs[5] = {
    {"minute", 0, 59, NULL},  {"hour", 0, 23, NULL},       {"day of month", 1, 31, NULL},
    {"month", 1, 12, months}, {"day of week", 0, 7, days},
};

/* A number or (for month/day of week) a three-letter name. */
static int value(const field_def_t *d, const char *s, size_t n, int *out)
{
    if (n == 0 || n > 9)
        return -1;
    if (isdigit((unsigned char)s[0])) {
        int v = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isdigit((unsigned char)s[i]))
                return -1;
            v = v * 10 + (s[i] - '0');
        }
        *out = v;
        return 0;
    }
    for (size_t i = 0; d->names && d->names[i]; i++)
        if (n == 3 && strncasecmp(s, d->names[i], 3) == 0) {
            *out = d->min + (int)i;
            return 0;
        }
    return -1;
}

static int parse_field(const field_def_t *d, const char *text, uint64_t *bits, bool *any,
                       minik_error_t **err)
{
    *bits = 0;
    *any = strcmp(text, "*") == 0 || strcmp(text, "?") == 0;
    const char *p = text;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *slash = memchr(p, '/', len);
        size_t rlen = slash ? (size_t)(slash - p) : len;
        int lo, hi, step = 1;
        if ((rlen == 1 && (*p == '*' || *p == '?'))) {
            lo = d->min;
            hi = d->max == 7 ? 6 : d->max;
        } else {
            const char *dash = memchr(p, '-', rlen);
            if (value(d, p, dash ? (size_t)(dash - p) : rlen, &lo) < 0 ||
                (dash && value(d, dash + 1, rlen - (size_t)(dash + 1 - p), &hi) < 0))
                return minik_error_set(err, 0, "%s: invalid value \"%.*s\"", d->name, (int)len, p);
            if (!dash)
                hi = slash ? (d->max == 7 ? 6 : d->max) : lo;
        }
        if (slash && (value(d, slash + 1, len - rlen - 1, &step) < 0 || step == 0))
            return minik_error_set(err, 0, "%s: invalid step in \"%.*s\"", d->name, (int)len, p);
        if (lo < d->min || hi > d->max || lo > hi)
            return minik_error_set(err, 0, "%s: \"%.*s\" is out of range %d-%d", d->name, (int)len,
                                   p, d->min, d->max);
        for (int v = lo; v <= hi; v += step)
            *bits |= 1ULL << (d->max == 7 && v == 7 ? 0 : v);
        if (!end)
            break;
        p = end + 1;
        if (!*p)
            return minik_error_set(err, 0, "%s: empty list item", d->name);
    }
    return 0;
}

int minik_cron_parse(const char *spec, minik_cron_t *out, minik_error_t **err)
{
    static const struct {
        const char *macro, *expansion;
    } macros[] = {
        {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
        {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
        {"@hourly", "0 * * * *"},
    };
    memset(out, 0, sizeof(*out));
    if (!spec)
        return minik_error_set(err, 0, "empty schedule");
    for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
        if (strcmp(spec, macros[i].macro) == 0)
            spec = macros[i].expansion;
    if (spec[0] == '@')
        return minik_error_set(err, 0, "unknown schedule macro \"%.40s\"", spec);
    char *copy = xstrdup(spec);
    char *fields[6] = {0};
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(copy, " \t", &save); tok;
         tok = strtok_r(NULL, " \t", &save)) {
        if (n == 5) {
            n++;
            break;
        }
        fields[n++] = tok;
    }
    if (n != 5) {
        free(copy);
        return minik_error_set(err, 0,
                               "expected 5 fields (minute hour day-of-month month day-of-week), "
                               "got %s%d",
                               n > 5 ? "more than " : "", n > 5 ? 5 : n);
    }
    uint64_t bits[5];
    bool any[5];
    for (int i = 0; i < 5; i++)
        if (parse_field(&defs[i], fields[i], &bits[i], &any[i], err) < 0) {
            free(copy);
            return -1;
        }
    free(copy);
    out->minute = bits[0];
    out->hour = (uint32_t)bits[1];
    out->dom = (uint32_t)bits[2];
    out->month = (uint16_t)bits[3];
    out->dow = (uint8_t)bits[4];
    out->dom_any = any[2];
    out->dow_any = any[4];
    return 0;
}

/* cron's rule: with both day fields restricted, either may match. */
static bool day_matches(const minik_cron_t *c, const struct tm *tm)
{
    bool dom = (c->dom >> tm->tm_mday) & 1;
    bool dow = (c->dow >> tm->tm_wday) & 1;
    if (c->dom_any || c->dow_any)
        return dom && dow;
    return dom || dow;
}

time_t minik_cron_next(const minik_cron_t *c, time_t after)
{
    time_t t = after - (after % 60 + 60) % 60 + 60;
    struct tm tm;
    gmtime_r(&t, &tm);
    int limit_year = tm.tm_year + 5;
    while (tm.tm_year <= limit_year) {
        if (!((c->month >> (tm.tm_mon + 1)) & 1)) {
            tm.tm_mon++;
            tm.tm_mday = 1;
            tm.tm_hour = tm.tm_min = 0;
        } else if (!day_matches(c, &tm)) {
            tm.tm_mday++;
            tm.tm_hour = tm.tm_min = 0;
        } else if (!((c->hour >> tm.tm_hour) & 1)) {
            tm.tm_hour++;
            tm.tm_min = 0;
        } else if (!((c->minute >> tm.tm_min) & 1)) {
            tm.tm_min++;
        } else {
            return timegm(&tm);
        }
        /* Normalise (day 32 -> next month...) and recompute the weekday. */
        tm.tm_sec = 0;
        t = timegm(&tm);
        gmtime_r(&t, &tm);
    }
    return 0;
}
