/* The table of object kinds minik knows: one row per kind, used for routing
 * (/api/v1/namespaces/{ns}/pods), `api-resources`, short names in the CLI, and to pick the
 * field table that validates and defaults a manifest.
 *
 * Adding a kind (DaemonSet, Job, ReplicaSet...) is adding one row to proto/kinds.c and a
 * field table in proto/schema_<area>.c; nothing else dispatches on the kind. */
#ifndef MINIK_PROTO_KINDS_H
#define MINIK_PROTO_KINDS_H

#include <stdbool.h>
#include <stddef.h>

struct minik_field;
struct cJSON;
struct minik_vctx;

/* Which name rule metadata.name follows for a kind, as Kubernetes applies it. */
typedef enum minik_name_rule {
    MINIK_NAME_DNS1123_SUBDOMAIN = 0, /* most kinds: lowercase, '-', '.', <= 253 */
    MINIK_NAME_DNS1123_LABEL,         /* Namespace: lowercase alnum and '-', <= 63 */
    MINIK_NAME_DNS1035_LABEL,         /* Service: a label that starts with a letter */
} minik_name_rule_t;

typedef struct minik_kind {
    const char *kind;               /* "Deployment" */
    const char *group;              /* "apps"; "" for the core group */
    const char *version;            /* "v1" */
    const char *api_version;        /* "apps/v1" (group/version, or just version for core) */
    const char *plural;             /* "deployments": the REST resource name */
    const char *singular;           /* "deployment" */
    const char *const *short_names; /* NULL-terminated: {"deploy", NULL}; never NULL */
    bool namespaced;                /* false for Namespace and Node */
    minik_name_rule_t name_rule;    /* what metadata.name must look like */
    /* Top-level field table (apiVersion, kind, metadata, spec, ...), terminated by a row
     * with name == NULL; see proto/schema.h. */
    const struct minik_field *fields;
    /* Rules over the whole object (ConfigMap keys in data xor binaryData), may be NULL. */
    void (*check)(struct minik_vctx *c, const struct cJSON *obj);
    /* Defaults computed over the whole object after the table's own (may be NULL). */
    void (*defaulter)(struct cJSON *obj);
} minik_kind_t;

/* Every kind, terminated by a row with kind == NULL. Stable order (as `api-resources`
 * lists them). */
extern const minik_kind_t minik_kinds[];

/* Look a kind up by apiVersion and kind exactly as they appear in a manifest
 * ("apps/v1", "Deployment"). NULL if minik does not support that pair. */
const minik_kind_t *minik_kind_lookup(const char *api_version, const char *kind);

/* Look a kind up by any name a user or URL may use for it, case-insensitively: plural
 * ("pods"), singular ("pod"), short name ("po") or kind ("Pod"). NULL if unknown. */
const minik_kind_t *minik_kind_by_name(const char *name);

/* Look a kind up by REST path parts: group ("" for core, "apps"), version ("v1") and
 * plural resource ("deployments"). NULL if no such resource. */
const minik_kind_t *minik_kind_by_resource(const char *group, const char *version,
                                           const char *plural);

/* Look a kind up by its Kind name alone ("Pod"); NULL if unknown. */
const minik_kind_t *minik_kind_by_kind(const char *kind);

#endif
