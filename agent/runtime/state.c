#include "agent/runtime/state.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/str.h"
#include "lib/xalloc.h"

int minik_oci_id_check(const char *id, minik_error_t **err)
{
    size_t n = strlen(id);
    bool ok = n > 0 && n <= 128 && isalnum((unsigned char)id[0]);
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)id[i]) || strchr("_.-", id[i]);
    if (!ok)
        return minik_error_set(err, EINVAL,
                               "invalid container id \"%s\": use letters, digits, '_', '.' and "
                               "'-', starting with a letter or digit (at most 128)",
                               id);
    return 0;
}

static void add_str(cJSON *o, const char *k, const char *v)
{
    cJSON_AddStringToObject(o, k, v ? v : "");
}

int minik_oci_state_write(const char *dir, const minik_oci_state_t *st, minik_error_t **err)
{
    cleanup_cjson cJSON *o = cJSON_CreateObject();
    add_str(o, "ociVersion", st->oci_version);
    add_str(o, "id", st->id);
    add_str(o, "bundle", st->bundle);
    add_str(o, "rootfs", st->rootfs);
    add_str(o, "created", st->created);
    add_str(o, "cgroupPath", st->cgroup_path);
    cJSON_AddNumberToObject(o, "pid", st->pid);
    cJSON_AddNumberToObject(o, "pidStart", (double)st->pid_start);
    cJSON_AddNumberToObject(o, "shimPid", st->shim_pid);
    cJSON_AddNumberToObject(o, "shimStart", (double)st->shim_start);
    if (st->annotations)
        cJSON_AddItemToObject(o, "annotations", cJSON_Duplicate(st->annotations, true));
    cleanup_free char *text = cJSON_PrintUnformatted(o);
    cleanup_free char *path = xasprintf("%s/state.json", dir);
    return minik_file_write_atomic(path, text, strlen(text), 0600, err);
}

static char *dup_member(const cJSON *o, const char *k)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);
    return xstrdup(cJSON_IsString(j) ? j->valuestring : "");
}

static double num_member(const cJSON *o, const char *k)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(j) ? j->valuedouble : 0;
}

int minik_oci_state_read(const char *dir, minik_oci_state_t **out, minik_error_t **err)
{
    cleanup_free char *path = xasprintf("%s/state.json", dir);
    cleanup_free char *text = NULL;
    int r = minik_file_read(path, 1 << 20, &text, NULL, err);
    if (r < 0)
        return r;
    cleanup_cjson cJSON *o = cJSON_Parse(text);
    if (!cJSON_IsObject(o))
        return minik_error_set(err, EINVAL, "%s: corrupt state file", path);
    minik_oci_state_t *st = xcalloc(1, sizeof *st);
    st->oci_version = dup_member(o, "ociVersion");
    st->id = dup_member(o, "id");
    st->bundle = dup_member(o, "bundle");
    st->rootfs = dup_member(o, "rootfs");
    st->created = dup_member(o, "created");
    st->cgroup_path = dup_member(o, "cgroupPath");
    st->pid = (pid_t)num_member(o, "pid");
    st->pid_start = (uint64_t)num_member(o, "pidStart");
    st->shim_pid = (pid_t)num_member(o, "shimPid");
    st->shim_start = (uint64_t)num_member(o, "shimStart");
    cJSON *a = cJSON_DetachItemFromObjectCaseSensitive(o, "annotations");
    st->annotations = cJSON_IsObject(a) ? a : NULL;
    if (st->annotations == NULL)
        cJSON_Delete(a);
    *out = st;
    return 0;
}

void minik_oci_state_free(minik_oci_state_t *st)
{
    if (st == NULL)
        return;
    free(st->oci_version);
    free(st->id);
    free(st->bundle);
    free(st->rootfs);
    free(st->created);
    free(st->cgroup_path);
    cJSON_Delete(st->annotations);
    free(st);
}

int minik_oci_exit_write(const char *dir, const minik_oci_exit_t *ex, minik_error_t **err)
{
    cleanup_cjson cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "exitCode", ex->exit_code);
    cJSON_AddNumberToObject(o, "signal", ex->signal);
    cJSON_AddBoolToObject(o, "oomKilled", ex->oom_killed);
    if (ex->error)
        cJSON_AddStringToObject(o, "error", ex->error);
    cleanup_free char *text = cJSON_PrintUnformatted(o);
    cleanup_free char *path = xasprintf("%s/exit.json", dir);
    return minik_file_write_atomic(path, text, strlen(text), 0600, err);
}

int minik_oci_exit_read(const char *dir, minik_oci_exit_t *ex, minik_error_t **err)
{
    cleanup_free char *path = xasprintf("%s/exit.json", dir);
    cleanup_free char *text = NULL;
    minik_error_t *e = NULL;
    if (minik_file_read(path, 1 << 16, &text, NULL, &e) < 0) {
        bool missing = e->errnum == ENOENT;
        if (missing) {
            minik_error_free(e);
            return 0;
        }
        *err = e;
        return -1;
    }
    cleanup_cjson cJSON *o = cJSON_Parse(text);
    if (!cJSON_IsObject(o))
        return minik_error_set(err, EINVAL, "%s: corrupt exit file", path);
    ex->exit_code = (int)num_member(o, "exitCode");
    ex->signal = (int)num_member(o, "signal");
    ex->oom_killed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "oomKilled"));
    const cJSON *er = cJSON_GetObjectItemCaseSensitive(o, "error");
    ex->error = cJSON_IsString(er) ? xstrdup(er->valuestring) : NULL;
    return 1;
}

int minik_proc_start_time(pid_t pid, uint64_t *out)
{
    if (pid <= 0)
        return -1;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* comm may contain spaces and parentheses: fields start after the last ')'. */
    char *p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ')
        return -1;
    p += 2;
    char state = *p;
    if (state == 'Z' || state == 'X')
        return -1;
    /* p is at field 3; the start time is field 22. */
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (p == NULL)
            return -1;
        p++;
    }
    *out = strtoull(p, NULL, 10);
    return 0;
}

bool minik_proc_alive(pid_t pid, uint64_t start)
{
    uint64_t now;
    return minik_proc_start_time(pid, &now) == 0 && now == start;
}

const char *minik_oci_status(const char *dir, const minik_oci_state_t *st)
{
    cleanup_free char *exitp = xasprintf("%s/exit.json", dir);
    cleanup_free char *fifo = xasprintf("%s/exec.fifo", dir);
    if (access(exitp, F_OK) == 0 || !minik_proc_alive(st->pid, st->pid_start))
        return "stopped";
    if (access(fifo, F_OK) == 0)
        return "created";
    return "running";
}

cJSON *minik_oci_state_to_json(const minik_oci_state_t *st, const char *status)
{
    cJSON *o = cJSON_CreateObject();
    add_str(o, "ociVersion", st->oci_version);
    add_str(o, "id", st->id);
    cJSON_AddNumberToObject(o, "pid", strcmp(status, "stopped") == 0 ? 0 : st->pid);
    add_str(o, "status", status);
    add_str(o, "bundle", st->bundle);
    add_str(o, "rootfs", st->rootfs);
    add_str(o, "created", st->created);
    add_str(o, "owner", "");
    if (st->annotations && cJSON_GetArraySize(st->annotations) > 0)
        cJSON_AddItemToObject(o, "annotations", cJSON_Duplicate(st->annotations, true));
    return o;
}

static const struct {
    const char *name;
    int sig;
} signals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

int minik_signal_parse(const char *s, int *out, minik_error_t **err)
{
    if (s[0] >= '0' && s[0] <= '9') {
        int64_t v;
        minik_error_t *e = NULL;
        if (minik_str_to_i64(s, 1, SIGRTMAX, &v, "signal", &e) < 0) {
            minik_error_free(e);
            return minik_error_set(err, EINVAL, "invalid signal \"%s\": numbers go from 1 to %d", s,
                                   SIGRTMAX);
        }
        *out = (int)v;
        return 0;
    }
    cleanup_free char *up = xstrdup(s);
    for (char *p = up; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    const char *name = minik_str_has_prefix(up, "SIG") ? up + 3 : up;
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (strcmp(signals[i].name, name) == 0) {
            *out = signals[i].sig;
            return 0;
        }
    return minik_error_set(err, EINVAL, "invalid signal \"%s\"", s);
}
