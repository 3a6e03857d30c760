/* Discovery documents (/api, /apis, /apis/{g}, /api/v1, /apis/{g}/{v}) and /version, in
 * the shapes stock kubectl reads: APIVersions, APIGroupList, APIGroup, APIResourceList. */
#include <string.h>
#include <sys/utsname.h>

#include "apiserver/internal.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/version.h"
#include "lib/xalloc.h"

static cJSON *strings(const char *const *v)
{
    cJSON *a = cJSON_CreateArray();
    for (; *v; v++)
        cJSON_AddItemToArray(a, cJSON_CreateString(*v));
    return a;
}

static cJSON *group_versions(const char *group)
{
    cJSON *g = cJSON_CreateObject();
    cJSON_AddStringToObject(g, "kind", "APIGroup");
    cJSON_AddStringToObject(g, "apiVersion", "v1");
    cJSON_AddStringToObject(g, "name", group);
    cJSON *vs = cJSON_AddArrayToObject(g, "versions");
    cJSON *v = cJSON_CreateObject();
    cleanup_free char *gv = xasprintf("%s/v1", group);
    cJSON_AddStringToObject(v, "groupVersion", gv);
    cJSON_AddStringToObject(v, "version", "v1");
    cJSON_AddItemToArray(vs, v);
    cJSON_AddItemToObject(g, "preferredVersion", cJSON_Duplicate(v, 1));
    return g;
}

/* The named groups, in table order, without duplicates. */
static size_t named_groups(const char **out, size_t max)
{
    size_t n = 0;
    for (const minik_resource_t *r = minik_resources; r->name; r++) {
        if (!r->group[0])
            continue;
        bool seen = false;
        for (size_t i = 0; i < n; i++)
            seen = seen || strcmp(out[i], r->group) == 0;
        if (!seen && n < max)
            out[n++] = r->group;
    }
    return n;
}

static void add_resource(cJSON *list, const minik_resource_t *r, const char *sub)
{
    static const char *const obj_verbs[] = {"create", "delete", "get",   "list",
                                            "patch",  "update", "watch", NULL};
    static const char *const sub_verbs[] = {"get", "patch", "update", NULL};
    static const char *const create_only[] = {"create", NULL};
    cJSON *e = cJSON_CreateObject();
    cleanup_free char *name = sub ? xasprintf("%s/%s", r->name, sub) : xstrdup(r->name);
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddStringToObject(e, "singularName", sub ? "" : r->singular);
    cJSON_AddBoolToObject(e, "namespaced", r->namespaced);
    if (sub && strcmp(sub, "scale") == 0) {
        cJSON_AddStringToObject(e, "group", "autoscaling");
        cJSON_AddStringToObject(e, "version", "v1");
        cJSON_AddStringToObject(e, "kind", "Scale");
    } else if (sub && strcmp(sub, "binding") == 0) {
        cJSON_AddStringToObject(e, "kind", "Binding");
    } else {
        cJSON_AddStringToObject(e, "kind", r->kind);
    }
    cJSON_AddItemToObject(e, "verbs",
                          strings(!sub                          ? obj_verbs
                                  : strcmp(sub, "binding") == 0 ? create_only
                                                                : sub_verbs));
    if (!sub && r->short_names[0]) {
        cleanup_strv char **sn = minik_str_split(r->short_names, ",", true);
        cJSON_AddItemToObject(e, "shortNames", strings((const char *const *)sn));
    }
    if (!sub)
        cJSON_AddItemToObject(e, "categories", strings((const char *const[]){"all", NULL}));
    cJSON_AddItemToArray(list, e);
}

static cJSON *resource_list(const char *group, const char *version)
{
    bool any = false;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "kind", "APIResourceList");
    cJSON_AddStringToObject(doc, "apiVersion", "v1");
    cleanup_free char *gv = group[0] ? xasprintf("%s/%s", group, version) : xstrdup(version);
    cJSON_AddStringToObject(doc, "groupVersion", gv);
    cJSON *list = cJSON_AddArrayToObject(doc, "resources");
    for (const minik_resource_t *r = minik_resources; r->name; r++) {
        if (strcmp(r->group, group) != 0 || strcmp(r->version, version) != 0)
            continue;
        any = true;
        add_resource(list, r, NULL);
        cleanup_strv char **subs = minik_str_split(r->subresources, ",", true);
        for (size_t i = 0; subs[i]; i++)
            add_resource(list, r, subs[i]);
    }
    if (!any) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

void minik_api_discovery(api_call_t *c)
{
    cleanup_cjson cJSON *doc = NULL;
    const char *groups[16];
    size_t ng = named_groups(groups, 16);
    switch (c->route.type) {
    case MINIK_ROUTE_API_VERSIONS: {
        doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "kind", "APIVersions");
        cJSON_AddItemToObject(doc, "versions", strings((const char *const[]){"v1", NULL}));
        cJSON *addrs = cJSON_AddArrayToObject(doc, "serverAddressByClientCIDRs");
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "clientCIDR", "0.0.0.0/0");
        const char *url = c->srv->server_url;
        const char *hostport = strstr(url, "://");
        cJSON_AddStringToObject(a, "serverAddress", hostport ? hostport + 3 : url);
        cJSON_AddItemToArray(addrs, a);
        break;
    }
    case MINIK_ROUTE_API_GROUPS: {
        doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "kind", "APIGroupList");
        cJSON_AddStringToObject(doc, "apiVersion", "v1");
        cJSON *list = cJSON_AddArrayToObject(doc, "groups");
        for (size_t i = 0; i < ng; i++) {
            cJSON *g = group_versions(groups[i]);
            cJSON_DeleteItemFromObjectCaseSensitive(g, "kind");
            cJSON_DeleteItemFromObjectCaseSensitive(g, "apiVersion");
            cJSON_AddItemToArray(list, g);
        }
        break;
    }
    case MINIK_ROUTE_API_GROUP:
        for (size_t i = 0; i < ng; i++)
            if (strcmp(groups[i], c->route.group) == 0)
                doc = group_versions(groups[i]);
        break;
    case MINIK_ROUTE_RESOURCE_LIST:
        doc = resource_list(c->route.group, c->route.version);
        break;
    default:
        break;
    }
    if (!doc) {
        minik_api_respond_error(c, 404, "the server could not find the requested resource");
        return;
    }
    minik_api_respond_json(c, 200, doc);
}

void minik_api_version(api_call_t *c)
{
    cleanup_cjson cJSON *v = cJSON_CreateObject();
    const char *ver = minik_version();
    int major = 0, minor = 0;
    sscanf(ver, "%d.%d", &major, &minor);
    char buf[32];
    snprintf(buf, sizeof(buf), "%d", major);
    cJSON_AddStringToObject(v, "major", buf);
    snprintf(buf, sizeof(buf), "%d", minor);
    cJSON_AddStringToObject(v, "minor", buf);
    cleanup_free char *gv = xasprintf("v%s", ver);
    cJSON_AddStringToObject(v, "gitVersion", gv);
    cJSON_AddStringToObject(v, "gitCommit", minik_git_commit());
    cJSON_AddStringToObject(v, "gitTreeState",
                            strstr(minik_git_commit(), "dirty") ? "dirty" : "clean");
    cJSON_AddStringToObject(v, "buildDate", minik_build_date());
    /* Kubernetes reports its Go toolchain here; minik is C11. */
#ifdef __clang__
    cJSON_AddStringToObject(v, "goVersion", "c11 (clang " __clang_version__ ")");
    cJSON_AddStringToObject(v, "compiler", "clang");
#else
    cJSON_AddStringToObject(v, "goVersion", "c11 (gcc " __VERSION__ ")");
    cJSON_AddStringToObject(v, "compiler", "gcc");
#endif
    struct utsname u;
    const char *arch = "unknown";
    if (uname(&u) == 0)
        arch = strcmp(u.machine, "x86_64") == 0    ? "amd64"
               : strcmp(u.machine, "aarch64") == 0 ? "arm64"
                                                   : u.machine;
    cleanup_free char *platform = xasprintf("linux/%s", arch);
    cJSON_AddStringToObject(v, "platform", platform);
    minik_api_respond_json(c, 200, v);
}
