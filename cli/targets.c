#include "cli/targets.h"

#include <string.h>

#include "cli/client_config.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "proto/diag.h"
#include "proto/manifest.h"
#include "proto/validate.h"

void minik_target_list_clear(minik_target_list_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].ns);
        free(l->v[i].name);
        free(l->v[i].where);
        cJSON_Delete(l->v[i].obj);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

static minik_target_t *add(minik_target_list_t *l)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    minik_target_t *r = &l->v[l->n++];
    memset(r, 0, sizeof *r);
    return r;
}

int minik_targets_from_args(char **args, int nargs, bool require_name, minik_target_list_t *out,
                            minik_error_t **err)
{
    if (nargs <= 0)
        return minik_error_set(err, 0, "no resource given");
    if (strchr(args[0], '/')) {
        for (int i = 0; i < nargs; i++) {
            const char *slash = strchr(args[i], '/');
            if (!slash || !slash[1]) {
                minik_target_list_clear(out);
                return minik_error_set(err, 0,
                                       "\"%s\": use KIND/NAME for every argument once one is in "
                                       "that form",
                                       args[i]);
            }
            cleanup_free char *kname = xstrndup(args[i], (size_t)(slash - args[i]));
            const minik_kind_t *k = minik_cli_kind(kname, err);
            if (!k) {
                minik_target_list_clear(out);
                return -1;
            }
            minik_target_t *r = add(out);
            r->kind = k;
            r->name = xstrdup(slash + 1);
        }
        return 0;
    }
    const minik_kind_t *k = minik_cli_kind(args[0], err);
    if (!k)
        return -1;
    if (nargs < 2 && require_name)
        return minik_error_set(err, 0, "resource(s) were provided, but no name was specified");
    for (int i = 1; i < nargs; i++) {
        minik_target_t *r = add(out);
        r->kind = k;
        r->name = xstrdup(args[i]);
    }
    return 0;
}

static const char *str_member(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int minik_targets_from_files(char *const *paths, bool validate, int mode, minik_target_list_t *out,
                             minik_error_t **err)
{
    minik_manifest_t *m = minik_manifest_new();
    cleanup_diags minik_diags_t diags = MINIK_DIAGS_INIT;
    for (char *const *p = paths; *p; p++)
        minik_manifest_decode_path(m, *p, &diags);
    if (diags.n_errors == 0) {
        for (size_t i = 0; i < m->n_docs; i++) {
            minik_doc_t *d = &m->docs[i];
            const minik_kind_t *k = NULL;
            if (validate) {
                if (minik_validate(d->obj, m->pos, d->source, (minik_validate_mode_t)mode, &diags,
                                   &k) > 0)
                    continue;
            } else {
                const char *av = str_member(d->obj, "apiVersion");
                const char *kind = str_member(d->obj, "kind");
                k = av && kind ? minik_kind_lookup(av, kind) : NULL;
                if (!k) {
                    minik_diags_add(&diags, MINIK_DIAG_ERROR, d->source, d->line, 1, "",
                                    "unknown apiVersion/kind \"%s\"/\"%s\"", av ? av : "",
                                    kind ? kind : "");
                    continue;
                }
            }
            const cJSON *md = cJSON_GetObjectItemCaseSensitive(d->obj, "metadata");
            const char *name = str_member(md, "name");
            if (!k || !name || !*name) {
                if (k)
                    minik_diags_add(&diags, MINIK_DIAG_ERROR, d->source, d->line, 1,
                                    "metadata.name", "required to apply or delete by manifest");
                continue;
            }
            minik_target_t *r = add(out);
            r->kind = k;
            r->name = xstrdup(name);
            const char *ns = str_member(md, "namespace");
            if (ns && *ns && k->namespaced)
                r->ns = xstrdup(ns);
            r->where = d->source ? xasprintf("%s:%u", d->source, d->line) : NULL;
            r->obj = d->obj;
            d->obj = NULL; /* the resource owns the document now */
        }
    }
    minik_manifest_free(m);
    if (diags.len) {
        minik_buf_t b = MINIK_BUF_INIT;
        minik_diags_format(&diags, &b);
        fputs(b.data ? b.data : "", stderr);
        minik_buf_free(&b);
    }
    if (diags.n_errors) {
        minik_target_list_clear(out);
        return minik_error_set(err, 0, "%zu error%s in the manifest%s", diags.n_errors,
                               diags.n_errors == 1 ? "" : "s", paths[1] ? "s" : "");
    }
    if (out->n == 0)
        return minik_error_set(err, 0, "no objects passed to the command");
    return 0;
}

int minik_targets_resolve_namespaces(minik_target_list_t *l, const char *ns, bool explicit_ns,
                                     minik_error_t **err)
{
    for (size_t i = 0; i < l->n; i++) {
        minik_target_t *r = &l->v[i];
        if (!r->kind->namespaced) {
            free(r->ns);
            r->ns = NULL;
            continue;
        }
        if (r->ns && explicit_ns && strcmp(r->ns, ns) != 0)
            return minik_error_set(err, 0,
                                   "the namespace from the provided object \"%s\" does not match "
                                   "the namespace \"%s\"; pass --namespace=%s to act on it",
                                   r->ns, ns, r->ns);
        if (!r->ns)
            r->ns = xstrdup(ns);
        if (r->obj) {
            cJSON *md = cJSON_GetObjectItemCaseSensitive(r->obj, "metadata");
            if (cJSON_IsObject(md) && !cJSON_GetObjectItemCaseSensitive(md, "namespace"))
                cJSON_AddStringToObject(md, "namespace", r->ns);
        }
    }
    return 0;
}

int minik_targets_from_list(minik_client_t *c, const minik_kind_t *k, const char *ns,
                            const char *selector, minik_target_list_t *out, minik_error_t **err)
{
    cleanup_free char *esc = selector ? minik_client_escape(selector) : NULL;
    cleanup_free char *q = esc ? xasprintf("labelSelector=%s", esc) : NULL;
    cleanup_free char *path = minik_client_path(k->api_version, k->plural, k->namespaced,
                                                k->namespaced ? ns : NULL, NULL, NULL, q);
    cleanup_cjson cJSON *list = NULL;
    if (minik_client_json(c, "GET", path, NULL, NULL, &list, err) < 0)
        return -1;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(list, "items"))
    {
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(it, "metadata");
        const char *name = str_member(md, "name");
        if (!name)
            continue;
        minik_target_t *r = add(out);
        r->kind = k;
        r->name = xstrdup(name);
        const char *ins = str_member(md, "namespace");
        r->ns = k->namespaced ? xstrdup(ins ? ins : ns) : NULL;
    }
    return 0;
}

typedef struct wait_ctx {
    bool gone;
} wait_ctx_t;

static int on_wait_event(const char *type, const cJSON *object, void *ud)
{
    wait_ctx_t *w = ud;
    if (strcmp(type, "DELETED") == 0) {
        w->gone = true;
        return 1;
    }
    return 0;
}

int minik_target_wait_deleted(minik_client_t *c, const minik_target_t *r, int64_t timeout_ms,
                              minik_error_t **err)
{
    const minik_kind_t *k = r->kind;
    cleanup_free char *res = minik_cli_resource_name(k);
    cleanup_free char *fs = xasprintf("metadata.name=%s", r->name);
    cleanup_free char *efs = minik_client_escape(fs);
    cleanup_free char *q = xasprintf("fieldSelector=%s", efs);
    cleanup_free char *list_path =
        minik_client_path(k->api_version, k->plural, k->namespaced, r->ns, NULL, NULL, q);
    cleanup_cjson cJSON *list = NULL;
    if (minik_client_json(c, "GET", list_path, NULL, NULL, &list, err) < 0)
        return -1;
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items");
    if (cJSON_GetArraySize(items) == 0)
        return 0;
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(list, "metadata");
    const char *rv = str_member(md, "resourceVersion");
    cleanup_free char *erv = minik_client_escape(rv ? rv : "");
    cleanup_free char *wq = xasprintf("%s&watch=1&resourceVersion=%s&timeoutSeconds=%lld", q, erv,
                                      (long long)(timeout_ms + 999) / 1000);
    cleanup_free char *watch_path =
        minik_client_path(k->api_version, k->plural, k->namespaced, r->ns, NULL, NULL, wq);
    wait_ctx_t w = {false};
    minik_client_set_watch_timeout(c, timeout_ms);
    int ret = minik_client_watch(c, watch_path, on_wait_event, &w, err);
    minik_client_set_watch_timeout(c, 0);
    if (ret < 0)
        return minik_error_wrap(err, "waiting for %s \"%s\" to be deleted", res, r->name);
    if (!w.gone) {
        return minik_error_set(err, 0, "timed out after %llds waiting for %s \"%s\" to be deleted",
                               (long long)timeout_ms / 1000, res, r->name);
    }
    return 0;
}
