/* The REST resources the API serves: URL name <-> kind, group/version, scope.
 * One table drives routing, discovery documents and authorization. */
#ifndef MINIK_APISERVER_RESOURCES_H
#define MINIK_APISERVER_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>

typedef struct minik_resource {
    const char *name;     /* plural URL segment: "pods" */
    const char *singular; /* "pod" */
    const char *kind;     /* "Pod" */
    const char *group;    /* "" for the core group */
    const char *version;  /* "v1" */
    bool namespaced;
    const char *short_names;  /* comma separated, may be "" */
    const char *subresources; /* comma separated: "status,scale" */
} minik_resource_t;

/* The table, terminated by an entry with name == NULL. */
extern const minik_resource_t minik_resources[];

/* Lookup by group, version and plural name; NULL if not served. */
const minik_resource_t *minik_resource_find(const char *group, const char *version,
                                            const char *name);
/* Lookup by kind ("Deployment"); NULL if not served. */
const minik_resource_t *minik_resource_by_kind(const char *kind);
/* "v1" or "apps/v1". Static storage per resource; valid for the program's lifetime. */
const char *minik_resource_api_version(const minik_resource_t *r);
bool minik_resource_has_subresource(const minik_resource_t *r, const char *sub);

#endif
