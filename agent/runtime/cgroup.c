/* cgroup front end: layout detection, path normalisation, shared file helpers, and the
 * public functions, which dispatch to the driver of the detected layout. */
#include "agent/runtime/cgroup_internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define DEFAULT_ROOT "/sys/fs/cgroup"

static char *root_override;
static minik_cgroup_mode_t cached_mode;

const char *cg_root(void)
{
    return root_override ? root_override : DEFAULT_ROOT;
}

void minik_cgroup_set_root(const char *root)
{
    free(root_override);
    root_override = root ? xstrdup(root) : NULL;
    cached_mode = MINIK_CGROUP_MODE_UNKNOWN;
}

const char *minik_cgroup_mode_name(minik_cgroup_mode_t mode)
{
    switch (mode) {
    case MINIK_CGROUP_MODE_V1:
        return "v1";
    case MINIK_CGROUP_MODE_HYBRID:
        return "hybrid";
    case MINIK_CGROUP_MODE_V2:
        return "v2";
    default:
        return "unknown";
    }
}

/* ---- file helpers ------------------------------------------------------------------------ */

int cg_write(const char *dir, const char *file, const char *value, minik_error_t **err)
{
    cleanup_free char *p = xasprintf("%s/%s", dir, file);
    /* No O_CREAT: a missing file means a missing controller, which must be an error, not
     * a new regular file. O_TRUNC is ignored by cgroupfs and keeps test layouts exact. */
    cleanup_close int fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        return minik_error_set(err, errno, "open \"%s\"", p);
    size_t len = strlen(value);
    ssize_t n;
    do
        n = write(fd, value, len);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        cleanup_free char *q = minik_str_quote(value);
        return minik_error_set(err, errno, "write %s to \"%s\"", q, p);
    }
    if ((size_t)n != len)
        return minik_error_set(err, EIO, "short write to \"%s\"", p);
    return 0;
}

int cg_writef(const char *dir, const char *file, minik_error_t **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cleanup_free char *v = xvasprintf(fmt, ap);
    va_end(ap);
    return cg_write(dir, file, v, err);
}

int cg_read(const char *dir, const char *file, char **out, minik_error_t **err)
{
    cleanup_free char *p = xasprintf("%s/%s", dir, file);
    char *data = NULL;
    size_t len = 0;
    /* cgroup files are small; memory.stat is the biggest at a few KiB. */
    int ret = minik_file_read(p, 1 << 20, &data, &len, err);
    if (ret < 0)
        return ret;
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == ' '))
        data[--len] = '\0';
    *out = data;
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (strcmp(s, "max") == 0) {
        *out = UINT64_MAX;
        return 0;
    }
    if (!isdigit((unsigned char)*s))
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || (*end != '\0' && !isspace((unsigned char)*end)))
        return -1;
    *out = v;
    return 0;
}

int cg_read_u64(const char *dir, const char *file, uint64_t *out, minik_error_t **err)
{
    cleanup_free char *s = NULL;
    int ret = cg_read(dir, file, &s, err);
    if (ret < 0)
        return ret;
    if (parse_u64(s, out) < 0) {
        cleanup_free char *q = minik_str_quote(s);
        return minik_error_set(err, EINVAL, "%s/%s: not a number: %s", dir, file, q);
    }
    return 0;
}

int cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *out,
                  minik_error_t **err)
{
    cleanup_free char *s = NULL;
    int ret = cg_read(dir, file, &s, err);
    if (ret < 0)
        return ret;
    size_t klen = strlen(key);
    for (char *line = s; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
            if (parse_u64(line + klen + 1, out) < 0)
                return minik_error_set(err, EINVAL, "%s/%s: bad value for %s", dir, file, key);
            return 0;
        }
        line = nl ? nl + 1 : NULL;
    }
    return -ENOENT;
}

bool cg_file_exists(const char *dir, const char *file)
{
    cleanup_free char *p = xasprintf("%s/%s", dir, file);
    return access(p, F_OK) == 0;
}

int cg_mkdir(const char *dir, char **created, minik_error_t **err)
{
    *created = NULL;
    /* The parent usually exists (every container after the first): one syscall. */
    if (mkdir(dir, 0755) == 0) {
        *created = xstrdup(dir);
        return 0;
    }
    if (errno == EEXIST)
        return 0;
    if (errno != ENOENT)
        return minik_error_set(err, errno, "mkdir \"%s\"", dir);
    cleanup_free char *p = xstrdup(dir);
    /* Walk down from the first component; remember the first level we had to make so a
     * failed create removes exactly what it added. */
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0755) == 0) {
            if (*created == NULL)
                *created = xstrdup(p);
        } else if (errno != EEXIST) {
            int e = errno;
            *s = c;
            return minik_error_set(err, e, "mkdir \"%s\"", p);
        }
        *s = c;
        if (c == '\0')
            break;
    }
    return 0;
}

int cg_rmdir(const char *dir, minik_error_t **err)
{
    /* Processes that were just killed keep the group busy until the kernel reaps them. */
    for (int i = 0; i < 100; i++) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY)
            break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return minik_error_set(err, errno, "rmdir \"%s\"", dir);
}

int cg_enter_dir(const char *dir, pid_t pid, minik_error_t **err)
{
    return cg_writef(dir, "cgroup.procs", err, "%ld", (long)pid);
}

/* ---- detection and paths ---------------------------------------------------------------- */

minik_cgroup_mode_t minik_cgroup_detect(minik_error_t **err)
{
    if (cached_mode != MINIK_CGROUP_MODE_UNKNOWN)
        return cached_mode;
    const char *root = cg_root();
    cleanup_free char *unified = xasprintf("%s/unified", root);
    minik_cgroup_mode_t m = MINIK_CGROUP_MODE_UNKNOWN;
    /* cgroup.controllers exists only at the root of a cgroup2 mount; a v1 hierarchy is a
     * directory per controller. Looking at files (not statfs magic) lets tests lay out a
     * temp dir the same way. */
    if (cg_file_exists(root, "cgroup.controllers"))
        m = MINIK_CGROUP_MODE_V2;
    else if (cg_file_exists(unified, "cgroup.controllers"))
        m = MINIK_CGROUP_MODE_HYBRID;
    else {
        static const char *const probes[] = {"memory", "cpu", "pids", "freezer", "devices"};
        for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
            cleanup_free char *d = xasprintf("%s/%s", root, probes[i]);
            if (cg_file_exists(d, "cgroup.procs")) {
                m = MINIK_CGROUP_MODE_V1;
                break;
            }
        }
    }
    if (m == MINIK_CGROUP_MODE_UNKNOWN) {
        minik_error_set(err, ENOENT, "no cgroup hierarchy found under \"%s\"", root);
        return m;
    }
    cached_mode = m;
    return m;
}

static bool valid_component(const char *s, size_t n)
{
    if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == '\n')
            return false;
    return true;
}

int minik_cgroup_path_normalize(const char *path, char **out, minik_error_t **err)
{
    if (path == NULL || *path == '\0')
        return minik_error_set(err, EINVAL, "cgroupsPath: empty");
    cleanup_free char *q = minik_str_quote(path);
    cleanup_free char *p = NULL;
    if (path[0] != '/' && strchr(path, ':')) {
        /* systemd style "slice:prefix:name" (runc) becomes "/slice/prefix-name";
         * the short "minik:<id>" becomes "/minik/<id>". */
        cleanup_strv char **parts = minik_str_split(path, ":", false);
        size_t n = minik_strv_len(parts);
        if (n == 2)
            p = xasprintf("/%s/%s", parts[0], parts[1]);
        else if (n == 3) {
            const char *slice = parts[0][0] ? parts[0] : "minik";
            p = parts[1][0] ? xasprintf("/%s/%s-%s", slice, parts[1], parts[2])
                            : xasprintf("/%s/%s", slice, parts[2]);
        } else
            return minik_error_set(err, EINVAL, "cgroupsPath %s: expected \"slice:prefix:name\"",
                                   q);
    } else if (path[0] == '/')
        p = xstrdup(path);
    else
        p = xasprintf("/%s", path); /* relative: runc puts it under the root as well */

    /* Collapse duplicate and trailing slashes; refuse ".." so no group escapes the root. */
    minik_buf_t b = MINIK_BUF_INIT;
    for (const char *s = p; *s;) {
        while (*s == '/')
            s++;
        const char *e = s;
        while (*e && *e != '/')
            e++;
        if (e == s)
            break;
        if (!valid_component(s, (size_t)(e - s))) {
            minik_buf_free(&b);
            return minik_error_set(err, EINVAL, "cgroupsPath %s: invalid component", q);
        }
        minik_buf_append_char(&b, '/');
        minik_buf_append(&b, s, (size_t)(e - s));
        s = e;
    }
    if (b.len == 0) {
        minik_buf_free(&b);
        return minik_error_set(err, EINVAL, "cgroupsPath %s: refers to the root group", q);
    }
    *out = minik_buf_steal(&b);
    return 0;
}

/* ---- public API ------------------------------------------------------------------------- */

static int cgroup_new(const char *path, minik_cgroup_t **out, minik_error_t **err)
{
    cleanup_free char *norm = NULL;
    int ret = minik_cgroup_path_normalize(path, &norm, err);
    if (ret < 0)
        return ret;
    minik_cgroup_mode_t mode = minik_cgroup_detect(err);
    if (mode == MINIK_CGROUP_MODE_UNKNOWN)
        return -ENOENT;
    minik_cgroup_t *cg = xcalloc(1, sizeof(*cg));
    cg->path = steal_pointer(&norm);
    cg->mode = mode;
    const char *root = cg_root();
    if (mode == MINIK_CGROUP_MODE_V2) {
        cg->driver = &cg_driver_v2;
        cg->unified_dir = xasprintf("%s%s", root, cg->path);
    } else {
        cg->driver = &cg_driver_v1;
        if (mode == MINIK_CGROUP_MODE_HYBRID)
            cg->unified_dir = xasprintf("%s/unified%s", root, cg->path);
        static const char *const names[] = {
#define X(e, s) s,
            CG_V1_CONTROLLERS(X)
#undef X
        };
        for (int c = 0; c < CG_N_CONTROLLERS; c++) {
            cleanup_free char *h = xasprintf("%s/%s", root, names[c]);
            if (!cg_file_exists(h, "cgroup.procs"))
                continue; /* the host does not have this controller */
            /* Co-mounted controllers (cpu,cpuacct behind symlinks) resolve to one place;
             * keep the resolved path so each directory is made and removed once. */
            cleanup_free char *real = realpath(h, NULL);
            cg->v1_dir[c] = xasprintf("%s%s", real ? real : h, cg->path);
        }
    }
    *out = cg;
    return 0;
}

int minik_cgroup_create(const char *path, const cJSON *resources, minik_cgroup_t **out,
                        minik_error_t **err)
{
    cg_resources_t r;
    int ret = cg_resources_parse(resources, true, &r, err);
    if (ret < 0)
        return ret;
    minik_cgroup_t *cg = NULL;
    ret = cgroup_new(path, &cg, err);
    if (ret < 0) {
        cg_resources_clear(&r);
        return ret;
    }
    ret = cg->driver->create(cg, err);
    if (ret == 0)
        ret = cg->driver->apply(cg, &r, err);
    if (ret < 0) {
        /* Best effort, so a failed create leaves no directory in any hierarchy; the
         * create/apply error is the one to report. */
        minik_error_t *derr = NULL;
        cg->driver->destroy(cg, &derr);
        minik_error_free(derr);
    }
    cg_resources_clear(&r);
    if (ret < 0) {
        minik_error_wrap(err, "cgroup %s", cg->path);
        minik_cgroup_free(cg);
        return ret;
    }
    *out = cg;
    return 0;
}

int minik_cgroup_open(const char *path, minik_cgroup_t **out, minik_error_t **err)
{
    minik_cgroup_t *cg = NULL;
    int ret = cgroup_new(path, &cg, err);
    if (ret < 0)
        return ret;
    if (!cg->driver->exists(cg)) {
        ret = minik_error_set(err, ENOENT, "cgroup %s does not exist", cg->path);
        minik_cgroup_free(cg);
        return ret;
    }
    *out = cg;
    return 0;
}

int minik_cgroup_enter(minik_cgroup_t *cg, pid_t pid, minik_error_t **err)
{
    int ret = cg->driver->enter(cg, pid, err);
    if (ret < 0)
        return minik_error_wrap(err, "cgroup %s: enter pid %ld", cg->path, (long)pid);
    return 0;
}

int minik_cgroup_update(minik_cgroup_t *cg, const cJSON *resources, minik_error_t **err)
{
    cg_resources_t r;
    int ret = cg_resources_parse(resources, false, &r, err);
    if (ret < 0)
        return ret;
    ret = cg->driver->apply(cg, &r, err);
    cg_resources_clear(&r);
    if (ret < 0)
        return minik_error_wrap(err, "cgroup %s", cg->path);
    return 0;
}

int minik_cgroup_stats(minik_cgroup_t *cg, minik_cgroup_stats_t *out, minik_error_t **err)
{
    memset(out, 0, sizeof(*out));
    int ret = cg->driver->stats(cg, out, err);
    if (ret < 0)
        return minik_error_wrap(err, "cgroup %s: stats", cg->path);
    return 0;
}

static int read_pids(const char *dir, pid_t **pids, size_t *n, minik_error_t **err)
{
    *pids = NULL;
    *n = 0;
    cleanup_free char *s = NULL;
    int ret = cg_read(dir, "cgroup.procs", &s, err);
    if (ret < 0)
        return ret;
    size_t cap = 0, cnt = 0;
    cleanup_free pid_t *v = NULL;
    for (char *line = s; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        uint64_t pid = 0;
        if (parse_u64(line, &pid) < 0 || pid == 0 || pid > INT32_MAX)
            return minik_error_set(err, EINVAL, "%s/cgroup.procs: bad pid line", dir);
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            v = xrealloc(v, cap * sizeof(*v));
        }
        v[cnt++] = (pid_t)pid;
        line = nl ? nl + 1 : NULL;
    }
    *pids = steal_pointer(&v);
    *n = cnt;
    return 0;
}

int minik_cgroup_pids(minik_cgroup_t *cg, pid_t **pids, size_t *n, minik_error_t **err)
{
    const char *dir = cg->driver->procs_dir(cg);
    if (dir == NULL)
        return minik_error_set(err, ENOENT, "cgroup %s: no hierarchy to list processes", cg->path);
    int ret = read_pids(dir, pids, n, err);
    if (ret < 0)
        return minik_error_wrap(err, "cgroup %s", cg->path);
    return 0;
}

int minik_cgroup_kill(minik_cgroup_t *cg, int sig, minik_error_t **err)
{
    int ret = cg->driver->kill_all(cg, sig, err);
    if (ret < 0)
        return minik_error_wrap(err, "cgroup %s: kill", cg->path);
    if (ret == 1)
        return 0;
    /* Frozen, nothing in the group can fork, so the list we signal is complete. Without
     * any freezer (a v1 host that lacks the controller) signal the list as it is: a
     * process forked meanwhile may escape this signal, not the next one. */
    minik_error_t *ferr = NULL;
    ret = cg->driver->freeze(cg, true, &ferr);
    bool frozen = ret == 0;
    if (ret < 0 && ret != -ENOTSUP) {
        *err = ferr;
        return minik_error_wrap(err, "cgroup %s: freeze", cg->path);
    }
    minik_error_free(ferr);
    pid_t *pids = NULL;
    size_t n = 0;
    ret = minik_cgroup_pids(cg, &pids, &n, err);
    for (size_t i = 0; ret == 0 && i < n; i++) {
        if (kill(pids[i], sig) < 0 && errno != ESRCH)
            ret = minik_error_set(err, errno, "cgroup %s: kill pid %ld", cg->path, (long)pids[i]);
    }
    free(pids);
    if (!frozen)
        return ret;
    /* Thaw even after an error: a group left frozen would hang its processes forever. */
    minik_error_t *terr = NULL;
    int tret = cg->driver->freeze(cg, false, &terr);
    if (ret < 0) {
        minik_error_free(terr);
        return ret;
    }
    if (tret < 0) {
        *err = terr;
        return minik_error_wrap(err, "cgroup %s: thaw", cg->path);
    }
    return 0;
}

int minik_cgroup_destroy(minik_cgroup_t *cg, minik_error_t **err)
{
    int ret = cg->driver->destroy(cg, err);
    if (ret < 0)
        return minik_error_wrap(err, "cgroup %s: destroy", cg->path);
    return 0;
}

const char *minik_cgroup_path(const minik_cgroup_t *cg)
{
    return cg->path;
}

void minik_cgroup_free(minik_cgroup_t *cg)
{
    if (cg == NULL)
        return;
    free(cg->path);
    free(cg->unified_dir);
    for (int c = 0; c < CG_N_CONTROLLERS; c++)
        free(cg->v1_dir[c]);
    free(cg);
}

uint64_t minik_cgroup_shares_to_weight(uint64_t shares)
{
    /* runc >= 1.3.2 / crun >= 1.23 (opencontainers/cgroups ConvertCPUSharesToCgroupV2Value):
     * a quadratic in log2(shares) that maps the v1 minimum, default and maximum (2, 1024,
     * 262144) onto the v2 ones (1, 100, 10000). The older linear formula mapped the default
     * 1024 to 39, starving containers next to v2-native ones. */
    if (shares == 0)
        return 0;
    if (shares <= 2)
        return 1;
    if (shares >= 262144)
        return 10000;
    double l = log2((double)shares);
    double exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
    return (uint64_t)ceil(pow(10, exponent));
}

int minik_cgroup_oom_fd(minik_cgroup_t *cg, minik_error_t **err)
{
    int fd = cg->driver->oom_fd(cg, err);
    if (fd < 0)
        return minik_error_wrap(err, "cgroup %s: OOM notification", cg->path);
    return fd;
}

void minik_cgroup_oom_drain(int fd)
{
    char buf[4096];
    /* Both eventfd (8-byte counter) and inotify (events) are drained by reading until
     * EAGAIN; the fds are non-blocking. */
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
}
