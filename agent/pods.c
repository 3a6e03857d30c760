/* One pod's reconcile job (runs in libuv's thread pool, one job per pod at a time):
 * observe the runtime's view of each container, then act — start what should run (after
 * its back-off), record exits, stop everything of a deleted pod within its grace period
 * and remove what it left behind — and produce the status and events to report.
 *
 * Layout under <data-dir>/pods/<uid>/:
 *   ns/{net,ipc,uts}     the pod's namespaces, bind-mounted nsfs files (the sandbox)
 *   volumes/<name>/      emptyDir, configMap and secret volumes
 *   bundles/<id>/        config.json of each container attempt
 *   logs/<name>/<n>.log  CRI logs, one file per attempt (n = restart count) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/internal.h"
#include "agent/podspec.h"
#include "agent/sandbox.h"
#include "agent/runtime/oci.h"
#include "agent/runtime/state.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/kubeconfig.h"

static const char *str_at(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int64_t minik_agent_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = v ? xstrdup(v) : NULL;
}

static void ctr_clear(agent_ctr_t *c)
{
    free(c->name);
    free(c->id);
    free(c->started_at);
    free(c->last_reason);
    free(c->last_started);
    free(c->last_finished);
    free(c->last_message);
    free(c->wait_reason);
    free(c->wait_message);
}

agent_pod_t *minik_agent_pod_new(struct minik_agent *a, const char *uid, const char *ns,
                                 const char *name)
{
    agent_pod_t *p = xcalloc(1, sizeof(*p));
    p->agent = a;
    p->uid = xstrdup(uid);
    p->ns = xstrdup(ns ? ns : "");
    p->name = xstrdup(name ? name : "");
    p->work.data = p;
    p->next = a->pods;
    a->pods = p;
    return p;
}

void minik_agent_pod_free(agent_pod_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_ctrs; i++)
        ctr_clear(&p->ctrs[i]);
    free(p->ctrs);
    free(p->uid);
    free(p->ns);
    free(p->name);
    cJSON_Delete(p->obj);
    cJSON_Delete(p->job_obj);
    cJSON_Delete(p->status_out);
    cJSON_Delete(p->events_out);
    free(p->start_time);
    free(p->pod_ip);
    free(p->status_sent);
    free(p->status_inflight);
    free(p);
}

static agent_ctr_t *ctr_find(agent_pod_t *p, const char *name, bool init)
{
    for (size_t i = 0; i < p->n_ctrs; i++)
        if (strcmp(p->ctrs[i].name, name) == 0 && p->ctrs[i].init == init)
            return &p->ctrs[i];
    return NULL;
}

static agent_ctr_t *ctr_add(agent_pod_t *p, const char *name, bool init)
{
    p->ctrs = xrealloc(p->ctrs, (p->n_ctrs + 1) * sizeof(*p->ctrs));
    agent_ctr_t *c = &p->ctrs[p->n_ctrs++];
    memset(c, 0, sizeof(*c));
    c->name = xstrdup(name);
    c->init = init;
    return c;
}

/* Containers in spec order (init containers first), keeping what is known about each. */
static void ensure_ctrs(agent_pod_t *p, const cJSON *pod)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    const char *lists[2] = {"initContainers", "containers"};
    size_t want = 0;
    for (int k = 0; k < 2; k++)
        want += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(spec, lists[k]));
    agent_ctr_t *ordered = xcalloc(want ? want : 1, sizeof(*ordered));
    size_t n = 0;
    for (int k = 0; k < 2; k++) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(spec, lists[k]))
        {
            const char *name = str_at(it, "name");
            if (!name)
                continue;
            agent_ctr_t *old = ctr_find(p, name, k == 0);
            if (old) {
                ordered[n] = *old;
                memset(old, 0, sizeof(*old));
                old->name = xstrdup(""); /* moved */
            } else {
                ordered[n].name = xstrdup(name);
                ordered[n].init = k == 0;
            }
            n++;
        }
    }
    /* Adopted containers the spec does not name any more still need stopping. */
    for (size_t i = 0; i < p->n_ctrs; i++) {
        if (p->ctrs[i].id) {
            ordered = xrealloc(ordered, (n + 1) * sizeof(*ordered));
            ordered[n++] = p->ctrs[i];
            memset(&p->ctrs[i], 0, sizeof(p->ctrs[i]));
        }
        ctr_clear(&p->ctrs[i]);
    }
    free(p->ctrs);
    p->ctrs = ordered;
    p->n_ctrs = n;
}

static const cJSON *ctr_spec(const cJSON *pod, const agent_ctr_t *c)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    const cJSON *it;
    cJSON_ArrayForEach(
        it, cJSON_GetObjectItemCaseSensitive(spec, c->init ? "initContainers" : "containers"))
    {
        if (minik_str_eq(str_at(it, "name"), c->name))
            return it;
    }
    return NULL;
}

static char *field_path(const agent_ctr_t *c)
{
    return xasprintf("spec.%s{%s}", c->init ? "initContainers" : "containers", c->name);
}

/* ---- sandbox --------------------------------------------------------------------------- */

/* The namespaces themselves: agent/sandbox.c. The pod network (CNI) is attached to ns/net
 * right after, before any container starts (netpod.c). */
static int sandbox_create(struct minik_agent *a, agent_pod_t *p, const char *hostname,
                          bool host_network, minik_error_t **err)
{
    cleanup_free char *nsdir = xasprintf("%s/%s/ns", a->pods_dir, p->uid);
    if (minik_agent_sandbox_create(nsdir, hostname, host_network, err) < 0)
        return minik_error_wrap(err, "pod %s/%s", p->ns, p->name);
    return 0;
}

static int net_setup(struct minik_agent *a, agent_pod_t *p, const cJSON *pod, minik_error_t **err)
{
    cleanup_free char *netns = xasprintf("%s/%s/ns/net", a->pods_dir, p->uid);
    return minik_agent_net_setup(a, p, pod, netns, err);
}

static void sandbox_remove(struct minik_agent *a, agent_pod_t *p)
{
    /* While ns/net still exists, so the plugins remove the veth cleanly. */
    minik_agent_net_teardown(a, p);
    for (int i = 0; i < 3; i++) {
        cleanup_free char *f =
            xasprintf("%s/%s/ns/%s", a->pods_dir, p->uid, minik_agent_sandbox_ns[i]);
        umount2(f, MNT_DETACH); /* absent or not mounted: nothing to undo */
    }
    /* Its containers' groups are gone by now. A group that cannot go (a process someone
     * moved into it) keeps the pod's directory, so that the next start of the agent finds
     * the pod (minik_agent_adopt) and tries again. */
    if (minik_agent_pod_cgroup_remove(p->uid) < 0)
        return;
    cleanup_free char *dir = xasprintf("%s/%s", a->pods_dir, p->uid);
    minik_error_t *e = NULL;
    if (minik_rm_rf(dir, &e) < 0) {
        minik_log_warn("pod directory not removed", "dir", dir, "error", e->msg, NULL);
        minik_error_free(e);
    }
}

/* ---- volumes --------------------------------------------------------------------------- */

static int fetch(minik_client_t *cl, const char *ns, const char *kind, const char *name,
                 cJSON *into, minik_error_t **err)
{
    if (cJSON_GetObjectItemCaseSensitive(into, name))
        return 0;
    cleanup_free char *path = xasprintf("/api/v1/namespaces/%s/%s/%s", ns, kind, name);
    cJSON *obj = NULL;
    if (minik_client_json(cl, "GET", path, NULL, NULL, &obj, err) < 0) {
        if ((*err)->code == 404) {
            minik_error_clear(err);
            return 0; /* missing: the users of it decide (optional or an error) */
        }
        return -1;
    }
    cJSON *data = cJSON_GetObjectItemCaseSensitive(obj, "data");
    cJSON *plain = cJSON_CreateObject();
    cJSON *pd = cJSON_AddObjectToObject(plain, "data");
    const cJSON *kv;
    cJSON_ArrayForEach(kv, data)
    {
        if (!cJSON_IsString(kv))
            continue;
        if (strcmp(kind, "secrets") == 0) {
            char *dec = NULL;
            size_t len;
            minik_error_t *e = NULL;
            if (minik_base64_decode(kv->valuestring, &dec, &len, &e) < 0) {
                minik_error_free(e);
                continue;
            }
            cJSON_AddStringToObject(pd, kv->string, dec);
            free(dec);
        } else {
            cJSON_AddStringToObject(pd, kv->string, kv->valuestring);
        }
    }
    /* stringData is write-only plain text that Kubernetes merges into data on write; a
     * server that kept it as sent still means the same thing (and it wins on conflict). */
    cJSON_ArrayForEach(kv, cJSON_GetObjectItemCaseSensitive(obj, "stringData"))
    {
        if (!cJSON_IsString(kv))
            continue;
        cJSON_DeleteItemFromObjectCaseSensitive(pd, kv->string);
        cJSON_AddStringToObject(pd, kv->string, kv->valuestring);
    }
    cJSON_Delete(obj);
    cJSON_AddItemToObject(into, name, plain);
    return 0;
}

/* The ConfigMaps and Secrets a pod uses, by name. */
static int gather_refs(struct minik_agent *a, const cJSON *pod, const char *ns, cJSON *cms,
                       cJSON *secrets, minik_error_t **err)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    cleanup_strv char **cm_names = xcalloc(1, sizeof(char *));
    cleanup_strv char **sec_names = xcalloc(1, sizeof(char *));
    size_t ncm = 0, nsec = 0;
#define PUSH(v, n, s)                                                                              \
    do {                                                                                           \
        if (s) {                                                                                   \
            v = xrealloc(v, (n + 2) * sizeof(char *));                                             \
            v[n++] = xstrdup(s);                                                                   \
            v[n] = NULL;                                                                           \
        }                                                                                          \
    } while (0)
    const cJSON *vol;
    cJSON_ArrayForEach(vol, cJSON_GetObjectItemCaseSensitive(spec, "imagePullSecrets"))
    {
        PUSH(sec_names, nsec, str_at(vol, "name"));
    }
    cJSON_ArrayForEach(vol, cJSON_GetObjectItemCaseSensitive(spec, "volumes"))
    {
        PUSH(cm_names, ncm, str_at(cJSON_GetObjectItemCaseSensitive(vol, "configMap"), "name"));
        PUSH(sec_names, nsec,
             str_at(cJSON_GetObjectItemCaseSensitive(vol, "secret"), "secretName"));
    }
    const char *lists[2] = {"initContainers", "containers"};
    for (int k = 0; k < 2; k++) {
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(spec, lists[k]))
        {
            const cJSON *e;
            cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c, "env"))
            {
                const cJSON *from = cJSON_GetObjectItemCaseSensitive(e, "valueFrom");
                PUSH(cm_names, ncm,
                     str_at(cJSON_GetObjectItemCaseSensitive(from, "configMapKeyRef"), "name"));
                PUSH(sec_names, nsec,
                     str_at(cJSON_GetObjectItemCaseSensitive(from, "secretKeyRef"), "name"));
            }
            cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c, "envFrom"))
            {
                PUSH(cm_names, ncm,
                     str_at(cJSON_GetObjectItemCaseSensitive(e, "configMapRef"), "name"));
                PUSH(sec_names, nsec,
                     str_at(cJSON_GetObjectItemCaseSensitive(e, "secretRef"), "name"));
            }
        }
    }
#undef PUSH
    if (ncm + nsec == 0)
        return 0;
    minik_client_t *cl = NULL;
    if (minik_client_new(&a->ccfg, &cl, err) < 0)
        return -1;
    int r = 0;
    for (size_t i = 0; r == 0 && i < ncm; i++)
        r = fetch(cl, ns, "configmaps", cm_names[i], cms, err);
    for (size_t i = 0; r == 0 && i < nsec; i++)
        r = fetch(cl, ns, "secrets", sec_names[i], secrets, err);
    minik_client_free(cl);
    return r;
}

/* The mode of a volume's files: `defaultMode` (or an item's `mode`), 0644 by default as
 * in Kubernetes; only permission bits count. */
static mode_t file_mode(const cJSON *o, mode_t dflt)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(
        o, o && cJSON_HasObjectItem(o, "mode") ? "mode" : "defaultMode");
    return cJSON_IsNumber(m) && m->valuedouble >= 0 && m->valuedouble <= 0777 ? (mode_t)m->valueint
                                                                              : dflt;
}

/* Write a configMap/secret volume's files: every key, or only `items` (key -> path), with
 * the volume's defaultMode (or an item's own mode). */
static int write_keys(const char *dir, const cJSON *src, const cJSON *vol, bool optional,
                      const char *what, minik_error_t **err)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(vol, "items");
    mode_t mode = file_mode(vol, 0644);
    if (!src) {
        if (optional)
            return 0;
        return minik_error_set(err, ENOENT, "volume: %s not found", what);
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(src, "data");
    const cJSON *kv;
    if (cJSON_GetArraySize(items) > 0) {
        cJSON_ArrayForEach(kv, items)
        {
            const char *key = str_at(kv, "key"), *path = str_at(kv, "path");
            const char *val = str_at(data, key ? key : "");
            if (!val || !path || path[0] == '/' || strstr(path, ".."))
                return minik_error_set(err, EINVAL, "volume: %s: bad item \"%s\"", what,
                                       key ? key : "?");
            cleanup_free char *f = xasprintf("%s/%s", dir, path);
            cleanup_free char *parent = xstrdup(f);
            *strrchr(parent, '/') = '\0';
            if (minik_mkdir_p(parent, 0755, err) < 0 ||
                minik_file_write_atomic(f, val, strlen(val), file_mode(kv, mode), err) < 0)
                return -1;
        }
        return 0;
    }
    cJSON_ArrayForEach(kv, data)
    {
        if (!cJSON_IsString(kv) || strchr(kv->string, '/') || kv->string[0] == '.')
            continue;
        cleanup_free char *f = xasprintf("%s/%s", dir, kv->string);
        if (minik_file_write_atomic(f, kv->valuestring, strlen(kv->valuestring), mode, err) < 0)
            return -1;
    }
    return 0;
}

static int volumes_prepare(struct minik_agent *a, agent_pod_t *p, const cJSON *pod,
                           const cJSON *cms, const cJSON *secrets, minik_error_t **err)
{
    const cJSON *vol;
    cJSON_ArrayForEach(vol, cJSON_GetObjectItemCaseSensitive(
                                cJSON_GetObjectItemCaseSensitive(pod, "spec"), "volumes"))
    {
        const char *name = str_at(vol, "name");
        if (!name || strchr(name, '/') || name[0] == '.')
            continue;
        cleanup_free char *dir = xasprintf("%s/%s/volumes/%s", a->pods_dir, p->uid, name);
        const cJSON *cm = cJSON_GetObjectItemCaseSensitive(vol, "configMap");
        const cJSON *sec = cJSON_GetObjectItemCaseSensitive(vol, "secret");
        if (cJSON_GetObjectItemCaseSensitive(vol, "emptyDir") || cm || sec) {
            if (minik_mkdir_p(dir, 0777, err) < 0)
                return -1;
            chmod(dir, cm || sec ? 0755 : 0777); /* emptyDir is world-writable, as kubelet's */
        }
        if (cm) {
            const char *n = str_at(cm, "name");
            cleanup_free char *what = xasprintf("configmap \"%s\"", n ? n : "");
            if (write_keys(dir, cJSON_GetObjectItemCaseSensitive(cms, n ? n : ""), cm,
                           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cm, "optional")), what,
                           err) < 0)
                return -1;
        } else if (sec) {
            const char *n = str_at(sec, "secretName");
            cleanup_free char *what = xasprintf("secret \"%s\"", n ? n : "");
            if (write_keys(dir, cJSON_GetObjectItemCaseSensitive(secrets, n ? n : ""), sec,
                           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sec, "optional")), what,
                           err) < 0)
                return -1;
        }
    }
    return 0;
}

/* ---- containers ------------------------------------------------------------------------ */

/* The pod's imagePullSecrets, in order, as the JSON array minik_pull_opts_t.creds_json
 * takes (each a kubernetes.io/dockerconfigjson Secret's .dockerconfigjson, or a legacy
 * .dockercfg); NULL when it has none. Missing secrets are skipped, as the kubelet does. */
static char *pull_creds(const cJSON *pod, const cJSON *secrets)
{
    cleanup_cjson cJSON *arr = cJSON_CreateArray();
    const cJSON *ref;
    cJSON_ArrayForEach(ref, cJSON_GetObjectItemCaseSensitive(
                                cJSON_GetObjectItemCaseSensitive(pod, "spec"), "imagePullSecrets"))
    {
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(secrets,
                                             str_at(ref, "name") ? str_at(ref, "name") : ""),
            "data");
        const char *cfg = str_at(data, ".dockerconfigjson");
        cJSON *parsed = cfg ? cJSON_Parse(cfg) : NULL;
        if (!parsed && str_at(data, ".dockercfg")) {
            /* The legacy form is the "auths" map itself. */
            cJSON *auths = cJSON_Parse(str_at(data, ".dockercfg"));
            if (auths) {
                parsed = cJSON_CreateObject();
                cJSON_AddItemToObject(parsed, "auths", auths);
            }
        }
        if (parsed)
            cJSON_AddItemToArray(arr, parsed);
    }
    return cJSON_GetArraySize(arr) ? cJSON_PrintUnformatted(arr) : NULL;
}

static int image_ready(struct minik_agent *a, const cJSON *pod, const cJSON *secrets,
                       const cJSON *cspec, const char *fp, cJSON *events, cJSON **config,
                       minik_error_t **err)
{
    const char *image = str_at(cspec, "image");
    if (!image)
        return minik_error_set(err, EINVAL, "no image");
    const char *policy = str_at(cspec, "imagePullPolicy");
    pthread_mutex_lock(&a->images_lock);
    minik_image_t *img = NULL;
    int r = 0;
    bool have = minik_images_resolve(a->images, image, &img, err) == 0;
    pthread_mutex_unlock(&a->images_lock);
    if (!have)
        minik_error_clear(err);
    minik_image_free(img);
    bool pull = minik_str_eq(policy, "Always") || !have;
    if (pull && minik_str_eq(policy, "Never")) {
        r = minik_error_set_code(err, 1, ENOENT,
                                 "image \"%s\" is not present and imagePullPolicy is Never", image);
    } else if (pull) {
        minik_agent_event_add(events, "Normal", "Pulling", fp, "Pulling image \"%s\"", image);
        int64_t t0 = minik_agent_mono_ms();
        cleanup_free char *creds = pull_creds(pod, secrets);
        minik_pull_opts_t po = {.creds_json = creds};
        /* Not under images_lock: a pull can take minutes, and the store's own file locks
         * already let pulls run beside each other (as `minik image pull` beside the
         * agent); holding the lock would stop every other pod's start meanwhile. */
        r = minik_images_pull(a->images, image, &po, NULL, err);
        if (r < 0)
            (*err)->code = 1; /* ErrImagePull */
        else
            minik_agent_event_add(events, "Normal", "Pulled", fp,
                                  "Successfully pulled image \"%s\" in %lldms", image,
                                  (long long)(minik_agent_mono_ms() - t0));
    }
    if (r == 0) {
        pthread_mutex_lock(&a->images_lock);
        r = minik_images_config(a->images, image, config, err);
        pthread_mutex_unlock(&a->images_lock);
    }
    return r;
}

static int start_ctr(struct minik_agent *a, agent_pod_t *p, const cJSON *pod, agent_ctr_t *c,
                     const cJSON *cms, const cJSON *secrets, cJSON *events, minik_error_t **err)
{
    const cJSON *cspec = ctr_spec(pod, c);
    cleanup_free char *fp = field_path(c);
    if (!cspec)
        return minik_error_set(err, ENOENT, "container %s is not in the pod spec", c->name);
    cleanup_cjson cJSON *icfg = NULL;
    minik_agent_pod_stage(p, "getting image \"%s\" of container %s ready (resolve or pull)",
                          str_at(cspec, "image") ? str_at(cspec, "image") : "", c->name);
    if (image_ready(a, pod, secrets, cspec, fp, events, &icfg, err) < 0)
        return -1;
    int attempt = c->restarts + (c->has_last ? 1 : 0);
    cleanup_free char *id = xasprintf("%s-%s-%d", p->uid, c->name, attempt);
    cleanup_free char *bundle = xasprintf("%s/%s/bundles/%s", a->pods_dir, p->uid, id);
    cleanup_free char *logdir = xasprintf("%s/%s/logs/%s", a->pods_dir, p->uid, c->name);
    cleanup_free char *log = xasprintf("%s/%d.log", logdir, attempt);
    cleanup_free char *vols = xasprintf("%s/%s/volumes", a->pods_dir, p->uid);
    cleanup_free char *nsdir = xasprintf("%s/%s/ns", a->pods_dir, p->uid);
    cleanup_free char *netns = xasprintf("%s/net", nsdir);
    cleanup_free char *ipcns = xasprintf("%s/ipc", nsdir);
    cleanup_free char *utsns = xasprintf("%s/uts", nsdir);
    cleanup_free char *netfiles = xasprintf("%s/%s", a->pods_dir, p->uid);
    bool host_net = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(pod, "spec"), "hostNetwork"));
    if (minik_mkdir_p(bundle, 0700, err) < 0 || minik_mkdir_p(logdir, 0755, err) < 0 ||
        minik_agent_pod_cgroup_ensure(pod, p->uid, err) < 0)
        return -1;
    cleanup_free char *podcg = minik_agent_pod_cgroup_path(p->uid);
    cleanup_free char *cgpath = xasprintf("%s/%s", podcg, id);
    cleanup_free char *rootfs = NULL;
    minik_agent_pod_stage(p, "preparing the root filesystem of container %s", c->name);
    pthread_mutex_lock(&a->images_lock);
    int r = minik_images_rootfs_prepare(a->images, str_at(cspec, "image"), id, &rootfs, err);
    pthread_mutex_unlock(&a->images_lock);
    if (r < 0)
        return -1;
    /* Declared before the first goto: cleanup must never see an uninitialised pointer. */
    cleanup_cjson cJSON *cfg = NULL;
    cleanup_free char *text = NULL;
    cleanup_free char *cfgpath = NULL;
    minik_podspec_ctx_t ctx = {
        .pod = pod,
        .container = cspec,
        .image_config = icfg,
        .rootfs = rootfs,
        .netns = host_net ? NULL : netns,
        .ipcns = ipcns,
        .utsns = host_net ? NULL : utsns,
        .volumes_dir = vols,
        .node_name = a->node_name,
        .host_ip = a->node_ip,
        .configmaps = cms,
        .secrets = secrets,
        .pod_ip = p->pod_ip ? p->pod_ip : (host_net ? a->node_ip : NULL),
        .net_files_dir = netfiles,
        .cgroups_path = cgpath,
    };
    if (minik_podspec_oci_config(&ctx, &cfg, err) < 0)
        goto fail;
    text = cJSON_PrintUnformatted(cfg);
    cfgpath = xasprintf("%s/config.json", bundle);
    if (minik_file_write_atomic(cfgpath, text, strlen(text), 0600, err) < 0)
        goto fail;
    minik_oci_create_opts_t o = {
        .root = a->oci_root,
        .bundle = bundle,
        .log_path = log,
        .log_max_size = 10 * 1024 * 1024,
        .log_max_files = 2,
    };
    pid_t pid = 0;
    minik_agent_pod_stage(p, "starting container %s", c->name);
    if (minik_oci_create(&o, id, &pid, err) < 0)
        goto fail;
    minik_agent_event_add(events, "Normal", "Created", fp, "Created container %s", c->name);
    if (minik_oci_start(a->oci_root, id, err) < 0) {
        minik_error_t *e2 = NULL;
        if (minik_oci_delete(a->oci_root, id, true, &e2) < 0)
            minik_error_free(e2);
        goto fail;
    }
    minik_agent_event_add(events, "Normal", "Started", fp, "Started container %s", c->name);
    set_str(&c->id, id);
    c->pid = pid;
    if (c->has_last)
        c->restarts = attempt;
    free(c->started_at);
    c->started_at = minik_agent_now_rfc3339();
    c->started_ms = minik_agent_mono_ms();
    set_str(&c->wait_reason, NULL);
    set_str(&c->wait_message, NULL);
    minik_agent_probes_reset(c, cspec);
    c->probes_set = true;
    a->starts++;
    (void)minik_agent_post_start(a, p, c, cspec, fp, events); /* a failure kills it: the
                                                                 restart policy decides */
    return 0;
fail:;
    minik_error_t *e2 = NULL;
    pthread_mutex_lock(&a->images_lock);
    if (minik_images_rootfs_remove(a->images, id, &e2) < 0)
        minik_error_free(e2);
    pthread_mutex_unlock(&a->images_lock);
    minik_rm_rf(bundle, &e2);
    minik_error_free(e2);
    return -1;
}

/* Remove a stopped attempt: runtime state, root filesystem, bundle. Logs stay (for
 * --previous) until the pod goes. */
static void remove_attempt(struct minik_agent *a, agent_pod_t *p, const char *id)
{
    minik_error_t *e = NULL;
    if (minik_oci_delete(a->oci_root, id, true, &e) < 0) {
        minik_log_warn("container not deleted", "id", id, "error", e->msg, NULL);
        minik_error_clear(&e);
    }
    pthread_mutex_lock(&a->images_lock);
    if (minik_images_rootfs_remove(a->images, id, &e) < 0) {
        minik_log_warn("root filesystem not removed", "id", id, "error", e->msg, NULL);
        minik_error_clear(&e);
    }
    pthread_mutex_unlock(&a->images_lock);
    cleanup_free char *bundle = xasprintf("%s/%s/bundles/%s", a->pods_dir, p->uid, id);
    if (minik_rm_rf(bundle, &e) < 0)
        minik_error_clear(&e);
}

/* Look at the runtime's view of c's current attempt; record an exit. Returns true if the
 * attempt is still running. */
static bool observe(struct minik_agent *a, agent_pod_t *p, agent_ctr_t *c, cJSON *events)
{
    minik_oci_state_t *st = NULL;
    const char *status = NULL;
    minik_error_t *e = NULL;
    if (minik_oci_load(a->oci_root, c->id, &st, &status, &e) < 0) {
        /* The state is gone (removed by hand, or a reboot): treat it as an unknown exit. */
        minik_error_free(e);
        c->has_last = true;
        c->last_exit = 137;
        set_str(&c->last_reason, "ContainerStatusUnknown");
        set_str(&c->last_started, c->started_at);
        free(c->last_finished);
        c->last_finished = minik_agent_now_rfc3339();
        set_str(&c->id, NULL);
        c->pid = 0;
        return false;
    }
    bool running = strcmp(status, "stopped") != 0;
    c->pid = running ? st->pid : 0;
    if (!c->started_at && st->created)
        c->started_at = xstrdup(st->created);
    bool shim_alive = minik_proc_alive(st->shim_pid, st->shim_start);
    minik_oci_state_free(st);
    if (running)
        return true;
    cleanup_free char *dir = xasprintf("%s/%s", a->oci_root, c->id);
    minik_oci_exit_t ex = {0};
    int got = minik_oci_exit_read(dir, &ex, &e);
    if (got < 0)
        minik_error_clear(&e);
    if (got == 0 && shim_alive)
        return true; /* the init is gone but its shim has not recorded the exit yet */
    c->has_last = true;
    c->last_exit = got > 0 ? ex.exit_code : 137;
    c->last_signal = got > 0 ? ex.signal : 0;
    const char *reason = got <= 0            ? "Error"
                         : ex.oom_killed     ? "OOMKilled"
                         : ex.error          ? "StartError"
                         : ex.exit_code == 0 ? "Completed"
                                             : "Error";
    set_str(&c->last_reason, reason);
    set_str(&c->last_message, ex.error);
    free(ex.error);
    set_str(&c->last_started, c->started_at);
    free(c->last_finished);
    c->last_finished = minik_agent_now_rfc3339();
    cleanup_free char *fp = field_path(c);
    if (strcmp(reason, "OOMKilled") == 0)
        minik_agent_event_add(events, "Warning", "OOMKilled", fp,
                              "Container %s was killed: out of memory", c->name);
    cleanup_free char *id = steal_pointer(&c->id);
    remove_attempt(a, p, id);
    return false;
}

static const char *restart_policy(const cJSON *pod)
{
    const char *r = str_at(cJSON_GetObjectItemCaseSensitive(pod, "spec"), "restartPolicy");
    return r ? r : "Always";
}

/* After an exit: restart later (back-off), or never. */
static void after_exit(struct minik_agent *a, const cJSON *pod, agent_ctr_t *c, int64_t now,
                       cJSON *events)
{
    const char *policy = restart_policy(pod);
    if (c->init && strcmp(policy, "Always") == 0)
        policy = "OnFailure"; /* a succeeded init container never runs again */
    if (!minik_agent_should_restart(policy, c->last_exit)) {
        c->done = true;
        return;
    }
    int64_t ran = c->started_ms ? now - c->started_ms : 0;
    c->backoff_ms = minik_agent_backoff_next(c->backoff_ms, (int64_t)a->backoff_base_ms, ran);
    c->next_start_ms = now + c->backoff_ms;
    set_str(&c->wait_reason, "CrashLoopBackOff");
    free(c->wait_message);
    c->wait_message = xasprintf("back-off %llds restarting failed container=%s pod=%s",
                                (long long)(c->backoff_ms / 1000), c->name, "");
    cleanup_free char *fp = field_path(c);
    minik_agent_event_add(events, "Warning", "BackOff", fp,
                          "Back-off %.1fs restarting failed container", c->backoff_ms / 1000.0);
}

static void try_start(struct minik_agent *a, agent_pod_t *p, const cJSON *pod, agent_ctr_t *c,
                      const cJSON *cms, const cJSON *secrets, int64_t now, cJSON *events)
{
    if (c->id || c->done || now < c->next_start_ms)
        return;
    minik_error_t *err = NULL;
    if (start_ctr(a, p, pod, c, cms, secrets, events, &err) == 0)
        return;
    cleanup_free char *fp = field_path(c);
    set_str(&c->wait_reason, err->code == 1 ? "ErrImagePull" : "CreateContainerError");
    set_str(&c->wait_message, err->msg);
    minik_agent_event_add(events, "Warning", "Failed", fp, "Error: %s", err->msg);
    minik_log_warn("container not started", "pod", p->name, "container", c->name, "error", err->msg,
                   NULL);
    minik_error_free(err);
    /* Retry with the same back-off as a crash, so a broken spec does not spin. */
    c->backoff_ms = minik_agent_backoff_next(c->backoff_ms, (int64_t)a->backoff_base_ms, 0);
    c->next_start_ms = now + c->backoff_ms;
}

/* lifecycle.preStop.exec, within the grace period, before SIGTERM (as the kubelet). */
static void run_prestop(struct minik_agent *a, agent_pod_t *p, agent_ctr_t *c, long grace,
                        cJSON *events)
{
    const cJSON *cspec = p->job_obj ? ctr_spec(p->job_obj, c) : NULL;
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cspec, "lifecycle"),
                                             "preStop"),
            "exec"),
        "command");
    if (cJSON_GetArraySize(cmd) < 1 || grace <= 0 || c->pid <= 0)
        return;
    char *why = NULL;
    int code = minik_agent_exec_in_container(a, p, c, cmd, (int)grace, &why);
    if (code != 0) {
        cleanup_free char *fp = field_path(c);
        minik_agent_event_add(events, "Warning", "FailedPreStopHook", fp, "PreStop hook failed: %s",
                              why ? why : "");
    }
    free(why);
}

static void terminate(struct minik_agent *a, agent_pod_t *p, int64_t now, cJSON *events)
{
    long grace = p->job_obj ? minik_podspec_grace_seconds(p->job_obj) : 0;
    bool any = false;
    minik_agent_pod_stage(p, "stopping its containers (grace period %lds)", grace);
    for (size_t i = 0; i < p->n_ctrs; i++) {
        agent_ctr_t *c = &p->ctrs[i];
        if (!c->id)
            continue;
        any = true;
        minik_error_t *e = NULL;
        if (p->term_started_ms == 0) {
            cleanup_free char *fp = field_path(c);
            run_prestop(a, p, c, grace, events);
            minik_agent_event_add(events, "Normal", "Killing", fp, "Stopping container %s",
                                  c->name);
            if (minik_oci_kill(a->oci_root, c->id, grace > 0 ? SIGTERM : SIGKILL, grace == 0, &e) <
                0)
                minik_error_clear(&e);
        } else if (now - p->term_started_ms >= grace * 1000) {
            if (minik_oci_kill(a->oci_root, c->id, SIGKILL, true, &e) < 0)
                minik_error_clear(&e);
        }
    }
    if (any && p->term_started_ms == 0)
        p->term_started_ms = now ? now : 1;
}

void minik_agent_pod_reconcile(agent_pod_t *p, int64_t now)
{
    struct minik_agent *a = p->agent;
    cJSON *events = cJSON_CreateArray();
    p->events_out = events;
    if (__atomic_load_n(&a->stopping, __ATOMIC_RELAXED))
        return; /* the agent stops: nothing of this job would be reported */
    const cJSON *pod = p->job_obj;
    if (pod)
        ensure_ctrs(p, pod);
    if (a->hollow) {
        minik_agent_hollow_reconcile(p, pod);
        return;
    }

    for (size_t i = 0; i < p->n_ctrs; i++) {
        agent_ctr_t *c = &p->ctrs[i];
        if (c->id && !observe(a, p, c, events) && !p->deleted && pod) {
            c->probes_set = false;
            c->ready = false;
            after_exit(a, pod, c, now, events);
        }
        const cJSON *cspec = pod ? ctr_spec(pod, c) : NULL;
        if (c->id && cspec && !c->init && !p->deleted) {
            if (!c->probes_set) { /* re-adopted: probes start over */
                minik_agent_probes_reset(c, cspec);
                c->probes_set = true;
            }
            minik_agent_pod_stage(p, "probing container %s", c->name);
            minik_agent_probes_run(a, p, c, cspec, now, events);
        }
    }

    if (p->deleted || !pod) {
        terminate(a, p, now, events);
        for (size_t i = 0; i < p->n_ctrs; i++)
            if (p->ctrs[i].id)
                return; /* still stopping: look again on the next tick */
        sandbox_remove(a, p);
        p->gone = true;
        return;
    }

    cleanup_cjson cJSON *cms = cJSON_CreateObject();
    cleanup_cjson cJSON *secrets = cJSON_CreateObject();
    minik_error_t *err = NULL;
    bool host_net = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(pod, "spec"), "hostNetwork"));
    bool need_start = false;
    for (size_t i = 0; i < p->n_ctrs; i++)
        need_start |= !p->ctrs[i].id && !p->ctrs[i].done && now >= p->ctrs[i].next_start_ms;
    if (need_start || !p->sandbox_ready) {
        minik_agent_pod_stage(p, "%s",
                              p->sandbox_ready ? "reading its ConfigMaps and Secrets"
                                               : "setting up the pod sandbox (namespaces, CNI "
                                                 "network, volumes)");
        if (gather_refs(a, pod, p->ns, cms, secrets, &err) < 0 ||
            (!p->sandbox_ready &&
             (sandbox_create(a, p, p->name, host_net, &err) < 0 || net_setup(a, p, pod, &err) < 0 ||
              volumes_prepare(a, p, pod, cms, secrets, &err) < 0))) {
            minik_agent_event_add(events, "Warning", "FailedCreatePodSandBox", NULL, "%s",
                                  err->msg);
            for (size_t i = 0; i < p->n_ctrs; i++) {
                set_str(&p->ctrs[i].wait_reason, "CreateContainerConfigError");
                set_str(&p->ctrs[i].wait_message, err->msg);
            }
            minik_error_free(err);
            need_start = false;
        } else {
            p->sandbox_ready = true;
        }
    }
    if (!p->start_time)
        p->start_time = minik_agent_now_rfc3339();

    if (need_start && __atomic_load_n(&a->stopping, __ATOMIC_RELAXED))
        need_start = false; /* stopping: start nothing more (the next start will) */
    if (need_start) {
        /* Init containers one at a time, in order; the rest once they all succeeded. */
        bool inits_done = true;
        for (size_t i = 0; i < p->n_ctrs; i++) {
            agent_ctr_t *c = &p->ctrs[i];
            if (!c->init || (c->done && c->last_exit == 0))
                continue;
            inits_done = false;
            if (!c->done)
                try_start(a, p, pod, c, cms, secrets, now, events);
            break;
        }
        for (size_t i = 0; inits_done && i < p->n_ctrs; i++)
            if (!p->ctrs[i].init && ctr_spec(pod, &p->ctrs[i]))
                try_start(a, p, pod, &p->ctrs[i], cms, secrets, now, events);
    }
    p->status_out = minik_agent_pod_status(p, pod, a->node_ip);
}

/* ---- re-adoption ----------------------------------------------------------------------- */

/* Before the first list: every container the runtime knows (and every pod directory) is
 * attached to its pod record, so a restarted agent re-adopts running containers instead of
 * starting them again, and finds the ones of pods deleted while it was down. */
void minik_agent_adopt(struct minik_agent *a)
{
    cleanup_closedir DIR *d = opendir(a->oci_root);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        cleanup_free char *dir = xasprintf("%s/%s", a->oci_root, de->d_name);
        minik_oci_state_t *st = NULL;
        minik_error_t *e = NULL;
        if (minik_oci_state_read(dir, &st, &e) < 0) {
            minik_error_free(e);
            continue;
        }
        const char *uid = str_at(st->annotations, "io.kubernetes.pod.uid");
        const char *cname = str_at(st->annotations, "io.kubernetes.container.name");
        const char *dash = strrchr(de->d_name, '-');
        if (uid && cname && dash) {
            agent_pod_t *p = minik_agent_pod_find(a, uid);
            if (!p)
                p = minik_agent_pod_new(a, uid,
                                        str_at(st->annotations, "io.kubernetes.pod.namespace"),
                                        str_at(st->annotations, "io.kubernetes.pod.name"));
            agent_ctr_t *c = ctr_add(p, cname, false);
            c->id = xstrdup(de->d_name);
            c->restarts = atoi(dash + 1);
            c->started_at = st->created ? xstrdup(st->created) : NULL;
            c->started_ms = minik_agent_mono_ms();
            c->pid = st->pid;
            p->sandbox_ready = true;
            minik_log_info("re-adopted container", "id", de->d_name, NULL);
        }
        minik_oci_state_free(st);
    }
    cleanup_closedir DIR *pd = opendir(a->pods_dir);
    while (pd && (de = readdir(pd))) {
        if (de->d_name[0] == '.')
            continue;
        agent_pod_t *p = minik_agent_pod_find(a, de->d_name);
        if (!p) {
            p = minik_agent_pod_new(a, de->d_name, NULL, NULL);
            p->sandbox_ready = true;
        }
    }
}
