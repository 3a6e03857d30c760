/* The on-disk state of an OCI container under --root (default /run/minik/oci):
 *
 *   <root>/<id>/state.json   written by the shim once the init is set up (atomic)
 *   <root>/<id>/exec.fifo    exists while the container is "created"; `start` opens it
 *   <root>/<id>/exit.json    written by the shim when the init exits (atomic)
 *   <root>/<id>/shim.log     the shim's own log
 *
 * Status is derived, never stored: exit.json or a dead init means "stopped", the fifo
 * means "created", otherwise "running". Pids are checked together with their start time
 * so a recycled pid is never mistaken for the container. */
#ifndef MINIK_RUNTIME_STATE_H
#define MINIK_RUNTIME_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "lib/error.h"

#define MINIK_OCI_DEFAULT_ROOT "/run/minik/oci"

typedef struct minik_oci_state {
    char *oci_version;
    char *id;
    char *bundle;
    char *rootfs;
    char *created; /* RFC 3339 */
    char *cgroup_path;
    pid_t pid;
    uint64_t pid_start;
    pid_t shim_pid;
    uint64_t shim_start;
    cJSON *annotations; /* owned; may be NULL */
} minik_oci_state_t;

typedef struct minik_oci_exit {
    int exit_code; /* 128+signal when a signal ended the process */
    int signal;    /* 0 unless a signal ended it */
    bool oom_killed;
    char *error; /* exec failure reported by the init, or NULL */
} minik_oci_exit_t;

/* A container id: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 128 characters. */
int minik_oci_id_check(const char *id, minik_error_t **err);

int minik_oci_state_write(const char *dir, const minik_oci_state_t *st, minik_error_t **err);
/* ENOENT in the error when there is no such container. */
int minik_oci_state_read(const char *dir, minik_oci_state_t **out, minik_error_t **err);
void minik_oci_state_free(minik_oci_state_t *st);

int minik_oci_exit_write(const char *dir, const minik_oci_exit_t *ex, minik_error_t **err);
/* Returns 1 and fills *ex (caller frees ex->error) if exit.json exists, 0 if not. */
int minik_oci_exit_read(const char *dir, minik_oci_exit_t *ex, minik_error_t **err);

/* Start time (clock ticks since boot, /proc/<pid>/stat field 22) of a live, non-zombie
 * process; < 0 if there is none. */
int minik_proc_start_time(pid_t pid, uint64_t *out);
/* true if pid is alive, not a zombie, and started at `start`. */
bool minik_proc_alive(pid_t pid, uint64_t start);

/* "created", "running" or "stopped". */
const char *minik_oci_status(const char *dir, const minik_oci_state_t *st);

/* The runtime-spec state document (plus runc's rootfs/created/owner), as `state` prints. */
cJSON *minik_oci_state_to_json(const minik_oci_state_t *st, const char *status);

/* "TERM", "SIGTERM", "sigterm" or "15" into a signal number. */
int minik_signal_parse(const char *s, int *out, minik_error_t **err);

#endif
