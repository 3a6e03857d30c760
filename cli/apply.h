/* The server side of `minik apply` (and what `minik diff` previews): per object, fetch the
 * live version, compute the three-way merge patch (proto/client_apply.h), then create,
 * patch, or do nothing. */
#ifndef MINIK_CLI_APPLY_H
#define MINIK_CLI_APPLY_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "cli/targets.h"
#include "lib/error.h"
#include "proto/client.h"

typedef enum minik_dry_run {
    MINIK_DRY_RUN_NONE = 0,
    MINIK_DRY_RUN_CLIENT, /* compute and print; send nothing */
    MINIK_DRY_RUN_SERVER, /* send with ?dryRun=All: the server validates, stores nothing */
} minik_dry_run_t;

/* What applying one object would do. */
typedef struct minik_apply_plan {
    cJSON *live;     /* the object on the server, NULL when it does not exist */
    cJSON *modified; /* the manifest with its last-applied annotation */
    cJSON *patch;    /* three-way merge patch ({} = unchanged); NULL when live is NULL */
} minik_apply_plan_t;

/* Live objects fetched in bulk: for each kind and namespace with at least
 * MINIK_APPLY_LIST_THRESHOLD objects in the manifest, one LIST replaces one GET per object
 * (a 100-document manifest costs 2 round trips to read instead of 101). */
#define MINIK_APPLY_LIST_THRESHOLD 8
typedef struct minik_apply_cache minik_apply_cache_t;

/* Build the cache for objs (namespaces resolved). */
int minik_apply_cache_new(minik_client_t *c, const minik_target_list_t *objs,
                          minik_apply_cache_t **out, minik_error_t **err);
void minik_apply_cache_free(minik_apply_cache_t *cache);

/* What apply and diff do before their first object: connect with the client flags, give objs
 * without a namespace the one -n or the kubeconfig names (refusing a manifest namespace that
 * differs from an explicit -n), then build the cache. On failure the caller still owns what
 * *client and *cache hold (NULL or set) and frees them as usual. */
int minik_apply_prepare(minik_target_list_t *objs, minik_client_t **client,
                        minik_apply_cache_t **cache, minik_error_t **err);

/* Fetch the live object of r (namespace resolved; from cache when it covers r's kind and
 * namespace, cache may be NULL) and compute the plan. */
int minik_apply_plan(minik_client_t *c, const minik_apply_cache_t *cache, const minik_target_t *r,
                     minik_apply_plan_t *plan, minik_error_t **err);
void minik_apply_plan_clear(minik_apply_plan_t *plan);

/* Apply r. warn_unknown asks the server to accept unknown fields with a warning
 * (fieldValidation=Warn, for --validate=warn) instead of refusing them. *verb receives
 * "created", "configured" or "unchanged"; *result (may be NULL) the object as the server
 * returned it (or would have: the local prediction under client dry run). */
int minik_apply_one(minik_client_t *c, const minik_apply_cache_t *cache, const minik_target_t *r,
                    minik_dry_run_t dry_run, bool warn_unknown, const char **verb, cJSON **result,
                    minik_error_t **err);

#endif
