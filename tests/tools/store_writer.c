/* Crash-test companion for the store (tests/e2e/store_durability.bats).
 *
 *   store_writer write DB sync|async [MAX]   create ConfigMaps as fast as possible and
 *        print the name of each one as soon as the store acknowledged it (one write(2) per
 *        line, so a kill -9 never leaves an acknowledged name unprinted). async keeps 100
 *        writes in flight through the group-committed API. Stops after MAX (default: never).
 *   store_writer check DB NAMES              open DB as the server would (integrity check)
 *        and verify that every name listed in the file NAMES exists; exit 1 otherwise.
 *   store_writer hold DB                     open DB for writing, print "ready", and keep it
 *        open until SIGTERM/SIGINT (a stand-in for a running server).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "store/store.h"

#define IN_FLIGHT 100

static minik_store_t *store;
static uv_loop_t loop;
static long long next_id, max_ops = -1, acked;
static int in_flight;
static bool failed;

static void say(const char *line)
{
    size_t len = strlen(line);
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, line, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            exit(3); /* stdout gone: the test stopped listening */
        line += n;
        len -= (size_t)n;
    }
}

static cJSON *next_object(const char *mode)
{
    char name[96];
    snprintf(name, sizeof name, "%s-%d-%lld", mode, (int)getpid(), next_id++);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "apiVersion", "v1");
    cJSON_AddStringToObject(o, "kind", "ConfigMap");
    cJSON *m = cJSON_AddObjectToObject(o, "metadata");
    cJSON_AddStringToObject(m, "name", name);
    cJSON_AddStringToObject(m, "namespace", "default");
    cJSON *d = cJSON_AddObjectToObject(o, "data");
    cJSON_AddStringToObject(d, "app.properties",
                            "color=blue\nreplicas=3\nlog.level=info\nfeature.flags=a,b,c\n");
    return o;
}

static void print_acked(const cJSON *obj)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(m, "name");
    cleanup_free char *line = xasprintf("%s\n", n->valuestring);
    say(line);
    acked++;
}

static int run_sync(void)
{
    while (max_ops < 0 || next_id < max_ops) {
        cleanup_cjson cJSON *o = next_object("s");
        cleanup_cjson cJSON *out = NULL;
        cleanup_error minik_error_t *err = NULL;
        if (minik_store_create(store, o, &out, &err) < 0) {
            fprintf(stderr, "store_writer: create: %s\n", err->msg);
            return 1;
        }
        print_acked(out);
    }
    return 0;
}

static void submit_one(void);

static void on_closed(void *ud)
{
}

static void on_done(int status, cJSON *result, minik_error_t *err, void *ud)
{
    in_flight--;
    if (status < 0) {
        fprintf(stderr, "store_writer: async create: %s\n", err->msg);
        failed = true;
    } else {
        print_acked(result);
    }
    cJSON_Delete(result);
    minik_error_free(err);
    if (!failed && (max_ops < 0 || next_id < max_ops))
        submit_one();
    else if (in_flight == 0)
        minik_store_close_async(store, on_closed, NULL);
}

static void submit_one(void)
{
    in_flight++;
    minik_store_submit(store, MINIK_STORE_OP_CREATE, next_object("a"), on_done, NULL);
}

static int run_async(void)
{
    cleanup_error minik_error_t *err = NULL;
    if (minik_store_attach_loop(store, &loop, &err) < 0) {
        fprintf(stderr, "store_writer: %s\n", err->msg);
        return 1;
    }
    for (int i = 0; i < IN_FLIGHT && (max_ops < 0 || next_id < max_ops); i++)
        submit_one();
    if (in_flight == 0)
        minik_store_close_async(store, on_closed, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    return failed ? 1 : 0;
}

static int run_check(const char *names_path)
{
    cleanup_fclose FILE *f = fopen(names_path, "r");
    if (f == NULL) {
        fprintf(stderr, "store_writer: open %s: %s\n", names_path, strerror(errno));
        return 1;
    }
    char line[256];
    long long present = 0, missing = 0;
    while (fgets(line, sizeof line, f)) {
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n')
            continue; /* a line cut by the kill was never a complete acknowledgement */
        line[len - 1] = '\0';
        cleanup_cjson cJSON *obj = NULL;
        cleanup_error minik_error_t *err = NULL;
        if (minik_store_get(store, "ConfigMap", "default", line, &obj, &err) < 0) {
            printf("missing: %s (%s)\n", line, err->msg);
            missing++;
        } else {
            present++;
        }
    }
    printf("acknowledged %lld, present %lld, missing %lld, resourceVersion %" PRId64 "\n",
           present + missing, present, missing, minik_store_current_rv(store));
    return missing == 0 ? 0 : 1;
}

static void ignore_event(const minik_store_event_t *ev, void *ud)
{
}

static void on_signal(uv_signal_t *h, int signum)
{
    uv_close((uv_handle_t *)h, NULL);
}

static int run_hold(void)
{
    /* Configured as a server would be: loop attached, one watch registered. */
    cleanup_error minik_error_t *err = NULL;
    minik_store_watch_t *w = NULL;
    if (minik_store_attach_loop(store, &loop, &err) < 0 ||
        minik_store_watch(store, NULL, NULL, NULL, NULL, 0, ignore_event, NULL, &w, &err) < 0) {
        fprintf(stderr, "store_writer: %s\n", err->msg);
        return 1;
    }
    uv_signal_t term, intr;
    uv_signal_init(&loop, &term);
    uv_signal_init(&loop, &intr);
    uv_signal_start_oneshot(&term, on_signal, SIGTERM);
    uv_signal_start_oneshot(&intr, on_signal, SIGINT);
    say("ready\n");
    /* Runs until one signal arrives; then drop the other handle and finish. */
    while (uv_run(&loop, UV_RUN_ONCE) && uv_is_active((uv_handle_t *)&term) &&
           uv_is_active((uv_handle_t *)&intr))
        ;
    if (!uv_is_closing((uv_handle_t *)&term))
        uv_close((uv_handle_t *)&term, NULL);
    if (!uv_is_closing((uv_handle_t *)&intr))
        uv_close((uv_handle_t *)&intr, NULL);
    minik_store_unwatch(w);
    minik_store_close_async(store, on_closed, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: store_writer write DB sync|async [MAX] | check DB NAMES | "
                        "hold DB\n");
        return 2;
    }
    const char *cmd = argv[1], *db = argv[2];
    uv_loop_init(&loop);
    cleanup_error minik_error_t *err = NULL;
    if (minik_store_open(db, NULL, &store, &err) < 0) {
        fprintf(stderr, "store_writer: %s\n", err->msg);
        return 1;
    }
    int rc = 2;
    if (strcmp(cmd, "write") == 0 && argc >= 4) {
        if (argc >= 5)
            max_ops = atoll(argv[4]);
        if (strcmp(argv[3], "sync") == 0)
            rc = run_sync();
        else if (strcmp(argv[3], "async") == 0)
            rc = run_async();
    } else if (strcmp(cmd, "check") == 0 && argc == 4) {
        rc = run_check(argv[3]);
    } else if (strcmp(cmd, "hold") == 0) {
        rc = run_hold();
    }
    if (rc == 2)
        fprintf(stderr, "store_writer: bad arguments\n");
    minik_store_free(store);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return rc;
}
