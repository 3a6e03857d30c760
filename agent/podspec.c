/* Pod spec -> OCI config.json. See podspec.h. */
#include "agent/podspec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/runtime/spec.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/quantity.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *str_at(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *obj_at(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsObject(v) ? v : NULL;
}

static bool bool_at(const cJSON *o, const char *key, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsBool(v))
        return false;
    *out = cJSON_IsTrue(v);
    return true;
}

static bool num_at(const cJSON *o, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v))
        return false;
    *out = v->valuedouble;
    return true;
}

long minik_podspec_grace_seconds(const cJSON *pod)
{
    double g;
    if (num_at(obj_at(pod, "spec"), "terminationGracePeriodSeconds", &g) && g >= 0)
        return (long)g;
    return 30;
}

static void strv_push(char ***v, size_t *n, const char *s)
{
    *v = xrealloc(*v, (*n + 2) * sizeof(char *));
    (*v)[(*n)++] = xstrdup(s);
    (*v)[*n] = NULL;
}

static void push_array(char ***v, size_t *n, const cJSON *arr)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (cJSON_IsString(it))
            strv_push(v, n, it->valuestring);
    }
}

int minik_podspec_argv(const cJSON *container, const cJSON *image_config, char ***out,
                       minik_error_t **err)
{
    const cJSON *command = cJSON_GetObjectItemCaseSensitive(container, "command");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(container, "args");
    const cJSON *entry = cJSON_GetObjectItemCaseSensitive(image_config, "Entrypoint");
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(image_config, "Cmd");
    bool has_command = cJSON_IsArray(command) && cJSON_GetArraySize(command) > 0;
    bool has_args = cJSON_IsArray(args) && cJSON_GetArraySize(args) > 0;
    char **v = xcalloc(1, sizeof(char *));
    size_t n = 0;
    /* Kubernetes: command replaces Entrypoint (and drops Cmd); args replaces Cmd. */
    push_array(&v, &n, has_command ? command : entry);
    if (has_args)
        push_array(&v, &n, args);
    else if (!has_command)
        push_array(&v, &n, cmd);
    if (n == 0) {
        minik_strv_free(v);
        return minik_error_set(err, EINVAL,
                               "container %s: no command: neither the pod nor the image gives one",
                               str_at(container, "name") ? str_at(container, "name") : "?");
    }
    *out = v;
    return 0;
}

/* ---- env ------------------------------------------------------------------------------- */

/* Set NAME=value in an env vector, replacing an earlier entry with the same name. */
static void env_set(cJSON *env, const char *name, const char *value)
{
    size_t nl = strlen(name);
    cleanup_free char *kv = xasprintf("%s=%s", name, value);
    int i = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, env)
    {
        if (strncmp(it->valuestring, name, nl) == 0 && it->valuestring[nl] == '=') {
            cJSON_ReplaceItemInArray(env, i, cJSON_CreateString(kv));
            return;
        }
        i++;
    }
    cJSON_AddItemToArray(env, cJSON_CreateString(kv));
}

static const char *env_get(const cJSON *env, const char *name)
{
    size_t nl = strlen(name);
    const cJSON *it;
    cJSON_ArrayForEach(it, env)
    {
        if (strncmp(it->valuestring, name, nl) == 0 && it->valuestring[nl] == '=')
            return it->valuestring + nl + 1;
    }
    return NULL;
}

/* Kubernetes' $(VAR) expansion against variables defined so far; $$ escapes, unknown
 * references stay as written. */
static char *expand(const char *in, const cJSON *env)
{
    minik_buf_t b = MINIK_BUF_INIT;
    for (const char *p = in; *p;) {
        if (p[0] == '$' && p[1] == '$') {
            minik_buf_append_char(&b, '$');
            p += 2;
        } else if (p[0] == '$' && p[1] == '(') {
            const char *end = strchr(p + 2, ')');
            if (!end) {
                minik_buf_append_str(&b, p);
                break;
            }
            cleanup_free char *name = xstrndup(p + 2, (size_t)(end - p - 2));
            const char *v = env_get(env, name);
            if (v)
                minik_buf_append_str(&b, v);
            else
                minik_buf_append(&b, p, (size_t)(end - p + 1));
            p = end + 1;
        } else {
            minik_buf_append_char(&b, *p++);
        }
    }
    if (!b.data)
        return xstrdup("");
    return minik_buf_steal(&b);
}

static int key_ref(const minik_podspec_ctx_t *ctx, const cJSON *ref, bool secret, const char *where,
                   const char **out, minik_error_t **err)
{
    const char *name = str_at(ref, "name"), *key = str_at(ref, "key");
    bool optional = false;
    bool_at(ref, "optional", &optional);
    const cJSON *src = obj_at(secret ? ctx->secrets : ctx->configmaps, name ? name : "");
    const char *val = str_at(obj_at(src, "data"), key ? key : "");
    if (!val) {
        *out = NULL;
        if (optional)
            return 0;
        return minik_error_set(err, ENOENT, "%s: %s \"%s\" has no key \"%s\"", where,
                               secret ? "secret" : "configmap", name ? name : "", key ? key : "");
    }
    *out = val;
    return 0;
}

static const char *field_ref(const minik_podspec_ctx_t *ctx, const char *path)
{
    const cJSON *meta = obj_at(ctx->pod, "metadata");
    if (minik_str_eq(path, "metadata.name"))
        return str_at(meta, "name");
    if (minik_str_eq(path, "metadata.namespace"))
        return str_at(meta, "namespace");
    if (minik_str_eq(path, "metadata.uid"))
        return str_at(meta, "uid");
    if (minik_str_eq(path, "spec.nodeName"))
        return ctx->node_name;
    if (minik_str_eq(path, "spec.serviceAccountName"))
        return str_at(obj_at(ctx->pod, "spec"), "serviceAccountName");
    if (minik_str_eq(path, "status.hostIP"))
        return ctx->host_ip;
    if (minik_str_eq(path, "status.podIP"))
        return ctx->pod_ip ? ctx->pod_ip : "";
    return NULL;
}

static int build_env(const minik_podspec_ctx_t *ctx, cJSON *env, const char *cname,
                     minik_error_t **err)
{
    const cJSON *it;
    /* Image Env first; the pod's entries override by name, as containerd merges them. */
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(ctx->image_config, "Env"))
    {
        if (cJSON_IsString(it) && strchr(it->valuestring, '=')) {
            cleanup_free char *name =
                xstrndup(it->valuestring, (size_t)(strchr(it->valuestring, '=') - it->valuestring));
            env_set(env, name, strchr(it->valuestring, '=') + 1);
        }
    }
    if (!env_get(env, "PATH"))
        cJSON_AddItemToArray(env, cJSON_CreateString(DEFAULT_PATH));
    const char *pod_name = str_at(obj_at(ctx->pod, "metadata"), "name");
    env_set(env, "HOSTNAME", pod_name ? pod_name : "");

    /* envFrom: every key of the ConfigMap/Secret, with an optional prefix. */
    int i = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(ctx->container, "envFrom"))
    {
        const char *prefix = str_at(it, "prefix");
        bool secret = obj_at(it, "secretRef") != NULL;
        const cJSON *ref = secret ? obj_at(it, "secretRef") : obj_at(it, "configMapRef");
        const char *name = str_at(ref, "name");
        bool optional = false;
        bool_at(ref, "optional", &optional);
        const cJSON *src = obj_at(secret ? ctx->secrets : ctx->configmaps, name ? name : "");
        if (!src) {
            if (!optional)
                return minik_error_set(err, ENOENT,
                                       "container %s: envFrom[%d]: %s \"%s\" not found", cname, i,
                                       secret ? "secret" : "configmap", name ? name : "");
        }
        const cJSON *kv;
        cJSON_ArrayForEach(kv, obj_at(src, "data"))
        {
            if (!cJSON_IsString(kv))
                continue;
            cleanup_free char *full = xasprintf("%s%s", prefix ? prefix : "", kv->string);
            env_set(env, full, kv->valuestring);
        }
        i++;
    }
    i = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(ctx->container, "env"))
    {
        const char *name = str_at(it, "name");
        if (!name)
            continue;
        const char *value = str_at(it, "value");
        const cJSON *from = obj_at(it, "valueFrom");
        cleanup_free char *where = xasprintf("container %s: env[%d] (%s)", cname, i, name);
        cleanup_free char *expanded = NULL;
        if (from) {
            const char *v = NULL;
            if (obj_at(from, "configMapKeyRef")) {
                if (key_ref(ctx, obj_at(from, "configMapKeyRef"), false, where, &v, err) < 0)
                    return -1;
            } else if (obj_at(from, "secretKeyRef")) {
                if (key_ref(ctx, obj_at(from, "secretKeyRef"), true, where, &v, err) < 0)
                    return -1;
            } else if (obj_at(from, "fieldRef")) {
                const char *path = str_at(obj_at(from, "fieldRef"), "fieldPath");
                v = field_ref(ctx, path ? path : "");
                if (!v)
                    return minik_error_set(err, EINVAL, "%s: unsupported fieldPath \"%s\"", where,
                                           path ? path : "");
            } else {
                return minik_error_set(err, EINVAL, "%s: unsupported valueFrom", where);
            }
            if (!v) {
                i++;
                continue; /* optional and missing: the variable is not set */
            }
            env_set(env, name, v);
        } else {
            expanded = expand(value ? value : "", env);
            env_set(env, name, expanded);
        }
        i++;
    }
    return 0;
}

/* ---- user ------------------------------------------------------------------------------ */

/* Look a user or group name up in the container's /etc/passwd or /etc/group. */
static int lookup_id(const char *rootfs, const char *file, const char *name, long *out)
{
    cleanup_free char *path = xasprintf("%s/etc/%s", rootfs, file);
    cleanup_free char *data = NULL;
    size_t len;
    minik_error_t *e = NULL;
    if (minik_file_read(path, 1 << 20, &data, &len, &e) < 0) {
        minik_error_free(e);
        return -1;
    }
    cleanup_strv char **lines = minik_str_split(data, "\n", true);
    for (char **l = lines; *l; l++) {
        cleanup_strv char **f = minik_str_split(*l, ":", false);
        if (minik_strv_len(f) >= 3 && strcmp(f[0], name) == 0) {
            char *end;
            long v = strtol(f[2], &end, 10);
            if (*end == '\0' && v >= 0) {
                *out = v;
                return 0;
            }
        }
    }
    return -1;
}

static int parse_image_user(const char *rootfs, const char *user, long *uid, long *gid,
                            minik_error_t **err)
{
    cleanup_free char *u = xstrdup(user);
    char *colon = strchr(u, ':');
    if (colon)
        *colon++ = '\0';
    char *end;
    long v = strtol(u, &end, 10);
    if (*u && *end == '\0' && v >= 0)
        *uid = v;
    else if (lookup_id(rootfs, "passwd", u, uid) < 0)
        return minik_error_set(err, ENOENT, "image user \"%s\": no such user in /etc/passwd", user);
    if (colon) {
        v = strtol(colon, &end, 10);
        if (*colon && *end == '\0' && v >= 0)
            *gid = v;
        else if (lookup_id(rootfs, "group", colon, gid) < 0)
            return minik_error_set(err, ENOENT, "image user \"%s\": no such group in /etc/group",
                                   user);
    }
    return 0;
}

/* ---- capabilities ---------------------------------------------------------------------- */

/* "NET_ADMIN" or "CAP_NET_ADMIN" (any case) into its bit; -1 if unknown; "ALL" is -2. */
static int cap_bit(const char *name)
{
    char buf[64];
    if (strcasecmp(name, "ALL") == 0)
        return -2;
    snprintf(buf, sizeof(buf), "%s%s", strncasecmp(name, "CAP_", 4) == 0 ? "" : "CAP_", name);
    for (char *p = buf; *p; p++)
        *p = (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
    return minik_spec_cap_from_name(buf);
}

static int caps_mask(const cJSON *sc, bool privileged, const char *cname, uint64_t *out,
                     minik_error_t **err)
{
    const uint64_t all = MINIK_SPEC_ALL_CAPS;
    uint64_t m = privileged ? all : MINIK_SPEC_DEFAULT_CAPS;
    const cJSON *caps = obj_at(sc, "capabilities");
    const char *ops[2] = {"drop", "add"};
    for (int k = 0; k < 2; k++) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(caps, ops[k]))
        {
            if (!cJSON_IsString(it))
                continue;
            int b = cap_bit(it->valuestring);
            if (b == -1)
                return minik_error_set(err, EINVAL,
                                       "container %s: securityContext.capabilities.%s: unknown "
                                       "capability \"%s\"",
                                       cname, ops[k], it->valuestring);
            uint64_t bits = b == -2 ? all : 1ULL << b;
            m = k == 0 ? (m & ~bits) : (m | bits);
        }
    }
    *out = m;
    return 0;
}

static cJSON *caps_array(uint64_t m)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < MINIK_SPEC_CAP_COUNT; i++)
        if (m & (1ULL << i))
            cJSON_AddItemToArray(a, cJSON_CreateString(minik_spec_cap_names[i]));
    return a;
}

/* ---- resources ------------------------------------------------------------------------- */

static int quantity_at(const cJSON *o, const char *key, const char *cname, const char *what,
                       int64_t *milli, minik_error_t **err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return 0;
    minik_quantity_t q;
    cleanup_free char *s =
        cJSON_IsString(v) ? xstrdup(v->valuestring) : xasprintf("%.0f", v->valuedouble);
    if (minik_quantity_parse(s, &q, err) < 0)
        return minik_error_wrap(err, "container %s: resources.%s.%s", cname, what, key);
    *milli = q.milli;
    return 1;
}

static int build_resources(const cJSON *c, const char *cname, cJSON *linux_, minik_error_t **err)
{
    const cJSON *res = obj_at(c, "resources");
    const cJSON *lim = obj_at(res, "limits"), *req = obj_at(res, "requests");
    cJSON *r = cJSON_AddObjectToObject(linux_, "resources");
    cJSON *dev = cJSON_AddArrayToObject(r, "devices");
    cJSON *deny = cJSON_CreateObject();
    cJSON_AddBoolToObject(deny, "allow", false);
    cJSON_AddStringToObject(deny, "access", "rwm");
    cJSON_AddItemToArray(dev, deny);
    int64_t v;
    int got;
    if ((got = quantity_at(lim, "memory", cname, "limits", &v, err)) < 0)
        return -1;
    if (got) {
        cJSON *mem = cJSON_AddObjectToObject(r, "memory");
        cJSON_AddNumberToObject(mem, "limit", (double)(v / 1000));
        /* No swap beyond the limit, so an OOM kill is what exceeding it means. */
        cJSON_AddNumberToObject(mem, "swap", (double)(v / 1000));
    }
    cJSON *cpu = NULL;
    if ((got = quantity_at(lim, "cpu", cname, "limits", &v, err)) < 0)
        return -1;
    if (got && v > 0) {
        cpu = cJSON_AddObjectToObject(r, "cpu");
        /* The kubelet's conversion: quota = milli * period / 1000 with a 100 ms period. */
        int64_t quota = v * 100;
        cJSON_AddNumberToObject(cpu, "quota", (double)(quota < 1000 ? 1000 : quota));
        cJSON_AddNumberToObject(cpu, "period", 100000);
    }
    int64_t shares_milli = -1;
    if ((got = quantity_at(req, "cpu", cname, "requests", &v, err)) < 0)
        return -1;
    if (got)
        shares_milli = v;
    else if (cpu && quantity_at(lim, "cpu", cname, "limits", &v, err) > 0)
        shares_milli = v; /* requests default to limits */
    if (shares_milli >= 0) {
        if (!cpu)
            cpu = cJSON_AddObjectToObject(r, "cpu");
        int64_t shares = shares_milli * 1024 / 1000;
        cJSON_AddNumberToObject(cpu, "shares", (double)(shares < 2 ? 2 : shares));
    }
    return 0;
}

/* ---- mounts ---------------------------------------------------------------------------- */

static void add_mount(cJSON *mounts, const char *dest, const char *type, const char *src,
                      const char *const *opts)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "destination", dest);
    cJSON_AddStringToObject(m, "type", type);
    cJSON_AddStringToObject(m, "source", src);
    cJSON *o = cJSON_AddArrayToObject(m, "options");
    for (; opts && *opts; opts++)
        cJSON_AddItemToArray(o, cJSON_CreateString(*opts));
    cJSON_AddItemToArray(mounts, m);
}

static const cJSON *find_volume(const cJSON *pod, const char *name)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(obj_at(pod, "spec"), "volumes"))
    {
        if (minik_str_eq(str_at(it, "name"), name))
            return it;
    }
    return NULL;
}

static int build_mounts(const minik_podspec_ctx_t *ctx, const char *cname, cJSON *mounts,
                        bool privileged, minik_error_t **err)
{
    static const char *const dev_o[] = {"nosuid", "strictatime", "mode=755", "size=65536k", NULL};
    static const char *const pts_o[] = {"nosuid",        "noexec",    "newinstance",
                                        "ptmxmode=0666", "mode=0620", NULL};
    static const char *const shm_o[] = {"nosuid",    "noexec",      "nodev",
                                        "mode=1777", "size=65536k", NULL};
    static const char *const mq_o[] = {"nosuid", "noexec", "nodev", NULL};
    static const char *const sys_ro[] = {"nosuid", "noexec", "nodev", "ro", NULL};
    static const char *const sys_rw[] = {"nosuid", "noexec", "nodev", NULL};
    add_mount(mounts, "/proc", "proc", "proc", NULL);
    add_mount(mounts, "/dev", "tmpfs", "tmpfs", dev_o);
    add_mount(mounts, "/dev/pts", "devpts", "devpts", pts_o);
    add_mount(mounts, "/dev/shm", "tmpfs", "shm", shm_o);
    add_mount(mounts, "/dev/mqueue", "mqueue", "mqueue", mq_o);
    add_mount(mounts, "/sys", "sysfs", "sysfs", privileged ? sys_rw : sys_ro);

    int i = 0;
    const cJSON *vm;
    cJSON_ArrayForEach(vm, cJSON_GetObjectItemCaseSensitive(ctx->container, "volumeMounts"))
    {
        const char *name = str_at(vm, "name"), *path = str_at(vm, "mountPath");
        const cJSON *vol = find_volume(ctx->pod, name ? name : "");
        if (!vol || !path || path[0] != '/')
            return minik_error_set(err, EINVAL, "container %s: volumeMounts[%d]: %s", cname, i,
                                   !vol ? "no pod volume of that name"
                                        : "mountPath must be absolute");
        bool ro = false;
        bool_at(vm, "readOnly", &ro);
        cleanup_free char *src = NULL;
        const char *sub = str_at(vm, "subPath");
        if (sub && (sub[0] == '/' || strstr(sub, "..")))
            return minik_error_set(err, EINVAL,
                                   "container %s: volumeMounts[%d].subPath: must be a relative "
                                   "path without '..'",
                                   cname, i);
        if (obj_at(vol, "hostPath")) {
            const char *hp = str_at(obj_at(vol, "hostPath"), "path");
            src = xasprintf("%s%s%s", hp ? hp : "/", sub ? "/" : "", sub ? sub : "");
        } else if (obj_at(vol, "emptyDir") || obj_at(vol, "configMap") || obj_at(vol, "secret")) {
            ro = ro || !obj_at(vol, "emptyDir"); /* configMap/secret volumes are read-only */
            src = xasprintf("%s/%s%s%s", ctx->volumes_dir, name, sub ? "/" : "", sub ? sub : "");
        } else {
            return minik_error_set(err, EINVAL, "container %s: volume \"%s\": unsupported type",
                                   cname, name);
        }
        const char *const opts_ro[] = {"rbind", "rprivate", "ro", NULL};
        const char *const opts_rw[] = {"rbind", "rprivate", NULL};
        add_mount(mounts, path, "bind", src, ro ? opts_ro : opts_rw);
        i++;
    }
    static const char *const etc_files[] = {"resolv.conf", "hosts"};
    for (size_t k = 0; ctx->net_files_dir && k < 2; k++) {
        cleanup_free char *dest = xasprintf("/etc/%s", etc_files[k]);
        bool taken = false;
        cJSON_ArrayForEach(vm, cJSON_GetObjectItemCaseSensitive(ctx->container, "volumeMounts"))
        {
            taken |= minik_str_eq(str_at(vm, "mountPath"), dest);
        }
        if (taken)
            continue;
        cleanup_free char *src = xasprintf("%s/%s", ctx->net_files_dir, etc_files[k]);
        const char *const opts_ro[] = {"rbind", "rprivate", "ro", NULL};
        add_mount(mounts, dest, "bind", src, opts_ro);
    }
    return 0;
}

static void add_ns(cJSON *nss, const char *type, const char *path)
{
    cJSON *n = cJSON_CreateObject();
    cJSON_AddStringToObject(n, "type", type);
    if (path)
        cJSON_AddStringToObject(n, "path", path);
    cJSON_AddItemToArray(nss, n);
}

/* ---- the config ------------------------------------------------------------------------ */

int minik_podspec_oci_config(const minik_podspec_ctx_t *ctx, cJSON **out, minik_error_t **err)
{
    const cJSON *c = ctx->container;
    const cJSON *pspec = obj_at(ctx->pod, "spec");
    const char *cname = str_at(c, "name") ? str_at(c, "name") : "?";
    const cJSON *psc = obj_at(pspec, "securityContext");
    const cJSON *csc = obj_at(c, "securityContext");
    cleanup_cjson cJSON *cfg = cJSON_CreateObject();
    cJSON_AddStringToObject(cfg, "ociVersion", "1.0.2");

    /* process */
    cJSON *proc = cJSON_AddObjectToObject(cfg, "process");
    cJSON_AddBoolToObject(proc, "terminal", false);
    cleanup_strv char **argv = NULL;
    if (minik_podspec_argv(c, ctx->image_config, &argv, err) < 0)
        return -1;
    cJSON *env = cJSON_CreateArray();
    cJSON_AddItemToObject(proc, "env", env);
    if (build_env(ctx, env, cname, err) < 0)
        return -1;
    cJSON *args = cJSON_AddArrayToObject(proc, "args");
    for (char **a = argv; *a; a++) {
        cleanup_free char *x = expand(*a, env);
        cJSON_AddItemToArray(args, cJSON_CreateString(x));
    }
    const char *wd = str_at(c, "workingDir");
    if (!wd || !*wd)
        wd = str_at(ctx->image_config, "WorkingDir");
    cJSON_AddStringToObject(proc, "cwd", wd && *wd == '/' ? wd : "/");

    long uid = 0, gid = 0;
    const char *iuser = str_at(ctx->image_config, "User");
    if (iuser && *iuser && parse_image_user(ctx->rootfs, iuser, &uid, &gid, err) < 0)
        return minik_error_wrap(err, "container %s", cname);
    double d;
    if (num_at(psc, "runAsUser", &d))
        uid = (long)d;
    if (num_at(csc, "runAsUser", &d))
        uid = (long)d;
    if (num_at(psc, "runAsGroup", &d))
        gid = (long)d;
    if (num_at(csc, "runAsGroup", &d))
        gid = (long)d;
    bool non_root = false;
    bool_at(psc, "runAsNonRoot", &non_root);
    bool_at(csc, "runAsNonRoot", &non_root);
    if (non_root && uid == 0)
        return minik_error_set(err, EPERM,
                               "container %s: runAsNonRoot is set but the container would run "
                               "as root (uid 0)",
                               cname);
    cJSON *user = cJSON_AddObjectToObject(proc, "user");
    cJSON_AddNumberToObject(user, "uid", (double)uid);
    cJSON_AddNumberToObject(user, "gid", (double)gid);
    cJSON *groups = NULL;
    if (num_at(psc, "fsGroup", &d)) {
        groups = cJSON_AddArrayToObject(user, "additionalGids");
        cJSON_AddItemToArray(groups, cJSON_CreateNumber(d));
    }
    const cJSON *sg;
    cJSON_ArrayForEach(sg, cJSON_GetObjectItemCaseSensitive(psc, "supplementalGroups"))
    {
        if (!groups)
            groups = cJSON_AddArrayToObject(user, "additionalGids");
        if (cJSON_IsNumber(sg))
            cJSON_AddItemToArray(groups, cJSON_CreateNumber(sg->valuedouble));
    }

    bool privileged = false;
    bool_at(csc, "privileged", &privileged);
    uint64_t caps = 0;
    if (caps_mask(csc, privileged, cname, &caps, err) < 0)
        return -1;
    cJSON *capo = cJSON_AddObjectToObject(proc, "capabilities");
    const char *sets[] = {"bounding", "effective", "permitted"};
    for (int k = 0; k < 3; k++)
        cJSON_AddItemToObject(capo, sets[k], caps_array(caps));
    bool ape = true;
    bool_at(csc, "allowPrivilegeEscalation", &ape);
    cJSON_AddBoolToObject(proc, "noNewPrivileges", !ape && !privileged);
    /* root */
    cJSON *root = cJSON_AddObjectToObject(cfg, "root");
    cJSON_AddStringToObject(root, "path", ctx->rootfs);
    bool ro_root = false;
    bool_at(csc, "readOnlyRootFilesystem", &ro_root);
    cJSON_AddBoolToObject(root, "readonly", ro_root);

    cJSON *mounts = cJSON_AddArrayToObject(cfg, "mounts");
    if (build_mounts(ctx, cname, mounts, privileged, err) < 0)
        return -1;

    /* linux */
    cJSON *lx = cJSON_AddObjectToObject(cfg, "linux");
    if (build_resources(c, cname, lx, err) < 0)
        return -1;
    if (privileged) {
        /* A privileged container gets the host's devices, as Docker's --privileged. */
        cJSON *r = cJSON_GetObjectItemCaseSensitive(lx, "resources");
        cJSON *dev = cJSON_GetObjectItemCaseSensitive(r, "devices");
        cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetArrayItem(dev, 0), "allow",
                                               cJSON_CreateTrue());
    }
    if (ctx->cgroups_path)
        cJSON_AddStringToObject(lx, "cgroupsPath", ctx->cgroups_path);
    cJSON *nss = cJSON_AddArrayToObject(lx, "namespaces");
    add_ns(nss, "pid", NULL);
    add_ns(nss, "mount", NULL);
    if (ctx->netns)
        add_ns(nss, "network", ctx->netns);
    if (ctx->ipcns)
        add_ns(nss, "ipc", ctx->ipcns);
    if (ctx->utsns)
        add_ns(nss, "uts", ctx->utsns);

    const char *sp = str_at(obj_at(csc, "seccompProfile"), "type");
    if (!sp)
        sp = str_at(obj_at(psc, "seccompProfile"), "type");
    if (privileged || minik_str_eq(sp, "Unconfined")) {
        /* The runtime applies its default filter when linux.seccomp is absent, so
         * "no filter" is said with an allow-everything profile. */
        cJSON *sc = cJSON_AddObjectToObject(lx, "seccomp");
        cJSON_AddStringToObject(sc, "defaultAction", "SCMP_ACT_ALLOW");
    } else if (sp && !minik_str_eq(sp, "RuntimeDefault")) {
        return minik_error_set(err, EINVAL,
                               "container %s: seccompProfile type \"%s\" is not supported "
                               "(RuntimeDefault or Unconfined)",
                               cname, sp);
    }
    if (!privileged) {
        static const char *const masked[] = {"/proc/acpi",
                                             "/proc/asound",
                                             "/proc/kcore",
                                             "/proc/keys",
                                             "/proc/latency_stats",
                                             "/proc/timer_list",
                                             "/proc/timer_stats",
                                             "/proc/sched_debug",
                                             "/sys/firmware",
                                             "/proc/scsi",
                                             NULL};
        static const char *const ro[] = {
            "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL};
        cJSON *m = cJSON_AddArrayToObject(lx, "maskedPaths");
        for (const char *const *p = masked; *p; p++)
            cJSON_AddItemToArray(m, cJSON_CreateString(*p));
        cJSON *r = cJSON_AddArrayToObject(lx, "readonlyPaths");
        for (const char *const *p = ro; *p; p++)
            cJSON_AddItemToArray(r, cJSON_CreateString(*p));
    }

    cJSON *ann = cJSON_AddObjectToObject(cfg, "annotations");
    const cJSON *meta = obj_at(ctx->pod, "metadata");
    const char *a;
    if ((a = str_at(meta, "uid")))
        cJSON_AddStringToObject(ann, "io.kubernetes.pod.uid", a);
    if ((a = str_at(meta, "name")))
        cJSON_AddStringToObject(ann, "io.kubernetes.pod.name", a);
    if ((a = str_at(meta, "namespace")))
        cJSON_AddStringToObject(ann, "io.kubernetes.pod.namespace", a);
    cJSON_AddStringToObject(ann, "io.kubernetes.container.name", cname);
    *out = steal_pointer(&cfg);
    return 0;
}
