/* Rollout helpers shared by `minik rollout` and the tests: pure functions over a
 * Deployment and its ReplicaSets, with the texts kubectl prints. */
#ifndef MINIK_CONTROLLERS_ROLLOUT_H
#define MINIK_CONTROLLERS_ROLLOUT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "lib/error.h"

/* The ReplicaSets of `rs_list` (an array of ReplicaSets, any owner) that `deploy` controls,
 * sorted by revision, oldest first: a new array of copies. */
cJSON *minik_rollout_owned_sorted(const cJSON *deploy, const cJSON *rs_list);

/* A copy of `deploy` whose spec.template is that of revision `to_revision` (0 = the one
 * before the current), without its pod-template-hash label: what `rollout undo` writes.
 * 404-coded error if the revision is not in the history; *skipped is set (and *out is
 * NULL) when the template is already that revision's. */
int minik_rollout_undo(const cJSON *deploy, const cJSON *rs_list, int64_t to_revision, cJSON **out,
                       bool *skipped, minik_error_t **err);

/* A copy of `deploy` with the template annotation kubectl.kubernetes.io/restartedAt set to
 * `now`: every pod is replaced by a rolling update. */
cJSON *minik_rollout_restart(const cJSON *deploy, time_t now);

/* kubectl's rollout status: *msg (caller frees) is the line to print; returns 1 when the
 * rollout is complete, 0 while it goes on, -1 when it failed (progress deadline). */
int minik_rollout_status(const cJSON *deploy, char **msg);

#endif
