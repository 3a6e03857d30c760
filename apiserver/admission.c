/* Admission of an object about to be written: the generic metadata rules every kind
 * shares (name syntax per kind, labels), then proto's per-kind validation and defaulting.
 * Failures are 422 Invalid with one details.causes entry per problem, as Kubernetes
 * reports them ({"reason":"FieldValueInvalid","message":...,"field":"spec.replicas"}). */
#include <string.h>

#include "apiserver/internal.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "proto/names.h"
#include "proto/validate.h"

static void add_cause(cJSON *causes, minik_buf_t *msg, const char *field, const char *text)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "reason", "FieldValueInvalid");
    cJSON_AddStringToObject(c, "message", text);
    cJSON_AddStringToObject(c, "field", field);
    cJSON_AddItemToArray(causes, c);
    minik_buf_appendf(msg, "%s%s: %s", msg->len ? ", " : "", field, text);
}

int minik_api_admit(api_call_t *c, cJSON *obj, bool status_only, cJSON **causes_out,
                    minik_error_t **err)
{
    const minik_resource_t *res = c->route.res;
    cleanup_cjson cJSON *causes = cJSON_CreateArray();
    cleanup_buf minik_buf_t msg = MINIK_BUF_INIT;
    char buf[MINIK_NAME_MSG_MAX];
    const char *name = minik_obj_str(obj, "metadata", "name");
    if (!name || !*name) {
        add_cause(causes, &msg, "metadata.name", "name or generateName is required");
    } else {
        const char *why;
        if (strcmp(res->kind, "Namespace") == 0)
            why = minik_names_check_dns1123_label(name, buf, sizeof(buf));
        else if (strcmp(res->kind, "Service") == 0)
            why = minik_names_check_dns1035_label(name, buf, sizeof(buf));
        else
            why = minik_names_check_dns1123_subdomain(name, buf, sizeof(buf));
        if (why)
            add_cause(causes, &msg, "metadata.name", why);
    }
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(md, "labels");
    if (labels && !cJSON_IsNull(labels)) {
        if (!cJSON_IsObject(labels)) {
            add_cause(causes, &msg, "metadata.labels", "must be an object of strings");
        } else {
            for (const cJSON *l = labels->child; l; l = l->next) {
                cleanup_free char *field = xasprintf("metadata.labels[%s]", l->string);
                const char *why = minik_names_check_qualified_name(l->string, buf, sizeof(buf));
                if (!why && !cJSON_IsString(l))
                    why = "must be a string";
                if (!why)
                    why = minik_names_check_label_value(l->valuestring, buf, sizeof(buf));
                if (why)
                    add_cause(causes, &msg, field, why);
            }
        }
    }
    /* Kinds proto has a field table for are defaulted and validated like the CLI does
     * (ReplicaSet, DaemonSet and Job have none yet: only the checks above apply). Status
     * writes come from agents and controllers, so unknown status fields there only warn,
     * as do all unknown fields when the client asks for fieldValidation=Warn/Ignore. */
    const char *av = minik_obj_str(obj, NULL, "apiVersion");
    const char *kind = minik_obj_str(obj, NULL, "kind");
    if (cJSON_GetArraySize(causes) == 0 && minik_kind_lookup(av, kind)) {
        bool bad = false;
        cleanup_free char *fv = minik_http_query_param(c->req->query, "fieldValidation", &bad);
        minik_validate_mode_t mode = MINIK_VALIDATE_STRICT;
        if (status_only || (fv && (strcmp(fv, "Warn") == 0 || strcmp(fv, "Ignore") == 0)))
            mode = MINIK_VALIDATE_WARN;
        minik_default(obj);
        cleanup_diags minik_diags_t diags = MINIK_DIAGS_INIT;
        if (minik_validate(obj, NULL, NULL, mode, &diags, NULL) > 0) {
            for (size_t i = 0; i < diags.len; i++)
                if (diags.items[i].severity == MINIK_DIAG_ERROR)
                    add_cause(causes, &msg,
                              diags.items[i].path[0] ? diags.items[i].path : "<object>",
                              diags.items[i].message);
        }
    }
    if (cJSON_GetArraySize(causes) > 0) {
        *causes_out = steal_pointer(&causes);
        return minik_error_set_code(err, 422, 0, "%s \"%s\" is invalid: %s", res->kind,
                                    name ? name : "", msg.data);
    }
    return 0;
}
