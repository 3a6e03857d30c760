/* OCI linux.seccomp -> libseccomp -> classic BPF in memory; installed in the child with a
 * bare prctl.
 *
 * Parsing happens first into plain structs (so every error can name its field before
 * libseccomp is touched), then the filter is built and exported. runc's rules are
 * followed where the spec leaves room: syscall names unknown to this libseccomp are
 * skipped; a rule whose action equals the default action is dropped (libseccomp refuses
 * it, and it changes nothing); args on distinct indexes are ANDed in one rule, while
 * several args on the same index become one rule each (ORed), since libseccomp cannot
 * compare one argument twice in a rule. */
#include "agent/runtime/seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <math.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"

struct minik_seccomp {
    struct sock_fprog prog; /* points into filter */
    struct sock_filter *filter;
};

#define ACTIONS(X)                                                                                 \
    X("SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD)                                                       \
    X("SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD)                                                \
    X("SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS)                                              \
    X("SCMP_ACT_TRAP", SCMP_ACT_TRAP)                                                              \
    X("SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0))                                                         \
    X("SCMP_ACT_TRACE", SCMP_ACT_TRACE(0))                                                         \
    X("SCMP_ACT_ALLOW", SCMP_ACT_ALLOW)                                                            \
    X("SCMP_ACT_LOG", SCMP_ACT_LOG)

#define OPS(X)                                                                                     \
    X("SCMP_CMP_NE", SCMP_CMP_NE)                                                                  \
    X("SCMP_CMP_LT", SCMP_CMP_LT)                                                                  \
    X("SCMP_CMP_LE", SCMP_CMP_LE)                                                                  \
    X("SCMP_CMP_EQ", SCMP_CMP_EQ)                                                                  \
    X("SCMP_CMP_GE", SCMP_CMP_GE)                                                                  \
    X("SCMP_CMP_GT", SCMP_CMP_GT)                                                                  \
    X("SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ)

typedef struct sc_arg {
    unsigned index;
    uint64_t value, value_two;
    enum scmp_compare op;
} sc_arg_t;

typedef struct sc_rule {
    char **names; /* NULL-terminated */
    uint32_t action;
    sc_arg_t args[6 * 4];
    size_t n_args;
} sc_rule_t;

typedef struct sc_spec {
    uint32_t default_action;
    uint32_t arches[16];
    size_t n_arches;
    sc_rule_t *rules;
    size_t n_rules;
} sc_spec_t;

static void spec_clear(sc_spec_t *s)
{
    for (size_t i = 0; i < s->n_rules; i++)
        minik_strv_free(s->rules[i].names);
    free(s->rules);
    memset(s, 0, sizeof(*s));
}

/* An action name plus its errnoRet ("errno" for ERRNO, the message number for TRACE). */
static int parse_action(const cJSON *obj, const char *akey, const char *ekey, const char *where,
                        uint32_t *out, minik_error_t **err)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, akey);
    if (a == NULL)
        return minik_error_set(err, EINVAL, "%s%s: required", where, akey);
    if (!cJSON_IsString(a))
        return minik_error_set(err, EINVAL, "%s%s: expected a string", where, akey);
    uint32_t act = 0;
    bool found = false;
#define X(name, value)                                                                             \
    if (!found && strcmp(a->valuestring, name) == 0) {                                             \
        act = value;                                                                               \
        found = true;                                                                              \
    }
    ACTIONS(X)
#undef X
    if (!found) {
        cleanup_free char *q = minik_str_quote(a->valuestring);
        if (strcmp(a->valuestring, "SCMP_ACT_NOTIFY") == 0)
            return minik_error_set(err, ENOTSUP, "%s%s: %s is not supported", where, akey, q);
        return minik_error_set(err, EINVAL, "%s%s: unknown action %s", where, akey, q);
    }
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(obj, ekey);
    uint32_t ret = EPERM; /* runc's errno when none is given */
    if (e != NULL && !cJSON_IsNull(e)) {
        if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble) || e->valuedouble < 0 ||
            e->valuedouble > 65535)
            return minik_error_set(err, EINVAL, "%s%s: expected an integer in [0, 65535]", where,
                                   ekey);
        ret = (uint32_t)e->valuedouble;
    }
    if (act == SCMP_ACT_ERRNO(0))
        act = SCMP_ACT_ERRNO(ret);
    else if (act == SCMP_ACT_TRACE(0))
        act = SCMP_ACT_TRACE(e && cJSON_IsNumber(e) ? ret : 0);
    *out = act;
    return 0;
}

static int parse_u64(const cJSON *obj, const char *key, const char *where, bool required,
                     uint64_t max, uint64_t *out, minik_error_t **err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = 0;
    if (v == NULL || cJSON_IsNull(v)) {
        if (required)
            return minik_error_set(err, EINVAL, "%s.%s: required", where, key);
        return 0;
    }
    /* JSON numbers are doubles: integers above 2^53 lose their low bits, and values of
     * 2^64 and more cannot be represented at all. */
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0 ||
        v->valuedouble >= 18446744073709551616.0 || v->valuedouble > (double)max)
        return minik_error_set(err, EINVAL, "%s.%s: expected an integer in [0, %llu]", where, key,
                               (unsigned long long)max);
    *out = (uint64_t)v->valuedouble;
    return 0;
}

static int parse_arg(const cJSON *a, const char *where, sc_arg_t *out, minik_error_t **err)
{
    if (!cJSON_IsObject(a))
        return minik_error_set(err, EINVAL, "%s: expected an object", where);
    uint64_t idx = 0;
    int ret;
    if ((ret = parse_u64(a, "index", where, true, 5, &idx, err)) < 0 ||
        (ret = parse_u64(a, "value", where, false, UINT64_MAX, &out->value, err)) < 0 ||
        (ret = parse_u64(a, "valueTwo", where, false, UINT64_MAX, &out->value_two, err)) < 0)
        return ret;
    out->index = (unsigned)idx;
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(a, "op");
    if (op == NULL)
        return minik_error_set(err, EINVAL, "%s.op: required", where);
    if (!cJSON_IsString(op))
        return minik_error_set(err, EINVAL, "%s.op: expected a string", where);
#define X(name, value)                                                                             \
    if (strcmp(op->valuestring, name) == 0) {                                                      \
        out->op = value;                                                                           \
        return 0;                                                                                  \
    }
    OPS(X)
#undef X
    cleanup_free char *q = minik_str_quote(op->valuestring);
    return minik_error_set(err, EINVAL, "%s.op: unknown operator %s", where, q);
}

static int parse_rule(const cJSON *r, size_t i, sc_rule_t *out, minik_error_t **err)
{
    char where[64];
    snprintf(where, sizeof(where), "seccomp.syscalls[%zu]", i);
    if (!cJSON_IsObject(r))
        return minik_error_set(err, EINVAL, "%s: expected an object", where);
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(r, "names");
    if (names == NULL)
        return minik_error_set(err, EINVAL, "%s.names: required", where);
    if (!cJSON_IsArray(names))
        return minik_error_set(err, EINVAL, "%s.names: expected an array of strings", where);
    size_t n = (size_t)cJSON_GetArraySize(names);
    out->names = xcalloc(n + 1, sizeof(char *));
    size_t k = 0;
    const cJSON *nm;
    cJSON_ArrayForEach(nm, names)
    {
        if (!cJSON_IsString(nm) || nm->valuestring[0] == '\0')
            return minik_error_set(err, EINVAL, "%s.names[%zu]: expected a syscall name", where, k);
        out->names[k++] = xstrdup(nm->valuestring);
    }
    char w2[80];
    snprintf(w2, sizeof(w2), "%s.", where);
    int ret = parse_action(r, "action", "errnoRet", w2, &out->action, err);
    if (ret < 0)
        return ret;
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(r, "args");
    if (args != NULL && !cJSON_IsNull(args)) {
        if (!cJSON_IsArray(args))
            return minik_error_set(err, EINVAL, "%s.args: expected an array", where);
        size_t na = (size_t)cJSON_GetArraySize(args);
        if (na > sizeof(out->args) / sizeof(out->args[0]))
            return minik_error_set(err, E2BIG, "%s.args: at most %zu conditions", where,
                                   sizeof(out->args) / sizeof(out->args[0]));
        for (size_t j = 0; j < na; j++) {
            char w3[96];
            snprintf(w3, sizeof(w3), "%s.args[%zu]", where, j);
            if ((ret = parse_arg(cJSON_GetArrayItem(args, (int)j), w3, &out->args[j], err)) < 0)
                return ret;
        }
        out->n_args = na;
    }
    return 0;
}

static int parse_arch(const char *name, uint32_t *out)
{
    if (strcmp(name, "SCMP_ARCH_NATIVE") == 0) {
        *out = seccomp_arch_native();
        return 0;
    }
    if (!minik_str_has_prefix(name, "SCMP_ARCH_") || strlen(name) > 40)
        return -1;
    char lower[48];
    size_t i = 0;
    for (const char *p = name + strlen("SCMP_ARCH_"); *p; p++)
        lower[i++] = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
    lower[i] = '\0';
    uint32_t a = seccomp_arch_resolve_name(lower);
    if (a == 0)
        return -1;
    *out = a;
    return 0;
}

static int spec_parse(const cJSON *j, sc_spec_t *s, minik_error_t **err)
{
    memset(s, 0, sizeof(*s));
    if (!cJSON_IsObject(j))
        return minik_error_set(err, EINVAL, "seccomp: expected an object");
    int ret =
        parse_action(j, "defaultAction", "defaultErrnoRet", "seccomp.", &s->default_action, err);
    if (ret < 0)
        return ret;
    const cJSON *arches = cJSON_GetObjectItemCaseSensitive(j, "architectures");
    if (arches != NULL && !cJSON_IsNull(arches)) {
        if (!cJSON_IsArray(arches))
            return minik_error_set(err, EINVAL, "seccomp.architectures: expected an array");
        size_t i = 0;
        const cJSON *a;
        cJSON_ArrayForEach(a, arches)
        {
            if (!cJSON_IsString(a))
                return minik_error_set(err, EINVAL, "seccomp.architectures[%zu]: expected a string",
                                       i);
            uint32_t arch = 0;
            if (parse_arch(a->valuestring, &arch) < 0) {
                cleanup_free char *q = minik_str_quote(a->valuestring);
                return minik_error_set(err, EINVAL,
                                       "seccomp.architectures[%zu]: unknown architecture %s", i, q);
            }
            if (s->n_arches < sizeof(s->arches) / sizeof(s->arches[0]))
                s->arches[s->n_arches++] = arch;
            i++;
        }
    }
    /* "flags" (SECCOMP_FILTER_FLAG_*), "listenerPath" and "listenerMetadata" are not
     * supported and ignored; docs/cgroups-seccomp.md says so. */
    const cJSON *sys = cJSON_GetObjectItemCaseSensitive(j, "syscalls");
    if (sys != NULL && !cJSON_IsNull(sys)) {
        if (!cJSON_IsArray(sys))
            return minik_error_set(err, EINVAL, "seccomp.syscalls: expected an array");
        size_t n = (size_t)cJSON_GetArraySize(sys);
        s->rules = xcalloc(n ? n : 1, sizeof(sc_rule_t));
        for (size_t i = 0; i < n; i++) {
            s->n_rules = i + 1; /* so spec_clear frees a half-parsed rule */
            if ((ret = parse_rule(cJSON_GetArrayItem(sys, (int)i), i, &s->rules[i], err)) < 0)
                return ret;
        }
    }
    return 0;
}

int minik_seccomp_validate(const cJSON *linux_seccomp, minik_error_t **err)
{
    sc_spec_t s;
    int ret = spec_parse(linux_seccomp, &s, err);
    spec_clear(&s);
    return ret;
}

static int add_rule(scmp_filter_ctx ctx, const sc_rule_t *r, int nr, minik_error_t **err, size_t i,
                    const char *name)
{
    struct scmp_arg_cmp cmp[sizeof(r->args) / sizeof(r->args[0])];
    for (size_t k = 0; k < r->n_args; k++)
        cmp[k] = (struct scmp_arg_cmp){r->args[k].index, r->args[k].op, r->args[k].value,
                                       r->args[k].value_two};
    bool same_index = false;
    for (size_t a = 0; a < r->n_args && !same_index; a++)
        for (size_t b = a + 1; b < r->n_args; b++)
            if (r->args[a].index == r->args[b].index)
                same_index = true;
    int ret = 0;
    if (!same_index)
        ret = seccomp_rule_add_array(ctx, r->action, nr, (unsigned)r->n_args, cmp);
    else
        for (size_t k = 0; k < r->n_args && ret == 0; k++)
            ret = seccomp_rule_add_array(ctx, r->action, nr, 1, &cmp[k]);
    if (ret < 0)
        return minik_error_set(err, -ret, "seccomp.syscalls[%zu]: add rule for %s", i, name);
    return 0;
}

/* libseccomp 2.5 exports only to a file descriptor; a memfd keeps it in memory. */
static int export_bpf(scmp_filter_ctx ctx, struct sock_filter **out, size_t *n, minik_error_t **err)
{
    cleanup_close int fd = memfd_create("minik-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return minik_error_set(err, errno, "memfd_create");
    int ret = seccomp_export_bpf(ctx, fd);
    if (ret < 0)
        return minik_error_set(err, -ret, "seccomp_export_bpf");
    off_t len = lseek(fd, 0, SEEK_END);
    if (len <= 0 || len % (off_t)sizeof(struct sock_filter) != 0 ||
        len / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
        return minik_error_set(err, E2BIG, "seccomp: compiled filter has a bad size (%lld bytes)",
                               (long long)len);
    struct sock_filter *f = xmalloc((size_t)len);
    if (pread(fd, f, (size_t)len, 0) != len) {
        free(f);
        return minik_error_set(err, errno ? errno : EIO, "read compiled seccomp filter");
    }
    *out = f;
    *n = (size_t)len / sizeof(struct sock_filter);
    return 0;
}

static void release_ctx(scmp_filter_ctx *ctx)
{
    if (*ctx)
        seccomp_release(*ctx);
}

static minik_seccomp_t *from_filter(const struct sock_filter *f, size_t n)
{
    minik_seccomp_t *sc = xcalloc(1, sizeof(*sc));
    sc->filter = xmalloc(n * sizeof(*f));
    memcpy(sc->filter, f, n * sizeof(*f));
    sc->prog.len = (unsigned short)n;
    sc->prog.filter = sc->filter;
    return sc;
}

int minik_seccomp_prepare(const cJSON *linux_seccomp, minik_seccomp_t **out, minik_error_t **err)
{
    cleanup_cjson cJSON *def = NULL;
    if (linux_seccomp == NULL) {
        size_t n = 0;
        const struct sock_filter *f = minik_seccomp_default_filter(&n);
        if (f != NULL) {
            *out = from_filter(f, n);
            return 0;
        }
        linux_seccomp = def = minik_seccomp_default_profile();
    }
    sc_spec_t s;
    int ret = spec_parse(linux_seccomp, &s, err);
    if (ret < 0) {
        spec_clear(&s);
        return ret;
    }
    __attribute__((cleanup(release_ctx))) scmp_filter_ctx ctx = seccomp_init(s.default_action);
    if (ctx == NULL) {
        spec_clear(&s);
        return minik_error_set(err, EINVAL, "seccomp_init");
    }
    /* The filter is installed by our own prctl, not seccomp_load: whether no_new_privs is
     * set is the runtime's decision (spec process.noNewPrivileges). */
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    for (size_t i = 0; i < s.n_arches; i++) {
        ret = seccomp_arch_add(ctx, s.arches[i]);
        if (ret < 0 && ret != -EEXIST) {
            spec_clear(&s);
            return minik_error_set(err, -ret, "seccomp.architectures[%zu]: add", i);
        }
    }
    for (size_t i = 0; i < s.n_rules; i++) {
        const sc_rule_t *r = &s.rules[i];
        if (r->action == s.default_action)
            continue;
        for (char **nm = r->names; *nm; nm++) {
            int nr = seccomp_syscall_resolve_name(*nm);
            if (nr == __NR_SCMP_ERROR)
                continue; /* unknown to this libseccomp: skipped, as runc does */
            if ((ret = add_rule(ctx, r, nr, err, i, *nm)) < 0) {
                spec_clear(&s);
                return ret;
            }
        }
    }
    spec_clear(&s);
    minik_seccomp_t *sc = xcalloc(1, sizeof(*sc));
    size_t n = 0;
    ret = export_bpf(ctx, &sc->filter, &n, err);
    if (ret < 0) {
        free(sc);
        return ret;
    }
    sc->prog.len = (unsigned short)n;
    sc->prog.filter = sc->filter;
    *out = sc;
    return 0;
}

int minik_seccomp_apply(const minik_seccomp_t *sc)
{
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &sc->prog, 0, 0) < 0)
        return -errno;
    return 0;
}

size_t minik_seccomp_insns(const minik_seccomp_t *sc)
{
    return sc->prog.len;
}

const struct sock_filter *minik_seccomp_filter(const minik_seccomp_t *sc, size_t *n)
{
    *n = sc->prog.len;
    return sc->filter;
}

void minik_seccomp_free(minik_seccomp_t *sc)
{
    if (sc == NULL)
        return;
    free(sc->filter);
    free(sc);
}
