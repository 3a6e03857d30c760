/* The per-container shim: the minik binary re-executed (from a sealed memfd copy, so the
 * container can never write to the binary through /proc/<pid>/exe — CVE-2019-5736) and
 * double-forked so it is re-parented away from its starter and outlives it.
 *
 * It creates the cgroup, spawns the container init, writes state.json and reports
 * "ok <pid>" (or "error <message>") on the ready fd; then it owns the container: it copies
 * the container's stdout/stderr into a CRI log (when a log path is given; otherwise the
 * container inherits the starter's stdio), forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT/SIGUSR1/
 * SIGUSR2 to the init, reaps it and records its exit status in exit.json, then exits. */
#ifndef MINIK_RUNTIME_SHIM_H
#define MINIK_RUNTIME_SHIM_H

#include <stdint.h>

typedef struct minik_shim_opts {
    const char *root;   /* state root */
    const char *id;     /* container id; the state dir <root>/<id> exists */
    const char *bundle; /* absolute */
    const char *log_path;
    uint64_t log_max_size;
    int log_max_files;
    int preserve_fds;
    int ready_fd;
} minik_shim_opts_t;

/* Run the shim to completion; returns the shim's own exit code. */
int minik_shim_run(const minik_shim_opts_t *o);

#endif
