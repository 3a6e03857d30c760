/* Internal to proto/: field tables and checks shared by several kinds. */
#ifndef MINIK_PROTO_SCHEMA_COMMON_H
#define MINIK_PROTO_SCHEMA_COMMON_H

#include <stdint.h>

#include "proto/kinds.h"
#include "proto/schema.h"

/* Table rows name only what they use; everything else is zero by design. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* Shorthands for table rows. */
#define ROW_END                                                                                    \
    {                                                                                              \
        NULL                                                                                       \
    }
#define NONNEG     .flags = MINIK_F_RANGE, .min = 0, .max = INT64_MAX
#define PORT_RANGE .min = 1, .max = 65535

/* metadata of a stored object (name or generateName required, name rule of the kind) */
extern const minik_field_t minik_schema_object_meta[];
/* metadata of a pod template (nothing required) */
extern const minik_field_t minik_schema_template_meta[];
/* the rows every kind starts with: apiVersion, kind */
#define MINIK_TYPE_ROWS                                                                            \
    {"apiVersion", MINIK_T_STRING, .flags = MINIK_F_REQUIRED,                                      \
     .doc = "group/version, e.g. v1 or apps/v1"},                                                  \
    {                                                                                              \
        "kind", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .doc = "the kind, e.g. Pod"             \
    }
#define MINIK_META_ROW                                                                             \
    {                                                                                              \
        "metadata", MINIK_T_OBJECT, .flags = MINIK_F_REQUIRED, .fields = minik_schema_object_meta, \
                                    .check = minik_check_object_meta,                              \
                                    .doc = "name, namespace, labels, annotations, ..."             \
    }
#define MINIK_STATUS_ROW                                                                           \
    {                                                                                              \
        "status", MINIK_T_ANY, .doc = "written by minik; accepted as an opaque object"             \
    }
/* The whole top-level table of a kind with a required spec: apiVersion, kind, metadata,
 * spec (spec_fields plus the designated initializers given, e.g. `.check = check_x`), status.
 * Use it as the table's only initializer: minik_schema_x[] = {MINIK_SPEC_KIND_ROWS(...)}. */
#define MINIK_SPEC_KIND_ROWS(spec_fields, ...)                                                     \
    MINIK_TYPE_ROWS, MINIK_META_ROW,                                                               \
        {"spec", MINIK_T_OBJECT, .flags = MINIK_F_REQUIRED, .fields = (spec_fields), __VA_ARGS__}, \
        MINIK_STATUS_ROW, ROW_END
/* A workload's selector row: required, and must select the template's labels. */
#define MINIK_WORKLOAD_SELECTOR_ROW                                                                \
    {                                                                                              \
        "selector", MINIK_T_OBJECT,                                                                \
            .flags = MINIK_F_REQUIRED, .fields = minik_schema_label_selector,                      \
            .check = minik_check_label_selector, .doc = "must match template labels"               \
    }

/* LabelSelector {matchLabels, matchExpressions} */
extern const minik_field_t minik_schema_label_selector[];
/* ObjectReference {kind, namespace, name, uid, apiVersion, resourceVersion, fieldPath} */
extern const minik_field_t minik_schema_object_ref[];
/* the PodSpec table and the PodTemplateSpec {metadata, spec} table */
extern const minik_field_t minik_schema_pod_spec[];
extern const minik_field_t minik_schema_pod_template[];
void minik_default_pod_spec(cJSON *spec);
void minik_check_pod_spec(minik_vctx_t *c, const cJSON *spec);
void minik_default_pod(cJSON *pod);

/* The kinds' top-level tables and whole-object rules. */
extern const minik_field_t minik_schema_pod[];
extern const minik_field_t minik_schema_namespace[];
extern const minik_field_t minik_schema_node[];
extern const minik_field_t minik_schema_service[];
extern const minik_field_t minik_schema_endpoints[];
extern const minik_field_t minik_schema_configmap[];
extern const minik_field_t minik_schema_secret[];
extern const minik_field_t minik_schema_event[];
extern const minik_field_t minik_schema_deployment[];
extern const minik_field_t minik_schema_replicaset[]; /* schema_workloads.c */
extern const minik_field_t minik_schema_daemonset[];
extern const minik_field_t minik_schema_job[];
extern const minik_field_t minik_schema_cronjob[];
void minik_check_configmap(minik_vctx_t *c, const cJSON *cm);
void minik_check_secret(minik_vctx_t *c, const cJSON *sec);

/* Checks usable in any row. */
void minik_check_object_meta(minik_vctx_t *c, const cJSON *meta);
void minik_check_dns_label(minik_vctx_t *c, const cJSON *n);
void minik_check_dns_subdomain(minik_vctx_t *c, const cJSON *n);
void minik_check_qualified_name(minik_vctx_t *c, const cJSON *n);
void minik_check_label_value(minik_vctx_t *c, const cJSON *n);
void minik_check_config_key(minik_vctx_t *c, const cJSON *n);
void minik_check_base64(minik_vctx_t *c, const cJSON *n);
void minik_check_port_name(minik_vctx_t *c, const cJSON *n);
void minik_check_env_name(minik_vctx_t *c, const cJSON *n);
void minik_check_timestamp(minik_vctx_t *c, const cJSON *n);
void minik_check_ip(minik_vctx_t *c, const cJSON *n);
void minik_check_label_selector(minik_vctx_t *c, const cJSON *sel);
/* an integer, or a string "N%" (maxSurge, maxUnavailable) */
void minik_check_int_or_percent(minik_vctx_t *c, const cJSON *n);

/* Workload rules (schema_workloads.c), shared by Deployment, ReplicaSet, DaemonSet and Job:
 * spec.selector non-empty (when selector_required) and selecting the template's labels;
 * spec.template.spec.restartPolicy one of the NULL-terminated `allowed` (at most two).
 * `what` names the kind in messages ("deployment"). */
void minik_check_selector_and_restart(minik_vctx_t *c, const cJSON *spec, const char *what,
                                      const char *const *allowed, bool selector_required);
/* an array of objects whose "name" members must be unique */
void minik_check_unique_names(minik_vctx_t *c, const cJSON *arr);

/* cJSON helpers for defaulters. */
void minik_json_set_default(cJSON *obj, const char *key, cJSON *value); /* takes value */
const char *minik_json_str(const cJSON *obj, const char *key);          /* NULL if absent */
bool minik_json_present(const cJSON *obj, const char *key);             /* there and not null */
/* The rollingUpdate object of a strategy whose type is RollingUpdate, added empty if absent;
 * NULL for any other type or a rollingUpdate that is not an object. Borrowed from strategy. */
cJSON *minik_json_rolling_update(cJSON *strategy);

#endif
