#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controllers/internal.h"
#include "lib/xalloc.h"
#include "tests/unit/ctl_helpers.h"
#include "tests/unit/store_helpers.h"

int64_t cf_int(const cJSON *obj, const char *path, int64_t dflt)
{
    return minik_ctl_int(obj, path, dflt);
}

const char *cf_str(const cJSON *obj, const char *path)
{
    return minik_ctl_str(obj, path);
}

const char *cf_cond(const cJSON *obj, const char *type, const char *field)
{
    return minik_ctl_str(minik_ctl_condition(obj, type), field);
}

static cf_pod_t *pod_entry(ctl_fix_t *f, const char *name)
{
    for (int i = 0; i < f->n_pods; i++)
        if (strcmp(f->pods[i].name, name) == 0)
            return &f->pods[i];
    assert_true(f->n_pods < CF_MAX_PODS);
    cf_pod_t *p = &f->pods[f->n_pods++];
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "%s", name);
    return p;
}

static int node_index(const ctl_fix_t *f, const char *name)
{
    for (int i = 0; i < f->n_nodes; i++)
        if (strcmp(f->nodes[i], name) == 0)
            return i;
    return -1;
}

static void hk_done(int status, cJSON *result, minik_error_t *err, void *ud)
{
    ctl_fix_t *f = ud;
    f->hk_pending--;
    /* Conflicts are fine: the next event of the pod brings it back here. */
    cJSON_Delete(result);
    minik_error_free(err);
}

/* The hollow kubelet: bind, then report the status the test asked for. */
static void hollow_kubelet(ctl_fix_t *f, const cJSON *pod)
{
    if (f->mode == HK_IGNORE || minik_ctl_terminating(pod))
        return;
    const char *phase = minik_ctl_str(pod, "status.phase");
    if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0 ||
                  strcmp(phase, "Running") == 0))
        return;
    const char *node = minik_ctl_str(pod, "spec.nodeName");
    cJSON *upd = cJSON_Duplicate(pod, 1);
    if (!node) {
        if (!f->bind)
            goto drop;
        for (int tries = 0; tries < f->n_nodes && !node; tries++) {
            int i = f->rr++ % f->n_nodes;
            if (!f->node_down[i])
                node = f->nodes[i];
        }
        if (!node)
            goto drop;
        minik_ctl_set_str(minik_ctl_obj(upd, "spec"), "nodeName", node);
    } else {
        int i = node_index(f, node);
        if (i >= 0 && f->node_down[i])
            goto drop;
    }
    cJSON *st = minik_ctl_obj(upd, "status");
    time_t now = time(NULL);
    switch (f->mode) {
    case HK_READY:
        minik_ctl_set_str(st, "phase", "Running");
        minik_ctl_set_condition(st, "Ready", "True", NULL, NULL, now, false);
        break;
    case HK_NOT_READY:
        minik_ctl_set_str(st, "phase", "Running");
        minik_ctl_set_condition(st, "Ready", "False", NULL, NULL, now, false);
        break;
    case HK_SUCCEED:
        minik_ctl_set_str(st, "phase", "Succeeded");
        break;
    case HK_FAIL:
        minik_ctl_set_str(st, "phase", "Failed");
        break;
    case HK_IGNORE:
        break;
    }
    f->hk_pending++;
    minik_store_submit(f->store, MINIK_STORE_OP_UPDATE, upd, hk_done, f);
    return;
drop:
    cJSON_Delete(upd);
}

static void on_pod(const minik_store_event_t *ev, void *ud)
{
    ctl_fix_t *f = ud;
    const cJSON *pod = ev->object;
    const char *name = minik_ctl_str(pod, "metadata.name");
    cf_pod_t *p = pod_entry(f, name);
    const char *hash = minik_ctl_str(pod, "metadata.labels." MINIK_LABEL_TEMPLATE_HASH);
    if (!hash)
        hash = minik_ctl_str(pod, "metadata.labels." MINIK_LABEL_REVISION_HASH);
    snprintf(p->hash, sizeof(p->hash), "%s", hash ? hash : "");
    const char *node = minik_ctl_str(pod, "spec.nodeName");
    snprintf(p->node, sizeof(p->node), "%s", node ? node : "");
    if (ev->type == MINIK_STORE_ADDED)
        f->pods_created++;
    p->exists = ev->type != MINIK_STORE_DELETED;
    p->active = p->exists && minik_ctl_pod_active(pod);
    p->ready = p->exists && minik_ctl_pod_ready(pod);
    if (p->exists)
        hollow_kubelet(f, pod);
    if (f->hook)
        f->hook(f, f->hook_ud);
}

ctl_fix_t *cf_new(const minik_controllers_opts_t *opts)
{
    ctl_fix_t *f = xcalloc(1, sizeof(*f));
    f->dir = th_tmpdir();
    assert_int_equal(uv_loop_init(&f->loop), 0);
    char *path = th_db_path(f->dir);
    minik_error_t *err = NULL;
    assert_int_equal(minik_store_open(path, NULL, &f->store, &err), 0);
    free(path);
    assert_int_equal(minik_store_attach_loop(f->store, &f->loop, &err), 0);
    assert_int_equal(
        minik_store_watch(f->store, "Pod", NULL, NULL, NULL, 0, on_pod, f, &f->watch, &err), 0);
    f->bind = true;
    f->mode = HK_READY;
    assert_int_equal(minik_controllers_new(f->store, &f->loop, opts, &f->ctl, &err), 0);
    assert_int_equal(minik_controllers_start(f->ctl, &err), 0);
    return f;
}

static void closed_cb(void *ud)
{
    *(bool *)ud = true;
}

void cf_free(ctl_fix_t *f)
{
    minik_controllers_free(f->ctl);
    minik_store_unwatch(f->watch);
    bool closed = false;
    minik_store_close_async(f->store, closed_cb, &closed);
    while (!closed)
        uv_run(&f->loop, UV_RUN_ONCE);
    minik_store_free(f->store);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    th_rmdir(f->dir);
    free(f);
}

static void on_timeout(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

bool cf_run_until(ctl_fix_t *f, bool (*pred)(ctl_fix_t *f, void *ud), void *ud, uint64_t timeout_ms)
{
    uv_timer_t t;
    bool timed_out = false;
    uv_timer_init(&f->loop, &t);
    t.data = &timed_out;
    uv_timer_start(&t, on_timeout, timeout_ms, 0);
    bool ok = false;
    while (!(ok = pred(f, ud)) && !timed_out)
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    return ok;
}

static bool never(ctl_fix_t *f, void *ud)
{
    return false;
}

void cf_run_for(ctl_fix_t *f, uint64_t ms)
{
    cf_run_until(f, never, NULL, ms);
}

void cf_add_node(ctl_fix_t *f, const char *name, const char *label_kv, const char *taint_key)
{
    cJSON *n = cJSON_CreateObject();
    cJSON_AddStringToObject(n, "apiVersion", "v1");
    cJSON_AddStringToObject(n, "kind", "Node");
    cJSON *md = cJSON_AddObjectToObject(n, "metadata");
    cJSON_AddStringToObject(md, "name", name);
    cJSON *labels = cJSON_AddObjectToObject(md, "labels");
    cJSON_AddStringToObject(labels, "kubernetes.io/hostname", name);
    if (label_kv) {
        char *eq = strchr(label_kv, '=');
        char *k = xstrndup(label_kv, (size_t)(eq - label_kv));
        cJSON_AddStringToObject(labels, k, eq + 1);
        free(k);
    }
    cJSON *spec = cJSON_AddObjectToObject(n, "spec");
    if (taint_key) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "key", taint_key);
        cJSON_AddStringToObject(t, "effect", "NoSchedule");
        cJSON_AddItemToArray(cJSON_AddArrayToObject(spec, "taints"), t);
    }
    cJSON *st = cJSON_AddObjectToObject(n, "status");
    cJSON *alloc = cJSON_AddObjectToObject(st, "allocatable");
    cJSON_AddStringToObject(alloc, "cpu", "8");
    cJSON_AddStringToObject(alloc, "memory", "32Gi");
    cJSON_AddStringToObject(alloc, "pods", "110");
    cf_create(f, n);
    assert_true(f->n_nodes < CF_MAX_NODES);
    f->nodes[f->n_nodes++] = name;
}

void cf_create(ctl_fix_t *f, cJSON *obj)
{
    minik_error_t *err = NULL;
    int r = minik_store_create(f->store, obj, NULL, &err);
    if (r < 0)
        fail_msg("create: %s", err->msg);
    cJSON_Delete(obj);
}

void cf_update(ctl_fix_t *f, cJSON *obj)
{
    minik_error_t *err = NULL;
    int r = minik_store_update(f->store, obj, NULL, &err);
    if (r < 0)
        fail_msg("update: %s", err->msg);
    cJSON_Delete(obj);
}

int cf_delete(ctl_fix_t *f, const char *kind, const char *ns, const char *name)
{
    minik_error_t *err = NULL;
    int r = minik_store_delete(f->store, kind, ns, name, NULL, NULL, &err);
    minik_error_free(err);
    return r;
}

cJSON *cf_get(ctl_fix_t *f, const char *kind, const char *ns, const char *name)
{
    cJSON *o = NULL;
    minik_error_t *err = NULL;
    if (minik_store_get(f->store, kind, ns, name, &o, &err) < 0) {
        minik_error_free(err);
        return NULL;
    }
    return o;
}

cJSON *cf_list(ctl_fix_t *f, const char *kind, const char *ns)
{
    cJSON *items = NULL;
    minik_error_t *err = NULL;
    assert_int_equal(minik_store_list(f->store, kind, ns, NULL, NULL, &items, NULL, &err), 0);
    return items;
}

int cf_count(ctl_fix_t *f, const char *kind, const char *ns)
{
    cJSON *items = cf_list(f, kind, ns);
    int n = cJSON_GetArraySize(items);
    cJSON_Delete(items);
    return n;
}

int cf_active(const ctl_fix_t *f, const char *hash)
{
    int n = 0;
    for (int i = 0; i < f->n_pods; i++)
        if (f->pods[i].active && (!hash || strcmp(f->pods[i].hash, hash) == 0))
            n++;
    return n;
}

int cf_ready(const ctl_fix_t *f, const char *hash)
{
    int n = 0;
    for (int i = 0; i < f->n_pods; i++)
        if (f->pods[i].ready && (!hash || strcmp(f->pods[i].hash, hash) == 0))
            n++;
    return n;
}

static cJSON *pod_template(const char *app, const char *image, const char *restart)
{
    cJSON *t = cJSON_CreateObject();
    cJSON *md = cJSON_AddObjectToObject(t, "metadata");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(md, "labels"), "app", app);
    cJSON *spec = cJSON_AddObjectToObject(t, "spec");
    cJSON_AddStringToObject(spec, "restartPolicy", restart);
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", "main");
    cJSON_AddStringToObject(c, "image", image);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(spec, "containers"), c);
    return t;
}

static cJSON *base(const char *api, const char *kind, const char *name)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "apiVersion", api);
    cJSON_AddStringToObject(o, "kind", kind);
    cJSON *md = cJSON_AddObjectToObject(o, "metadata");
    cJSON_AddStringToObject(md, "name", name);
    cJSON_AddStringToObject(md, "namespace", "default");
    cJSON_AddNumberToObject(md, "generation", 1);
    return o;
}

cJSON *cf_deployment(const char *name, int replicas, const char *image)
{
    cJSON *d = base("apps/v1", "Deployment", name);
    cJSON *spec = cJSON_AddObjectToObject(d, "spec");
    cJSON_AddNumberToObject(spec, "replicas", replicas);
    cJSON *sel = cJSON_AddObjectToObject(spec, "selector");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(sel, "matchLabels"), "app", name);
    cJSON_AddItemToObject(spec, "template", pod_template(name, image, "Always"));
    return d;
}

cJSON *cf_job(const char *name, int completions, int parallelism, int backoff)
{
    cJSON *j = base("batch/v1", "Job", name);
    cJSON *spec = cJSON_AddObjectToObject(j, "spec");
    cJSON_AddNumberToObject(spec, "completions", completions);
    cJSON_AddNumberToObject(spec, "parallelism", parallelism);
    cJSON_AddNumberToObject(spec, "backoffLimit", backoff);
    cJSON_AddItemToObject(spec, "template", pod_template(name, "busybox", "Never"));
    return j;
}

cJSON *cf_daemonset(const char *name, const char *image)
{
    cJSON *d = base("apps/v1", "DaemonSet", name);
    cJSON *spec = cJSON_AddObjectToObject(d, "spec");
    cJSON *sel = cJSON_AddObjectToObject(spec, "selector");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(sel, "matchLabels"), "app", name);
    cJSON_AddItemToObject(spec, "template", pod_template(name, image, "Always"));
    return d;
}
