/* Hollow nodes (kubemark): pods "run" without containers, and a test can silence one node.
 *
 * A hollow container runs for ever, unless its command line ends in `exit N` (as in
 * `sh -c "exit 3"`): then it terminates at once with that code, so Jobs complete or fail
 * through the same status a real agent writes. A node whose name appears as a file in the
 * control directory (--hollow-control DIR) goes silent as if its network went away: no
 * heartbeats, no pod watch, no status writes; removing the file brings it back, and it
 * lists its pods again, dropping those that were replaced meanwhile (fenced by UID). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/internal.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/xalloc.h"

static void put_str(char **dst, const char *v)
{
    free(*dst);
    *dst = v ? xstrdup(v) : NULL;
}

static const cJSON *spec_of(const cJSON *pod, const agent_ctr_t *c)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    const cJSON *it;
    cJSON_ArrayForEach(
        it, cJSON_GetObjectItemCaseSensitive(spec, c->init ? "initContainers" : "containers"))
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, c->name) == 0)
            return it;
    }
    return NULL;
}

int minik_agent_hollow_exit_code(const cJSON *cspec)
{
    minik_buf_t line = MINIK_BUF_INIT;
    static const char *const parts[] = {"command", "args"};
    for (size_t k = 0; k < 2; k++) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(cspec, parts[k]))
        {
            if (cJSON_IsString(it))
                minik_buf_appendf(&line, " %s", it->valuestring);
        }
    }
    cleanup_free char *s = minik_buf_steal(&line);
    if (!s)
        return -1;
    /* The last two words must be "exit" and a number (0..255). */
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    size_t d = n;
    while (d > 0 && isdigit((unsigned char)s[d - 1]))
        d--;
    if (d == n || n - d > 3)
        return -1;
    size_t e = d;
    if (e == 0 || !isspace((unsigned char)s[e - 1]))
        return -1;
    while (e > 0 && isspace((unsigned char)s[e - 1]))
        e--;
    if (e < 4 || strncmp(s + e - 4, "exit", 4) != 0)
        return -1;
    if (e > 4 && !isspace((unsigned char)s[e - 5]) && s[e - 5] != ';' && s[e - 5] != '&' &&
        s[e - 5] != '|' && s[e - 5] != '\'' && s[e - 5] != '"')
        return -1;
    int code = atoi(s + d);
    return code > 255 ? -1 : code;
}

void minik_agent_hollow_reconcile(agent_pod_t *p, const cJSON *pod)
{
    if (p->deleted || !pod) {
        p->gone = true;
        return;
    }
    if (!p->start_time)
        p->start_time = minik_agent_now_rfc3339();
    const char *policy = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(pod, "spec"), "restartPolicy"));
    for (size_t i = 0; i < p->n_ctrs; i++) {
        agent_ctr_t *c = &p->ctrs[i];
        int code = minik_agent_hollow_exit_code(spec_of(pod, c));
        if (c->init && code < 0)
            code = 0; /* an init container without `exit N` succeeds */
        if (!c->id) {
            c->id = xasprintf("hollow-%s-%s", p->uid, c->name);
            c->pid = 1;
            c->started_at = minik_agent_now_rfc3339();
        }
        if (code < 0) {
            c->started = c->ready = true;
            continue;
        }
        if (c->has_last)
            continue; /* its one exit is recorded */
        c->pid = 0;
        c->ready = false;
        c->has_last = true;
        c->last_exit = code;
        put_str(&c->last_reason, code == 0 ? "Completed" : "Error");
        put_str(&c->last_started, c->started_at);
        char *now = minik_agent_now_rfc3339();
        put_str(&c->last_finished, now);
        free(now);
        if (!c->init && minik_agent_should_restart(policy, code)) {
            /* A real agent would restart it after a back-off; a hollow one shows the
             * crash loop once and leaves it there. */
            c->restarts = 1;
            put_str(&c->wait_reason, "CrashLoopBackOff");
            put_str(&c->wait_message,
                    "hollow container exits at once (its command ends in exit N)");
        } else {
            c->done = true;
        }
    }
    p->status_out = minik_agent_pod_status(p, pod, p->agent->node_ip);
}

bool minik_agent_hollow_silenced(struct minik_agent *a)
{
    if (!a->hollow_control)
        return false;
    cleanup_free char *path = xasprintf("%s/%s", a->hollow_control, a->node_name);
    bool down = access(path, F_OK) == 0;
    if (down && !a->silenced) {
        a->silenced = true;
        minik_log_info("hollow node silenced: no heartbeats, no watch", "node", a->node_name, NULL);
        uv_timer_stop(&a->retry_timer);
        if (a->watch)
            minik_client_uv_watch_cancel(a->watch);
    } else if (!down && a->silenced && !a->watch) {
        /* Back: list again (pods replaced meanwhile are gone from the list, so they are
         * dropped), then watch from there. A cancelled watch that has not ended yet keeps
         * the node silent one more tick. */
        a->silenced = false;
        minik_log_info("hollow node back: listing its pods again", "node", a->node_name, NULL);
        for (agent_pod_t *p = a->pods; p; p = p->next) {
            free(p->status_sent);
            p->status_sent = NULL;
        }
        free(a->pods_rv);
        a->pods_rv = NULL;
        minik_agent_pods_list(a);
    }
    return a->silenced;
}
