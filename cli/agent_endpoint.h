/* Where the agent running a pod listens, for `minik logs` and `minik exec`: the pod's
 * node, and that Node's minik.io/agent-endpoint and minik.io/agent-token annotations
 * (readable only by those the API server lets read the Node). */
#ifndef MINIK_CLI_AGENT_ENDPOINT_H
#define MINIK_CLI_AGENT_ENDPOINT_H

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

#endif
