/* Endpoints computation (see endpoints.h). */
#include "controllers/endpoints.h"

#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/selector.h"

static const cJSON *obj(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *str(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(obj(o, k));
}

static bool pod_ready(const cJSON *pod)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, obj(obj(pod, "status"), "conditions"))
    {
        if (minik_str_eq(str(c, "type"), "Ready"))
            return minik_str_eq(str(c, "status"), "True");
    }
    return false;
}

/* The pod's number for a named targetPort, 0 when it has none. */
static int named_port(const cJSON *pod, const char *name, const char *proto)
{
    const cJSON *ctr;
    cJSON_ArrayForEach(ctr, obj(obj(pod, "spec"), "containers"))
    {
        const cJSON *p;
        cJSON_ArrayForEach(p, obj(ctr, "ports"))
        {
            const char *pp = str(p, "protocol");
            if (minik_str_eq(str(p, "name"), name) && minik_str_eq(pp ? pp : "TCP", proto) &&
                cJSON_IsNumber(obj(p, "containerPort")))
                return obj(p, "containerPort")->valueint;
        }
    }
    return 0;
}

static cJSON *resolve_ports(const cJSON *svc_ports, const cJSON *pod)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *sp;
    cJSON_ArrayForEach(sp, svc_ports)
    {
        const char *proto = str(sp, "protocol") ? str(sp, "protocol") : "TCP";
        const cJSON *tp = obj(sp, "targetPort");
        int port = 0;
        if (cJSON_IsString(tp))
            port = named_port(pod, tp->valuestring, proto);
        else if (cJSON_IsNumber(tp) && tp->valueint > 0)
            port = tp->valueint;
        else if (cJSON_IsNumber(obj(sp, "port")))
            port = obj(sp, "port")->valueint;
        if (port <= 0 || port > 65535)
            continue;
        cJSON *p = cJSON_CreateObject();
        if (str(sp, "name") && *str(sp, "name"))
            cJSON_AddStringToObject(p, "name", str(sp, "name"));
        cJSON_AddNumberToObject(p, "port", port);
        cJSON_AddStringToObject(p, "protocol", proto);
        cJSON_AddItemToArray(out, p);
    }
    return out;
}

static cJSON *address_of(const cJSON *pod)
{
    const cJSON *md = obj(pod, "metadata");
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "ip", str(obj(pod, "status"), "podIP"));
    const char *node = str(obj(pod, "spec"), "nodeName");
    if (node)
        cJSON_AddStringToObject(a, "nodeName", node);
    cJSON *ref = cJSON_AddObjectToObject(a, "targetRef");
    cJSON_AddStringToObject(ref, "kind", "Pod");
    cJSON_AddStringToObject(ref, "namespace",
                            str(md, "namespace") ? str(md, "namespace") : "default");
    cJSON_AddStringToObject(ref, "name", str(md, "name") ? str(md, "name") : "");
    if (str(md, "uid"))
        cJSON_AddStringToObject(ref, "uid", str(md, "uid"));
    return a;
}

static int cmp_ip(const void *a, const void *b)
{
    const char *x = str(*(const cJSON *const *)a, "ip"), *y = str(*(const cJSON *const *)b, "ip");
    /* Numeric order, so 10.42.0.9 comes before 10.42.0.10. */
    unsigned xa[4] = {0}, ya[4] = {0};
    sscanf(x, "%u.%u.%u.%u", &xa[0], &xa[1], &xa[2], &xa[3]);
    sscanf(y, "%u.%u.%u.%u", &ya[0], &ya[1], &ya[2], &ya[3]);
    for (int i = 0; i < 4; i++)
        if (xa[i] != ya[i])
            return xa[i] < ya[i] ? -1 : 1;
    return strcmp(x, y);
}

static void sort_addresses(cJSON *subset, const char *key)
{
    cJSON *arr = cJSON_DetachItemFromObjectCaseSensitive(subset, key);
    int n = cJSON_GetArraySize(arr);
    if (n == 0) {
        cJSON_Delete(arr);
        return;
    }
    cJSON **items = xcalloc((size_t)n, sizeof(*items));
    for (int i = 0; i < n; i++)
        items[i] = cJSON_DetachItemFromArray(arr, 0);
    qsort(items, (size_t)n, sizeof(*items), cmp_ip);
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(arr, items[i]);
    free(items);
    cJSON_AddItemToObject(subset, key, arr);
}

int minik_endpoints_compute(const cJSON *service, const cJSON *pods, cJSON **out,
                            minik_error_t **err)
{
    *out = NULL;
    const cJSON *md = obj(service, "metadata");
    const cJSON *spec = obj(service, "spec");
    const cJSON *selector = obj(spec, "selector");
    if (!cJSON_IsObject(selector) || !selector->child)
        return 0;
    const char *ns = str(md, "namespace") ? str(md, "namespace") : "default";
    const char *name = str(md, "name");
    if (!name)
        return minik_error_set(err, 0, "service without metadata.name");
    cleanup_cjson cJSON *ls = cJSON_CreateObject();
    cJSON_AddItemToObject(ls, "matchLabels", cJSON_Duplicate(selector, 1));
    minik_selector_t *sel = NULL;
    if (minik_selector_from_json(ls, &sel, err) < 0)
        return minik_error_wrap(err, "service %s/%s: spec.selector", ns, name);
    bool publish_all = cJSON_IsTrue(obj(spec, "publishNotReadyAddresses"));

    cleanup_cjson cJSON *ep = cJSON_CreateObject();
    cJSON_AddStringToObject(ep, "apiVersion", "v1");
    cJSON_AddStringToObject(ep, "kind", "Endpoints");
    cJSON *emd = cJSON_AddObjectToObject(ep, "metadata");
    cJSON_AddStringToObject(emd, "name", name);
    cJSON_AddStringToObject(emd, "namespace", ns);
    if (cJSON_IsObject(obj(md, "labels")))
        cJSON_AddItemToObject(emd, "labels", cJSON_Duplicate(obj(md, "labels"), 1));
    cJSON *subsets = cJSON_AddArrayToObject(ep, "subsets");
    /* subset key (its ports as text) -> subset, kept in order of first appearance */
    cleanup_cjson cJSON *keys = cJSON_CreateArray();

    const cJSON *pod;
    cJSON_ArrayForEach(pod, pods)
    {
        const cJSON *pmd = obj(pod, "metadata");
        const char *pns = str(pmd, "namespace") ? str(pmd, "namespace") : "default";
        const cJSON *st = obj(pod, "status");
        const char *ip = str(st, "podIP");
        const char *phase = str(st, "phase");
        if (strcmp(pns, ns) != 0 || !ip || !*ip || str(pmd, "deletionTimestamp") ||
            minik_str_eq(phase, "Succeeded") || minik_str_eq(phase, "Failed") ||
            !minik_selector_matches_object(sel, pod))
            continue;
        cleanup_cjson cJSON *ports = resolve_ports(obj(spec, "ports"), pod);
        if (cJSON_GetArraySize(obj(spec, "ports")) > 0 && cJSON_GetArraySize(ports) == 0)
            continue; /* serves none of the Service's ports */
        cleanup_free char *key = cJSON_PrintUnformatted(ports);
        cJSON *subset = NULL;
        for (int i = 0; i < cJSON_GetArraySize(keys); i++)
            if (strcmp(cJSON_GetArrayItem(keys, i)->valuestring, key) == 0)
                subset = cJSON_GetArrayItem(subsets, i);
        if (!subset) {
            subset = cJSON_CreateObject();
            cJSON_AddItemToArray(subsets, subset);
            cJSON_AddItemToArray(keys, cJSON_CreateString(key));
        }
        const char *which = publish_all || pod_ready(pod) ? "addresses" : "notReadyAddresses";
        cJSON *list = cJSON_GetObjectItemCaseSensitive(subset, which);
        if (!list)
            list = cJSON_AddArrayToObject(subset, which);
        cJSON_AddItemToArray(list, address_of(pod));
        if (!obj(subset, "ports"))
            cJSON_AddItemToObject(subset, "ports", steal_pointer(&ports));
    }
    minik_selector_free(sel);
    cJSON *s;
    cJSON_ArrayForEach(s, subsets)
    {
        /* Canonical order (addresses, notReadyAddresses, ports) so equal state compares
         * equal and no needless write happens. */
        sort_addresses(s, "addresses");
        sort_addresses(s, "notReadyAddresses");
        cJSON *ports = cJSON_DetachItemFromObjectCaseSensitive(s, "ports");
        cJSON_AddItemToObject(s, "ports", ports);
    }
    *out = steal_pointer(&ep);
    return 0;
}
