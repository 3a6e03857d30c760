/* The cgroup v2 (unified hierarchy) driver.
 *
 * One tree: the group is <root>/<path>; the controllers it needs are enabled in every
 * ancestor's cgroup.subtree_control. OCI's v1-shaped resources are translated as runc
 * does: shares -> weight, quota/period -> cpu.max, swap (memory+swap total) -> swap alone,
 * devices -> an eBPF program (cgroup_devices_bpf.c). The hybrid driver reuses the freeze
 * and kill functions for the unified group it keeps beside v1. */
#include "agent/runtime/cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* The controllers a container's limits need; others stay as the host set them. */
static const char *const wanted[] = {"cpuset", "cpu", "io", "memory", "pids"};

static bool word_in(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n) {
        bool start = p == list || p[-1] == ' ' || p[-1] == '\n';
        bool end = p[n] == '\0' || p[n] == ' ' || p[n] == '\n';
        if (start && end)
            return true;
    }
    return false;
}

/* Enable the wanted controllers in dir's subtree_control. One write per controller, and a
 * failure is only a warning: the kernel refuses e.g. "+cpu" while a realtime task sits in
 * the root, and a container that asks for no CPU limit should still start. A limit that
 * needs the missing controller fails later with the file it could not write. */
static void enable_controllers(const char *dir)
{
    cleanup_free char *avail = NULL, *on = NULL;
    minik_error_t *e = NULL;
    if (cg_read(dir, "cgroup.controllers", &avail, &e) < 0 ||
        cg_read(dir, "cgroup.subtree_control", &on, &e) < 0) {
        minik_error_free(e);
        return; /* a test layout without these files, or a racing rmdir */
    }
    for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
        if (!word_in(avail, wanted[i]) || word_in(on, wanted[i]))
            continue;
        if (cg_writef(dir, "cgroup.subtree_control", &e, "+%s", wanted[i]) < 0) {
            minik_log_warn("cgroup: cannot enable controller", "controller", wanted[i], "dir", dir,
                           "error", e->msg, NULL);
            minik_error_clear(&e);
        }
    }
}

static int v2_create(minik_cgroup_t *cg, minik_error_t **err)
{
    cleanup_free char *created = NULL;
    int ret = cg_mkdir(cg->unified_dir, &created, err);
    if (ret < 0)
        return ret;
    if (cg->mode != MINIK_CGROUP_MODE_V2)
        return 0;
    /* Walk root .. parent of the group. */
    const char *root = cg_root();
    size_t rlen = strlen(root);
    cleanup_free char *p = xstrdup(cg->unified_dir);
    enable_controllers(root);
    for (char *s = p + rlen + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        enable_controllers(p);
        *s = '/';
    }
    return 0;
}

static bool v2_exists(minik_cgroup_t *cg)
{
    return cg_file_exists(cg->unified_dir, "cgroup.procs");
}

/* runc's ConvertMemorySwapToCgroupV2Value: OCI swap is memory+swap; v2 wants swap alone. */
static int swap_to_v2(int64_t swap, bool has_limit, int64_t limit, int64_t *out,
                      minik_error_t **err)
{
    if (swap == -1 || swap == 0) {
        *out = swap;
        return 0;
    }
    if (!has_limit || limit <= 0)
        return minik_error_set(err, EINVAL,
                               "resources.memory.swap: needs resources.memory.limit on cgroup v2");
    if (swap < limit)
        return minik_error_set(err, EINVAL,
                               "resources.memory.swap: %lld is below memory.limit %lld",
                               (long long)swap, (long long)limit);
    *out = swap - limit;
    return 0;
}

static int write_limit(const char *dir, const char *file, int64_t v, minik_error_t **err)
{
    if (v < 0)
        return cg_write(dir, file, "max", err);
    return cg_writef(dir, file, err, "%lld", (long long)v);
}

static int apply_memory(minik_cgroup_t *cg, const cg_resources_t *r, minik_error_t **err)
{
    const char *dir = cg->unified_dir;
    int ret;
    if (r->has_mem_swappiness)
        return minik_error_set(err, ENOTSUP, "resources.memory.swappiness: not on cgroup v2");
    if (r->has_mem_disable_oom && r->mem_disable_oom)
        return minik_error_set(err, ENOTSUP, "resources.memory.disableOOMKiller: not on cgroup v2");
    bool has_swap = r->has_mem_swap;
    int64_t swap = r->mem_swap;
    /* Unlimited memory and no word on swap: unlimited swap too (runc). */
    if (r->has_mem_limit && r->mem_limit == -1 && !has_swap) {
        has_swap = true;
        swap = -1;
    }
    if (has_swap) {
        int64_t v2swap = 0;
        if ((ret = swap_to_v2(swap, r->has_mem_limit, r->mem_limit, &v2swap, err)) < 0)
            return ret;
        if (!cg_file_exists(dir, "memory.swap.max")) {
            if (v2swap != -1 && v2swap != 0)
                return minik_error_set(err, ENOTSUP,
                                       "resources.memory.swap: no memory.swap.max on this host");
        } else if (v2swap != 0 || swap != 0) {
            if ((ret = write_limit(dir, "memory.swap.max", v2swap, err)) < 0)
                return ret;
        }
    }
    if (r->has_mem_limit && (ret = write_limit(dir, "memory.max", r->mem_limit, err)) < 0)
        return ret;
    if (r->has_mem_reservation &&
        (ret = write_limit(dir, "memory.low", r->mem_reservation, err)) < 0)
        return ret;
    return 0;
}

static int apply_cpu(minik_cgroup_t *cg, const cg_resources_t *r, minik_error_t **err)
{
    const char *dir = cg->unified_dir;
    int ret;
    if (r->has_cpu_shares &&
        (ret = cg_writef(dir, "cpu.weight", err, "%llu",
                         (unsigned long long)minik_cgroup_shares_to_weight(r->cpu_shares))) < 0)
        return ret;
    if (r->has_cpu_quota || r->has_cpu_period) {
        /* "$QUOTA $PERIOD"; a missing period keeps the kernel's current one. */
        char v[64];
        int n = (r->has_cpu_quota && r->cpu_quota > 0)
                    ? snprintf(v, sizeof(v), "%lld", (long long)r->cpu_quota)
                    : snprintf(v, sizeof(v), "max");
        if (r->has_cpu_period)
            snprintf(v + n, sizeof(v) - (size_t)n, " %llu", (unsigned long long)r->cpu_period);
        if ((ret = cg_write(dir, "cpu.max", v, err)) < 0)
            return ret;
    }
    if (r->has_cpu_burst &&
        (ret = cg_writef(dir, "cpu.max.burst", err, "%llu", (unsigned long long)r->cpu_burst)) < 0)
        return ret;
    if (r->cpuset_cpus && (ret = cg_write(dir, "cpuset.cpus", r->cpuset_cpus, err)) < 0)
        return ret;
    if (r->cpuset_mems && (ret = cg_write(dir, "cpuset.mems", r->cpuset_mems, err)) < 0)
        return ret;
    return 0;
}

static bool on_cgroup2(const char *dir)
{
    struct statfs sfs;
    return statfs(dir, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

static int v2_apply(minik_cgroup_t *cg, const cg_resources_t *r, minik_error_t **err)
{
    const char *dir = cg->unified_dir;
    int ret;
    if ((ret = apply_memory(cg, r, err)) < 0 || (ret = apply_cpu(cg, r, err)) < 0)
        return ret;
    if (r->has_pids_limit && (ret = write_limit(dir, "pids.max", r->pids_limit, err)) < 0)
        return ret;
    for (size_t i = 0; i < r->n_unified; i++)
        if ((ret = cg_write(dir, r->unified_keys[i], r->unified_values[i], err)) < 0)
            return ret;
    if (r->has_devices) {
        /* A temp dir laid out like cgroup2 (unit tests, minik_cgroup_set_root) has no kernel
         * behind it to attach a program to; a real host always gets the filter. */
        if (!on_cgroup2(dir) && strcmp(cg_root(), "/sys/fs/cgroup") != 0) {
            minik_log_debug("cgroup: not cgroup2, device filter skipped", "dir", dir, NULL);
            return 0;
        }
        if ((ret = cg_devices_bpf_apply(dir, r->devices, r->n_devices, err)) < 0)
            return ret;
    }
    return 0;
}

static int v2_enter(minik_cgroup_t *cg, pid_t pid, minik_error_t **err)
{
    return cg_enter_dir(cg->unified_dir, pid, err);
}

/* A stats file of a controller that is not enabled is simply absent: report 0. */
static int opt(int ret, minik_error_t **err)
{
    if (ret == -ENOENT) {
        minik_error_clear(err);
        return 0;
    }
    return ret;
}

static int v2_stats(minik_cgroup_t *cg, minik_cgroup_stats_t *out, minik_error_t **err)
{
    const char *d = cg->unified_dir;
    int ret;
    uint64_t usec = 0, cur = 0, inactive = 0;
    out->memory_limit_bytes = out->pids_limit = UINT64_MAX;
    if ((ret = opt(cg_read_keyed(d, "cpu.stat", "usage_usec", &usec, err), err)) < 0)
        return ret;
    out->cpu_usage_ns = usec * 1000;
    if ((ret = opt(cg_read_u64(d, "memory.current", &cur, err), err)) < 0 ||
        (ret = opt(cg_read_keyed(d, "memory.stat", "inactive_file", &inactive, err), err)) < 0 ||
        (ret = opt(cg_read_u64(d, "memory.max", &out->memory_limit_bytes, err), err)) < 0 ||
        (ret = opt(cg_read_keyed(d, "memory.events", "oom_kill", &out->oom_kills, err), err)) < 0 ||
        (ret = opt(cg_read_u64(d, "pids.current", &out->pids_current, err), err)) < 0 ||
        (ret = opt(cg_read_u64(d, "pids.max", &out->pids_limit, err), err)) < 0)
        return ret;
    out->memory_usage_bytes = cur > inactive ? cur - inactive : 0;
    return 0;
}

static const char *v2_procs_dir(minik_cgroup_t *cg)
{
    return cg->unified_dir;
}

/* Wait until cgroup.events says "frozen <want>" (the kernel freezes asynchronously). */
static int wait_frozen(const char *dir, int want, minik_error_t **err)
{
    for (int i = 0; i < 200; i++) {
        uint64_t v = 0;
        int ret = cg_read_keyed(dir, "cgroup.events", "frozen", &v, err);
        if (ret == -ENOENT) {
            minik_error_clear(err);
            return 0; /* no cgroup.events (a test layout): nothing to wait for */
        }
        if (ret < 0)
            return ret;
        if ((int)v == want)
            return 0;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return minik_error_set(err, ETIMEDOUT, "%s/cgroup.events: never became frozen %d", dir, want);
}

static int v2_freeze(minik_cgroup_t *cg, bool frozen, minik_error_t **err)
{
    int ret = cg_write(cg->unified_dir, "cgroup.freeze", frozen ? "1" : "0", err);
    if (ret < 0)
        return ret;
    return wait_frozen(cg->unified_dir, frozen ? 1 : 0, err);
}

static int v2_kill_all(minik_cgroup_t *cg, int sig, minik_error_t **err)
{
    /* cgroup.kill (Linux 5.14) SIGKILLs the whole group atomically, forks included. */
    if (sig != SIGKILL || !cg_file_exists(cg->unified_dir, "cgroup.kill"))
        return 0;
    int ret = cg_write(cg->unified_dir, "cgroup.kill", "1", err);
    return ret < 0 ? ret : 1;
}

static int v2_destroy(minik_cgroup_t *cg, minik_error_t **err)
{
    return cg_rmdir(cg->unified_dir, err);
}

static int v2_oom_fd(minik_cgroup_t *cg, minik_error_t **err)
{
    cleanup_free char *p = xasprintf("%s/memory.events", cg->unified_dir);
    cleanup_close int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0)
        return minik_error_set(err, errno, "inotify_init1");
    /* cgroupfs raises IN_MODIFY on memory.events whenever a counter changes. */
    if (inotify_add_watch(fd, p, IN_MODIFY) < 0)
        return minik_error_set(err, errno, "inotify_add_watch \"%s\"", p);
    return steal_fd(&fd);
}

const cg_driver_t cg_driver_v2 = {
    .name = "v2",
    .create = v2_create,
    .exists = v2_exists,
    .apply = v2_apply,
    .enter = v2_enter,
    .stats = v2_stats,
    .procs_dir = v2_procs_dir,
    .freeze = v2_freeze,
    .kill_all = v2_kill_all,
    .destroy = v2_destroy,
    .oom_fd = v2_oom_fd,
};
