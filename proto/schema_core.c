/* core/v1 kinds other than Pod: Namespace, Node, Service, Endpoints, ConfigMap, Secret,
 * Event. */
#include <string.h>

#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "proto/schema_common.h"

static const minik_field_t str_item = {NULL, MINIK_T_STRING};
static const minik_field_t label_value_item = {NULL, MINIK_T_STRING,
                                               .check = minik_check_label_value};
static const char *const protocols[] = {"TCP", "UDP", "SCTP", NULL};

/* ---- Pod ---------------------------------------------------------------------------- */

const minik_field_t minik_schema_pod[] = {MINIK_SPEC_KIND_ROWS(
    minik_schema_pod_spec, .check = minik_check_pod_spec, .defaulter = minik_default_pod_spec)};

/* ---- Namespace ---------------------------------------------------------------------- */

static const minik_field_t namespace_spec_fields[] = {
    {"finalizers", MINIK_T_ARRAY, .items = &str_item},
    ROW_END,
};

const minik_field_t minik_schema_namespace[] = {
    MINIK_TYPE_ROWS,  MINIK_META_ROW, {"spec", MINIK_T_OBJECT, .fields = namespace_spec_fields},
    MINIK_STATUS_ROW, ROW_END,
};

/* ---- Node --------------------------------------------------------------------------- */

static const char *const taint_effects[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};

static const minik_field_t taint_fields[] = {
    {"key", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .check = minik_check_qualified_name},
    {"value", MINIK_T_STRING, .check = minik_check_label_value},
    {"effect", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .enums = taint_effects},
    {"timeAdded", MINIK_T_STRING, .flags = MINIK_F_NULLABLE, .check = minik_check_timestamp},
    ROW_END,
};

static const minik_field_t node_spec_fields[] = {
    {"podCIDR", MINIK_T_STRING},
    {"podCIDRs", MINIK_T_ARRAY, .items = &str_item},
    {"providerID", MINIK_T_STRING},
    {"unschedulable", MINIK_T_BOOL},
    {"taints", MINIK_T_ARRAY,
     .items = &(const minik_field_t){NULL, MINIK_T_OBJECT, .fields = taint_fields}},
    ROW_END,
};

const minik_field_t minik_schema_node[] = {
    MINIK_TYPE_ROWS,  MINIK_META_ROW, {"spec", MINIK_T_OBJECT, .fields = node_spec_fields},
    MINIK_STATUS_ROW, ROW_END,
};

/* ---- Service ------------------------------------------------------------------------ */

static void check_target_port(minik_vctx_t *c, const cJSON *n)
{
    if (cJSON_IsString(n))
        minik_check_port_name(c, n);
}

/* targetPort defaults to port (SetDefaults_Service). */
static void default_service_port(cJSON *p)
{
    const cJSON *port = cJSON_GetObjectItemCaseSensitive(p, "port");
    const cJSON *tp = cJSON_GetObjectItemCaseSensitive(p, "targetPort");
    if (!cJSON_IsNumber(port))
        return;
    /* Kubernetes defaults before it validates, so targetPort 0 also means "port" */
    if (cJSON_IsNumber(tp) && tp->valuedouble == 0)
        cJSON_DeleteItemFromObjectCaseSensitive(p, "targetPort");
    minik_json_set_default(p, "targetPort", cJSON_CreateNumber(port->valuedouble));
}

static const minik_field_t service_port_fields[] = {
    {"name", MINIK_T_STRING, .check = minik_check_dns_label,
     .doc = "required when there is more than one port"},
    {"protocol", MINIK_T_STRING, .enums = protocols, .dflt = "\"TCP\""},
    {"port", MINIK_T_INT, .flags = MINIK_F_REQUIRED | MINIK_F_RANGE, PORT_RANGE},
    {"targetPort", MINIK_T_INT_OR_STRING, .flags = MINIK_F_RANGE, .min = 0, .max = 65535,
     .check = check_target_port,
     .doc = "1-65535 or a container port name; default (and for 0): port"},
    {"nodePort", MINIK_T_INT, .flags = MINIK_F_RANGE, .min = 0, .max = 65535,
     .doc = "only with type NodePort"},
    {"appProtocol", MINIK_T_STRING},
    ROW_END,
};

static const char *const service_types[] = {"ClusterIP", "NodePort", NULL};
static const char *const affinities[] = {"None", "ClientIP", NULL};
static const char *const traffic_policies[] = {"Cluster", "Local", NULL};

static bool is_headless(const cJSON *spec)
{
    const char *ip = minik_json_str(spec, "clusterIP");
    return ip && strcmp(ip, "None") == 0;
}

static void check_service_spec(minik_vctx_t *c, const cJSON *spec)
{
    const cJSON *ports = cJSON_GetObjectItemCaseSensitive(spec, "ports");
    const char *type = minik_json_str(spec, "type");
    bool nodeport = type && strcmp(type, "NodePort") == 0;
    int n = cJSON_IsArray(ports) ? cJSON_GetArraySize(ports) : 0;
    if (n == 0 && !is_headless(spec))
        minik_vctx_error(c, ports, ".ports", "required value");
    if (nodeport && is_headless(spec))
        minik_vctx_error(c, NULL, ".clusterIP", "may not be set to 'None' for NodePort services");
    int i = 0;
    for (const cJSON *p = n ? ports->child : NULL; p; p = p->next, i++) {
        const char *name = minik_json_str(p, "name");
        if (n > 1 && (!name || !name[0])) {
            cleanup_free char *sub = xasprintf(".ports[%d].name", i);
            minik_vctx_error(c, p, sub, "required value: more than one port needs names");
        }
        const cJSON *np = cJSON_GetObjectItemCaseSensitive(p, "nodePort");
        if (cJSON_IsNumber(np) && np->valuedouble != 0 && !nodeport) {
            cleanup_free char *sub = xasprintf(".ports[%d].nodePort", i);
            minik_vctx_error(c, np, sub, "may not be used when `type` is 'ClusterIP'");
        }
        /* port + protocol is unique, as is the name */
        for (const cJSON *q = ports->child; q != p; q = q->next) {
            const cJSON *pp = cJSON_GetObjectItemCaseSensitive(p, "port");
            const cJSON *qp = cJSON_GetObjectItemCaseSensitive(q, "port");
            const char *pproto = minik_json_str(p, "protocol");
            const char *qproto = minik_json_str(q, "protocol");
            if (cJSON_IsNumber(pp) && cJSON_IsNumber(qp) && pp->valuedouble == qp->valuedouble &&
                strcmp(pproto ? pproto : "TCP", qproto ? qproto : "TCP") == 0) {
                cleanup_free char *sub = xasprintf(".ports[%d]", i);
                minik_vctx_error(c, p, sub, "duplicate port %d/%s", (int)pp->valuedouble,
                                 pproto ? pproto : "TCP");
            }
            const char *qname = minik_json_str(q, "name");
            if (name && qname && name[0] && strcmp(name, qname) == 0) {
                cleanup_free char *sub = xasprintf(".ports[%d].name", i);
                minik_vctx_error(c, cJSON_GetObjectItemCaseSensitive(p, "name"), sub,
                                 "duplicate value \"%s\"", name);
            }
        }
    }
}

/* NodePort services get externalTrafficPolicy Cluster (SetDefaults_Service). */
static void default_service_spec(cJSON *spec)
{
    const char *type = minik_json_str(spec, "type");
    if (type && strcmp(type, "NodePort") == 0)
        minik_json_set_default(spec, "externalTrafficPolicy", cJSON_CreateString("Cluster"));
}

static const minik_field_t service_spec_fields[] = {
    {"type", MINIK_T_STRING, .enums = service_types, .dflt = "\"ClusterIP\""},
    {"selector", MINIK_T_MAP, .key_check = minik_check_qualified_name, .items = &label_value_item},
    {"ports", MINIK_T_ARRAY,
     .items = &(const minik_field_t){NULL, MINIK_T_OBJECT, .fields = service_port_fields,
                                     .defaulter = default_service_port}},
    {"clusterIP", MINIK_T_STRING, .check = minik_check_ip, .doc = "an IP, \"None\" or unset"},
    {"clusterIPs", MINIK_T_ARRAY,
     .items = &(const minik_field_t){NULL, MINIK_T_STRING, .check = minik_check_ip}},
    {"sessionAffinity", MINIK_T_STRING, .enums = affinities, .dflt = "\"None\""},
    {"externalTrafficPolicy", MINIK_T_STRING, .enums = traffic_policies},
    {"internalTrafficPolicy", MINIK_T_STRING, .enums = traffic_policies, .dflt = "\"Cluster\""},
    ROW_END,
};

const minik_field_t minik_schema_service[] = {MINIK_SPEC_KIND_ROWS(
    service_spec_fields, .check = check_service_spec, .defaulter = default_service_spec)};

/* ---- Endpoints ---------------------------------------------------------------------- */

static const minik_field_t endpoint_address_fields[] = {
    {"ip", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .check = minik_check_ip},
    {"hostname", MINIK_T_STRING},
    {"nodeName", MINIK_T_STRING},
    {"targetRef", MINIK_T_OBJECT, .fields = minik_schema_object_ref},
    ROW_END,
};

static const minik_field_t endpoint_port_fields[] = {
    {"name", MINIK_T_STRING},
    {"port", MINIK_T_INT, .flags = MINIK_F_REQUIRED | MINIK_F_RANGE, PORT_RANGE},
    {"protocol", MINIK_T_STRING, .enums = protocols, .dflt = "\"TCP\""},
    {"appProtocol", MINIK_T_STRING},
    ROW_END,
};

static const minik_field_t address_item = {NULL, MINIK_T_OBJECT, .fields = endpoint_address_fields};

static const minik_field_t subset_fields[] = {
    {"addresses", MINIK_T_ARRAY, .items = &address_item},
    {"notReadyAddresses", MINIK_T_ARRAY, .items = &address_item},
    {"ports", MINIK_T_ARRAY,
     .items = &(const minik_field_t){NULL, MINIK_T_OBJECT, .fields = endpoint_port_fields}},
    ROW_END,
};

const minik_field_t minik_schema_endpoints[] = {
    MINIK_TYPE_ROWS,
    MINIK_META_ROW,
    {"subsets", MINIK_T_ARRAY,
     .items = &(const minik_field_t){NULL, MINIK_T_OBJECT, .fields = subset_fields}},
    ROW_END,
};

/* ---- ConfigMap, Secret -------------------------------------------------------------- */

/* A key may appear in data or binaryData (stringData), not both. */
static void check_disjoint(minik_vctx_t *c, const cJSON *obj, const char *a, const char *b)
{
    const cJSON *ma = cJSON_GetObjectItemCaseSensitive(obj, a);
    const cJSON *mb = cJSON_GetObjectItemCaseSensitive(obj, b);
    if (!cJSON_IsObject(ma) || !cJSON_IsObject(mb))
        return;
    for (const cJSON *kv = mb->child; kv; kv = kv->next) {
        if (cJSON_GetObjectItemCaseSensitive(ma, kv->string)) {
            cleanup_free char *sub = xasprintf(".%s[%s]", b, kv->string);
            minik_vctx_error(c, kv, sub, "duplicate of key \"%s\" in %s", kv->string, a);
        }
    }
}

void minik_check_configmap(minik_vctx_t *c, const cJSON *cm)
{
    check_disjoint(c, cm, "data", "binaryData");
}

static const minik_field_t base64_item = {NULL, MINIK_T_STRING, .check = minik_check_base64};

const minik_field_t minik_schema_configmap[] = {
    MINIK_TYPE_ROWS,
    MINIK_META_ROW,
    {"data", MINIK_T_MAP, .key_check = minik_check_config_key, .items = &str_item},
    {"binaryData", MINIK_T_MAP, .key_check = minik_check_config_key, .items = &base64_item,
     .doc = "values are base64"},
    {"immutable", MINIK_T_BOOL},
    ROW_END,
};

/* Typed secrets need their keys (kubernetes.io/tls: tls.crt and tls.key, ...). */
void minik_check_secret(minik_vctx_t *c, const cJSON *sec)
{
    const char *type = minik_json_str(sec, "type");
    static const struct {
        const char *type;
        const char *keys[3];
    } needs[] = {
        {"kubernetes.io/tls", {"tls.crt", "tls.key", NULL}},
        {"kubernetes.io/dockerconfigjson", {".dockerconfigjson", NULL, NULL}},
        {"kubernetes.io/dockercfg", {".dockercfg", NULL, NULL}},
        {"kubernetes.io/basic-auth", {NULL, NULL, NULL}},
        {"kubernetes.io/ssh-auth", {"ssh-privatekey", NULL, NULL}},
    };
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(sec, "data");
    const cJSON *sdata = cJSON_GetObjectItemCaseSensitive(sec, "stringData");
    for (size_t i = 0; type && i < sizeof needs / sizeof needs[0]; i++) {
        if (strcmp(type, needs[i].type) != 0)
            continue;
        for (int k = 0; needs[i].keys[k]; k++) {
            if (cJSON_GetObjectItemCaseSensitive(data, needs[i].keys[k]) ||
                cJSON_GetObjectItemCaseSensitive(sdata, needs[i].keys[k]))
                continue;
            cleanup_free char *sub = xasprintf(".data[%s]", needs[i].keys[k]);
            minik_vctx_error(c, data, sub, "required value for a secret of type %s", type);
        }
    }
    check_disjoint(c, sec, "data", "stringData");
}

const minik_field_t minik_schema_secret[] = {
    MINIK_TYPE_ROWS,
    MINIK_META_ROW,
    {"type", MINIK_T_STRING, .dflt = "\"Opaque\"", .doc = "default Opaque"},
    {"data", MINIK_T_MAP, .key_check = minik_check_config_key, .items = &base64_item,
     .doc = "values are base64"},
    {"stringData", MINIK_T_MAP, .key_check = minik_check_config_key, .items = &str_item,
     .doc = "plain-text values, write-only"},
    {"immutable", MINIK_T_BOOL},
    ROW_END,
};

/* ---- Event -------------------------------------------------------------------------- */

static const char *const event_types[] = {"Normal", "Warning", NULL};

static const minik_field_t event_source_fields[] = {
    {"component", MINIK_T_STRING},
    {"host", MINIK_T_STRING},
    ROW_END,
};

const minik_field_t minik_schema_event[] = {
    MINIK_TYPE_ROWS,
    MINIK_META_ROW,
    {"involvedObject", MINIK_T_OBJECT, .flags = MINIK_F_REQUIRED,
     .fields = minik_schema_object_ref},
    {"reason", MINIK_T_STRING},
    {"message", MINIK_T_STRING},
    {"source", MINIK_T_OBJECT, .fields = event_source_fields},
    {"firstTimestamp", MINIK_T_STRING, .flags = MINIK_F_NULLABLE, .check = minik_check_timestamp},
    {"lastTimestamp", MINIK_T_STRING, .flags = MINIK_F_NULLABLE, .check = minik_check_timestamp},
    {"eventTime", MINIK_T_STRING, .flags = MINIK_F_NULLABLE, .check = minik_check_timestamp},
    {"count", MINIK_T_INT, NONNEG},
    {"type", MINIK_T_STRING, .enums = event_types},
    {"action", MINIK_T_STRING},
    {"reportingComponent", MINIK_T_STRING},
    {"reportingInstance", MINIK_T_STRING},
    {"related", MINIK_T_OBJECT, .fields = minik_schema_object_ref},
    ROW_END,
};
