/* What every client command shares: the connection flags, finding the kubeconfig, and
 * resolving kind names typed by the user.
 *
 * Config lookup order: --kubeconfig, $MINIK_CONFIG, ~/.minik/config, then
 * /var/lib/minik/admin.conf (the admin kubeconfig `minik server` writes). --server and
 * --token override what the file says (and --server alone needs no file). */
#ifndef MINIK_CLI_CLIENT_CONFIG_H
#define MINIK_CLI_CLIENT_CONFIG_H

#include <stdbool.h>

#include "cli/cli.h"
#include "lib/error.h"
#include "proto/client.h"
#include "proto/kinds.h"

typedef struct minik_client_flags {
    const char *kubeconfig;
    const char *context;
    const char *server;
    const char *token;
    const char *namespace;
    bool insecure_skip_tls_verify;
} minik_client_flags_t;

/* Filled by the flag rows below; one command runs per process. */
extern minik_client_flags_t minik_client_flags;

/* Put these rows in a command's flag table to accept the connection flags. */
#define MINIK_CLIENT_FLAG_ROWS                                                                     \
    {"kubeconfig",                                                                                 \
     0,                                                                                            \
     MINIK_FLAG_STRING,                                                                            \
     &minik_client_flags.kubeconfig,                                                               \
     "FILE",                                                                                       \
     "kubeconfig to use (default: $MINIK_CONFIG, ~/.minik/config, /var/lib/minik/admin.conf)"},    \
        {"context",                                                                                \
         0,                                                                                        \
         MINIK_FLAG_STRING,                                                                        \
         &minik_client_flags.context,                                                              \
         "NAME",                                                                                   \
         "kubeconfig context to use (default: current-context)"},                                  \
        {"server",                                                                                 \
         's',                                                                                      \
         MINIK_FLAG_STRING,                                                                        \
         &minik_client_flags.server,                                                               \
         "URL",                                                                                    \
         "API server URL, overriding the kubeconfig"},                                             \
        {"token",           0,                                                                     \
         MINIK_FLAG_STRING, &minik_client_flags.token,                                             \
         "TOKEN",           "bearer token, overriding the kubeconfig"},                            \
        {"namespace",                                                                              \
         'n',                                                                                      \
         MINIK_FLAG_STRING,                                                                        \
         &minik_client_flags.namespace,                                                            \
         "NS",                                                                                     \
         "namespace (default: the context's, else \"default\")"},                                  \
    {                                                                                              \
        "insecure-skip-tls-verify", 0, MINIK_FLAG_BOOL,                                            \
            &minik_client_flags.insecure_skip_tls_verify, NULL,                                    \
            "do not verify the server's certificate (insecure)"                                    \
    }

/* The kubeconfig path to use, following the lookup order; NULL with *err set when none of
 * the candidates exists (the message lists them). The caller owns the result. An explicit
 * flag or $MINIK_CONFIG is returned even if missing (reading it then fails clearly). */
char *minik_cli_kubeconfig_path(const char *flag, minik_error_t **err);

/* Load the configuration (file + overriding flags) into *cfg (zeroed by the caller;
 * release with minik_client_config_clear). */
int minik_cli_client_config(minik_client_config_t *cfg, minik_error_t **err);

/* Connect: a client for the configuration, and the namespace to use (-n, else the
 * context's, else "default"; owned by the caller). */
int minik_cli_client_open(minik_client_t **client, char **ns, minik_error_t **err);

/* A kind from a user-typed name (plural, singular, short name or Kind, any case, or
 * plural.group), from proto's table, else — once minik_cli_set_discovery() gave a client —
 * from the server's discovery documents (kinds the server serves that proto has no table
 * for: ReplicaSet, DaemonSet, Job). Unknown: NULL with "the server doesn't have a resource
 * type \"x\"". (cli/discovery.c) */
const minik_kind_t *minik_cli_kind(const char *name, minik_error_t **err);

/* Let minik_cli_kind() ask the server (c is borrowed; NULL turns discovery off). */
void minik_cli_set_discovery(minik_client_t *c);

/* Search the server's discovery documents for a kind answering to `name`. The kind stays
 * valid until exit. NULL without *err when the server has none. */
const minik_kind_t *minik_cli_discover_kind(minik_client_t *c, const char *name,
                                            minik_error_t **err);

/* proto's minik_kind_lookup(), then the kinds discovered so far. */
const minik_kind_t *minik_cli_kind_lookup(const char *api_version, const char *kind);

/* Print an error the way kubectl does and return MINIK_EXIT_ERROR: an HTTP error from the
 * server (err->code >= 400, other than 401) as "Error from server (Reason): message",
 * anything else (transport, local, 401's own wording) as "error: message". */
int minik_cli_fail_api(const minik_error_t *err);

/* "deployments.apps": the resource name as kubectl prints it in messages. Caller owns. */
char *minik_cli_resource_name(const minik_kind_t *k);

#endif
