/* The objects a client command acts on: from KIND NAME arguments or from manifests. */
#ifndef MINIK_CLI_TARGETS_H
#define MINIK_CLI_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "lib/error.h"
#include "proto/client.h"
#include "proto/kinds.h"

typedef struct minik_target {
    const minik_kind_t *kind;
    char *ns; /* NULL for cluster-scoped kinds (and until resolved) */
    char *name;
    cJSON *obj;  /* the manifest document (owned), NULL for KIND NAME arguments */
    char *where; /* "file.yaml:3" for messages, or NULL */
} minik_target_t;

typedef struct minik_target_list {
    minik_target_t *v;
    size_t n, cap;
} minik_target_list_t;

void minik_target_list_clear(minik_target_list_t *l);

/* "KIND NAME..." or "KIND/NAME..." (several KIND/NAME allowed). require_name: a bare KIND
 * is an error. */
int minik_targets_from_args(char **args, int nargs, bool require_name, minik_target_list_t *out,
                            minik_error_t **err);

/* Decode manifests (files, directories, "-"): every document must have a known
 * apiVersion/kind and a name. With validate, each document is also checked against its
 * kind's field table in `mode` (proto/validate.h values). Problems are printed to stderr with
 * their file:line:col, all of them; any error fails the call. */
int minik_targets_from_files(char *const *paths, bool validate, int mode, minik_target_list_t *out,
                             minik_error_t **err);

/* Give namespaced resources without a namespace `ns`, and set it in their objects. An object
 * whose own namespace differs from an explicitly given -n is an error, as in kubectl. */
int minik_targets_resolve_namespaces(minik_target_list_t *l, const char *ns, bool explicit_ns,
                                     minik_error_t **err);

/* Add every object of kind k in namespace ns (ignored for cluster-scoped kinds) that
 * matches the label selector (NULL: all) to out, as the server lists them. */
int minik_targets_from_list(minik_client_t *c, const minik_kind_t *k, const char *ns,
                            const char *selector, minik_target_list_t *out, minik_error_t **err);

/* Block until the object is gone (a watch on its name), at most timeout_ms. */
int minik_target_wait_deleted(minik_client_t *c, const minik_target_t *r, int64_t timeout_ms,
                              minik_error_t **err);

#endif
