/* Control groups for containers: one interface over the cgroup v2, v1 and hybrid layouts.
 *
 * Detection looks at the host once (or at the root set with minik_cgroup_set_root):
 *   - pure v2: cgroup2 mounted at <root> (cgroup.controllers present);
 *   - v1: one hierarchy per controller under <root>/<controller>;
 *   - hybrid: v1 controllers plus cgroup2 at <root>/unified. As runc does, limits go to the
 *     v1 controllers and the group is also created in the unified hierarchy so the process
 *     is tracked there too (no controllers are enabled there: v1 owns them).
 * Each layout is a driver (a struct of function pointers, cgroup_internal.h).
 *
 * Paths: the OCI linux.cgroupsPath. "/minik/<id>" is used as is (relative to the root of
 * every hierarchy); the systemd-style "slice:prefix:name" ("minik:<id>" for short) is
 * normalised to "/<slice>/<prefix>-<name>" so both spellings land in one place. A path
 * must not contain ".." components. */
#ifndef MINIK_CGROUP_H
#define MINIK_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "lib/error.h"

typedef struct minik_cgroup minik_cgroup_t;

/* Usage for `minik top`. A figure the host cannot provide is 0; a limit that is not set
 * ("max" / unlimited) is UINT64_MAX. */
typedef struct minik_cgroup_stats {
    uint64_t cpu_usage_ns;       /* total CPU time consumed by the group */
    uint64_t memory_usage_bytes; /* usage minus inactive page cache, as docker reports it */
    uint64_t memory_limit_bytes;
    uint64_t pids_current;
    uint64_t pids_limit;
    uint64_t oom_kills; /* processes the kernel OOM-killed inside the group */
} minik_cgroup_stats_t;

/* Which layout the host has. */
typedef enum minik_cgroup_mode {
    MINIK_CGROUP_MODE_UNKNOWN = 0,
    MINIK_CGROUP_MODE_V1,
    MINIK_CGROUP_MODE_HYBRID,
    MINIK_CGROUP_MODE_V2,
} minik_cgroup_mode_t;

/* path: OCI linux.cgroupsPath ("/minik/<id>" or "minik:<id>" style, normalised);
 * resources: OCI linux.resources (borrowed, may be NULL). Creates the group in every
 * hierarchy the host has (v2, v1 or hybrid) and applies the limits. When no devices rules
 * are given, runc's default allow-list (null, zero, full, random, urandom, tty, console,
 * ptmx, pts/ *) is applied. On failure nothing created is left behind. *out is owned by
 * the caller (minik_cgroup_free; minik_cgroup_destroy removes the directories). */
int minik_cgroup_create(const char *path, const cJSON *resources, minik_cgroup_t **out,
                        minik_error_t **err);

/* Open an existing group (e.g. after an agent restart) without changing it. Fails with
 * ENOENT when the group does not exist. */
int minik_cgroup_open(const char *path, minik_cgroup_t **out, minik_error_t **err);

/* Move pid (all its threads) into the group in every hierarchy. */
int minik_cgroup_enter(minik_cgroup_t *cg, pid_t pid, minik_error_t **err);

/* Apply OCI linux.resources (borrowed) to an existing group; only the fields given change
 * (devices, when given, replace the previous rules). */
int minik_cgroup_update(minik_cgroup_t *cg, const cJSON *resources, minik_error_t **err);

/* Read usage figures into *out. */
int minik_cgroup_stats(minik_cgroup_t *cg, minik_cgroup_stats_t *out, minik_error_t **err);

/* The pids in the group (cgroup.procs). *pids is owned by the caller (free()); it is NULL
 * when *n is 0. */
int minik_cgroup_pids(minik_cgroup_t *cg, pid_t **pids, size_t *n, minik_error_t **err);

/* Send sig to every process in the group: v2 cgroup.kill for SIGKILL when the kernel has
 * it; otherwise freeze (v1 freezer / v2 cgroup.freeze), signal every pid, thaw, so that no
 * process can fork away from the signal. */
int minik_cgroup_kill(minik_cgroup_t *cg, int sig, minik_error_t **err);

/* rmdir the group in every hierarchy, retrying briefly on EBUSY (exiting processes).
 * Missing directories are fine. The object stays valid and must still be freed. */
int minik_cgroup_destroy(minik_cgroup_t *cg, minik_error_t **err);

/* The normalised path ("/minik/<id>"); owned by cg. */
const char *minik_cgroup_path(const minik_cgroup_t *cg);

/* Release the object (does not touch the directories). NULL is a no-op. */
void minik_cgroup_free(minik_cgroup_t *cg);

/* ---- additions beyond the runtime's contract --------------------------------------- */

/* Point the drivers at another root instead of /sys/fs/cgroup (tests use a temp dir laid
 * out like v1 or v2); NULL restores the default. Resets the cached detection. Not
 * thread-safe: call before creating groups. */
void minik_cgroup_set_root(const char *root);

/* The layout detected under the current root. */
minik_cgroup_mode_t minik_cgroup_detect(minik_error_t **err);
const char *minik_cgroup_mode_name(minik_cgroup_mode_t mode);

/* Normalise an OCI cgroupsPath (see above). The caller owns *out. */
int minik_cgroup_path_normalize(const char *path, char **out, minik_error_t **err);

/* runc's conversion from v1 cpu.shares [2, 262144] to v2 cpu.weight [1, 10000]; 0 means
 * "unset" and maps to 0. */
uint64_t minik_cgroup_shares_to_weight(uint64_t shares);

/* OOM notification for the agent's event loop. Returns a pollable fd (owned by the caller):
 * v1 an eventfd registered through cgroup.event_control on memory.oom_control, v2 an
 * inotify watch on memory.events. When it becomes readable, drain it with
 * minik_cgroup_oom_drain and compare minik_cgroup_stats().oom_kills with the previous
 * value: the fd says "something happened", the counter says how many kills. */
int minik_cgroup_oom_fd(minik_cgroup_t *cg, minik_error_t **err);
/* Consume pending notifications on an fd from minik_cgroup_oom_fd (non-blocking). */
void minik_cgroup_oom_drain(int fd);

#endif
