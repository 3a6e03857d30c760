/* A pod's sandbox namespaces (agent/sandbox.c). */
#ifndef MINIK_AGENT_SANDBOX_H
#define MINIK_AGENT_SANDBOX_H

#include <stdbool.h>

#include "lib/error.h"

/* The namespace files under a pod's ns/ directory, in this order. */
extern const char *const minik_agent_sandbox_ns[3];

/* Create the pod's ipc namespace and, unless host_network, its net and uts namespaces
 * (hostname set, loopback up), bound to files in nsdir (created if missing; a previous
 * binding is replaced). Safe to call from several threads at once: it never waits on a
 * descriptor another thread's child could hold. Blocking (a fork and a few syscalls). */
int minik_agent_sandbox_create(const char *nsdir, const char *hostname, bool host_network,
                               minik_error_t **err);

/* Tests only: called right before the helper is forked (NULL in production). */
extern void (*minik_agent_sandbox_before_fork)(void);

#endif
