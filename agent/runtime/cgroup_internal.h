/* Shared between the cgroup front end (cgroup.c) and its drivers (cgroup_v1.c,
 * cgroup_v2.c, cgroup_devices_bpf.c). Not part of the public interface. */
#ifndef MINIK_CGROUP_INTERNAL_H
#define MINIK_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "agent/runtime/cgroup.h"
#include "lib/error.h"

/* One rule of the devices allow-list, OCI linux.resources.devices[] (and runc's
 * defaults). major/minor -1 is the wildcard '*'. type 'a' matches every device. */
typedef struct cg_device_rule {
    bool allow;
    char type; /* 'a', 'b' or 'c' */
    int64_t major, minor;
    char access[4]; /* subset of "rwm", in that order */
} cg_device_rule_t;

/* OCI linux.resources after validation. A has_* flag is false when the field was absent,
 * so update only touches what was given. Limits of -1 mean "unlimited". */
typedef struct cg_resources {
    bool has_mem_limit, has_mem_reservation, has_mem_swap, has_mem_swappiness, has_mem_disable_oom;
    int64_t mem_limit, mem_reservation, mem_swap;
    uint64_t mem_swappiness;
    bool mem_disable_oom;

    bool has_cpu_shares, has_cpu_quota, has_cpu_period, has_cpu_burst;
    uint64_t cpu_shares, cpu_period, cpu_burst;
    int64_t cpu_quota;
    char *cpuset_cpus, *cpuset_mems; /* NULL when absent */

    bool has_pids_limit;
    int64_t pids_limit;

    bool has_devices;
    cg_device_rule_t *devices;
    size_t n_devices;

    /* linux.resources.unified: raw v2 file -> value (v2 only). */
    char **unified_keys, **unified_values;
    size_t n_unified;
} cg_resources_t;

/* Parse linux.resources (NULL gives an empty set). Errors name the field path,
 * "resources.memory.limit: ...". with_default_devices: when the spec lists no devices, use
 * runc's default allow-list (creation) instead of leaving devices untouched (update). */
int cg_resources_parse(const cJSON *resources, bool with_default_devices, cg_resources_t *out,
                       minik_error_t **err);
void cg_resources_clear(cg_resources_t *r);

/* The default allow-list (deny everything, then allow the standard nodes), as runc. */
const cg_device_rule_t *cg_default_devices(size_t *n);

/* A driver: one cgroup layout. `dir`s are absolute paths of the group. */
typedef struct cg_driver {
    const char *name;
    /* Create the group's directories (mkdir -p) and return 0; on failure remove what was
     * made. */
    int (*create)(minik_cgroup_t *cg, minik_error_t **err);
    /* Does the group exist (open)? */
    bool (*exists)(minik_cgroup_t *cg);
    int (*apply)(minik_cgroup_t *cg, const cg_resources_t *r, minik_error_t **err);
    int (*enter)(minik_cgroup_t *cg, pid_t pid, minik_error_t **err);
    int (*stats)(minik_cgroup_t *cg, minik_cgroup_stats_t *out, minik_error_t **err);
    /* The directory whose cgroup.procs lists every process of the group. */
    const char *(*procs_dir)(minik_cgroup_t *cg);
    int (*freeze)(minik_cgroup_t *cg, bool frozen, minik_error_t **err);
    /* Kill everything at once if the layout can (v2 cgroup.kill); 1 when done, 0 when the
     * caller must fall back to freeze-signal-thaw. */
    int (*kill_all)(minik_cgroup_t *cg, int sig, minik_error_t **err);
    int (*destroy)(minik_cgroup_t *cg, minik_error_t **err);
    int (*oom_fd)(minik_cgroup_t *cg, minik_error_t **err);
} cg_driver_t;

extern const cg_driver_t cg_driver_v1; /* also used for hybrid, see cgroup_v1.c */
extern const cg_driver_t cg_driver_v2;

/* The v1 controllers minik manages (one hierarchy each, possibly co-mounted). */
#define CG_V1_CONTROLLERS(X)                                                                       \
    X(CG_CPU, "cpu")                                                                               \
    X(CG_CPUACCT, "cpuacct")                                                                       \
    X(CG_CPUSET, "cpuset")                                                                         \
    X(CG_MEMORY, "memory")                                                                         \
    X(CG_DEVICES, "devices")                                                                       \
    X(CG_FREEZER, "freezer")                                                                       \
    X(CG_PIDS, "pids")                                                                             \
    X(CG_BLKIO, "blkio")                                                                           \
    X(CG_SYSTEMD, "systemd")

typedef enum cg_controller {
#define X(e, s) e,
    CG_V1_CONTROLLERS(X)
#undef X
        CG_N_CONTROLLERS
} cg_controller_t;

struct minik_cgroup {
    char *path; /* normalised, "/minik/<id>" */
    minik_cgroup_mode_t mode;
    const cg_driver_t *driver;
    /* v2 and hybrid: the group in the unified hierarchy (NULL on pure v1). */
    char *unified_dir;
    /* v1 and hybrid: the group in each controller's hierarchy (NULL when the host lacks
     * the controller). Co-mounted controllers (cpu,cpuacct) share one directory. */
    char *v1_dir[CG_N_CONTROLLERS];
};

/* The root all hierarchies live under (default /sys/fs/cgroup). */
const char *cg_root(void);

/* File helpers: write `value` to dir/file (no O_CREAT, no O_TRUNC: cgroup files), and read
 * one (trimmed of the trailing newline). Errors say which file. */
int cg_write(const char *dir, const char *file, const char *value, minik_error_t **err);
int cg_writef(const char *dir, const char *file, minik_error_t **err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int cg_read(const char *dir, const char *file, char **out, minik_error_t **err);
/* Read a single unsigned integer; "max" gives UINT64_MAX. */
int cg_read_u64(const char *dir, const char *file, uint64_t *out, minik_error_t **err);
/* Find `key value` in a flat-keyed file (memory.stat, memory.events, cpu.stat). Returns 0
 * and sets *out, or -ENOENT (no error set) when the key is absent. */
int cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *out,
                  minik_error_t **err);
bool cg_file_exists(const char *dir, const char *file);
/* mkdir -p of dir; records in *created the topmost directory it had to create (for
 * rollback) or NULL if it existed. */
int cg_mkdir(const char *dir, char **created, minik_error_t **err);
/* rmdir, retrying on EBUSY for up to ~1 s; a missing directory is fine. */
int cg_rmdir(const char *dir, minik_error_t **err);
/* Write pid into dir/cgroup.procs. */
int cg_enter_dir(const char *dir, pid_t pid, minik_error_t **err);

/* v1 devices.allow/devices.deny line for a rule: "c 1:3 rwm", "a *:* rwm". */
void cg_device_rule_format(const cg_device_rule_t *r, char out[64]);

/* v2 device filter (cgroup_devices_bpf.c): build a BPF_PROG_TYPE_CGROUP_DEVICE program
 * implementing `rules` (the last matching rule decides; nothing matching is denied),
 * attach it to the directory and detach any program attached before, so an update
 * replaces the filter. */
int cg_devices_bpf_apply(const char *dir, const cg_device_rule_t *rules, size_t n,
                         minik_error_t **err);
/* Translate rules into BPF instructions (exposed for tests). *insns is malloc'd. */
int cg_devices_bpf_build(const cg_device_rule_t *rules, size_t n, void **insns, size_t *n_insns,
                         minik_error_t **err);

#endif
