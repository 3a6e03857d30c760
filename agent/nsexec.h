/* Run a command in a running container (see nsexec.c). Runs in a process of its own
 * (`minik nsexec`, started by the agent): it changes namespaces and credentials. */
#ifndef MINIK_AGENT_NSEXEC_H
#define MINIK_AGENT_NSEXEC_H

#include <stdbool.h>
#include <sys/types.h>

#include "lib/error.h"

typedef struct minik_nsexec_opts {
    pid_t pid;               /* the container's init */
    const char *bundle;      /* holds the container's config.json */
    const char *cgroup_path; /* the container's cgroupsPath, or NULL */
    char **argv;             /* NULL-terminated command */
    bool tty;                /* stdin is a terminal: make it the command's controlling terminal */
} minik_nsexec_opts_t;

/* Returns 0 with the command's exit code (128+signal when killed), < 0 if it could not be
 * started. stdio is inherited. */
int minik_nsexec_run(const minik_nsexec_opts_t *o, int *exit_code, minik_error_t **err);

#endif
