/* minik rollout status|history|undo|restart: kubectl's rollout verbs for Deployments,
 * over the API (the rollout logic itself is in controllers/rollout.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/client_config.h"
#include "cli/commands.h"
#include "cli/printers.h"
#include "cli/targets.h"
#include "controllers/rollout.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"

static const char *to_revision;
static const char *timeout = "0s";
static bool no_watch;

static const minik_cli_flag_t flags[] = {
    {"to-revision", 0, MINIK_FLAG_STRING, &to_revision, "N",
     "undo: the revision to roll back to (default: the previous one)"},
    {"timeout", 0, MINIK_FLAG_STRING, &timeout, "DURATION",
     "status: give up after this long (default 0s: wait for ever)"},
    {"no-watch", 0, MINIK_FLAG_BOOL, &no_watch, NULL,
     "status: print the current status once and exit (0 if rolled out, 1 otherwise)"},
    MINIK_CLIENT_FLAG_ROWS,
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik rollout (status|history|undo|restart|pause|resume) (deploy/NAME | deploy "
             "NAME) [flags]",
    .summary = "Manage the rollout of a Deployment",
    .description =
        "status   wait until the rollout finishes (exit 1 if its progress deadline passes)\n"
        "history  list the revisions (ReplicaSets) kept for the Deployment\n"
        "undo     roll back to the previous revision, or --to-revision N\n"
        "restart  replace every pod (sets the kubectl.kubernetes.io/restartedAt template "
        "annotation)\n"
        "pause    stop rolling out template changes (scaling still applies)\n"
        "resume   roll out again\n"
        "Example:\n  minik rollout undo deploy/web --to-revision=2",
    .flags = flags,
    .min_args = 2,
    .max_args = 3,
};

typedef struct status_watch {
    char *last;
    int result; /* 1 done, -1 failed, 0 not yet */
} status_watch_t;

static int show_status(const cJSON *d, status_watch_t *w)
{
    char *msg = NULL;
    int r = minik_rollout_status(d, &msg);
    if (!w->last || strcmp(w->last, msg) != 0) {
        if (r < 0)
            fprintf(stderr, "error: %s\n", msg);
        else
            printf("%s\n", msg);
        fflush(stdout);
        free(w->last);
        w->last = msg;
    } else {
        free(msg);
    }
    w->result = r;
    return r;
}

static int on_event(const char *type, const cJSON *obj, void *ud)
{
    status_watch_t *w = ud;
    if (strcmp(type, "DELETED") == 0) {
        fprintf(stderr, "error: the deployment was deleted\n");
        w->result = -1;
        return 1;
    }
    if (strcmp(type, "ADDED") != 0 && strcmp(type, "MODIFIED") != 0)
        return 0;
    return show_status(obj, w) != 0 ? 1 : 0;
}

/* Read the Deployment t names: *path is its URL path (for the PUT back), *d the object with the
 * resourceVersion read, so a concurrent change gets 409. The caller frees both. */
static int get_deployment(minik_client_t *c, const minik_target_t *t, char **path, cJSON **d,
                          minik_error_t **err)
{
    *path =
        minik_client_path(t->kind->api_version, t->kind->plural, true, t->ns, t->name, NULL, NULL);
    return minik_client_json(c, "GET", *path, NULL, NULL, d, err);
}

static int do_status(minik_client_t *c, const minik_target_t *t, minik_error_t **err)
{
    cleanup_free char *path = NULL;
    cleanup_cjson cJSON *d = NULL;
    if (get_deployment(c, t, &path, &d, err) < 0)
        return -1;
    status_watch_t w = {0};
    int r = show_status(d, &w);
    if (r != 0 || no_watch) {
        free(w.last);
        return r > 0 ? MINIK_EXIT_OK : MINIK_EXIT_ERROR;
    }
    int64_t ms = 0;
    if (minik_str_to_duration_ms(timeout, &ms, "--timeout", err) < 0) {
        free(w.last);
        return -1;
    }
    minik_client_set_watch_timeout(c, (long)ms);
    /* Watch the one object from the version just read: the server pushes each change. */
    cleanup_free char *name_q = minik_client_escape(t->name);
    cleanup_free char *query =
        xasprintf("watch=1&fieldSelector=metadata.name%%3D%s&resourceVersion=%s", name_q,
                  cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                      cJSON_GetObjectItemCaseSensitive(d, "metadata"), "resourceVersion")));
    cleanup_free char *wpath =
        minik_client_path(t->kind->api_version, t->kind->plural, true, t->ns, NULL, NULL, query);
    if (minik_client_watch(c, wpath, on_event, &w, err) < 0) {
        free(w.last);
        return -1;
    }
    free(w.last);
    if (w.result == 0) {
        fprintf(stderr, "error: timed out waiting for the condition\n");
        return MINIK_EXIT_ERROR;
    }
    return w.result > 0 ? MINIK_EXIT_OK : MINIK_EXIT_ERROR;
}

static cJSON *list_rs(minik_client_t *c, const char *ns, minik_error_t **err)
{
    cleanup_free char *path =
        minik_client_path("apps/v1", "replicasets", true, ns, NULL, NULL, NULL);
    cJSON *list = NULL;
    if (minik_client_json(c, "GET", path, NULL, NULL, &list, err) < 0)
        return NULL;
    cJSON *items = cJSON_DetachItemFromObjectCaseSensitive(list, "items");
    cJSON_Delete(list);
    return items ? items : cJSON_CreateArray();
}

static int do_history(minik_client_t *c, const minik_target_t *t, const char *ref,
                      minik_error_t **err)
{
    cleanup_free char *path = NULL;
    cleanup_cjson cJSON *d = NULL;
    if (get_deployment(c, t, &path, &d, err) < 0)
        return -1;
    cleanup_cjson cJSON *rss = list_rs(c, t->ns, err);
    if (!rss)
        return -1;
    cleanup_cjson cJSON *owned = minik_rollout_owned_sorted(d, rss);
    printf("%s\nREVISION  CHANGE-CAUSE\n", ref);
    const cJSON *rs;
    cJSON_ArrayForEach(rs, owned)
    {
        const cJSON *ann = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(rs, "metadata"), "annotations");
        const char *rev = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(ann, "deployment.kubernetes.io/revision"));
        const char *cause = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(ann, "kubernetes.io/change-cause"));
        printf("%-9s %s\n", rev ? rev : "?", cause ? cause : "<none>");
    }
    printf("\n");
    return MINIK_EXIT_OK;
}

static int do_undo(minik_client_t *c, const minik_target_t *t, const char *ref, minik_error_t **err)
{
    int64_t rev = 0;
    if (to_revision && minik_str_to_i64(to_revision, 0, INT64_MAX, &rev, "--to-revision", err) < 0)
        return -1;
    cleanup_free char *path = NULL;
    cleanup_cjson cJSON *d = NULL;
    if (get_deployment(c, t, &path, &d, err) < 0)
        return -1;
    cleanup_cjson cJSON *rss = list_rs(c, t->ns, err);
    if (!rss)
        return -1;
    cleanup_cjson cJSON *nd = NULL;
    bool skipped = false;
    if (minik_rollout_undo(d, rss, rev, &nd, &skipped, err) < 0)
        return -1;
    if (skipped) {
        printf("%s skipped rollback (current template already matches revision %" PRId64 ")\n", ref,
               rev);
        return MINIK_EXIT_OK;
    }
    /* The read resourceVersion stays in nd: a concurrent change gets 409, not lost. */
    if (minik_client_json(c, "PUT", path, NULL, nd, NULL, err) < 0)
        return -1;
    printf("%s rolled back\n", ref);
    return MINIK_EXIT_OK;
}

static int do_restart(minik_client_t *c, const minik_target_t *t, const char *ref,
                      minik_error_t **err)
{
    cleanup_free char *path = NULL;
    cleanup_cjson cJSON *d = NULL;
    if (get_deployment(c, t, &path, &d, err) < 0)
        return -1;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(d, "spec"),
                                                      "paused"))) {
        return minik_error_set(
            err, 0, "%s: can't restart paused deployment (run rollout resume first)", ref);
    }
    cleanup_cjson cJSON *nd = minik_rollout_restart(d, time(NULL));
    if (minik_client_json(c, "PUT", path, NULL, nd, NULL, err) < 0)
        return -1;
    printf("%s restarted\n", ref);
    return MINIK_EXIT_OK;
}

static int do_pause(minik_client_t *c, const minik_target_t *t, const char *ref, bool pause,
                    minik_error_t **err)
{
    cleanup_free char *path = NULL;
    cleanup_cjson cJSON *d = NULL;
    if (get_deployment(c, t, &path, &d, err) < 0)
        return -1;
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(d, "spec");
    if (!cJSON_IsObject(spec))
        return minik_error_set(err, 0, "%s: the object has no spec", ref);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "paused")) == pause) {
        fprintf(stderr, "error: %s is %s\n", ref, pause ? "already paused" : "not paused");
        return MINIK_EXIT_ERROR;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "paused");
    if (pause)
        cJSON_AddBoolToObject(spec, "paused", 1);
    if (minik_client_json(c, "PUT", path, NULL, d, NULL, err) < 0)
        return -1;
    printf("%s %s\n", ref, pause ? "paused" : "resumed");
    return MINIK_EXIT_OK;
}

int minik_cmd_rollout(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    const char *sub = argv[first];
    static const char *const subs[] = {"status", "history", "undo", "restart",
                                       "pause",  "resume",  NULL};
    bool known = false;
    for (size_t i = 0; subs[i]; i++)
        known = known || strcmp(sub, subs[i]) == 0;
    if (!known)
        return minik_cli_usage_error(&spec,
                                     "unknown rollout command \"%s\" (want status, history, "
                                     "undo, restart, pause or resume)",
                                     sub);
    cleanup_error minik_error_t *err = NULL;
    minik_target_list_t targets = {0};
    if (minik_targets_from_args(argv + first + 1, argc - first - 1, true, &targets, &err) < 0)
        return minik_cli_fail(err);
    if (targets.n != 1) {
        minik_target_list_clear(&targets);
        return minik_cli_usage_error(&spec, "expected one deployment");
    }
    cleanup_client minik_client_t *c = NULL;
    cleanup_free char *ns = NULL;
    if (minik_cli_client_open(&c, &ns, &err) < 0 ||
        minik_targets_resolve_namespaces(&targets, ns, false, &err) < 0) {
        minik_target_list_clear(&targets);
        return minik_cli_fail(err);
    }
    const minik_target_t *t = &targets.v[0];
    cleanup_free char *ref = minik_object_ref(t->kind, t->name);
    int rc;
    /* The controllers write the Deployment's status all the time: a read-modify-write that
     * meets a newer resourceVersion (409) reads again and retries, as kubectl does. */
    for (int attempt = 0;; attempt++) {
        if (strcmp(t->kind->kind, "Deployment") != 0) {
            fprintf(stderr, "error: %s: rollout supports Deployments only\n", ref);
            rc = MINIK_EXIT_ERROR;
        } else if (strcmp(sub, "status") == 0) {
            rc = do_status(c, t, &err);
        } else if (strcmp(sub, "history") == 0) {
            rc = do_history(c, t, ref, &err);
        } else if (strcmp(sub, "undo") == 0) {
            rc = do_undo(c, t, ref, &err);
        } else if (strcmp(sub, "pause") == 0 || strcmp(sub, "resume") == 0) {
            rc = do_pause(c, t, ref, strcmp(sub, "pause") == 0, &err);
        } else {
            rc = do_restart(c, t, ref, &err);
        }
        if (rc < 0 && err && err->code == 409 && attempt < 5) {
            minik_error_clear(&err);
            continue;
        }
        break;
    }
    minik_target_list_clear(&targets);
    if (rc < 0)
        return minik_cli_fail(err);
    return rc;
}
