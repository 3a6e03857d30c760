/* OCI runtime operations over the state root, as runc offers them: create, start, state,
 * kill, delete, and waiting for a container's exit. Used by `minik oci` and the agent. */
#ifndef MINIK_RUNTIME_OCI_H
#define MINIK_RUNTIME_OCI_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/runtime/state.h"
#include "lib/error.h"

typedef struct minik_oci_create_opts {
    const char *root;     /* state root (created if missing) */
    const char *bundle;   /* directory holding config.json */
    const char *pid_file; /* optional: the init's pid is written here */
    const char *log_path; /* optional: CRI log of the container's stdout/stderr */
    uint64_t log_max_size;
    int log_max_files;
    int preserve_fds; /* fds 3 .. 3+N-1 of the caller go to the container */
} minik_oci_create_opts_t;

/* Validate the bundle, start a shim for it and wait until the container is "created"
 * (init blocked on the exec fifo). On success *pid is the init's pid. */
int minik_oci_create(const minik_oci_create_opts_t *o, const char *id, pid_t *pid,
                     minik_error_t **err);

/* Release a "created" container's init to exec the process. */
int minik_oci_start(const char *root, const char *id, minik_error_t **err);

/* Load a container's state and status ("created", "running", "stopped"). */
int minik_oci_load(const char *root, const char *id, minik_oci_state_t **st, const char **status,
                   minik_error_t **err);

/* Send sig to the init, or with all to every process in the container's cgroup. */
int minik_oci_kill(const char *root, const char *id, int sig, bool all, minik_error_t **err);

/* Remove a stopped (or, with force, any) container: its processes, cgroup and state. */
int minik_oci_delete(const char *root, const char *id, bool force, minik_error_t **err);

/* Wait until the container's shim has recorded the exit, then return the exit code
 * (128+signal if killed). forward_pid receives the init's pid so signal handlers of the
 * caller can forward to it (may be NULL). */
int minik_oci_wait(const char *root, const char *id, int *exit_code, volatile pid_t *forward_pid,
                   minik_error_t **err);

#endif
