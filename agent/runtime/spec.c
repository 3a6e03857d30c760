#include "agent/runtime/spec.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* A config.json is small; anything larger than this is not a runtime config. */
#define SPEC_MAX_SIZE (4u << 20)

static int field_error(minik_error_t **err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int field_error(minik_error_t **err, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cleanup_free char *what = xvasprintf(fmt, ap);
    va_end(ap);
    return minik_error_set(err, EINVAL, "config.json: %s: %s", field, what);
}

static const char *type_name(const cJSON *j)
{
    if (cJSON_IsString(j))
        return "a string";
    if (cJSON_IsNumber(j))
        return "a number";
    if (cJSON_IsBool(j))
        return "a boolean";
    if (cJSON_IsNull(j))
        return "null";
    if (cJSON_IsArray(j))
        return "an array";
    if (cJSON_IsObject(j))
        return "an object";
    return "an invalid value";
}

/* Look up an optional member, checking its type. Absent (or null) gives *out = NULL. */
static int member(const cJSON *obj, const char *parent, const char *name, int type,
                  const cJSON **out, minik_error_t **err)
{
    *out = NULL;
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (j == NULL || cJSON_IsNull(j))
        return 0;
    if ((j->type & 0xff) != type && !(type == cJSON_True && cJSON_IsBool(j))) {
        const char *want = type == cJSON_String   ? "a string"
                           : type == cJSON_Number ? "a number"
                           : type == cJSON_True   ? "a boolean"
                           : type == cJSON_Array  ? "an array"
                                                  : "an object";
        cleanup_free char *field = xasprintf("%s%s%s", parent, *parent ? "." : "", name);
        return field_error(err, field, "expected %s, got %s", want, type_name(j));
    }
    *out = j;
    return 0;
}

static int get_string(const cJSON *obj, const char *parent, const char *name, char **out,
                      minik_error_t **err)
{
    const cJSON *j;
    int r = member(obj, parent, name, cJSON_String, &j, err);
    if (r < 0)
        return r;
    *out = j ? xstrdup(j->valuestring) : NULL;
    return 0;
}

static int get_bool(const cJSON *obj, const char *parent, const char *name, bool *out,
                    minik_error_t **err)
{
    const cJSON *j;
    int r = member(obj, parent, name, cJSON_True, &j, err);
    if (r < 0)
        return r;
    if (j)
        *out = cJSON_IsTrue(j);
    return 0;
}

/* An integer in [min, max]; JSON numbers are doubles, so reject fractions and values a
 * double cannot hold exactly. */
static int number_in(const cJSON *j, const char *field, double min, double max, int64_t *out,
                     minik_error_t **err)
{
    if (!cJSON_IsNumber(j))
        return field_error(err, field, "expected a number, got %s", type_name(j));
    double v = j->valuedouble;
    if (!isfinite(v) || v != floor(v))
        return field_error(err, field, "expected an integer, got %g", v);
    if (v < min || v > max)
        return field_error(err, field, "%.0f is out of range [%.0f, %.0f]", v, min, max);
    *out = (int64_t)v;
    return 0;
}

static int get_u32(const cJSON *obj, const char *parent, const char *name, bool *present,
                   uint32_t *out, minik_error_t **err)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (present)
        *present = false;
    if (j == NULL || cJSON_IsNull(j))
        return 0;
    cleanup_free char *field = xasprintf("%s.%s", parent, name);
    int64_t v;
    int r = number_in(j, field, 0, UINT32_MAX, &v, err);
    if (r < 0)
        return r;
    *out = (uint32_t)v;
    if (present)
        *present = true;
    return 0;
}

/* A JSON array of strings into a NULL-terminated vector (empty when absent). */
static int get_strv(const cJSON *obj, const char *parent, const char *name, char ***out,
                    minik_error_t **err)
{
    const cJSON *arr;
    int r = member(obj, parent, name, cJSON_Array, &arr, err);
    if (r < 0)
        return r;
    size_t n = arr ? (size_t)cJSON_GetArraySize(arr) : 0;
    cleanup_strv char **v = xcalloc(n + 1, sizeof *v);
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if (!cJSON_IsString(e))
            return minik_error_set(err, EINVAL,
                                   "config.json: %s%s%s[%zu]: expected a string, got %s", parent,
                                   *parent ? "." : "", name, i, type_name(e));
        v[i++] = xstrdup(e->valuestring);
    }
    *out = steal_pointer(&v);
    return 0;
}

/* ---- capabilities -------------------------------------------------------------------- */

const char *const minik_spec_cap_names[MINIK_SPEC_CAP_COUNT] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

/* Every slot is named: a count that grew without a name would leave a NULL in the table. */
_Static_assert(sizeof minik_spec_cap_names / sizeof minik_spec_cap_names[0] == MINIK_SPEC_CAP_COUNT,
               "one name per capability");

int minik_spec_cap_from_name(const char *name)
{
    for (int i = 0; i < MINIK_SPEC_CAP_COUNT; i++)
        if (strcmp(minik_spec_cap_names[i], name) == 0)
            return i;
    return -1;
}

const char *minik_spec_cap_name(int cap)
{
    if (cap < 0 || cap >= MINIK_SPEC_CAP_COUNT)
        return "CAP_UNKNOWN";
    return minik_spec_cap_names[cap];
}

static int get_capset(const cJSON *caps, const char *name, uint64_t *out, minik_error_t **err)
{
    const cJSON *arr;
    int r = member(caps, "process.capabilities", name, cJSON_Array, &arr, err);
    if (r < 0)
        return r;
    *out = 0;
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if (!cJSON_IsString(e))
            return minik_error_set(err, EINVAL,
                                   "config.json: process.capabilities.%s[%zu]: expected a "
                                   "string, got %s",
                                   name, i, type_name(e));
        int c = minik_spec_cap_from_name(e->valuestring);
        if (c < 0)
            return minik_error_set(err, EINVAL,
                                   "config.json: process.capabilities.%s[%zu]: unknown "
                                   "capability \"%s\"",
                                   name, i, e->valuestring);
        *out |= 1ULL << c;
        i++;
    }
    return 0;
}

/* ---- rlimits ------------------------------------------------------------------------- */

static const struct {
    const char *name;
    int resource;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_rlimits(const cJSON *process, minik_spec_t *s, minik_error_t **err)
{
    const cJSON *arr;
    int r = member(process, "process", "rlimits", cJSON_Array, &arr, err);
    if (r < 0 || arr == NULL)
        return r;
    size_t n = (size_t)cJSON_GetArraySize(arr);
    s->rlimits = xcalloc(n ? n : 1, sizeof *s->rlimits);
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        size_t i = s->n_rlimits;
        cleanup_free char *field = xasprintf("process.rlimits[%zu]", i);
        if (!cJSON_IsObject(e))
            return field_error(err, field, "expected an object, got %s", type_name(e));
        cleanup_free char *type = NULL;
        r = get_string(e, field, "type", &type, err);
        if (r < 0)
            return r;
        if (type == NULL)
            return field_error(err, field, "missing \"type\"");
        int res = -1;
        for (size_t k = 0; k < sizeof rlimit_names / sizeof rlimit_names[0]; k++)
            if (strcmp(rlimit_names[k].name, type) == 0)
                res = rlimit_names[k].resource;
        if (res < 0)
            return minik_error_set(err, EINVAL, "config.json: %s.type: unknown rlimit \"%s\"",
                                   field, type);
        int64_t soft = 0, hard = 0;
        const cJSON *js = cJSON_GetObjectItemCaseSensitive(e, "soft");
        const cJSON *jh = cJSON_GetObjectItemCaseSensitive(e, "hard");
        cleanup_free char *fs = xasprintf("%s.soft", field);
        cleanup_free char *fh = xasprintf("%s.hard", field);
        /* 2^53 bounds what a double holds exactly; larger values mean "unlimited". */
        if ((r = number_in(js, fs, 0, 9007199254740992.0, &soft, err)) < 0)
            return r;
        if ((r = number_in(jh, fh, 0, 9007199254740992.0, &hard, err)) < 0)
            return r;
        if (soft > hard)
            return field_error(err, field, "soft limit %lld is above the hard limit %lld",
                               (long long)soft, (long long)hard);
        s->rlimits[i].resource = res;
        s->rlimits[i].soft = (uint64_t)soft;
        s->rlimits[i].hard = (uint64_t)hard;
        s->n_rlimits++;
    }
    return 0;
}

/* ---- process ------------------------------------------------------------------------- */

static int parse_user(const cJSON *process, minik_spec_t *s, minik_error_t **err)
{
    const cJSON *user;
    int r = member(process, "process", "user", cJSON_Object, &user, err);
    if (r < 0 || user == NULL)
        return r;
    uint32_t v = 0;
    bool present;
    if ((r = get_u32(user, "process.user", "uid", &present, &v, err)) < 0)
        return r;
    s->uid = present ? v : 0;
    if ((r = get_u32(user, "process.user", "gid", &present, &v, err)) < 0)
        return r;
    s->gid = present ? v : 0;
    const cJSON *arr;
    if ((r = member(user, "process.user", "additionalGids", cJSON_Array, &arr, err)) < 0)
        return r;
    if (arr) {
        size_t n = (size_t)cJSON_GetArraySize(arr);
        s->additional_gids = xcalloc(n ? n : 1, sizeof *s->additional_gids);
        const cJSON *e;
        cJSON_ArrayForEach(e, arr)
        {
            cleanup_free char *f =
                xasprintf("process.user.additionalGids[%zu]", s->n_additional_gids);
            int64_t g;
            if ((r = number_in(e, f, 0, UINT32_MAX, &g, err)) < 0)
                return r;
            s->additional_gids[s->n_additional_gids++] = (gid_t)g;
        }
    }
    return 0;
}

static int parse_process(const cJSON *root, minik_spec_t *s, minik_error_t **err)
{
    const cJSON *p;
    int r = member(root, "", "process", cJSON_Object, &p, err);
    if (r < 0)
        return r;
    if (p == NULL)
        return minik_error_set(err, EINVAL, "config.json: process: missing");

    bool terminal = false;
    if ((r = get_bool(p, "process", "terminal", &terminal, err)) < 0)
        return r;
    if (terminal)
        return field_error(err, "process.terminal",
                           "true is not supported: minik containers have no console; the "
                           "shim owns stdio");
    if ((r = get_strv(p, "process", "args", &s->args, err)) < 0)
        return r;
    if (s->args[0] == NULL || s->args[0][0] == '\0')
        return field_error(err, "process.args", "must name the program to run");
    if ((r = get_strv(p, "process", "env", &s->env, err)) < 0)
        return r;
    for (size_t i = 0; s->env[i]; i++)
        if (strchr(s->env[i], '=') == NULL || s->env[i][0] == '=')
            return minik_error_set(err, EINVAL,
                                   "config.json: process.env[%zu]: \"%s\" is not NAME=VALUE", i,
                                   s->env[i]);
    if ((r = get_string(p, "process", "cwd", &s->cwd, err)) < 0)
        return r;
    if (s->cwd == NULL)
        s->cwd = xstrdup("/");
    if (s->cwd[0] != '/')
        return field_error(err, "process.cwd", "\"%s\" is not an absolute path", s->cwd);
    if ((r = parse_user(p, s, err)) < 0)
        return r;

    const cJSON *caps;
    if ((r = member(p, "process", "capabilities", cJSON_Object, &caps, err)) < 0)
        return r;
    if (caps) {
        s->caps_given = true;
        if ((r = get_capset(caps, "bounding", &s->cap_bounding, err)) < 0 ||
            (r = get_capset(caps, "effective", &s->cap_effective, err)) < 0 ||
            (r = get_capset(caps, "permitted", &s->cap_permitted, err)) < 0 ||
            (r = get_capset(caps, "ambient", &s->cap_ambient, err)) < 0)
            return r;
        /* "inheritable" is validated but never applied: inheritable stays empty
         * (CVE-2022-29162), as in runc since 1.1.2. */
        uint64_t inh;
        if ((r = get_capset(caps, "inheritable", &inh, err)) < 0)
            return r;
    } else {
        s->cap_bounding = s->cap_effective = s->cap_permitted = MINIK_SPEC_DEFAULT_CAPS;
        s->cap_ambient = 0;
    }
    if ((r = parse_rlimits(p, s, err)) < 0)
        return r;
    if ((r = get_bool(p, "process", "noNewPrivileges", &s->no_new_privileges, err)) < 0)
        return r;
    const cJSON *oom = cJSON_GetObjectItemCaseSensitive(p, "oomScoreAdj");
    if (oom && !cJSON_IsNull(oom)) {
        int64_t v;
        if ((r = number_in(oom, "process.oomScoreAdj", -1000, 1000, &v, err)) < 0)
            return r;
        s->has_oom_score_adj = true;
        s->oom_score_adj = (int)v;
    }
    return 0;
}

/* ---- mounts -------------------------------------------------------------------------- */

static const struct {
    const char *name;
    unsigned long set, clear, propagation;
} mount_opts[] = {
    {"ro", MS_RDONLY, 0, 0},
    {"rw", 0, MS_RDONLY, 0},
    {"nosuid", MS_NOSUID, 0, 0},
    {"suid", 0, MS_NOSUID, 0},
    {"nodev", MS_NODEV, 0, 0},
    {"dev", 0, MS_NODEV, 0},
    {"noexec", MS_NOEXEC, 0, 0},
    {"exec", 0, MS_NOEXEC, 0},
    {"sync", MS_SYNCHRONOUS, 0, 0},
    {"async", 0, MS_SYNCHRONOUS, 0},
    {"dirsync", MS_DIRSYNC, 0, 0},
    {"remount", MS_REMOUNT, 0, 0},
    {"mand", MS_MANDLOCK, 0, 0},
    {"nomand", 0, MS_MANDLOCK, 0},
    {"atime", 0, MS_NOATIME, 0},
    {"noatime", MS_NOATIME, 0, 0},
    {"diratime", 0, MS_NODIRATIME, 0},
    {"nodiratime", MS_NODIRATIME, 0, 0},
    {"relatime", MS_RELATIME, 0, 0},
    {"norelatime", 0, MS_RELATIME, 0},
    {"strictatime", MS_STRICTATIME, 0, 0},
    {"nostrictatime", 0, MS_STRICTATIME, 0},
    {"lazytime", MS_LAZYTIME, 0, 0},
    {"nolazytime", 0, MS_LAZYTIME, 0},
    {"private", 0, 0, MS_PRIVATE},
    {"rprivate", 0, 0, MS_PRIVATE | MS_REC},
    {"shared", 0, 0, MS_SHARED},
    {"rshared", 0, 0, MS_SHARED | MS_REC},
    {"slave", 0, 0, MS_SLAVE},
    {"rslave", 0, 0, MS_SLAVE | MS_REC},
    {"unbindable", 0, 0, MS_UNBINDABLE},
    {"runbindable", 0, 0, MS_UNBINDABLE | MS_REC},
};

void minik_spec_mount_parse_option(minik_spec_mount_t *m, const char *opt)
{
    if (strcmp(opt, "bind") == 0) {
        m->bind = true;
        return;
    }
    if (strcmp(opt, "rbind") == 0) {
        m->bind = true;
        m->flags |= MS_REC;
        return;
    }
    for (size_t i = 0; i < sizeof mount_opts / sizeof mount_opts[0]; i++) {
        if (strcmp(mount_opts[i].name, opt) != 0)
            continue;
        m->flags |= mount_opts[i].set;
        m->flags &= ~mount_opts[i].clear;
        m->clear_flags |= mount_opts[i].clear;
        if (mount_opts[i].propagation)
            m->propagation = mount_opts[i].propagation;
        return;
    }
    /* Anything else is filesystem data (mode=755, size=64k, newinstance, ...). */
    char *old = m->data;
    m->data = old ? xasprintf("%s,%s", old, opt) : xstrdup(opt);
    free(old);
}

/* No "..": a mount destination or masked path must name a place inside the container;
 * resolution inside the rootfs is also done safely at mount time, this is just for a clear
 * error up front. */
static bool clean_abs_path(const char *p)
{
    if (p[0] != '/')
        return false;
    cleanup_strv char **parts = minik_str_split(p, "/", true);
    for (size_t i = 0; parts[i]; i++)
        if (strcmp(parts[i], "..") == 0)
            return false;
    return true;
}

static int parse_mounts(const cJSON *root, minik_spec_t *s, minik_error_t **err)
{
    const cJSON *arr;
    int r = member(root, "", "mounts", cJSON_Array, &arr, err);
    if (r < 0 || arr == NULL)
        return r;
    size_t n = (size_t)cJSON_GetArraySize(arr);
    s->mounts = xcalloc(n ? n : 1, sizeof *s->mounts);
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        size_t i = s->n_mounts;
        cleanup_free char *field = xasprintf("mounts[%zu]", i);
        if (!cJSON_IsObject(e))
            return field_error(err, field, "expected an object, got %s", type_name(e));
        minik_spec_mount_t *m = &s->mounts[i];
        s->n_mounts++; /* counted now so minik_spec_free releases a half-parsed entry */
        if ((r = get_string(e, field, "destination", &m->destination, err)) < 0 ||
            (r = get_string(e, field, "type", &m->type, err)) < 0 ||
            (r = get_string(e, field, "source", &m->source, err)) < 0)
            return r;
        if (m->destination == NULL)
            return field_error(err, field, "missing \"destination\"");
        if (!clean_abs_path(m->destination))
            return minik_error_set(err, EINVAL,
                                   "config.json: %s.destination: \"%s\" must be an absolute "
                                   "path without \"..\"",
                                   field, m->destination);
        cleanup_strv char **opts = NULL;
        if ((r = get_strv(e, field, "options", &opts, err)) < 0)
            return r;
        for (size_t k = 0; opts[k]; k++)
            minik_spec_mount_parse_option(m, opts[k]);
        if (m->type && strcmp(m->type, "bind") == 0)
            m->bind = true;
        if (m->bind && m->source == NULL)
            return field_error(err, field, "a bind mount needs a \"source\"");
        if (!m->bind && m->type == NULL)
            return field_error(err, field, "missing \"type\"");
        if (m->source == NULL)
            m->source = xstrdup(m->type);
    }
    return 0;
}

/* ---- linux --------------------------------------------------------------------------- */

static const struct {
    const char *name;
    int flag;
} ns_names[] = {
    {"pid", CLONE_NEWPID},       {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
    {"ipc", CLONE_NEWIPC},       {"uts", CLONE_NEWUTS},     {"user", CLONE_NEWUSER},
    {"cgroup", CLONE_NEWCGROUP},
};

static int parse_namespaces(const cJSON *linux, minik_spec_t *s, minik_error_t **err)
{
    const cJSON *arr;
    int r = member(linux, "linux", "namespaces", cJSON_Array, &arr, err);
    if (r < 0 || arr == NULL)
        return r;
    size_t n = (size_t)cJSON_GetArraySize(arr);
    s->namespaces = xcalloc(n ? n : 1, sizeof *s->namespaces);
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        size_t i = s->n_namespaces;
        cleanup_free char *field = xasprintf("linux.namespaces[%zu]", i);
        if (!cJSON_IsObject(e))
            return field_error(err, field, "expected an object, got %s", type_name(e));
        cleanup_free char *type = NULL, *path = NULL;
        if ((r = get_string(e, field, "type", &type, err)) < 0 ||
            (r = get_string(e, field, "path", &path, err)) < 0)
            return r;
        if (type == NULL)
            return field_error(err, field, "missing \"type\"");
        int flag = 0;
        for (size_t k = 0; k < sizeof ns_names / sizeof ns_names[0]; k++)
            if (strcmp(ns_names[k].name, type) == 0)
                flag = ns_names[k].flag;
        if (flag == 0)
            return minik_error_set(err, EINVAL,
                                   "config.json: %s.type: unsupported namespace \"%s\" (use pid, "
                                   "network, mount, ipc, uts, user or cgroup)",
                                   field, type);
        if (minik_spec_namespace(s, flag))
            return minik_error_set(err, EINVAL, "config.json: %s.type: \"%s\" is listed twice",
                                   field, type);
        if (path && path[0] != '/')
            return minik_error_set(
                err, EINVAL, "config.json: %s.path: \"%s\" is not an absolute path", field, path);
        s->namespaces[i].type = flag;
        s->namespaces[i].path = steal_pointer(&path);
        s->n_namespaces++;
    }
    return 0;
}

static int parse_idmaps(const cJSON *linux, const char *name, minik_spec_idmap_t **out,
                        size_t *n_out, minik_error_t **err)
{
    const cJSON *arr;
    int r = member(linux, "linux", name, cJSON_Array, &arr, err);
    if (r < 0 || arr == NULL)
        return r;
    size_t n = (size_t)cJSON_GetArraySize(arr);
    *out = xcalloc(n ? n : 1, sizeof **out);
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        cleanup_free char *field = xasprintf("linux.%s[%zu]", name, *n_out);
        if (!cJSON_IsObject(e))
            return field_error(err, field, "expected an object, got %s", type_name(e));
        minik_spec_idmap_t *m = &(*out)[*n_out];
        bool a, b, c;
        if ((r = get_u32(e, field, "containerID", &a, &m->container_id, err)) < 0 ||
            (r = get_u32(e, field, "hostID", &b, &m->host_id, err)) < 0 ||
            (r = get_u32(e, field, "size", &c, &m->size, err)) < 0)
            return r;
        if (!a || !b || !c)
            return field_error(err, field, "needs containerID, hostID and size");
        if (m->size == 0)
            return field_error(err, field, "size must be at least 1");
        (*n_out)++;
    }
    return 0;
}

static int sysctl_check(const minik_spec_t *s, const char *k, minik_error_t **err);

static int parse_sysctl(const cJSON *linux, minik_spec_t *s, minik_error_t **err)
{
    const cJSON *obj;
    int r = member(linux, "linux", "sysctl", cJSON_Object, &obj, err);
    if (r < 0 || obj == NULL)
        return r;
    size_t n = (size_t)cJSON_GetArraySize(obj);
    s->sysctls = xcalloc(n ? n : 1, sizeof *s->sysctls);
    const cJSON *e;
    cJSON_ArrayForEach(e, obj)
    {
        if (!cJSON_IsString(e))
            return minik_error_set(err, EINVAL,
                                   "config.json: linux.sysctl.%s: expected a string, got %s",
                                   e->string, type_name(e));
        /* The key becomes a path under /proc/sys: refuse anything that could climb out. */
        const char *k = e->string;
        if (k[0] == '\0' || k[0] == '.' || k[0] == '/' || strstr(k, "..") || strchr(k, '\n'))
            return minik_error_set(err, EINVAL, "config.json: linux.sysctl: invalid key \"%s\"", k);
        if ((r = sysctl_check(s, k, err)) < 0)
            return r;
        s->sysctls[s->n_sysctls].key = xstrdup(k);
        s->sysctls[s->n_sysctls].value = xstrdup(e->valuestring);
        s->n_sysctls++;
    }
    return 0;
}

/* Only sysctls that belong to a namespace the container has of its own may be set:
 * anything else would change the host (kernel.core_pattern, vm.*, ...). The kernel picks
 * the namespace of the writer, which is the container's. */
static int sysctl_check(const minik_spec_t *s, const char *k, minik_error_t **err)
{
    static const char *const ipc_keys[] = {
        "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
        "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
    int need = 0;
    for (size_t i = 0; i < sizeof ipc_keys / sizeof ipc_keys[0]; i++)
        if (strcmp(k, ipc_keys[i]) == 0)
            need = CLONE_NEWIPC;
    if (minik_str_has_prefix(k, "fs.mqueue."))
        need = CLONE_NEWIPC;
    else if (minik_str_has_prefix(k, "net."))
        need = CLONE_NEWNET;
    else if (strcmp(k, "kernel.hostname") == 0 || strcmp(k, "kernel.domainname") == 0)
        need = CLONE_NEWUTS;
    if (need == 0)
        return minik_error_set(err, EINVAL,
                               "config.json: linux.sysctl: \"%s\" is not namespaced: setting it "
                               "would change the host",
                               k);
    const minik_spec_namespace_t *ns = minik_spec_namespace(s, need);
    if (ns == NULL)
        return minik_error_set(err, EINVAL,
                               "config.json: linux.sysctl: \"%s\" needs the container's own %s "
                               "namespace",
                               k,
                               need == CLONE_NEWIPC   ? "ipc"
                               : need == CLONE_NEWNET ? "network"
                                                      : "uts");
    return 0;
}

static int parse_devices(const cJSON *linux, minik_spec_t *s, minik_error_t **err)
{
    const cJSON *arr;
    int r = member(linux, "linux", "devices", cJSON_Array, &arr, err);
    if (r < 0 || arr == NULL)
        return r;
    size_t n = (size_t)cJSON_GetArraySize(arr);
    s->devices = xcalloc(n ? n : 1, sizeof *s->devices);
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        size_t i = s->n_devices;
        cleanup_free char *field = xasprintf("linux.devices[%zu]", i);
        if (!cJSON_IsObject(e))
            return field_error(err, field, "expected an object, got %s", type_name(e));
        minik_spec_device_t *d = &s->devices[i];
        s->n_devices++;
        cleanup_free char *type = NULL;
        if ((r = get_string(e, field, "path", &d->path, err)) < 0 ||
            (r = get_string(e, field, "type", &type, err)) < 0)
            return r;
        if (d->path == NULL || !clean_abs_path(d->path) || !minik_str_has_prefix(d->path, "/dev/"))
            return field_error(err, field, "\"path\" must be an absolute path under /dev");
        if (type == NULL || strlen(type) != 1 || !strchr("cbpu", type[0]))
            return field_error(err, field, "\"type\" must be \"c\", \"b\", \"u\" or \"p\"");
        d->type = type[0];
        const cJSON *jm = cJSON_GetObjectItemCaseSensitive(e, "major");
        const cJSON *jn = cJSON_GetObjectItemCaseSensitive(e, "minor");
        cleanup_free char *fm = xasprintf("%s.major", field);
        cleanup_free char *fn = xasprintf("%s.minor", field);
        if (d->type != 'p') {
            if ((r = number_in(jm, fm, 0, 4095, &d->major, err)) < 0 ||
                (r = number_in(jn, fn, 0, 1048575, &d->minor, err)) < 0)
                return r;
        }
        uint32_t v = 0;
        bool present;
        if ((r = get_u32(e, field, "fileMode", &present, &v, err)) < 0)
            return r;
        d->mode = present ? (mode_t)(v & 07777) : 0666;
        if ((r = get_u32(e, field, "uid", NULL, &v, err)) < 0)
            return r;
        d->uid = cJSON_GetObjectItemCaseSensitive(e, "uid") ? v : 0;
        v = 0;
        if ((r = get_u32(e, field, "gid", NULL, &v, err)) < 0)
            return r;
        d->gid = cJSON_GetObjectItemCaseSensitive(e, "gid") ? v : 0;
    }
    return 0;
}

static int parse_path_list(const cJSON *linux, const char *name, char ***out, minik_error_t **err)
{
    int r = get_strv(linux, "linux", name, out, err);
    if (r < 0)
        return r;
    for (size_t i = 0; (*out)[i]; i++)
        if (!clean_abs_path((*out)[i]))
            return minik_error_set(err, EINVAL,
                                   "config.json: linux.%s[%zu]: \"%s\" must be an absolute path "
                                   "without \"..\"",
                                   name, i, (*out)[i]);
    return 0;
}

static int parse_linux(const cJSON *root, minik_spec_t *s, minik_error_t **err)
{
    const cJSON *l;
    int r = member(root, "", "linux", cJSON_Object, &l, err);
    if (r < 0)
        return r;
    if (l == NULL) {
        s->masked_paths = xcalloc(1, sizeof(char *));
        s->readonly_paths = xcalloc(1, sizeof(char *));
        return 0;
    }
    if ((r = parse_namespaces(l, s, err)) < 0 ||
        (r = parse_idmaps(l, "uidMappings", &s->uid_mappings, &s->n_uid_mappings, err)) < 0 ||
        (r = parse_idmaps(l, "gidMappings", &s->gid_mappings, &s->n_gid_mappings, err)) < 0 ||
        (r = member(l, "linux", "resources", cJSON_Object, &s->resources, err)) < 0 ||
        (r = member(l, "linux", "seccomp", cJSON_Object, &s->seccomp, err)) < 0 ||
        (r = get_string(l, "linux", "cgroupsPath", &s->cgroups_path, err)) < 0 ||
        (r = parse_sysctl(l, s, err)) < 0 ||
        (r = parse_path_list(l, "maskedPaths", &s->masked_paths, err)) < 0 ||
        (r = parse_path_list(l, "readonlyPaths", &s->readonly_paths, err)) < 0 ||
        (r = parse_devices(l, s, err)) < 0)
        return r;

    cleanup_free char *prop = NULL;
    if ((r = get_string(l, "linux", "rootfsPropagation", &prop, err)) < 0)
        return r;
    if (prop) {
        minik_spec_mount_t tmp = {0};
        minik_spec_mount_parse_option(&tmp, prop);
        free(tmp.data);
        if (tmp.propagation == 0)
            return field_error(err, "linux.rootfsPropagation",
                               "\"%s\" is not one of shared, rshared, slave, rslave, private, "
                               "rprivate, unbindable, runbindable",
                               prop);
        s->rootfs_propagation = tmp.propagation;
    }

    bool userns = minik_spec_namespace(s, CLONE_NEWUSER) != NULL;
    const minik_spec_namespace_t *uns = minik_spec_namespace(s, CLONE_NEWUSER);
    if ((s->n_uid_mappings || s->n_gid_mappings) && (!userns || uns->path))
        return field_error(err, "linux.uidMappings",
                           "mappings need a new user namespace in linux.namespaces");
    if (userns && !uns->path && (!s->n_uid_mappings || !s->n_gid_mappings))
        return field_error(err, "linux.namespaces",
                           "a new user namespace needs linux.uidMappings and linux.gidMappings");
    return 0;
}

/* ---- top level ----------------------------------------------------------------------- */

const minik_spec_namespace_t *minik_spec_namespace(const minik_spec_t *spec, int type)
{
    for (size_t i = 0; i < spec->n_namespaces; i++)
        if (spec->namespaces[i].type == type)
            return &spec->namespaces[i];
    return NULL;
}

/* Line and column (1-based) of byte offset `off`, for JSON syntax errors. */
static void line_col(const char *text, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && text[i]; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

int minik_spec_parse(const char *text, size_t len, minik_spec_t **out, minik_error_t **err)
{
    const char *end = NULL;
    cJSON *json = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (json == NULL) {
        int line, col;
        size_t off = end && end >= text ? (size_t)(end - text) : 0;
        line_col(text, off < len ? off : len, &line, &col);
        return minik_error_set(err, EINVAL, "config.json:%d:%d: invalid JSON", line, col);
    }
    minik_spec_t *s = xcalloc(1, sizeof *s);
    s->json = json;
    int r;
    if (!cJSON_IsObject(json)) {
        r = minik_error_set(err, EINVAL, "config.json: expected an object, got %s",
                            type_name(json));
        goto fail;
    }
    if ((r = get_string(json, "", "ociVersion", &s->oci_version, err)) < 0)
        goto fail;
    if (s->oci_version == NULL) {
        r = minik_error_set(err, EINVAL, "config.json: ociVersion: missing");
        goto fail;
    }
    if (!minik_str_has_prefix(s->oci_version, "1.")) {
        r = minik_error_set(err, EINVAL,
                            "config.json: ociVersion: \"%s\" is not a 1.x runtime spec",
                            s->oci_version);
        goto fail;
    }
    if ((r = parse_process(json, s, err)) < 0)
        goto fail;

    const cJSON *root;
    if ((r = member(json, "", "root", cJSON_Object, &root, err)) < 0)
        goto fail;
    if (root == NULL) {
        r = minik_error_set(err, EINVAL, "config.json: root: missing");
        goto fail;
    }
    if ((r = get_string(root, "root", "path", &s->root_path, err)) < 0 ||
        (r = get_bool(root, "root", "readonly", &s->root_readonly, err)) < 0)
        goto fail;
    if (s->root_path == NULL || s->root_path[0] == '\0') {
        r = minik_error_set(err, EINVAL, "config.json: root.path: missing");
        goto fail;
    }
    if ((r = get_string(json, "", "hostname", &s->hostname, err)) < 0)
        goto fail;
    if ((r = parse_mounts(json, s, err)) < 0 || (r = parse_linux(json, s, err)) < 0)
        goto fail;
    if (s->hostname && s->hostname[0] && !minik_spec_namespace(s, CLONE_NEWUTS)) {
        r = minik_error_set(err, EINVAL,
                            "config.json: hostname: needs a \"uts\" entry in linux.namespaces");
        goto fail;
    }
    if ((r = member(json, "", "annotations", cJSON_Object, &s->annotations, err)) < 0)
        goto fail;
    const cJSON *a;
    cJSON_ArrayForEach(a, s->annotations)
    {
        if (!cJSON_IsString(a)) {
            r = minik_error_set(err, EINVAL,
                                "config.json: annotations.%s: expected a string, got %s", a->string,
                                type_name(a));
            goto fail;
        }
    }
    const minik_spec_namespace_t *mntns = minik_spec_namespace(s, CLONE_NEWNS);
    if (mntns && mntns->path) {
        r = minik_error_set(err, EINVAL,
                            "config.json: linux.namespaces: joining a mount namespace by path is "
                            "not supported (minik pivots into the rootfs in a new one)");
        goto fail;
    }
    if (!mntns) {
        r = minik_error_set(err, EINVAL,
                            "config.json: linux.namespaces: a \"mount\" namespace is required "
                            "(minik always pivots into the rootfs)");
        goto fail;
    }
    *out = s;
    return 0;
fail:
    minik_spec_free(s);
    return r;
}

int minik_spec_load(const char *bundle, minik_spec_t **out, minik_error_t **err)
{
    cleanup_free char *path = xasprintf("%s/config.json", bundle);
    cleanup_free char *text = NULL;
    size_t len = 0;
    int r = minik_file_read(path, SPEC_MAX_SIZE, &text, &len, err);
    if (r < 0)
        return r;
    r = minik_spec_parse(text, len, out, err);
    if (r < 0)
        return minik_error_wrap(err, "bundle \"%s\"", bundle);
    return 0;
}

void minik_spec_free(minik_spec_t *s)
{
    if (s == NULL)
        return;
    cJSON_Delete(s->json);
    free(s->oci_version);
    minik_strv_free(s->args);
    minik_strv_free(s->env);
    free(s->cwd);
    free(s->additional_gids);
    free(s->rlimits);
    free(s->root_path);
    free(s->hostname);
    for (size_t i = 0; i < s->n_mounts; i++) {
        free(s->mounts[i].destination);
        free(s->mounts[i].type);
        free(s->mounts[i].source);
        free(s->mounts[i].data);
    }
    free(s->mounts);
    for (size_t i = 0; i < s->n_namespaces; i++)
        free(s->namespaces[i].path);
    free(s->namespaces);
    free(s->uid_mappings);
    free(s->gid_mappings);
    free(s->cgroups_path);
    for (size_t i = 0; i < s->n_sysctls; i++) {
        free(s->sysctls[i].key);
        free(s->sysctls[i].value);
    }
    free(s->sysctls);
    minik_strv_free(s->masked_paths);
    minik_strv_free(s->readonly_paths);
    for (size_t i = 0; i < s->n_devices; i++)
        free(s->devices[i].path);
    free(s->devices);
    free(s);
}
