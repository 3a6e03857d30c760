/* PodSpec and everything in it: containers, probes, volumes, scheduling constraints,
 * security contexts. Defaults follow k8s.io/kubernetes/pkg/apis/core/v1/defaults.go. */
#include <string.h>

#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "proto/quantity.h"
#include "proto/schema_common.h"

static const minik_field_t str_item = {NULL, MINIK_T_STRING};
static const minik_field_t label_value_item = {NULL, MINIK_T_STRING,
                                               .check = minik_check_label_value};

/* ---- probes ------------------------------------------------------------------------- */

static const minik_field_t exec_fields[] = {
    {"command", MINIK_T_ARRAY, .flags = MINIK_F_REQUIRED | MINIK_F_NONEMPTY, .items = &str_item},
    ROW_END,
};

static const minik_field_t header_fields[] = {
    {"name", MINIK_T_STRING, .flags = MINIK_F_REQUIRED | MINIK_F_NONEMPTY},
    {"value", MINIK_T_STRING, .flags = MINIK_F_REQUIRED},
    ROW_END,
};

static const char *const schemes[] = {"HTTP", "HTTPS", NULL};

/* A named port must be a port name; a number a real port. */
static void check_port_ref(minik_vctx_t *c, const cJSON *n)
{
    if (cJSON_IsString(n))
        minik_check_port_name(c, n);
}

static const minik_field_t http_get_fields[] = {
    {"path", MINIK_T_STRING, .dflt = "\"/\"", .doc = "default \"/\""},
    {"port", MINIK_T_INT_OR_STRING, .flags = MINIK_F_REQUIRED | MINIK_F_RANGE, PORT_RANGE,
     .check = check_port_ref, .doc = "1-65535 or a container port name"},
    {"host", MINIK_T_STRING},
    {"scheme", MINIK_T_STRING, .enums = schemes, .dflt = "\"HTTP\""},
    {"httpHeaders", MINIK_T_ARRAY,
     .items = &(const minik_field_t){NULL, MINIK_T_OBJECT, .fields = header_fields}},
    ROW_END,
};

static const minik_field_t tcp_socket_fields[] = {
    {"port", MINIK_T_INT_OR_STRING, .flags = MINIK_F_REQUIRED | MINIK_F_RANGE, PORT_RANGE,
     .check = check_port_ref, .doc = "1-65535 or a container port name"},
    {"host", MINIK_T_STRING},
    ROW_END,
};

static void check_one_handler(minik_vctx_t *c, const cJSON *probe)
{
    static const char *const handlers[] = {"exec", "httpGet", "tcpSocket"};
    int n = 0;
    for (int i = 0; i < 3; i++)
        if (minik_json_present(probe, handlers[i]))
            n++;
    if (n == 0)
        minik_vctx_error(c, NULL, NULL, "must specify a handler: exec, httpGet or tcpSocket");
    else if (n > 1)
        minik_vctx_error(c, NULL, NULL, "may not specify more than one handler type");
}

static const minik_field_t probe_fields[] = {
    {"exec", MINIK_T_OBJECT, .fields = exec_fields},
    {"httpGet", MINIK_T_OBJECT, .fields = http_get_fields},
    {"tcpSocket", MINIK_T_OBJECT, .fields = tcp_socket_fields},
    {"initialDelaySeconds", MINIK_T_INT, NONNEG},
    {"timeoutSeconds", MINIK_T_INT, .flags = MINIK_F_RANGE, .min = 1, .max = INT32_MAX,
     .dflt = "1"},
    {"periodSeconds", MINIK_T_INT, .flags = MINIK_F_RANGE, .min = 1, .max = INT32_MAX,
     .dflt = "10"},
    {"successThreshold", MINIK_T_INT, .flags = MINIK_F_RANGE, .min = 1, .max = INT32_MAX,
     .dflt = "1"},
    {"failureThreshold", MINIK_T_INT, .flags = MINIK_F_RANGE, .min = 1, .max = INT32_MAX,
     .dflt = "3"},
    {"terminationGracePeriodSeconds", MINIK_T_INT, .flags = MINIK_F_RANGE, .min = 1,
     .max = INT32_MAX},
    ROW_END,
};

/* A lifecycle hook: one handler, no timing (Kubernetes' LifecycleHandler). */
static const minik_field_t lifecycle_handler_fields[] = {
    {"exec", MINIK_T_OBJECT, .fields = exec_fields},
    {"httpGet", MINIK_T_OBJECT, .fields = http_get_fields},
    {"tcpSocket", MINIK_T_OBJECT, .fields = tcp_socket_fields},
    ROW_END,
};

static const minik_field_t lifecycle_fields[] = {
    {"postStart", MINIK_T_OBJECT, .fields = lifecycle_handler_fields, .check = check_one_handler},
    {"preStop", MINIK_T_OBJECT, .fields = lifecycle_handler_fields, .check = check_one_handler,
     .doc = "the agent runs exec hooks before SIGTERM, within the grace period"},
    ROW_END,
};

/* ---- env ---------------------------------------------------------------------------- */

static const minik_field_t key_ref_fields[] = {
    {"name", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .check = minik_check_dns_subdomain},
    {"key", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .check = minik_check_config_key},
    {"optional", MINIK_T_BOOL},
    ROW_END,
};

static const minik_field_t field_ref_fields[] = {
    {"apiVersion", MINIK_T_STRING, .dflt = "\"v1\""},
    {"fieldPath", MINIK_T_STRING, .flags = MINIK_F_REQUIRED | MINIK_F_NONEMPTY},
    ROW_END,
};

static void check_one_source(minik_vctx_t *c, const cJSON *vf)
{
    int n = 0;
    for (const cJSON *ch = vf->child; ch; ch = ch->next)
        n += !cJSON_IsNull(ch);
    if (n != 1)
        minik_vctx_error(c, NULL, NULL,
                         "must specify exactly one of configMapKeyRef, secretKeyRef or fieldRef");
}

static const minik_field_t value_from_fields[] = {
    {"configMapKeyRef", MINIK_T_OBJECT, .fields = key_ref_fields},
    {"secretKeyRef", MINIK_T_OBJECT, .fields = key_ref_fields},
    {"fieldRef", MINIK_T_OBJECT, .fields = field_ref_fields},
    ROW_END,
};

static void check_env(minik_vctx_t *c, const cJSON *env)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(env, "value");
    if (v && minik_json_present(env, "valueFrom") && cJSON_IsString(v) && v->valuestring[0])
        minik_vctx_error(c, NULL, ".valueFrom", "may not be specified when `value` is not empty");
}

static const minik_field_t env_fields[] = {
    {"name", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .check = minik_check_env_name},
    {"value", MINIK_T_STRING},
    {"valueFrom", MINIK_T_OBJECT, .fields = value_from_fields, .check = check_one_source},
    ROW_END,
};

static const minik_field_t name_ref_fields[] = {
    {"name", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .check = minik_check_dns_subdomain},
    {"optional", MINIK_T_BOOL},
    ROW_END,
};

static const minik_field_t local_ref_fields[] = {
    {"name", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .check = minik_check_dns_subdomain},
    ROW_END,
};

static void check_env_from(minik_vctx_t *c, const cJSON *ef)
{
    bool cm = minik_json_present(ef, "configMapRef");
    bool sec = minik_json_present(ef, "secretRef");
    if (cm == sec)
        minik_vctx_error(c, NULL, NULL, "must specify exactly one of configMapRef or secretRef");
}

static const minik_field_t env_from_fields[] = {
    {"prefix", MINIK_T_STRING},
    {"configMapRef", MINIK_T_OBJECT, .fields = name_ref_fields},
    {"secretRef", MINIK_T_OBJECT, .fields = name_ref_fields},
    ROW_END,
};

/* ---- ports, resources, mounts ------------------------------------------------------- */

static const char *const protocols[] = {"TCP", "UDP", "SCTP", NULL};

static const minik_field_t container_port_fields[] = {
    {"name", MINIK_T_STRING, .check = minik_check_port_name},
    {"containerPort", MINIK_T_INT, .flags = MINIK_F_REQUIRED | MINIK_F_RANGE, PORT_RANGE},
    {"hostPort", MINIK_T_INT, .flags = MINIK_F_RANGE, .min = 0, .max = 65535},
    {"hostIP", MINIK_T_STRING, .check = minik_check_ip},
    {"protocol", MINIK_T_STRING, .enums = protocols, .dflt = "\"TCP\""},
    ROW_END,
};

/* Standard resource names, hugepages-<size>, or a domain-qualified extended resource. */
static void check_resource_name(minik_vctx_t *c, const cJSON *k)
{
    const char *s = k->valuestring;
    if (strcmp(s, "cpu") == 0 || strcmp(s, "memory") == 0 || strcmp(s, "ephemeral-storage") == 0 ||
        strncmp(s, "hugepages-", 10) == 0)
        return;
    if (strchr(s, '/')) {
        minik_check_qualified_name(c, k);
        return;
    }
    minik_vctx_error(c, NULL, NULL,
                     "unsupported resource \"%s\": use cpu, memory, ephemeral-storage, "
                     "hugepages-<size> or a domain-qualified name",
                     s);
}

static const minik_field_t quantity_item = {NULL, MINIK_T_QUANTITY, .flags = MINIK_F_RANGE};

static bool quantity_of(const cJSON *n, minik_quantity_t *q)
{
    char buf[64];
    const char *text = n->valuestring;
    if (cJSON_IsNumber(n)) {
        snprintf(buf, sizeof buf, "%.15g", n->valuedouble);
        text = buf;
    } else if (!cJSON_IsString(n)) {
        return false;
    }
    cleanup_error minik_error_t *err = NULL;
    return minik_quantity_parse(text, q, &err) == 0;
}

/* requests may not exceed limits (Kubernetes: "must be less than or equal to cpu limit"). */
static void check_resources(minik_vctx_t *c, const cJSON *res)
{
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(res, "requests");
    const cJSON *lim = cJSON_GetObjectItemCaseSensitive(res, "limits");
    if (!cJSON_IsObject(req) || !cJSON_IsObject(lim))
        return;
    for (const cJSON *r = req->child; r; r = r->next) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(lim, r->string);
        minik_quantity_t qr, ql;
        if (!l || !quantity_of(r, &qr) || !quantity_of(l, &ql))
            continue;
        if (qr.milli > ql.milli) {
            cleanup_free char *sub = xasprintf(".requests[%s]", r->string);
            cleanup_free char *ls = minik_quantity_format(&ql);
            minik_vctx_error(c, r, sub, "must be less than or equal to %s limit of %s", r->string,
                             ls);
        }
    }
}

static const minik_field_t resources_fields[] = {
    {"requests", MINIK_T_MAP, .key_check = check_resource_name, .items = &quantity_item},
    {"limits", MINIK_T_MAP, .key_check = check_resource_name, .items = &quantity_item},
    ROW_END,
};

static void check_mount_path(minik_vctx_t *c, const cJSON *n)
{
    if (n->valuestring[0] == '\0')
        minik_vctx_error(c, NULL, NULL, "must not be empty");
}

static void check_sub_path(minik_vctx_t *c, const cJSON *n)
{
    const char *s = n->valuestring;
    if (s[0] == '/') {
        minik_vctx_error(c, NULL, NULL, "must be a relative path");
        return;
    }
    /* No ".." element: a subPath must stay inside its volume. */
    const char *p = s;
    while ((p = strstr(p, "..")) != NULL) {
        bool start = p == s || p[-1] == '/';
        bool end = p[2] == '\0' || p[2] == '/';
        if (start && end) {
            minik_vctx_error(c, NULL, NULL, "must not contain '..'");
            return;
        }
        p += 2;
    }
}

static const minik_field_t volume_mount_fields[] = {
    {"name", MINIK_T_STRING, .flags = MINIK_F_REQUIRED | MINIK_F_NONEMPTY,
     .doc = "must name a volume of the pod"},
    {"mountPath", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .check = check_mount_path,
     .doc = "non-empty"},
    {"readOnly", MINIK_T_BOOL},
    {"subPath", MINIK_T_STRING, .check = check_sub_path,
     .doc = "relative path inside the volume, no '..'"},
    ROW_END,
};

/* ---- security contexts -------------------------------------------------------------- */

static const minik_field_t capabilities_fields[] = {
    {"add", MINIK_T_ARRAY, .items = &str_item},
    {"drop", MINIK_T_ARRAY, .items = &str_item},
    ROW_END,
};

static const char *const seccomp_types[] = {"RuntimeDefault", "Unconfined", "Localhost", NULL};

static void check_seccomp(minik_vctx_t *c, const cJSON *sp)
{
    const char *type = minik_json_str(sp, "type");
    bool has_local = minik_json_present(sp, "localhostProfile");
    if (type && strcmp(type, "Localhost") == 0 && !has_local)
        minik_vctx_error(c, NULL, ".localhostProfile", "required when type is Localhost");
    if (type && strcmp(type, "Localhost") != 0 && has_local)
        minik_vctx_error(c, NULL, ".localhostProfile", "can only be set when type is Localhost");
}

static const minik_field_t seccomp_fields[] = {
    {"type", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .enums = seccomp_types},
    {"localhostProfile", MINIK_T_STRING},
    ROW_END,
};

static void check_container_security(minik_vctx_t *c, const cJSON *sc)
{
    const cJSON *priv = cJSON_GetObjectItemCaseSensitive(sc, "privileged");
    const cJSON *ape = cJSON_GetObjectItemCaseSensitive(sc, "allowPrivilegeEscalation");
    if (cJSON_IsTrue(priv) && cJSON_IsFalse(ape))
        minik_vctx_error(c, NULL, NULL,
                         "cannot set allowPrivilegeEscalation to false and privileged to true");
}

static const minik_field_t container_security_fields[] = {
    {"runAsUser", MINIK_T_INT, NONNEG},
    {"runAsGroup", MINIK_T_INT, NONNEG},
    {"runAsNonRoot", MINIK_T_BOOL},
    {"readOnlyRootFilesystem", MINIK_T_BOOL},
    {"allowPrivilegeEscalation", MINIK_T_BOOL},
    {"privileged", MINIK_T_BOOL},
    {"capabilities", MINIK_T_OBJECT, .fields = capabilities_fields},
    {"seccompProfile", MINIK_T_OBJECT, .fields = seccomp_fields, .check = check_seccomp},
    ROW_END,
};

static const minik_field_t pod_security_fields[] = {
    {"runAsUser", MINIK_T_INT, NONNEG},
    {"runAsGroup", MINIK_T_INT, NONNEG},
    {"runAsNonRoot", MINIK_T_BOOL},
    {"fsGroup", MINIK_T_INT, NONNEG},
    {"supplementalGroups", MINIK_T_ARRAY,
     .items = &(const minik_field_t){NULL, MINIK_T_INT, NONNEG}},
    {"seccompProfile", MINIK_T_OBJECT, .fields = seccomp_fields, .check = check_seccomp},
    ROW_END,
};

/* ---- containers --------------------------------------------------------------------- */

/* imagePullPolicy: Always for ":latest" or an untagged image, else IfNotPresent
 * (SetDefaults_Container). A digest (@sha256:...) counts as a tag. */
static void default_container(cJSON *ctr)
{
    const char *image = minik_json_str(ctr, "image");
    if (image && !cJSON_GetObjectItemCaseSensitive(ctr, "imagePullPolicy")) {
        const char *slash = strrchr(image, '/');
        const char *last = slash ? slash + 1 : image;
        const char *colon = strrchr(last, ':');
        bool digest = strchr(image, '@') != NULL;
        bool latest = !digest && (colon == NULL || strcmp(colon + 1, "latest") == 0);
        cJSON_AddStringToObject(ctr, "imagePullPolicy", latest ? "Always" : "IfNotPresent");
    }
}

static void check_container(minik_vctx_t *c, const cJSON *ctr)
{
    const cJSON *ports = cJSON_GetObjectItemCaseSensitive(ctr, "ports");
    if (cJSON_IsArray(ports)) {
        /* port names are unique within a container */
        int i = 0;
        for (const cJSON *a = ports->child; a; a = a->next, i++) {
            const char *na = minik_json_str(a, "name");
            if (!na)
                continue;
            for (const cJSON *b = ports->child; b != a; b = b->next) {
                const char *nb = minik_json_str(b, "name");
                if (nb && strcmp(na, nb) == 0) {
                    cleanup_free char *sub = xasprintf(".ports[%d].name", i);
                    minik_vctx_error(c, cJSON_GetObjectItemCaseSensitive(a, "name"), sub,
                                     "duplicate value \"%s\"", na);
                }
            }
        }
    }
    /* Kubernetes: liveness and startup probes must have successThreshold 1. */
    static const char *const must_be_one[] = {"livenessProbe", "startupProbe"};
    for (int i = 0; i < 2; i++) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(ctr, must_be_one[i]);
        const cJSON *st = p ? cJSON_GetObjectItemCaseSensitive(p, "successThreshold") : NULL;
        if (cJSON_IsNumber(st) && st->valuedouble != 1) {
            cleanup_free char *sub = xasprintf(".%s.successThreshold", must_be_one[i]);
            minik_vctx_error(c, st, sub, "must be 1");
        }
    }
}

static const char *const pull_policies[] = {"Always", "IfNotPresent", "Never", NULL};
static const char *const term_policies[] = {"File", "FallbackToLogsOnError", NULL};

static const minik_field_t container_fields[] = {
    {"name", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .check = minik_check_dns_label,
     .doc = "DNS-1123 label, unique in the pod"},
    {"image", MINIK_T_STRING, .flags = MINIK_F_REQUIRED | MINIK_F_NONEMPTY},
    {"command", MINIK_T_ARRAY, .items = &str_item},
    {"args", MINIK_T_ARRAY, .items = &str_item},
    {"workingDir", MINIK_T_STRING},
    {"env", MINIK_T_ARRAY,
     .items =
         &(const minik_field_t){NULL, MINIK_T_OBJECT, .fields = env_fields, .check = check_env}},
    {"envFrom", MINIK_T_ARRAY,
     .items = &(const minik_field_t){NULL, MINIK_T_OBJECT, .fields = env_from_fields,
                                     .check = check_env_from}},
    {"ports", MINIK_T_ARRAY,
     .items = &(const minik_field_t){NULL, MINIK_T_OBJECT, .fields = container_port_fields}},
    {"resources", MINIK_T_OBJECT, .fields = resources_fields, .check = check_resources},
    {"livenessProbe", MINIK_T_OBJECT, .fields = probe_fields, .check = check_one_handler},
    {"readinessProbe", MINIK_T_OBJECT, .fields = probe_fields, .check = check_one_handler},
    {"startupProbe", MINIK_T_OBJECT, .fields = probe_fields, .check = check_one_handler},
    {"lifecycle", MINIK_T_OBJECT, .fields = lifecycle_fields},
    {"volumeMounts", MINIK_T_ARRAY,
     .items = &(const minik_field_t){NULL, MINIK_T_OBJECT, .fields = volume_mount_fields}},
    {"securityContext", MINIK_T_OBJECT, .fields = container_security_fields,
     .check = check_container_security},
    {"imagePullPolicy", MINIK_T_STRING, .enums = pull_policies,
     .doc = "default Always for :latest or no tag, else IfNotPresent"},
    {"terminationMessagePath", MINIK_T_STRING, .dflt = "\"/dev/termination-log\""},
    {"terminationMessagePolicy", MINIK_T_STRING, .enums = term_policies, .dflt = "\"File\""},
    ROW_END,
};

static const minik_field_t container_item = {NULL, MINIK_T_OBJECT, .fields = container_fields,
                                             .check = check_container,
                                             .defaulter = default_container};

/* ---- volumes ------------------------------------------------------------------------ */

static const char *const media[] = {"", "Memory", NULL};
static const char *const host_path_types[] = {
    "",           "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket",
    "CharDevice", "BlockDevice",       NULL};

static const minik_field_t empty_dir_fields[] = {
    {"medium", MINIK_T_STRING, .enums = media},
    {"sizeLimit", MINIK_T_QUANTITY, .flags = MINIK_F_RANGE},
    ROW_END,
};

static void check_abs_path(minik_vctx_t *c, const cJSON *n)
{
    if (n->valuestring[0] != '/')
        minik_vctx_error(c, NULL, NULL, "must be an absolute path");
}

static const minik_field_t host_path_fields[] = {
    {"path", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .check = check_abs_path,
     .doc = "absolute path on the node"},
    {"type", MINIK_T_STRING, .enums = host_path_types, .dflt = "\"\""},
    ROW_END,
};

static const minik_field_t key_to_path_fields[] = {
    {"key", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .check = minik_check_config_key},
    {"path", MINIK_T_STRING, .flags = MINIK_F_REQUIRED | MINIK_F_NONEMPTY, .check = check_sub_path},
    {"mode", MINIK_T_INT, .flags = MINIK_F_RANGE, .min = 0, .max = 0777},
    ROW_END,
};

#define KEY_TO_PATH_ITEMS                                                                          \
    {"items", MINIK_T_ARRAY,                                                                       \
     .items = &(const minik_field_t){NULL, MINIK_T_OBJECT, .fields = key_to_path_fields}},         \
        {"defaultMode", MINIK_T_INT,   .flags = MINIK_F_RANGE,     .min = 0,                       \
         .max = 0777,   .dflt = "420", .doc = "default 0644 (420)"},                               \
    {                                                                                              \
        "optional", MINIK_T_BOOL                                                                   \
    }

static const minik_field_t configmap_vol_fields[] = {
    {"name", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .check = minik_check_dns_subdomain},
    KEY_TO_PATH_ITEMS,
    ROW_END,
};

static const minik_field_t secret_vol_fields[] = {
    {"secretName", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .check = minik_check_dns_subdomain},
    KEY_TO_PATH_ITEMS,
    ROW_END,
};

static const char *const volume_sources[] = {"emptyDir", "hostPath", "configMap", "secret", NULL};

/* At most one source; none means emptyDir (SetDefaults_Volume). */
static void check_volume(minik_vctx_t *c, const cJSON *v)
{
    int n = 0;
    for (int i = 0; volume_sources[i]; i++)
        if (minik_json_present(v, volume_sources[i]))
            n++;
    if (n > 1)
        minik_vctx_error(c, NULL, NULL,
                         "may not specify more than one volume source (emptyDir, hostPath, "
                         "configMap, secret)");
}

static void default_volume(cJSON *v)
{
    for (int i = 0; volume_sources[i]; i++)
        if (minik_json_present(v, volume_sources[i]))
            return;
    cJSON_AddItemToObject(v, "emptyDir", cJSON_CreateObject());
}

static const minik_field_t volume_fields[] = {
    {"name", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .check = minik_check_dns_label},
    {"emptyDir", MINIK_T_OBJECT, .fields = empty_dir_fields},
    {"hostPath", MINIK_T_OBJECT, .fields = host_path_fields},
    {"configMap", MINIK_T_OBJECT, .fields = configmap_vol_fields},
    {"secret", MINIK_T_OBJECT, .fields = secret_vol_fields},
    ROW_END,
};

/* ---- scheduling --------------------------------------------------------------------- */

static const char *const node_sel_ops[] = {"In", "NotIn", "Exists", "DoesNotExist",
                                           "Gt", "Lt",    NULL};

static void check_node_sel_req(minik_vctx_t *c, const cJSON *r)
{
    const char *op = minik_json_str(r, "operator");
    const cJSON *vals = cJSON_GetObjectItemCaseSensitive(r, "values");
    int n = cJSON_IsArray(vals) ? cJSON_GetArraySize(vals) : 0;
    if (!op)
        return;
    if ((strcmp(op, "In") == 0 || strcmp(op, "NotIn") == 0) && n == 0)
        minik_vctx_error(c, NULL, ".values",
                         "must be specified when `operator` is 'In' or 'NotIn'");
    else if ((strcmp(op, "Exists") == 0 || strcmp(op, "DoesNotExist") == 0) && n > 0)
        minik_vctx_error(c, NULL, ".values",
                         "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    else if ((strcmp(op, "Gt") == 0 || strcmp(op, "Lt") == 0) && n != 1)
        minik_vctx_error(c, NULL, ".values",
                         "must be specified single value when `operator` is "
                         "'Lt' or 'Gt'");
}

static const minik_field_t node_sel_req_fields[] = {
    {"key", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .check = minik_check_qualified_name},
    {"operator", MINIK_T_STRING, .flags = MINIK_F_REQUIRED, .enums = node_sel_ops},
    {"values", MINIK_T_ARRAY, .items = &str_item},
    ROW_END,
};

static const minik_field_t node_sel_req_item = {NULL, MINIK_T_OBJECT, .fields = node_sel_req_fields,
                                                .check = check_node_sel_req};

static const minik_field_t node_sel_term_fields[] = {
    {"matchExpressions", MINIK_T_ARRAY, .items = &node_sel_req_item},
    {"matchFields", MINIK_T_ARRAY, .items = &node_sel_req_item},
    ROW_END,
};

static const minik_field_t node_selector_fields[] = {
    {"nodeSelectorTerms", MINIK_T_ARRAY, .flags = MINIK_F_REQUIRED | MINIK_F_NONEMPTY,
     .items = &(const minik_field_t){NULL, MINIK_T_OBJECT, .fields = node_sel_term_fields}},
    ROW_END,
};

static const minik_field_t preferred_term_fields[] = {
    {"weight", MINIK_T_INT, .flags = MINIK_F_REQUIRED | MINIK_F_RANGE, .min = 1, .max = 100},
    {"preference", MINIK_T_OBJECT, .flags = MINIK_F_REQUIRED, .fields = node_sel_term_fields},
    ROW_END,
};

static const minik_field_t node_affinity_fields[] = {
    {"requiredDuringSchedulingIgnoredDuringExecution", MINIK_T_OBJECT,
     .fields = node_selector_fields},
    {"preferredDuringSchedulingIgnoredDuringExecution", MINIK_T_ARRAY,
     .items = &(const minik_field_t){NULL, MINIK_T_OBJECT, .fields = preferred_term_fields}},
    ROW_END,
};

static const minik_field_t pod_affinity_term_fields[] = {
    {"labelSelector", MINIK_T_OBJECT, .fields = minik_schema_label_selector,
     .check = minik_check_label_selector},
    {"namespaces", MINIK_T_ARRAY, .items = &str_item},
    {"topologyKey", MINIK_T_STRING, .flags = MINIK_F_REQUIRED | MINIK_F_NONEMPTY,
     .check = minik_check_qualified_name},
    ROW_END,
};

static const minik_field_t weighted_pod_term_fields[] = {
    {"weight", MINIK_T_INT, .flags = MINIK_F_REQUIRED | MINIK_F_RANGE, .min = 1, .max = 100},
    {"podAffinityTerm", MINIK_T_OBJECT, .flags = MINIK_F_REQUIRED,
     .fields = pod_affinity_term_fields},
    ROW_END,
};

static const minik_field_t pod_affinity_fields[] = {
    {"requiredDuringSchedulingIgnoredDuringExecution", MINIK_T_ARRAY,
     .items = &(const minik_field_t){NULL, MINIK_T_OBJECT, .fields = pod_affinity_term_fields}},
    {"preferredDuringSchedulingIgnoredDuringExecution", MINIK_T_ARRAY,
     .items = &(const minik_field_t){NULL, MINIK_T_OBJECT, .fields = weighted_pod_term_fields}},
    ROW_END,
};

static const minik_field_t affinity_fields[] = {
    {"nodeAffinity", MINIK_T_OBJECT, .fields = node_affinity_fields},
    {"podAffinity", MINIK_T_OBJECT, .fields = pod_affinity_fields},
    {"podAntiAffinity", MINIK_T_OBJECT, .fields = pod_affinity_fields},
    ROW_END,
};

static const char *const toleration_ops[] = {"Exists", "Equal", NULL};
static const char *const taint_effects[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};

static void check_toleration(minik_vctx_t *c, const cJSON *t)
{
    const char *key = minik_json_str(t, "key");
    const char *op = minik_json_str(t, "operator");
    const char *value = minik_json_str(t, "value");
    const char *effect = minik_json_str(t, "effect");
    bool exists = op && strcmp(op, "Exists") == 0;
    if ((!key || !key[0]) && !exists)
        minik_vctx_error(c, NULL, ".operator",
                         "must be Exists when `key` is empty, which means \"match all values and "
                         "all keys\"");
    if (exists && value && value[0])
        minik_vctx_error(c, NULL, ".value", "must be empty when `operator` is 'Exists'");
    if (minik_json_present(t, "tolerationSeconds") && (!effect || strcmp(effect, "NoExecute") != 0))
        minik_vctx_error(c, NULL, ".effect",
                         "effect must be 'NoExecute' when `tolerationSeconds` is set");
}

static void check_toleration_key(minik_vctx_t *c, const cJSON *k)
{
    if (k->valuestring[0])
        minik_check_qualified_name(c, k);
}

static const minik_field_t toleration_fields[] = {
    {"key", MINIK_T_STRING, .check = check_toleration_key},
    {"operator", MINIK_T_STRING, .enums = toleration_ops},
    {"value", MINIK_T_STRING},
    {"effect", MINIK_T_STRING, .enums = taint_effects},
    {"tolerationSeconds", MINIK_T_INT},
    ROW_END,
};

/* topologySpreadConstraints, as ValidateTopologySpreadConstraints in Kubernetes: the rules
 * scheduler/spread.c relies on are refused here, where the user sees file:line:col. */
static const char *const unsatisfiable_actions[] = {"DoNotSchedule", "ScheduleAnyway", NULL};
static const char *const spread_policies[] = {"Honor", "Ignore", NULL};

static bool selector_has_key(const cJSON *sel, const char *key)
{
    if (cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(sel, "matchLabels"), key))
        return true;
    const cJSON *exprs = cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions");
    for (const cJSON *e = cJSON_IsArray(exprs) ? exprs->child : NULL; e; e = e->next) {
        const char *k = minik_json_str(e, "key");
        if (k && strcmp(k, key) == 0)
            return true;
    }
    return false;
}

static void check_spread_constraint(minik_vctx_t *c, const cJSON *t)
{
    const char *when = minik_json_str(t, "whenUnsatisfiable");
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(t, "minDomains");
    if (md && !cJSON_IsNull(md) && when && strcmp(when, "DoNotSchedule") != 0)
        minik_vctx_error(c, md, ".minDomains",
                         "can only be used when `whenUnsatisfiable` is 'DoNotSchedule', not '%s'",
                         when);
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(t, "matchLabelKeys");
    if (!cJSON_IsArray(keys) || !keys->child)
        return;
    const cJSON *sel = cJSON_GetObjectItemCaseSensitive(t, "labelSelector");
    if (!cJSON_IsObject(sel)) {
        minik_vctx_error(c, keys, ".matchLabelKeys",
                         "may not be specified when `labelSelector` is not set");
        return;
    }
    int i = 0;
    for (const cJSON *k = keys->child; k; k = k->next, i++) {
        if (!cJSON_IsString(k))
            continue;
        bool dup = false;
        for (const cJSON *o = keys->child; o != k && !dup; o = o->next)
            dup = cJSON_IsString(o) && strcmp(o->valuestring, k->valuestring) == 0;
        cleanup_free char *sub = xasprintf(".matchLabelKeys[%d]", i);
        if (dup)
            minik_vctx_error(c, k, sub, "duplicate value \"%s\"", k->valuestring);
        else if (selector_has_key(sel, k->valuestring))
            minik_vctx_error(c, k, sub,
                             "\"%s\" exists in both `matchLabelKeys` and `labelSelector`",
                             k->valuestring);
    }
}

/* One constraint per {topologyKey, whenUnsatisfiable} pair. */
static void check_spread_constraints(minik_vctx_t *c, const cJSON *arr)
{
    int i = 0;
    for (const cJSON *a = arr->child; a; a = a->next, i++) {
        const char *ka = minik_json_str(a, "topologyKey");
        const char *wa = minik_json_str(a, "whenUnsatisfiable");
        if (!ka || !wa)
            continue;
        for (const cJSON *b = arr->child; b != a; b = b->next) {
            const char *kb = minik_json_str(b, "topologyKey");
            const char *wb = minik_json_str(b, "whenUnsatisfiable");
            if (kb && wb && strcmp(ka, kb) == 0 && strcmp(wa, wb) == 0) {
                cleanup_free char *sub = xasprintf("[%d]", i);
                minik_vctx_error(c, a, sub,
                                 "duplicate constraint for {topologyKey: \"%s\", "
                                 "whenUnsatisfiable: \"%s\"}",
                                 ka, wa);
                break;
            }
        }
    }
}

static const minik_field_t spread_constraint_fields[] = {
    {"maxSkew", MINIK_T_INT, .flags = MINIK_F_REQUIRED | MINIK_F_RANGE, .min = 1, .max = INT32_MAX,
     .doc = "at least 1"},
    {"topologyKey", MINIK_T_STRING, .flags = MINIK_F_REQUIRED | MINIK_F_NONEMPTY,
     .check = minik_check_qualified_name,
     .doc = "a node label key, e.g. topology.kubernetes.io/zone"},
    {"whenUnsatisfiable", MINIK_T_STRING, .flags = MINIK_F_REQUIRED,
     .enums = unsatisfiable_actions},
    {"labelSelector", MINIK_T_OBJECT, .fields = minik_schema_label_selector,
     .check = minik_check_label_selector},
    {"matchLabelKeys", MINIK_T_ARRAY,
     .items = &(const minik_field_t){NULL, MINIK_T_STRING, .check = minik_check_qualified_name},
     .doc = "the pod's values for these label keys join labelSelector"},
    {"minDomains", MINIK_T_INT, .flags = MINIK_F_RANGE, .min = 1, .max = INT32_MAX,
     .doc = "only with DoNotSchedule"},
    {"nodeAffinityPolicy", MINIK_T_STRING, .enums = spread_policies, .doc = "default Honor"},
    {"nodeTaintsPolicy", MINIK_T_STRING, .enums = spread_policies, .doc = "default Ignore"},
    ROW_END,
};

/* ---- the pod spec ------------------------------------------------------------------- */

static const char *const restart_policies[] = {"Always", "OnFailure", "Never", NULL};
static const char *const dns_policies[] = {"ClusterFirst", "ClusterFirstWithHostNet", "Default",
                                           "None", NULL};

static bool has_volume(const cJSON *vols, const char *name)
{
    for (const cJSON *v = cJSON_IsArray(vols) ? vols->child : NULL; v; v = v->next) {
        const char *n = minik_json_str(v, "name");
        if (n && strcmp(n, name) == 0)
            return true;
    }
    return false;
}

/* Cross-field rules of a pod: unique container names over containers and initContainers,
 * unique volume names, every volumeMount naming a volume. */
void minik_check_pod_spec(minik_vctx_t *c, const cJSON *spec)
{
    const cJSON *vols = cJSON_GetObjectItemCaseSensitive(spec, "volumes");
    if (cJSON_IsArray(vols))
        minik_check_unique_names(c, vols);
    static const char *const lists[] = {"initContainers", "containers"};
    for (int l = 0; l < 2; l++) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(spec, lists[l]);
        int i = 0;
        for (const cJSON *ctr = cJSON_IsArray(arr) ? arr->child : NULL; ctr; ctr = ctr->next, i++) {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(ctr, "name");
            /* duplicates across both lists: compare with every earlier container */
            bool dup = false;
            for (int l2 = 0; l2 <= l && !dup && cJSON_IsString(name); l2++) {
                const cJSON *arr2 = cJSON_GetObjectItemCaseSensitive(spec, lists[l2]);
                for (const cJSON *o = cJSON_IsArray(arr2) ? arr2->child : NULL; o && o != ctr;
                     o = o->next) {
                    const char *on = minik_json_str(o, "name");
                    if (on && strcmp(on, name->valuestring) == 0) {
                        dup = true;
                        break;
                    }
                }
            }
            if (dup) {
                cleanup_free char *sub = xasprintf(".%s[%d].name", lists[l], i);
                minik_vctx_error(c, name, sub, "duplicate value \"%s\"", name->valuestring);
            }
            /* with hostNetwork a port is the host's port: hostPort (if set) must match */
            const cJSON *ports = cJSON_GetObjectItemCaseSensitive(ctr, "ports");
            int k = 0;
            for (const cJSON *p =
                     cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "hostNetwork")) &&
                             cJSON_IsArray(ports)
                         ? ports->child
                         : NULL;
                 p; p = p->next, k++) {
                const cJSON *hp = cJSON_GetObjectItemCaseSensitive(p, "hostPort");
                const cJSON *cp = cJSON_GetObjectItemCaseSensitive(p, "containerPort");
                if (cJSON_IsNumber(hp) && hp->valuedouble != 0 && cJSON_IsNumber(cp) &&
                    hp->valuedouble != cp->valuedouble) {
                    cleanup_free char *sub =
                        xasprintf(".%s[%d].ports[%d].hostPort", lists[l], i, k);
                    minik_vctx_error(c, hp, sub,
                                     "must match `containerPort` when `hostNetwork` is true");
                }
            }
            const cJSON *mounts = cJSON_GetObjectItemCaseSensitive(ctr, "volumeMounts");
            int j = 0;
            for (const cJSON *m = cJSON_IsArray(mounts) ? mounts->child : NULL; m;
                 m = m->next, j++) {
                const cJSON *mn = cJSON_GetObjectItemCaseSensitive(m, "name");
                if (cJSON_IsString(mn) && mn->valuestring[0] &&
                    !has_volume(vols, mn->valuestring)) {
                    cleanup_free char *sub =
                        xasprintf(".%s[%d].volumeMounts[%d].name", lists[l], i, j);
                    minik_vctx_error(c, mn, sub, "not found: no volume named \"%s\"",
                                     mn->valuestring);
                }
            }
        }
    }
}

/* hostNetwork pods: hostPort defaults to containerPort (SetDefaults_PodSpec). */
void minik_default_pod_spec(cJSON *spec)
{
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "hostNetwork")))
        return;
    static const char *const lists[] = {"initContainers", "containers"};
    for (int l = 0; l < 2; l++) {
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(spec, lists[l]);
        for (cJSON *ctr = cJSON_IsArray(arr) ? arr->child : NULL; ctr; ctr = ctr->next) {
            cJSON *ports = cJSON_GetObjectItemCaseSensitive(ctr, "ports");
            for (cJSON *p = cJSON_IsArray(ports) ? ports->child : NULL; p; p = p->next) {
                const cJSON *cp = cJSON_GetObjectItemCaseSensitive(p, "containerPort");
                if (cJSON_IsNumber(cp))
                    minik_json_set_default(p, "hostPort", cJSON_CreateNumber(cp->valuedouble));
            }
        }
    }
}

const minik_field_t minik_schema_pod_spec[] = {
    {"containers", MINIK_T_ARRAY, .flags = MINIK_F_REQUIRED | MINIK_F_NONEMPTY,
     .items = &container_item},
    {"initContainers", MINIK_T_ARRAY, .items = &container_item},
    {"volumes", MINIK_T_ARRAY,
     .items = &(const minik_field_t){NULL, MINIK_T_OBJECT, .fields = volume_fields,
                                     .check = check_volume, .defaulter = default_volume}},
    {"restartPolicy", MINIK_T_STRING, .enums = restart_policies, .dflt = "\"Always\""},
    {"terminationGracePeriodSeconds", MINIK_T_INT, NONNEG, .dflt = "30"},
    {"dnsPolicy", MINIK_T_STRING, .enums = dns_policies, .dflt = "\"ClusterFirst\""},
    {"nodeSelector", MINIK_T_MAP, .key_check = minik_check_qualified_name,
     .items = &label_value_item},
    {"nodeName", MINIK_T_STRING, .check = minik_check_dns_subdomain},
    {"hostNetwork", MINIK_T_BOOL},
    {"hostUsers", MINIK_T_BOOL},
    {"securityContext", MINIK_T_OBJECT, .fields = pod_security_fields, .dflt = "{}"},
    {"imagePullSecrets", MINIK_T_ARRAY,
     .items = &(const minik_field_t){NULL, MINIK_T_OBJECT, .fields = local_ref_fields}},
    {"affinity", MINIK_T_OBJECT, .fields = affinity_fields},
    {"tolerations", MINIK_T_ARRAY,
     .items = &(const minik_field_t){NULL, MINIK_T_OBJECT, .fields = toleration_fields,
                                     .check = check_toleration}},
    {"topologySpreadConstraints", MINIK_T_ARRAY, .check = check_spread_constraints,
     .items = &(const minik_field_t){NULL, MINIK_T_OBJECT, .fields = spread_constraint_fields,
                                     .check = check_spread_constraint}},
    {"schedulerName", MINIK_T_STRING, .dflt = "\"default-scheduler\""},
    {"enableServiceLinks", MINIK_T_BOOL},
    ROW_END,
};

const minik_field_t minik_schema_pod_template[] = {
    {"metadata", MINIK_T_OBJECT, .fields = minik_schema_template_meta},
    {"spec", MINIK_T_OBJECT, .flags = MINIK_F_REQUIRED, .fields = minik_schema_pod_spec,
     .check = minik_check_pod_spec, .defaulter = minik_default_pod_spec},
    ROW_END,
};

/* Pod-only defaults (SetDefaults_Pod, not applied to templates): enableServiceLinks, and a
 * container's requests default to its limits for each resource that has a limit. */
void minik_default_pod(cJSON *pod)
{
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    if (!cJSON_IsObject(spec))
        return;
    minik_json_set_default(spec, "enableServiceLinks", cJSON_CreateTrue());
    static const char *const lists[] = {"initContainers", "containers"};
    for (int l = 0; l < 2; l++) {
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(spec, lists[l]);
        for (cJSON *ctr = cJSON_IsArray(arr) ? arr->child : NULL; ctr; ctr = ctr->next) {
            cJSON *res = cJSON_GetObjectItemCaseSensitive(ctr, "resources");
            cJSON *lim = cJSON_GetObjectItemCaseSensitive(res, "limits");
            if (!cJSON_IsObject(lim) || lim->child == NULL)
                continue;
            cJSON *req = cJSON_GetObjectItemCaseSensitive(res, "requests");
            if (req == NULL) {
                req = cJSON_CreateObject();
                cJSON_AddItemToObject(res, "requests", req);
            }
            if (!cJSON_IsObject(req))
                continue;
            for (cJSON *kv = lim->child; kv; kv = kv->next)
                minik_json_set_default(req, kv->string, cJSON_Duplicate(kv, true));
        }
    }
}
