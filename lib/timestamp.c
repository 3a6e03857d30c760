#include "lib/timestamp.h"

#include <ctype.h>
#include <stdio.h>

#include "lib/xalloc.h"

char *minik_timestamp_format(time_t t, char out[MINIK_TIMESTAMP_LEN])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, MINIK_TIMESTAMP_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return out;
}

char *minik_timestamp_new(time_t t)
{
    char buf[MINIK_TIMESTAMP_LEN];
    return xstrdup(minik_timestamp_format(t, buf));
}

int64_t minik_timestamp_parse(const char *s)
{
    if (!s)
        return -1;
    struct tm tm = {0};
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return -1;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++;
    }
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        int hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 || hh > 23 || mm > 59)
            return -1;
        offset = sign * (hh * 3600 + mm * 60);
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    return (int64_t)timegm(&tm) - offset;
}
