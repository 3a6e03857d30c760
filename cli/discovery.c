/* Kinds the API server serves beyond proto's table (ReplicaSet, DaemonSet, Job, ...), found
 * the way kubectl finds every kind: the discovery documents /api/v1 and /apis/GROUP/VERSION.
 * Discovered kinds live until exit, so the pointers handed out stay valid. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/client_config.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"

typedef struct discovered {
    minik_kind_t k;
    char *strings[6]; /* what k's const char * members point into */
    char **short_names;
    struct discovered *next;
} discovered_t;

static discovered_t *known;
static minik_client_t *discovery_client;

static void free_known(void)
{
    while (known) {
        discovered_t *d = known;
        known = d->next;
        for (size_t i = 0; i < 6; i++)
            free(d->strings[i]);
        minik_strv_free(d->short_names);
        free(d);
    }
}

void minik_cli_set_discovery(minik_client_t *c)
{
    discovery_client = c;
}

const minik_kind_t *minik_cli_kind_lookup(const char *api_version, const char *kind)
{
    const minik_kind_t *k = minik_kind_lookup(api_version, kind);
    if (k)
        return k;
    for (discovered_t *d = known; d; d = d->next)
        if (strcmp(d->k.api_version, api_version) == 0 && strcmp(d->k.kind, kind) == 0)
            return &d->k;
    return NULL;
}

static const char *str_member(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Does discovery entry r (of group) answer to `name`? */
static bool matches(const cJSON *r, const char *group, const char *name)
{
    const char *plural = str_member(r, "name");
    const char *singular = str_member(r, "singularName");
    const char *kind = str_member(r, "kind");
    if ((plural && strcasecmp(plural, name) == 0) ||
        (singular && strcasecmp(singular, name) == 0) || (kind && strcasecmp(kind, name) == 0))
        return true;
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(r, "shortNames"))
    {
        if (cJSON_IsString(s) && strcasecmp(s->valuestring, name) == 0)
            return true;
    }
    /* "replicasets.apps" */
    if (plural && *group) {
        cleanup_free char *full = xasprintf("%s.%s", plural, group);
        if (strcasecmp(full, name) == 0)
            return true;
    }
    return false;
}

static const minik_kind_t *remember(const cJSON *r, const char *group, const char *version)
{
    discovered_t *d = xcalloc(1, sizeof *d);
    const char *singular = str_member(r, "singularName");
    d->strings[0] = xstrdup(str_member(r, "kind"));
    d->strings[1] = xstrdup(group);
    d->strings[2] = xstrdup(version);
    d->strings[3] = *group ? xasprintf("%s/%s", group, version) : xstrdup(version);
    d->strings[4] = xstrdup(str_member(r, "name"));
    d->strings[5] = xstrdup(singular && *singular ? singular : d->strings[4]);
    size_t n = 0;
    const cJSON *shorts = cJSON_GetObjectItemCaseSensitive(r, "shortNames");
    d->short_names = xcalloc((size_t)cJSON_GetArraySize(shorts) + 1, sizeof(char *));
    const cJSON *s;
    cJSON_ArrayForEach(s, shorts)
    {
        if (cJSON_IsString(s))
            d->short_names[n++] = xstrdup(s->valuestring);
    }
    d->k.kind = d->strings[0];
    d->k.group = d->strings[1];
    d->k.version = d->strings[2];
    d->k.api_version = d->strings[3];
    d->k.plural = d->strings[4];
    d->k.singular = d->strings[5];
    d->k.short_names = (const char *const *)d->short_names;
    d->k.namespaced = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "namespaced"));
    if (!known)
        atexit(free_known);
    d->next = known;
    known = d;
    return &d->k;
}

/* Search one group/version's resource list. */
static const minik_kind_t *search(minik_client_t *c, const char *group, const char *version,
                                  const char *name, minik_error_t **err)
{
    cleanup_free char *path =
        *group ? xasprintf("/apis/%s/%s", group, version) : xasprintf("/api/%s", version);
    cleanup_cjson cJSON *list = NULL;
    if (minik_client_json(c, "GET", path, NULL, NULL, &list, err) < 0)
        return NULL;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(list, "resources"))
    {
        const char *plural = str_member(r, "name");
        if (!plural || strchr(plural, '/') || !str_member(r, "kind"))
            continue; /* subresources such as deployments/scale */
        if (matches(r, group, name))
            return remember(r, group, version);
    }
    return NULL;
}

const minik_kind_t *minik_cli_discover_kind(minik_client_t *c, const char *name,
                                            minik_error_t **err)
{
    for (discovered_t *d = known; d; d = d->next)
        if (strcasecmp(d->k.plural, name) == 0 || strcasecmp(d->k.singular, name) == 0 ||
            strcasecmp(d->k.kind, name) == 0)
            return &d->k;
    const minik_kind_t *k = search(c, "", "v1", name, err);
    if (k || (err && *err))
        return k;
    cleanup_cjson cJSON *groups = NULL;
    if (minik_client_json(c, "GET", "/apis", NULL, NULL, &groups, err) < 0)
        return NULL;
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(groups, "groups"))
    {
        const char *gname = str_member(g, "name");
        const cJSON *pref = cJSON_GetObjectItemCaseSensitive(g, "preferredVersion");
        const char *version = str_member(pref, "version");
        if (!gname || !version)
            continue;
        k = search(c, gname, version, name, err);
        if (k || (err && *err))
            return k;
    }
    return NULL;
}

const minik_kind_t *minik_cli_kind(const char *name, minik_error_t **err)
{
    const minik_kind_t *k = minik_kind_by_name(name);
    /* "deployments.apps", "deployment.apps" as kubectl prints them. */
    if (!k && strchr(name, '.')) {
        cleanup_free char *base = xstrndup(name, strcspn(name, "."));
        const char *group = name + strlen(base) + 1;
        k = minik_kind_by_name(base);
        if (k && strcmp(k->group, group) != 0)
            k = NULL;
    }
    if (!k && discovery_client) {
        k = minik_cli_discover_kind(discovery_client, name, err);
        if (!k && err && *err)
            return NULL;
    }
    if (!k)
        minik_error_set(err, 0, "the server doesn't have a resource type \"%s\"", name);
    return k;
}
