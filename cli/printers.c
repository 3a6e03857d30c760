/* Tables, ages and object references shared by the client commands. */
#include "cli/printers.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

#include "lib/cleanup.h"
#include "lib/timestamp.h"
#include "lib/xalloc.h"

minik_table_t *minik_table_new(const char *const *headers, size_t ncols)
{
    minik_table_t *t = xcalloc(1, sizeof *t);
    t->ncols = ncols;
    t->cap = 8;
    t->cells = xcalloc(t->cap * ncols, sizeof(char *));
    for (size_t i = 0; i < ncols; i++)
        t->cells[i] = xstrdup(headers[i]);
    t->nrows = 1;
    return t;
}

void minik_table_free(minik_table_t *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

void minik_table_add_row_owned(minik_table_t *t, char **cells)
{
    if (t->nrows == t->cap) {
        t->cap *= 2;
        t->cells = xrealloc(t->cells, t->cap * t->ncols * sizeof(char *));
    }
    for (size_t i = 0; i < t->ncols; i++)
        t->cells[t->nrows * t->ncols + i] = cells[i];
    t->nrows++;
}

void minik_table_render(const minik_table_t *t, bool no_headers, minik_buf_t *out)
{
    size_t first = no_headers ? 1 : 0;
    cleanup_free size_t *w = xcalloc(t->ncols, sizeof *w);
    for (size_t r = first; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t n = strlen(t->cells[r * t->ncols + c]);
            if (n > w[c])
                w[c] = n;
        }
    for (size_t r = first; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *cell = t->cells[r * t->ncols + c];
            if (c + 1 < t->ncols)
                minik_buf_appendf(out, "%-*s", (int)(w[c] + 3), cell);
            else
                minik_buf_append_str(out, cell);
        }
        minik_buf_append_char(out, '\n');
    }
}

const cJSON *minik_json_at(const cJSON *o, const char *path)
{
    char key[128];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        o = cJSON_GetObjectItemCaseSensitive(o, key);
        path += n + (path[n] == '.');
    }
    return o;
}

char *minik_format_age(int64_t s)
{
    if (s < -1)
        return xstrdup("<invalid>");
    if (s < 0)
        return xstrdup("0s");
    if (s < 120)
        return xasprintf("%llds", (long long)s);
    int64_t minutes = s / 60;
    if (minutes < 10) {
        int64_t sec = s % 60;
        if (sec == 0)
            return xasprintf("%lldm", (long long)minutes);
        return xasprintf("%lldm%llds", (long long)minutes, (long long)sec);
    }
    if (minutes < 60 * 3)
        return xasprintf("%lldm", (long long)minutes);
    int64_t hours = s / 3600;
    if (hours < 8) {
        int64_t m = minutes % 60;
        if (m == 0)
            return xasprintf("%lldh", (long long)hours);
        return xasprintf("%lldh%lldm", (long long)hours, (long long)m);
    }
    if (hours < 48)
        return xasprintf("%lldh", (long long)hours);
    if (hours < 24 * 8) {
        int64_t h = hours % 24;
        if (h == 0)
            return xasprintf("%lldd", (long long)(hours / 24));
        return xasprintf("%lldd%lldh", (long long)(hours / 24), (long long)h);
    }
    if (hours < 24 * 365 * 2)
        return xasprintf("%lldd", (long long)(hours / 24));
    if (hours < 24 * 365 * 8) {
        int64_t dy = (hours / 24) % 365;
        if (dy == 0)
            return xasprintf("%lldy", (long long)(hours / 24 / 365));
        return xasprintf("%lldy%lldd", (long long)(hours / 24 / 365), (long long)dy);
    }
    return xasprintf("%lldy", (long long)(hours / 24 / 365));
}

char *minik_object_age(const cJSON *obj, int64_t now)
{
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(md, "creationTimestamp");
    int64_t t = cJSON_IsString(ts) ? minik_timestamp_parse(ts->valuestring) : -1;
    if (t < 0)
        return xstrdup("<unknown>");
    return minik_format_age(now - t);
}

char *minik_object_ref(const minik_kind_t *k, const char *name)
{
    cleanup_free char *lower = xstrdup(k->kind);
    for (char *p = lower; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (k->group && *k->group)
        return xasprintf("%s.%s/%s", lower, k->group, name);
    return xasprintf("%s/%s", lower, name);
}
