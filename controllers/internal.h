/* Shared internals of the controllers (not a public interface). */
#ifndef MINIK_CONTROLLERS_INTERNAL_H
#define MINIK_CONTROLLERS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "lib/strmap.h"
#include "controllers/controllers.h"
#include "controllers/nodecache.h"
#include "controllers/podindex.h"
#include "controllers/workqueue.h"

#define MINIK_LABEL_TEMPLATE_HASH  "pod-template-hash"
#define MINIK_LABEL_REVISION_HASH  "controller-revision-hash"
#define MINIK_ANN_REVISION         "deployment.kubernetes.io/revision"
#define MINIK_ANN_RESTARTED_AT     "kubectl.kubernetes.io/restartedAt"
#define MINIK_ANN_REVISION_HISTORY "deployment.kubernetes.io/revision-history"

typedef struct node_state node_state_t;

struct minik_nodes {
    minik_controllers_t *ctl;
    node_state_t *head;
    minik_strmap_t by_name; /* name -> node_state_t: a heartbeat is O(1), not O(nodes) */
    uint64_t grace_ms;
};

struct minik_controllers {
    minik_store_t *store;
    uv_loop_t *loop;
    minik_controllers_opts_t opts;
    minik_wq_t *deploy_q, *rs_q, *ds_q, *job_q, *cj_q, *gc_q, *node_q, *ep_q;
    minik_store_watch_t *watch;
    minik_nodes_t nodes;
    minik_podindex_t pods;            /* pods by controlling owner, from the watch */
    minik_nodecache_t node_cache;     /* the Nodes, from the watch */
    minik_strmap_t ds_keys;           /* "ns/name" of every DaemonSet (values unused) */
    minik_strmap_t selector_services; /* ns -> set of names of Services with a selector */
    /* "kind/ns/name/uid" of owners the garbage collector found to exist (gc.c): forgotten
     * when such an object is deleted, so each owner is read once, not once per dependent. */
    minik_strmap_t gc_owners;
    uv_timer_t node_timer;
    bool started, freeing, timer_closed;
    unsigned pending_writes;
    minik_controllers_stats_t stats;
};

/* ---- writes (controllers.c) ----------------------------------------------------------- */

/* Submit a write for the key `key` of queue `q`: the key is held until the write is
 * acknowledged; a 409 requeues it with backoff. Takes ownership of `obj`. */
void minik_ctl_write(minik_controllers_t *c, minik_wq_t *q, const char *key, minik_store_op_t op,
                     cJSON *obj);
/* Write `upd` (taken) as an update of `orig` only if it differs: status is written only
 * when it changed, so a quiet cluster writes nothing. */
void minik_ctl_update_if_changed(minik_controllers_t *c, minik_wq_t *q, const char *key,
                                 const cJSON *orig, cJSON *upd);
/* Delete (kind, ns, name), optionally only at resourceVersion `rv` (may be NULL). */
void minik_ctl_delete(minik_controllers_t *c, minik_wq_t *q, const char *key, const char *kind,
                      const char *ns, const char *name, const char *rv);

/* ---- JSON and object helpers (util.c) -------------------------------------------------- */

const cJSON *minik_ctl_get(const cJSON *obj, const char *path); /* "spec.template.spec" */
const char *minik_ctl_str(const cJSON *obj, const char *path);
int64_t minik_ctl_int(const cJSON *obj, const char *path, int64_t dflt);
cJSON *minik_ctl_obj(cJSON *obj, const char *key); /* get or add an object member */
void minik_ctl_set_str(cJSON *obj, const char *key, const char *v);
void minik_ctl_set_int(cJSON *obj, const char *key, int64_t v);

char *minik_ctl_key(const char *ns, const char *name);
/* Split "ns/name" into two new strings. */
void minik_ctl_split_key(const char *key, char **ns, char **name);

/* The ownerReference with controller=true, or NULL. */
const cJSON *minik_ctl_controller_ref(const cJSON *obj);
bool minik_ctl_owned_by(const cJSON *obj, const char *uid);
/* An ownerReference to `owner` (controller=true, blockOwnerDeletion=true). */
cJSON *minik_ctl_owner_ref(const cJSON *owner);
/* Store list of `kind` in `ns` controlled by the object with `uid`. NULL on error (logged). */
cJSON *minik_ctl_list_owned(minik_controllers_t *c, const char *kind, const char *ns,
                            const char *uid);

/* Adopt orphans of `kind` that owner's selector matches (as Kubernetes' controller ref
 * manager does: a Deployment re-created after an Orphan delete takes its ReplicaSets back
 * instead of creating new pods). Returns how many adoption writes were submitted. */
int minik_ctl_adopt(minik_controllers_t *c, minik_wq_t *q, const char *key, const cJSON *owner,
                    const char *kind);

bool minik_ctl_terminating(const cJSON *obj);
bool minik_ctl_pod_active(const cJSON *pod); /* not terminating, not Succeeded/Failed */
bool minik_ctl_pod_ready(const cJSON *pod);
/* Ready for at least min_ready seconds at wall time `now`; if ready but not for long
 * enough, *wait_s (may be NULL) gets the seconds left (>= 1). */
bool minik_ctl_pod_available(const cJSON *pod, int64_t min_ready, time_t now, int64_t *wait_s);

/* A new Pod from a template, in `ns`, named prefix-xxxxx, owned by `owner`. */
cJSON *minik_ctl_pod_from_template(const cJSON *tmpl, const char *ns, const char *prefix,
                                   const cJSON *owner);
char *minik_ctl_random_suffix(void);

time_t minik_ctl_now(void);
char *minik_ctl_format_time(time_t t);
/* 0 if absent or malformed. */
time_t minik_ctl_parse_time(const char *s);

/* Set condition `type` in status.conditions; lastTransitionTime changes only when the
 * status does. Returns true if anything changed. */
bool minik_ctl_set_condition(cJSON *status, const char *type, const char *cstatus,
                             const char *reason, const char *message, time_t now, bool update_time);
const cJSON *minik_ctl_condition(const cJSON *obj, const char *type);

/* Kubernetes' intstr.GetScaledValueFromIntOrPercent: ints as is, "N%" of total rounded
 * up or down. `v` NULL gives dflt_pct percent. */
int64_t minik_ctl_scaled(const cJSON *v, int64_t total, bool round_up, int64_t dflt_pct);

/* ---- the controllers ------------------------------------------------------------------ */

void minik_deployment_sync(const char *key, void *ud);
void minik_replicaset_sync(const char *key, void *ud);
void minik_daemonset_sync(const char *key, void *ud);
void minik_job_sync(const char *key, void *ud);
void minik_cronjob_sync(const char *key, void *ud);
void minik_gc_sync(const char *key, void *ud);
void minik_gc_owner_deleted(minik_controllers_t *c, const cJSON *owner);
void minik_gc_observe(minik_controllers_t *c, const cJSON *obj);
void minik_node_sync(const char *key, void *ud);
/* endpoints_sync.c: keys are Services; a pod event queues its namespace's Services. */
void minik_endpoints_sync(const char *key, void *ud);
void minik_endpoints_pod_changed(minik_controllers_t *c, const cJSON *pod);
/* Keep the set of Services with a selector per namespace (from the feed and the start-up
 * list) that a pod event queues. */
void minik_endpoints_service_observe(minik_controllers_t *c, minik_store_event_type_t type,
                                     const cJSON *svc);
void minik_endpoints_services_clear(minik_controllers_t *c);
void minik_nodes_observe(minik_controllers_t *c, minik_store_event_type_t type, const cJSON *node);
void minik_nodes_clear(minik_nodes_t *nodes);
void minik_nodes_arm(minik_controllers_t *c);

/* ---- pod-template hash (hash.c) -------------------------------------------------------- */

/* A stable hash of a pod template (keys sorted, the pod-template-hash label ignored),
 * encoded like Kubernetes' rand.SafeEncodeString. The caller frees it. */
char *minik_ctl_template_hash(const cJSON *tmpl);
/* Is `a` the same template as `b`, ignoring the pod-template-hash label? */
bool minik_ctl_template_equal(const cJSON *a, const cJSON *b);

#endif
