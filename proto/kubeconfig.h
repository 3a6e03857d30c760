/* kubeconfig files (the format kubectl reads; `minik server` writes admin.conf in it).
 *
 * Supported: clusters[].cluster.{server, certificate-authority-data,
 * certificate-authority (path, relative to the file's directory), insecure-skip-tls-verify},
 * users[].user.{token, tokenFile}, contexts[].context.{cluster, user, namespace},
 * current-context. YAML or JSON. Client certificates and exec/auth-provider plugins are
 * refused with a message saying so rather than ignored. */
#ifndef MINIK_PROTO_KUBECONFIG_H
#define MINIK_PROTO_KUBECONFIG_H

#include <stddef.h>

#include "lib/error.h"
#include "proto/client.h"

/* Largest kubeconfig accepted (they are a few KiB; CA bundles can make them bigger). */
#define MINIK_KUBECONFIG_MAX_BYTES (4u * 1024 * 1024)

/* Parse kubeconfig text. `path` names the file in messages and anchors relative paths (may
 * be NULL: relative paths are then taken from the current directory). context selects a
 * context by name; NULL uses current-context. Fills *out (which must be zeroed; release with
 * minik_client_config_clear) with server, CA PEM, token and namespace. */
int minik_kubeconfig_parse(const char *text, size_t len, const char *path, const char *context,
                           minik_client_config_t *out, minik_error_t **err);

/* Read and parse the file at path. */
int minik_kubeconfig_load(const char *path, const char *context, minik_client_config_t *out,
                          minik_error_t **err);

/* Decode base64 (whitespace ignored, padding optional). Returns 0 and an owned buffer,
 * NUL-terminated for convenience, or < 0 on invalid input. */
int minik_base64_decode(const char *in, char **out, size_t *out_len, minik_error_t **err);

#endif
