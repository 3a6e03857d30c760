/* The cgroup v1 driver, also used on hybrid hosts.
 *
 * v1: one hierarchy per controller (<root>/memory, <root>/cpu, ...); the group is made in
 * each and limits are written to the controller that owns them.
 * hybrid (v1 controllers plus cgroup2 at <root>/unified, as on systemd hosts that have
 * not switched): limits still go to v1, and the group is also made in the unified
 * hierarchy and the process entered there, as runc does, so that tools which only look
 * at cgroup2 (systemd, cgroup.kill, cgroup.events) see the container too. No controllers
 * are enabled in the unified hierarchy: they are bound to v1. */
#include "agent/runtime/cgroup_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/xalloc.h"

/* v1 reports "no limit" as the largest page-aligned long: anything this large is
 * unlimited. */
#define V1_UNLIMITED (1ULL << 62)

/* Each distinct directory once: co-mounted controllers share one. */
static bool seen_before(minik_cgroup_t *cg, int c)
{
    for (int i = 0; i < c; i++)
        if (cg->v1_dir[i] && strcmp(cg->v1_dir[i], cg->v1_dir[c]) == 0)
            return true;
    return false;
}

static char *hierarchy_root(const minik_cgroup_t *cg, int c)
{
    size_t dl = strlen(cg->v1_dir[c]), pl = strlen(cg->path);
    return xstrndup(cg->v1_dir[c], dl - pl);
}

/* A new cpuset group starts with empty cpus/mems and refuses tasks until they are set;
 * copy the parent's at every level we may have created (runc does the same). */
static int cpuset_init(minik_cgroup_t *cg, minik_error_t **err)
{
    cleanup_free char *root = hierarchy_root(cg, CG_CPUSET);
    cleanup_free char *parent = xstrdup(root);
    for (const char *s = cg->path; *s;) {
        const char *e = strchr(s + 1, '/');
        if (e == NULL)
            e = s + strlen(s);
        cleanup_free char *dir = xasprintf("%s%.*s", root, (int)(e - cg->path), cg->path);
        static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
        for (int i = 0; i < 2; i++) {
            if (!cg_file_exists(dir, files[i]))
                continue; /* test layouts without the file */
            cleanup_free char *cur = NULL, *pv = NULL;
            int ret = cg_read(dir, files[i], &cur, err);
            if (ret < 0)
                return ret;
            if (*cur)
                continue;
            if (!cg_file_exists(parent, files[i]))
                continue; /* test layouts again */
            if ((ret = cg_read(parent, files[i], &pv, err)) < 0 ||
                (ret = cg_write(dir, files[i], pv, err)) < 0)
                return ret;
        }
        free(parent);
        parent = steal_pointer(&dir);
        s = e;
    }
    return 0;
}

static int v1_create(minik_cgroup_t *cg, minik_error_t **err)
{
    for (int c = 0; c < CG_N_CONTROLLERS; c++) {
        if (cg->v1_dir[c] == NULL || seen_before(cg, c))
            continue;
        cleanup_free char *created = NULL;
        int ret = cg_mkdir(cg->v1_dir[c], &created, err);
        if (ret < 0)
            return ret;
    }
    if (cg->v1_dir[CG_CPUSET]) {
        int ret = cpuset_init(cg, err);
        if (ret < 0)
            return ret;
    }
    if (cg->unified_dir) {
        cleanup_free char *created = NULL;
        int ret = cg_mkdir(cg->unified_dir, &created, err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

static bool v1_exists(minik_cgroup_t *cg)
{
    for (int c = 0; c < CG_N_CONTROLLERS; c++)
        if (cg->v1_dir[c] && cg_file_exists(cg->v1_dir[c], "cgroup.procs"))
            return true;
    return false;
}

static const char *need(minik_cgroup_t *cg, int c, const char *what, minik_error_t **err)
{
    if (cg->v1_dir[c] == NULL)
        minik_error_set(err, ENOTSUP, "resources.%s: the host has no v1 %s controller", what, what);
    return cg->v1_dir[c];
}

static int set_mem(const char *dir, const char *file, int64_t v, minik_error_t **err)
{
    return cg_writef(dir, file, err, "%lld", (long long)v);
}

static int apply_memory(minik_cgroup_t *cg, const cg_resources_t *r, minik_error_t **err)
{
    if (!r->has_mem_limit && !r->has_mem_reservation && !r->has_mem_swap &&
        !r->has_mem_swappiness && !r->has_mem_disable_oom)
        return 0;
    const char *dir = need(cg, CG_MEMORY, "memory", err);
    if (dir == NULL)
        return -ENOTSUP;
    const char *memsw = "memory.memsw.limit_in_bytes";
    bool has_limit = r->has_mem_limit, has_swap = r->has_mem_swap;
    int64_t limit = r->mem_limit, swap = r->mem_swap;
    /* "Unlimited memory" with no word on swap means unlimited swap too (runc). */
    if (has_limit && limit == -1 && !has_swap && cg_file_exists(dir, memsw)) {
        has_swap = true;
        swap = -1;
    }
    if (has_swap && !cg_file_exists(dir, memsw))
        return minik_error_set(err, ENOTSUP,
                               "resources.memory.swap: swap accounting is not enabled on this "
                               "host (no %s)",
                               memsw);
    int ret = 0;
    bool done = false;
    if (has_limit && has_swap) {
        /* The kernel requires limit <= memsw at every step: when the total grows, raise
         * memsw first, otherwise lower the limit first. */
        uint64_t cur = 0;
        if ((ret = cg_read_u64(dir, "memory.limit_in_bytes", &cur, err)) < 0)
            return ret;
        if (swap == -1 || cur < (uint64_t)swap) {
            if ((ret = set_mem(dir, memsw, swap, err)) < 0 ||
                (ret = set_mem(dir, "memory.limit_in_bytes", limit, err)) < 0)
                return ret;
            done = true;
        }
    }
    if (!done) {
        if (has_limit && (ret = set_mem(dir, "memory.limit_in_bytes", limit, err)) < 0)
            return ret;
        if (has_swap && (ret = set_mem(dir, memsw, swap, err)) < 0)
            return ret;
    }
    if (r->has_mem_reservation &&
        (ret = set_mem(dir, "memory.soft_limit_in_bytes", r->mem_reservation, err)) < 0)
        return ret;
    if (r->has_mem_swappiness &&
        (ret = set_mem(dir, "memory.swappiness", (int64_t)r->mem_swappiness, err)) < 0)
        return ret;
    if (r->has_mem_disable_oom &&
        (ret = cg_write(dir, "memory.oom_control", r->mem_disable_oom ? "1" : "0", err)) < 0)
        return ret;
    return 0;
}

static int apply_cpu(minik_cgroup_t *cg, const cg_resources_t *r, minik_error_t **err)
{
    int ret;
    if (r->has_cpu_shares || r->has_cpu_quota || r->has_cpu_period || r->has_cpu_burst) {
        const char *dir = need(cg, CG_CPU, "cpu", err);
        if (dir == NULL)
            return -ENOTSUP;
        if (r->has_cpu_shares && (ret = cg_writef(dir, "cpu.shares", err, "%llu",
                                                  (unsigned long long)r->cpu_shares)) < 0)
            return ret;
        /* Period first, then quota (runc). A new period can be refused while the old quota
         * is in force (EINVAL from the parent's bandwidth check); then try quota first. */
        if (r->has_cpu_period) {
            minik_error_t *perr = NULL;
            ret = cg_writef(dir, "cpu.cfs_period_us", &perr, "%llu",
                            (unsigned long long)r->cpu_period);
            if (ret < 0 && !(ret == -EINVAL && r->has_cpu_quota)) {
                *err = perr;
                return ret;
            }
            if (ret < 0) {
                minik_error_free(perr);
                if ((ret = cg_writef(dir, "cpu.cfs_quota_us", err, "%lld",
                                     (long long)r->cpu_quota)) < 0 ||
                    (ret = cg_writef(dir, "cpu.cfs_period_us", err, "%llu",
                                     (unsigned long long)r->cpu_period)) < 0)
                    return ret;
            }
        }
        if (r->has_cpu_quota &&
            (ret = cg_writef(dir, "cpu.cfs_quota_us", err, "%lld", (long long)r->cpu_quota)) < 0)
            return ret;
        if (r->has_cpu_burst && (ret = cg_writef(dir, "cpu.cfs_burst_us", err, "%llu",
                                                 (unsigned long long)r->cpu_burst)) < 0)
            return ret;
    }
    if (r->cpuset_cpus || r->cpuset_mems) {
        const char *dir = need(cg, CG_CPUSET, "cpuset", err);
        if (dir == NULL)
            return -ENOTSUP;
        if (r->cpuset_cpus && (ret = cg_write(dir, "cpuset.cpus", r->cpuset_cpus, err)) < 0)
            return ret;
        if (r->cpuset_mems && (ret = cg_write(dir, "cpuset.mems", r->cpuset_mems, err)) < 0)
            return ret;
    }
    return 0;
}

static int apply_devices(minik_cgroup_t *cg, const cg_resources_t *r, minik_error_t **err)
{
    if (!r->has_devices)
        return 0;
    const char *dir = need(cg, CG_DEVICES, "devices", err);
    if (dir == NULL)
        return -ENOTSUP;
    for (size_t i = 0; i < r->n_devices; i++) {
        char line[64];
        cg_device_rule_format(&r->devices[i], line);
        int ret = cg_write(dir, r->devices[i].allow ? "devices.allow" : "devices.deny", line, err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

static int v1_apply(minik_cgroup_t *cg, const cg_resources_t *r, minik_error_t **err)
{
    int ret;
    if (r->n_unified > 0)
        return minik_error_set(err, ENOTSUP,
                               "resources.unified: needs a cgroup v2 host (this one is %s)",
                               minik_cgroup_mode_name(cg->mode));
    if ((ret = apply_memory(cg, r, err)) < 0 || (ret = apply_cpu(cg, r, err)) < 0)
        return ret;
    if (r->has_pids_limit) {
        const char *dir = need(cg, CG_PIDS, "pids", err);
        if (dir == NULL)
            return -ENOTSUP;
        ret = r->pids_limit < 0 ? cg_write(dir, "pids.max", "max", err)
                                : cg_writef(dir, "pids.max", err, "%lld", (long long)r->pids_limit);
        if (ret < 0)
            return ret;
    }
    return apply_devices(cg, r, err);
}

static int v1_enter(minik_cgroup_t *cg, pid_t pid, minik_error_t **err)
{
    for (int c = 0; c < CG_N_CONTROLLERS; c++) {
        if (cg->v1_dir[c] == NULL || seen_before(cg, c))
            continue;
        int ret = cg_enter_dir(cg->v1_dir[c], pid, err);
        if (ret < 0)
            return ret;
    }
    if (cg->unified_dir)
        return cg_enter_dir(cg->unified_dir, pid, err);
    return 0;
}

static int v1_stats(minik_cgroup_t *cg, minik_cgroup_stats_t *out, minik_error_t **err)
{
    int ret;
    const char *d;
    out->memory_limit_bytes = out->pids_limit = UINT64_MAX;
    if ((d = cg->v1_dir[CG_CPUACCT]) &&
        (ret = cg_read_u64(d, "cpuacct.usage", &out->cpu_usage_ns, err)) < 0)
        return ret;
    if ((d = cg->v1_dir[CG_MEMORY])) {
        uint64_t usage = 0, inactive = 0, limit = 0;
        if ((ret = cg_read_u64(d, "memory.usage_in_bytes", &usage, err)) < 0 ||
            (ret = cg_read_u64(d, "memory.limit_in_bytes", &limit, err)) < 0)
            return ret;
        /* docker stats: page cache that can be dropped at no cost is not "used". */
        ret = cg_read_keyed(d, "memory.stat", "total_inactive_file", &inactive, err);
        if (ret < 0 && ret != -ENOENT)
            return ret;
        out->memory_usage_bytes = usage > inactive ? usage - inactive : 0;
        out->memory_limit_bytes = limit >= V1_UNLIMITED ? UINT64_MAX : limit;
        /* oom_kill is in memory.oom_control since Linux 4.13. */
        ret = cg_read_keyed(d, "memory.oom_control", "oom_kill", &out->oom_kills, err);
        if (ret < 0 && ret != -ENOENT)
            return ret;
    }
    if ((d = cg->v1_dir[CG_PIDS])) {
        if ((ret = cg_read_u64(d, "pids.current", &out->pids_current, err)) < 0 ||
            (ret = cg_read_u64(d, "pids.max", &out->pids_limit, err)) < 0)
            return ret;
    }
    return 0;
}

static const char *v1_procs_dir(minik_cgroup_t *cg)
{
    /* The unified group tracks every process even with no controller enabled there. */
    if (cg->unified_dir)
        return cg->unified_dir;
    static const int order[] = {CG_FREEZER, CG_PIDS, CG_MEMORY, CG_CPU, CG_DEVICES, CG_CPUSET};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (cg->v1_dir[order[i]])
            return cg->v1_dir[order[i]];
    return NULL;
}

static int v1_freeze(minik_cgroup_t *cg, bool frozen, minik_error_t **err)
{
    const char *dir = cg->v1_dir[CG_FREEZER];
    if (dir == NULL) {
        /* On hybrid the unified group has cgroup.freeze (a core v2 feature). */
        if (cg->unified_dir && cg_file_exists(cg->unified_dir, "cgroup.freeze"))
            return cg_driver_v2.freeze(cg, frozen, err);
        return minik_error_set(err, ENOTSUP, "no freezer controller");
    }
    const char *want = frozen ? "FROZEN" : "THAWED";
    int ret = cg_write(dir, "freezer.state", want, err);
    if (ret < 0)
        return ret;
    /* FREEZING until every task has stopped; wait up to ~2 s. */
    for (int i = 0; i < 200; i++) {
        cleanup_free char *st = NULL;
        if ((ret = cg_read(dir, "freezer.state", &st, err)) < 0)
            return ret;
        if (strcmp(st, want) == 0)
            return 0;
        if (i % 10 == 9 && (ret = cg_write(dir, "freezer.state", want, err)) < 0)
            return ret;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return minik_error_set(err, ETIMEDOUT, "freezer.state did not become %s", want);
}

static int v1_kill_all(minik_cgroup_t *cg, int sig, minik_error_t **err)
{
    if (sig == SIGKILL && cg->unified_dir && cg_file_exists(cg->unified_dir, "cgroup.kill"))
        return cg_driver_v2.kill_all(cg, sig, err);
    return 0;
}

static int v1_destroy(minik_cgroup_t *cg, minik_error_t **err)
{
    int first = 0;
    for (int c = 0; c < CG_N_CONTROLLERS; c++) {
        if (cg->v1_dir[c] == NULL || seen_before(cg, c))
            continue;
        /* Keep going after a failure so one stuck hierarchy does not leak the others. */
        minik_error_t *e = NULL;
        int ret = cg_rmdir(cg->v1_dir[c], &e);
        if (ret < 0 && first == 0) {
            first = ret;
            *err = e;
        } else
            minik_error_free(e);
    }
    if (cg->unified_dir) {
        minik_error_t *e = NULL;
        int ret = cg_rmdir(cg->unified_dir, &e);
        if (ret < 0 && first == 0) {
            first = ret;
            *err = e;
        } else
            minik_error_free(e);
    }
    return first;
}

static int v1_oom_fd(minik_cgroup_t *cg, minik_error_t **err)
{
    const char *dir = cg->v1_dir[CG_MEMORY];
    if (dir == NULL)
        return minik_error_set(err, ENOTSUP, "no memory controller");
    cleanup_close int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0)
        return minik_error_set(err, errno, "eventfd");
    cleanup_free char *p = xasprintf("%s/memory.oom_control", dir);
    /* The kernel holds its own reference once registered; ours can be closed. */
    cleanup_close int ofd = open(p, O_RDONLY | O_CLOEXEC);
    if (ofd < 0)
        return minik_error_set(err, errno, "open \"%s\"", p);
    int ret = cg_writef(dir, "cgroup.event_control", err, "%d %d", efd, ofd);
    if (ret < 0)
        return ret;
    return steal_fd(&efd);
}

const cg_driver_t cg_driver_v1 = {
    .name = "v1",
    .create = v1_create,
    .exists = v1_exists,
    .apply = v1_apply,
    .enter = v1_enter,
    .stats = v1_stats,
    .procs_dir = v1_procs_dir,
    .freeze = v1_freeze,
    .kill_all = v1_kill_all,
    .destroy = v1_destroy,
    .oom_fd = v1_oom_fd,
};
