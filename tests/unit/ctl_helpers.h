/* Test fixture for the controllers' unit tests: a real store in a temp dir, a real libuv
 * loop, the controllers started on it, and a "hollow kubelet" (what kubemark's hollow
 * node does): a store watch that binds unscheduled pods to up nodes round-robin and
 * writes the pod status a test asks for (Running+Ready, Running not ready, Succeeded,
 * Failed). It also keeps a table of every pod it saw, for invariant checks. */
#ifndef MINIK_TESTS_CTL_HELPERS_H
#define MINIK_TESTS_CTL_HELPERS_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "controllers/controllers.h"
#include "store/store.h"

typedef enum { HK_READY, HK_NOT_READY, HK_SUCCEED, HK_FAIL, HK_IGNORE } hk_mode_t;

#define CF_MAX_PODS  2048
#define CF_MAX_NODES 8

typedef struct cf_pod {
    char name[96];
    char hash[32]; /* pod-template-hash or controller-revision-hash label */
    char node[64];
    bool exists, active, ready;
} cf_pod_t;

typedef struct ctl_fix ctl_fix_t;
typedef void (*cf_pod_hook)(ctl_fix_t *f, void *ud);

struct ctl_fix {
    char *dir;
    uv_loop_t loop;
    minik_store_t *store;
    minik_controllers_t *ctl;
    minik_store_watch_t *watch;
    hk_mode_t mode;
    bool bind;
    const char *nodes[CF_MAX_NODES];
    bool node_down[CF_MAX_NODES];
    int n_nodes, rr;
    cf_pod_t pods[CF_MAX_PODS];
    int n_pods;
    int pods_created; /* ADDED events seen */
    cf_pod_hook hook; /* called after every pod event */
    void *hook_ud;
    unsigned hk_pending;
};

ctl_fix_t *cf_new(const minik_controllers_opts_t *opts);
void cf_free(ctl_fix_t *f);

/* Run the loop until pred(f, ud) holds (true) or timeout_ms passes (false). */
bool cf_run_until(ctl_fix_t *f, bool (*pred)(ctl_fix_t *f, void *ud), void *ud,
                  uint64_t timeout_ms);
/* Run the loop for ms milliseconds. */
void cf_run_for(ctl_fix_t *f, uint64_t ms);

void cf_add_node(ctl_fix_t *f, const char *name, const char *label_kv, const char *taint_key);
/* Store helpers (synchronous; the loop delivers the events). */
void cf_create(ctl_fix_t *f, cJSON *obj); /* takes ownership */
/* Update, carrying spec and metadata over to the latest version on a 409 (the status of
 * the latest version is kept). Takes ownership. */
void cf_update(ctl_fix_t *f, cJSON *obj);
/* One attempt: 0, or the error's HTTP-style code. Takes ownership. */
int cf_try_update(ctl_fix_t *f, cJSON *obj);
int cf_delete(ctl_fix_t *f, const char *kind, const char *ns, const char *name);
cJSON *cf_get(ctl_fix_t *f, const char *kind, const char *ns, const char *name); /* NULL if none */
cJSON *cf_list(ctl_fix_t *f, const char *kind, const char *ns);
int cf_count(ctl_fix_t *f, const char *kind, const char *ns);

/* Pods in the table: active (not finished, not deleted), ready, with hash (NULL = any). */
int cf_active(const ctl_fix_t *f, const char *hash);
int cf_ready(const ctl_fix_t *f, const char *hash);

/* Builders. */
cJSON *cf_deployment(const char *name, int replicas, const char *image);
cJSON *cf_job(const char *name, int completions, int parallelism, int backoff);
cJSON *cf_daemonset(const char *name, const char *image);
int64_t cf_int(const cJSON *obj, const char *path, int64_t dflt);
const char *cf_str(const cJSON *obj, const char *path);
const char *cf_cond(const cJSON *obj, const char *type, const char *field);

#endif
