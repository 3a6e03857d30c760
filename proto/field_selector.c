/* Field selectors (fieldSelector=spec.nodeName=node-1,metadata.name!=x). Terms are split
 * on unescaped commas; a backslash escapes ',', '=' and '\' inside values, as in
 * k8s.io/apimachinery/pkg/fields. */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/selector.h"

void minik_field_selector_free(minik_field_selector_t *fs)
{
    if (fs == NULL)
        return;
    for (size_t i = 0; i < fs->n_reqs; i++) {
        free(fs->reqs[i].path);
        free(fs->reqs[i].value);
    }
    free(fs->reqs);
    free(fs);
}

static bool path_ok(const char *p)
{
    if (*p == '\0' || *p == '.')
        return false;
    for (; *p; p++) {
        if (*p == '.' && (p[1] == '.' || p[1] == '\0'))
            return false;
        if (!(*p == '.' || *p == '-' || *p == '_' || (*p >= 'a' && *p <= 'z') ||
              (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            return false;
    }
    return true;
}

/* Parse one term s[0..n): the first unescaped "!=", "==" or "=" splits path and value. */
static int parse_term(const char *all, const char *s, size_t n, minik_field_selector_t *fs,
                      minik_error_t **err)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (s[i] == '\\') {
            i++;
            continue;
        }
        if (s[i] == '=' || (s[i] == '!' && i + 1 < n && s[i + 1] == '='))
            break;
    }
    if (i >= n)
        return minik_error_set(err, 0,
                               "field selector \"%s\": \"%.*s\" needs an operator (=, == or !=)",
                               all, (int)n, s);
    cleanup_free char *raw_path = xstrndup(s, i);
    cleanup_free char *path = minik_str_trim(raw_path);
    bool negate = s[i] == '!';
    size_t vstart = i + (negate ? 2 : (i + 1 < n && s[i + 1] == '=') ? 2 : 1);
    if (!path_ok(path))
        return minik_error_set(err, 0,
                               "field selector \"%s\": \"%s\" is not a field path (like "
                               "spec.nodeName)",
                               all, path);
    minik_buf_t v = MINIK_BUF_INIT;
    for (size_t j = vstart; j < n; j++) {
        if (s[j] == '\\' && j + 1 < n) {
            char c = s[j + 1];
            if (c != ',' && c != '=' && c != '\\') {
                minik_buf_free(&v);
                return minik_error_set(err, 0,
                                       "field selector \"%s\": invalid escape \"\\%c\" (only \\, "
                                       "\\= and \\\\ are allowed)",
                                       all, c);
            }
            minik_buf_append_char(&v, c);
            j++;
            continue;
        }
        if (s[j] == '=' || (s[j] == '!' && j + 1 < n && s[j + 1] == '=')) {
            minik_buf_free(&v);
            return minik_error_set(
                err, 0, "field selector \"%s\": unescaped \"=\" in the value of \"%s\"", all, path);
        }
        minik_buf_append_char(&v, s[j]);
    }
    fs->reqs = xrealloc(fs->reqs, (fs->n_reqs + 1) * sizeof *fs->reqs);
    fs->reqs[fs->n_reqs].path = steal_pointer(&path);
    fs->reqs[fs->n_reqs].negate = negate;
    fs->reqs[fs->n_reqs].value = minik_buf_steal(&v);
    fs->n_reqs++;
    return 0;
}

int minik_field_selector_parse(const char *s, minik_field_selector_t **out, minik_error_t **err)
{
    minik_field_selector_t *fs = xcalloc(1, sizeof *fs);
    size_t start = 0, i = 0, len = strlen(s);
    cleanup_free char *trimmed = minik_str_trim(s);
    if (trimmed[0] != '\0') {
        for (;; i++) {
            if (i < len && s[i] == '\\') {
                i++;
                continue;
            }
            if (i >= len || s[i] == ',') {
                int r = parse_term(s, s + start, (i > len ? len : i) - start, fs, err);
                if (r < 0) {
                    minik_field_selector_free(fs);
                    return r;
                }
                start = i + 1;
                if (i >= len)
                    break;
            }
        }
    }
    *out = fs;
    return 0;
}

/* The text of the field at a dotted path; "" for missing, null or non-scalar fields. */
static char *field_text(const cJSON *obj, const char *path)
{
    cleanup_strv char **parts = minik_str_split(path, ".", false);
    const cJSON *cur = obj;
    for (size_t i = 0; parts[i] && cur; i++)
        cur = cJSON_IsObject(cur) ? cJSON_GetObjectItemCaseSensitive(cur, parts[i]) : NULL;
    if (cJSON_IsString(cur))
        return xstrdup(cur->valuestring);
    if (cJSON_IsBool(cur))
        return xstrdup(cJSON_IsTrue(cur) ? "true" : "false");
    if (cJSON_IsNumber(cur)) {
        double d = cur->valuedouble;
        if (d == (double)(long long)d)
            return xasprintf("%lld", (long long)d);
        return xasprintf("%g", d);
    }
    return xstrdup("");
}

bool minik_field_selector_matches(const minik_field_selector_t *fs, const cJSON *obj)
{
    if (fs == NULL)
        return true;
    for (size_t i = 0; i < fs->n_reqs; i++) {
        cleanup_free char *t = field_text(obj, fs->reqs[i].path);
        bool eq = strcmp(t, fs->reqs[i].value) == 0;
        if (eq == fs->reqs[i].negate)
            return false;
    }
    return true;
}
