/* Small helpers shared by the controllers: JSON paths, owner references, pod readiness,
 * conditions, times, int-or-percent. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "controllers/internal.h"
#include "lib/log.h"
#include "lib/timestamp.h"
#include "lib/xalloc.h"
#include "proto/selector.h"

const cJSON *minik_ctl_get(const cJSON *obj, const char *path)
{
    const char *p = path;
    while (obj && *p) {
        /* Annotation and label keys contain dots: a member named like the rest of the
         * path wins over splitting it. */
        const cJSON *whole = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, p) : NULL;
        if (whole)
            return whole;
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char part[128];
        if (n >= sizeof(part))
            return NULL;
        memcpy(part, p, n);
        part[n] = '\0';
        obj = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, part) : NULL;
        p += n + (dot ? 1 : 0);
    }
    return obj;
}

const char *minik_ctl_str(const cJSON *obj, const char *path)
{
    const cJSON *v = minik_ctl_get(obj, path);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A JSON number as an integer without UB: non-integral parts dropped, NaN as 0, and
 * magnitudes kept within 2^53 (what a double holds exactly). */
static int64_t clamp_double(double d)
{
    const double lim = 9007199254740992.0;
    if (!(d == d))
        return 0;
    if (d > lim)
        return (int64_t)lim;
    if (d < -lim)
        return -(int64_t)lim;
    return (int64_t)d;
}

int64_t minik_ctl_int(const cJSON *obj, const char *path, int64_t dflt)
{
    const cJSON *v = minik_ctl_get(obj, path);
    if (cJSON_IsNumber(v))
        return clamp_double(v->valuedouble);
    /* Annotations carry numbers as strings (deployment.kubernetes.io/revision). */
    if (cJSON_IsString(v) && v->valuestring[0]) {
        char *end;
        errno = 0;
        long long n = strtoll(v->valuestring, &end, 10);
        if (!errno && !*end)
            return n;
    }
    return dflt;
}

cJSON *minik_ctl_obj(cJSON *obj, const char *key)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsObject(v))
        return v;
    if (v)
        cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    return cJSON_AddObjectToObject(obj, key);
}

void minik_ctl_set_str(cJSON *obj, const char *key, const char *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddStringToObject(obj, key, v);
}

void minik_ctl_set_int(cJSON *obj, const char *key, int64_t v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddNumberToObject(obj, key, (double)v);
}

char *minik_ctl_key(const char *ns, const char *name)
{
    return xasprintf("%s/%s", ns ? ns : "", name ? name : "");
}

void minik_ctl_split_key(const char *key, char **ns, char **name)
{
    const char *slash = strchr(key, '/');
    if (!slash) {
        *ns = xstrdup("");
        *name = xstrdup(key);
        return;
    }
    *ns = xstrndup(key, (size_t)(slash - key));
    *name = xstrdup(slash + 1);
}

const cJSON *minik_ctl_controller_ref(const cJSON *obj)
{
    const cJSON *ref;
    cJSON_ArrayForEach(ref, minik_ctl_get(obj, "metadata.ownerReferences"))
    {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ref, "controller")))
            return ref;
    }
    return NULL;
}

bool minik_ctl_owned_by(const cJSON *obj, const char *uid)
{
    const cJSON *ref = minik_ctl_controller_ref(obj);
    const char *u = minik_ctl_str(ref, "uid");
    return u && uid && strcmp(u, uid) == 0;
}

cJSON *minik_ctl_owner_ref(const cJSON *owner)
{
    cJSON *ref = cJSON_CreateObject();
    cJSON_AddStringToObject(ref, "apiVersion", minik_ctl_str(owner, "apiVersion"));
    cJSON_AddStringToObject(ref, "kind", minik_ctl_str(owner, "kind"));
    cJSON_AddStringToObject(ref, "name", minik_ctl_str(owner, "metadata.name"));
    cJSON_AddStringToObject(ref, "uid", minik_ctl_str(owner, "metadata.uid"));
    cJSON_AddBoolToObject(ref, "controller", 1);
    cJSON_AddBoolToObject(ref, "blockOwnerDeletion", 1);
    return ref;
}

static bool owned_filter(const cJSON *obj, void *ud)
{
    return minik_ctl_owned_by(obj, ud);
}

cJSON *minik_ctl_list_owned(minik_controllers_t *c, const char *kind, const char *ns,
                            const char *uid)
{
    /* Pods come from the watch-fed index: no store scan per reconcile. */
    if (strcmp(kind, "Pod") == 0)
        return minik_podindex_owned(&c->pods, ns, uid);
    cJSON *items = NULL;
    minik_error_t *err = NULL;
    /* An owned object's stored JSON contains its owner's uid: others are not even parsed
     * (a ReplicaSet re-listing its pods among 100,000). */
    minik_store_list_opts_t o = {.contains = uid};
    if (minik_store_list_opts(c->store, kind, ns, &o, owned_filter, (void *)uid, &items, NULL,
                              &err) < 0) {
        minik_log_warn("controllers: list failed", "kind", kind, "error", err->msg, NULL);
        minik_error_free(err);
        return NULL;
    }
    return items;
}

/* The helpers below run for every pod of a ReplicaSet on each reconcile (20,000 pods at
 * scale): they look members up directly instead of parsing dotted paths. */
static const cJSON *member(const cJSON *obj, const char *name)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
}

static const char *member_str(const cJSON *obj, const char *name)
{
    const cJSON *v = member(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool minik_ctl_terminating(const cJSON *obj)
{
    return member(member(obj, "metadata"), "deletionTimestamp") != NULL;
}

bool minik_ctl_pod_active(const cJSON *pod)
{
    if (minik_ctl_terminating(pod))
        return false;
    const char *phase = member_str(member(pod, "status"), "phase");
    return !phase || (strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0);
}

const cJSON *minik_ctl_condition(const cJSON *obj, const char *type)
{
    const cJSON *cond;
    cJSON_ArrayForEach(cond, member(member(obj, "status"), "conditions"))
    {
        const char *t = member_str(cond, "type");
        if (t && strcmp(t, type) == 0)
            return cond;
    }
    return NULL;
}

bool minik_ctl_pod_ready(const cJSON *pod)
{
    const char *s = member_str(minik_ctl_condition(pod, "Ready"), "status");
    return s && strcmp(s, "True") == 0 && minik_ctl_pod_active(pod);
}

bool minik_ctl_pod_available(const cJSON *pod, int64_t min_ready, time_t now, int64_t *wait_s)
{
    if (!minik_ctl_pod_ready(pod))
        return false;
    if (min_ready <= 0)
        return true;
    time_t since = minik_ctl_parse_time(
        minik_ctl_str(minik_ctl_condition(pod, "Ready"), "lastTransitionTime"));
    if (since && now - since >= min_ready)
        return true;
    if (wait_s)
        *wait_s = since ? min_ready - (int64_t)(now - since) : min_ready;
    if (wait_s && *wait_s < 1)
        *wait_s = 1;
    return false;
}

char *minik_ctl_random_suffix(void)
{
    /* Kubernetes' generateName alphabet: no vowels (no words), no look-alikes. */
    static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    unsigned char r[5] = {0};
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        /* Fall back to a weak source: a collision only costs a 409 and a retry. */
        for (size_t i = 0; i < sizeof(r); i++)
            r[i] = (unsigned char)rand();
    }
    char *s = xmalloc(6);
    for (size_t i = 0; i < 5; i++)
        s[i] = alphabet[r[i] % (sizeof(alphabet) - 1)];
    s[5] = '\0';
    return s;
}

cJSON *minik_ctl_pod_from_template(const cJSON *tmpl, const char *ns, const char *prefix,
                                   const cJSON *owner)
{
    cJSON *pod = cJSON_CreateObject();
    cJSON_AddStringToObject(pod, "apiVersion", "v1");
    cJSON_AddStringToObject(pod, "kind", "Pod");
    cJSON *md = cJSON_AddObjectToObject(pod, "metadata");
    char *suffix = minik_ctl_random_suffix();
    char *name = xasprintf("%s-%s", prefix, suffix);
    free(suffix);
    cJSON_AddStringToObject(md, "name", name);
    free(name);
    char *gen = xasprintf("%s-", prefix);
    cJSON_AddStringToObject(md, "generateName", gen);
    free(gen);
    cJSON_AddStringToObject(md, "namespace", ns);
    const cJSON *labels = minik_ctl_get(tmpl, "metadata.labels");
    if (labels)
        cJSON_AddItemToObject(md, "labels", cJSON_Duplicate(labels, 1));
    const cJSON *ann = minik_ctl_get(tmpl, "metadata.annotations");
    if (ann)
        cJSON_AddItemToObject(md, "annotations", cJSON_Duplicate(ann, 1));
    cJSON *refs = cJSON_AddArrayToObject(md, "ownerReferences");
    cJSON_AddItemToArray(refs, minik_ctl_owner_ref(owner));
    const cJSON *spec = minik_ctl_get(tmpl, "spec");
    cJSON_AddItemToObject(pod, "spec", spec ? cJSON_Duplicate(spec, 1) : cJSON_CreateObject());
    cJSON *st = cJSON_AddObjectToObject(pod, "status");
    cJSON_AddStringToObject(st, "phase", "Pending");
    return pod;
}

time_t minik_ctl_now(void)
{
    return time(NULL);
}

char *minik_ctl_format_time(time_t t)
{
    return minik_timestamp_new(t);
}

time_t minik_ctl_parse_time(const char *s)
{
    int64_t t = minik_timestamp_parse(s);
    return t < 0 ? 0 : (time_t)t;
}

bool minik_ctl_set_condition(cJSON *status, const char *type, const char *cstatus,
                             const char *reason, const char *message, time_t now, bool update_time)
{
    cJSON *conds = cJSON_GetObjectItemCaseSensitive(status, "conditions");
    if (!cJSON_IsArray(conds)) {
        cJSON_DeleteItemFromObjectCaseSensitive(status, "conditions");
        conds = cJSON_AddArrayToObject(status, "conditions");
    }
    cJSON *cond = NULL, *it;
    cJSON_ArrayForEach(it, conds)
    {
        const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "type"));
        if (t && strcmp(t, type) == 0)
            cond = it;
    }
    char *ts = minik_ctl_format_time(now);
    bool changed = false;
    if (!cond) {
        cond = cJSON_CreateObject();
        cJSON_AddStringToObject(cond, "type", type);
        cJSON_AddItemToArray(conds, cond);
        changed = true;
    }
    const char *old_status = minik_ctl_str(cond, "status");
    if (!old_status || strcmp(old_status, cstatus) != 0) {
        minik_ctl_set_str(cond, "status", cstatus);
        minik_ctl_set_str(cond, "lastTransitionTime", ts);
        minik_ctl_set_str(cond, "lastUpdateTime", ts);
        changed = true;
    }
    const char *old_reason = minik_ctl_str(cond, "reason");
    if (reason && (!old_reason || strcmp(old_reason, reason) != 0)) {
        minik_ctl_set_str(cond, "reason", reason);
        minik_ctl_set_str(cond, "lastUpdateTime", ts);
        changed = true;
    }
    const char *old_msg = minik_ctl_str(cond, "message");
    if (message && (!old_msg || strcmp(old_msg, message) != 0)) {
        minik_ctl_set_str(cond, "message", message);
        changed = true;
    }
    const char *old_update = minik_ctl_str(cond, "lastUpdateTime");
    if (update_time && (!old_update || strcmp(old_update, ts) != 0)) {
        minik_ctl_set_str(cond, "lastUpdateTime", ts);
        changed = true;
    }
    free(ts);
    return changed;
}

int64_t minik_ctl_scaled(const cJSON *v, int64_t total, bool round_up, int64_t dflt_pct)
{
    int64_t pct = dflt_pct;
    if (cJSON_IsNumber(v))
        return clamp_double(v->valuedouble);
    if (cJSON_IsString(v)) {
        char *end;
        errno = 0;
        long long n = strtoll(v->valuestring, &end, 10);
        if (*end != '%')
            return errno ? 0 : n; /* a bare number in a string counts as an int */
        pct = n;
    }
    /* Keep the product in range: no real count or percentage comes near these. */
    if (pct < 0)
        pct = 0;
    if (pct > 1000000)
        pct = 1000000;
    if (total < 0)
        total = 0;
    if (total > 1000000000)
        total = 1000000000;
    int64_t num = pct * total;
    return round_up ? (num + 99) / 100 : num / 100;
}

/* Orphans of `kind` in the owner's namespace that its spec.selector matches (no
 * controller reference, not being deleted, a non-empty selector). */
typedef struct adopt_ctx {
    minik_selector_t *sel;
} adopt_ctx_t;

static bool orphan_filter(const cJSON *obj, void *ud)
{
    adopt_ctx_t *a = ud;
    return !minik_ctl_controller_ref(obj) && !minik_ctl_terminating(obj) &&
           minik_selector_matches(a->sel, minik_ctl_get(obj, "metadata.labels"));
}

int minik_ctl_adopt(minik_controllers_t *c, minik_wq_t *q, const char *key, const cJSON *owner,
                    const char *kind)
{
    adopt_ctx_t a = {0};
    minik_error_t *err = NULL;
    const cJSON *sel = minik_ctl_get(owner, "spec.selector");
    if (!cJSON_IsObject(sel) || minik_selector_from_json(sel, &a.sel, &err) < 0 ||
        minik_selector_is_empty(a.sel)) {
        minik_error_free(err);
        minik_selector_free(a.sel);
        return 0;
    }
    cJSON *items = NULL;
    const char *ns = minik_ctl_str(owner, "metadata.namespace");
    /* Only objects without a controller can be adopted; SQLite skips the others unparsed,
     * and orphan pods come straight from the index. */
    minik_store_list_opts_t o = {.no_controller = true};
    if (strcmp(kind, "Pod") == 0) {
        items = minik_podindex_orphans(&c->pods, ns);
        cJSON *p = items->child;
        while (p) {
            cJSON *next = p->next;
            if (!orphan_filter(p, &a))
                cJSON_Delete(cJSON_DetachItemViaPointer(items, p)); /* a reference: frees no pod */
            p = next;
        }
    } else if (minik_store_list_opts(c->store, kind, ns, &o, orphan_filter, &a, &items, NULL,
                                     &err) < 0) {
        minik_error_free(err);
        minik_selector_free(a.sel);
        return 0;
    }
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        if (strcmp(kind, "Pod") == 0 && !minik_ctl_pod_active(it))
            continue;
        cJSON *upd = cJSON_Duplicate(it, 1);
        cJSON *md = minik_ctl_obj(upd, "metadata");
        cJSON *refs = cJSON_GetObjectItemCaseSensitive(md, "ownerReferences");
        if (!cJSON_IsArray(refs)) {
            cJSON_DeleteItemFromObjectCaseSensitive(md, "ownerReferences");
            refs = cJSON_AddArrayToObject(md, "ownerReferences");
        }
        cJSON_AddItemToArray(refs, minik_ctl_owner_ref(owner));
        minik_log_info("adopting an orphan", "owner", key, "kind", kind, "name",
                       minik_ctl_str(it, "metadata.name"), NULL);
        minik_ctl_write(c, q, key, MINIK_STORE_OP_UPDATE, upd); /* CAS on its rv */
        n++;
    }
    cJSON_Delete(items);
    minik_selector_free(a.sel);
    return n;
}
