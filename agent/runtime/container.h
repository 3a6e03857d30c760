/* Spawning a container's init process from an OCI spec.
 *
 * The caller (the shim) forks; the child joins the namespaces given by path, waits until
 * the parent has put it in the cgroup, unshares the new namespaces (the parent writes the
 * uid/gid maps of a new user namespace), forks again into a new pid namespace if asked,
 * then sets up the root filesystem and reports "ready". It then blocks on the exec fifo in
 * the state directory until `start` opens it, drops privileges, closes every other fd,
 * installs seccomp and execs the process. Parent and child talk over a SOCK_SEQPACKET
 * pair, so every message arrives whole. */
#ifndef MINIK_RUNTIME_CONTAINER_H
#define MINIK_RUNTIME_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "agent/runtime/cgroup.h"
#include "agent/runtime/seccomp.h"
#include "agent/runtime/spec.h"
#include "lib/error.h"

typedef struct minik_container_config {
    const minik_spec_t *spec;
    const char *rootfs; /* absolute path of the root filesystem */
    int exec_fifo_fd;   /* O_PATH fd of the exec fifo in the state dir */
    /* OCI linux.seccomp (borrowed; NULL = the default profile). The filter is compiled in
     * the first child while the parent sets up the cgroup, which overlaps the two
     * slowest steps of a start; the shim is single-threaded, so libseccomp is safe there. */
    const cJSON *seccomp;
    minik_cgroup_t *cgroup; /* NULL: stay in the caller's cgroup */
    int stdio[3];           /* fds for the container's 0, 1, 2; -1 = inherit */
    int preserve_fds;       /* fds 3 .. 3+N-1 stay open in the container */
} minik_container_config_t;

/* Fork the container init and wait until it is set up and blocked on the exec fifo.
 * On success *pid is the init's pid (in the caller's pid namespace) and *sync_fd the
 * parent's end of the sync socket: after `start`, a failed exec is reported on it as a
 * message; a successful exec closes it (EOF). On failure every child is reaped. */
int minik_container_spawn(const minik_container_config_t *cfg, pid_t *pid, int *sync_fd,
                          minik_error_t **err);

/* Take on the spec's identity, as the last step before exec (the container's init, and every
 * process `minik exec` starts in it): drop from the bounding set every capability up to
 * last_cap the spec does not list, set groups, gid and uid, then the effective and permitted
 * sets (inheritable stays empty) and raise the ambient ones. A capability the spec asks for but
 * the caller lacks is named in the error. */
int minik_container_drop_privileges(const minik_spec_t *s, int last_cap, minik_error_t **err);

/* Read a post-start message from sync_fd (see above): returns 1 with *msg set (caller
 * frees) if the init reported an error, 0 on EOF (exec succeeded), < 0 on read error. */
int minik_container_read_error(int sync_fd, char **msg);

#endif
