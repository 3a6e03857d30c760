/* Where the agent running a pod listens, for `minik logs` and `minik exec`: the pod's
 * node, and that Node's minik.io/agent-endpoint and minik.io/agent-token annotations
 * (readable only by those the API server lets read the Node). */
#ifndef MINIK_CLI_AGENT_ENDPOINT_H
#define MINIK_CLI_AGENT_ENDPOINT_H

#include <stddef.h>

#include "lib/error.h"

typedef struct minik_cli_agent_target {
    char *endpoint; /* "http://IP:PORT" */
    char *token;    /* bearer token for it */
    char *path;     /* "NS/POD/CONTAINER", each percent-escaped */
    char *node;
} minik_cli_agent_target_t;

/* Resolve pod (in the -n namespace) and container (NULL: the pod's first). */
int minik_cli_agent_target(const char *pod, const char *container, minik_cli_agent_target_t *out,
                           minik_error_t **err);
void minik_cli_agent_target_clear(minik_cli_agent_target_t *t);

/* curl's write callback type: consume size*n bytes, return how many were taken (fewer aborts). */
typedef size_t (*minik_cli_agent_write_fn)(char *ptr, size_t size, size_t n, void *ud);

/* One request to t's agent: `what` is the path (and query) below t->endpoint ("exec/<path>"),
 * json_body is POSTed when not NULL (else a GET). The reply streams to write_cb(ud) as it
 * arrives; *status gets the HTTP code (0 if none came). A transfer that fails, including one
 * write_cb aborted, sets *err to "cannot reach the agent of node N at E: why" and returns < 0. */
int minik_cli_agent_request(const minik_cli_agent_target_t *t, const char *what,
                            const char *json_body, minik_cli_agent_write_fn write_cb, void *ud,
                            long *status, minik_error_t **err);

#endif
