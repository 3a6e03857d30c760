/* `minik logs` and `minik exec` reach a pod's container through the API server
 * (pods/log, pods/exec), which relays to the agent of the pod's node: the CLI never talks
 * to agents and never needs their secret. */
#ifndef MINIK_CLI_POD_STREAM_H
#define MINIK_CLI_POD_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/error.h"

typedef struct minik_cli_pod_stream {
    const char *pod;
    const char *sub;   /* "log" or "exec" */
    const char *query; /* without '?'; its values already escaped */
    bool post;
    bool send_stdin; /* stream our stdin as the request body, as it is typed */
    /* Gets the 2xx answer as it arrives; returns false to stop (exec's exit status). */
    bool (*on_data)(const char *data, size_t len, void *ud);
    void *ud;
} minik_cli_pod_stream_t;

/* Run the request in the -n / kubeconfig namespace. Returns 0 once the answer ended (or
 * on_data asked to stop); < 0 with err for a transport failure or an HTTP error (the
 * server's Status message). */
int minik_cli_pod_stream(const minik_cli_pod_stream_t *s, minik_error_t **err);

#endif
