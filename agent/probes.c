/* Liveness, readiness and startup probes with Kubernetes' timing: the first run after
 * initialDelaySeconds, then every periodSeconds; a probe flips after successThreshold
 * successes or failureThreshold failures in a row; each try is cut at timeoutSeconds.
 *
 * exec probes run the command through `minik nsexec`, exactly as `minik exec` does; httpGet and
 * tcpSocket connect from inside the pod's network namespace: setns() on a network namespace applies
 * to the calling thread only, so the pool thread enters it, makes its socket, and returns. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lazy_curl.h"

#include "agent/internal.h"
#include "agent/runtime/oci.h"
#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

static int num(const cJSON *o, const char *key, int def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valueint : def;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

void minik_agent_probes_reset(agent_ctr_t *c, const cJSON *cspec)
{
    memset(&c->liveness, 0, sizeof(c->liveness));
    memset(&c->readiness, 0, sizeof(c->readiness));
    memset(&c->startup, 0, sizeof(c->startup));
    c->started = !cJSON_GetObjectItemCaseSensitive(cspec, "startupProbe");
    c->ready = false;
}

int minik_agent_named_port(const cJSON *pod, const char *container, const char *name)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    static const char *const lists[] = {"containers", "initContainers"};
    for (int i = 0; i < 2; i++) {
        const cJSON *ctr;
        cJSON_ArrayForEach(ctr, cJSON_GetObjectItemCaseSensitive(spec, lists[i]))
        {
            if (!minik_str_eq(str(ctr, "name"), container))
                continue;
            const cJSON *port;
            cJSON_ArrayForEach(port, cJSON_GetObjectItemCaseSensitive(ctr, "ports"))
            {
                if (minik_str_eq(str(port, "name"), name))
                    return num(port, "containerPort", -1);
            }
        }
    }
    return -1;
}

/* Connect (and for httpGet, GET) from inside the pod's network namespace; a named port is
 * the container's port of that name, as the kubelet resolves it. */
static bool net_probe(struct minik_agent *a, agent_pod_t *p, agent_ctr_t *c, const cJSON *probe,
                      bool http, int timeout_s, char **why)
{
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(probe, http ? "httpGet" : "tcpSocket");
    const cJSON *pj = cJSON_GetObjectItemCaseSensitive(act, "port");
    int port = cJSON_IsString(pj) ? minik_agent_named_port(p->job_obj, c->name, pj->valuestring)
                                  : num(act, "port", -1);
    if (port <= 0 || port > 65535) {
        *why = cJSON_IsString(pj)
                   ? xasprintf("probe port \"%s\" names no port of container %s", pj->valuestring,
                               c->name)
                   : xstrdup("probe port must be 1-65535 or the name of a container port");
        return false;
    }
    const char *host = str(act, "host");
    cleanup_free char *netns = xasprintf("%s/%s/ns/net", a->pods_dir, p->uid);
    bool host_net = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(p->job_obj, "spec"), "hostNetwork"));
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int target = host_net ? -1 : open(netns, O_RDONLY | O_CLOEXEC);
    if (self < 0 || (!host_net && (target < 0 || setns(target, CLONE_NEWNET) < 0))) {
        *why = xasprintf("cannot enter the pod's network namespace: %s", strerror(errno));
        if (self >= 0)
            close(self);
        if (target >= 0)
            close(target);
        return false;
    }
    CURL *h = curl_easy_init();
    const char *path = http ? str(act, "path") : NULL;
    const char *scheme = http && minik_str_eq(str(act, "scheme"), "HTTPS") ? "https" : "http";
    cleanup_free char *url =
        http ? xasprintf("%s://%s:%d%s", scheme, host ? host : "127.0.0.1", port, path ? path : "/")
             : xasprintf("telnet://%s:%d", host ? host : "127.0.0.1", port);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_s * 1000);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L); /* kubelet does not verify either */
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    if (http) {
        curl_easy_setopt(h, CURLOPT_USERAGENT, "kube-probe/minik");
        curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, (curl_write_callback)NULL);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
        curl_easy_setopt(h, CURLOPT_MAXFILESIZE, 1L << 16);
    } else {
        curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
    }
    FILE *sink = http ? fopen("/dev/null", "we") : NULL;
    if (sink)
        curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    if (sink)
        fclose(sink);
    /* Back to the host's namespace before anything else runs on this thread. */
    if (!host_net && setns(self, CLONE_NEWNET) < 0)
        minik_log_error("probe thread could not return to the host network namespace", NULL);
    close(self);
    if (target >= 0)
        close(target);
    if (rc != CURLE_OK) {
        *why = xasprintf("%s: %s", url, curl_easy_strerror(rc));
        return false;
    }
    if (http && (status < 200 || status >= 400)) {
        *why = xasprintf("HTTP probe failed with statuscode: %ld", status);
        return false;
    }
    return true;
}

static bool run_one(struct minik_agent *a, agent_pod_t *p, agent_ctr_t *c, const cJSON *probe,
                    char **why)
{
    int timeout_s = num(probe, "timeoutSeconds", 1);
    if (timeout_s < 1)
        timeout_s = 1;
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(probe, "exec");
    if (ex) {
        const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(ex, "command");
        if (cJSON_GetArraySize(cmd) < 1) {
            *why = xstrdup("exec probe without a command");
            return false;
        }
        return minik_agent_exec_in_container(a, p, c, cmd, timeout_s, why) == 0;
    }
    if (cJSON_GetObjectItemCaseSensitive(probe, "httpGet"))
        return net_probe(a, p, c, probe, true, timeout_s, why);
    if (cJSON_GetObjectItemCaseSensitive(probe, "tcpSocket"))
        return net_probe(a, p, c, probe, false, timeout_s, why);
    *why = xstrdup("probe has no exec, httpGet or tcpSocket action");
    return false;
}

/* Advance one probe if due. Returns +1 when it just turned good, -1 when it just turned
 * bad (failureThreshold reached), 0 otherwise. */
static int step(struct minik_agent *a, agent_pod_t *p, agent_ctr_t *c, const cJSON *probe,
                agent_probe_state_t *s, const char *kind, int64_t now, cJSON *events)
{
    if (s->next_ms == 0) {
        s->next_ms = c->started_ms + (int64_t)num(probe, "initialDelaySeconds", 0) * 1000;
        if (s->next_ms == 0)
            s->next_ms = 1;
    }
    if (now < s->next_ms)
        return 0;
    int period = num(probe, "periodSeconds", 10);
    s->next_ms = now + (int64_t)(period < 1 ? 1 : period) * 1000;
    char *why = NULL;
    bool ok = run_one(a, p, c, probe, &why);
    int turned = 0;
    if (ok) {
        s->failures = 0;
        if (++s->successes >= num(probe, "successThreshold", 1) && !s->ok) {
            s->ok = true;
            turned = 1;
        }
    } else {
        s->successes = 0;
        cleanup_free char *fp = xasprintf("spec.containers{%s}", c->name);
        minik_agent_event_add(events, "Warning", "Unhealthy", fp, "%s probe failed: %s", kind,
                              why ? why : "");
        if (++s->failures >= num(probe, "failureThreshold", 3)) {
            turned = s->ok || s->failures == num(probe, "failureThreshold", 3) ? -1 : 0;
            s->ok = false;
        }
    }
    free(why);
    return turned;
}

static void kill_for(struct minik_agent *a, agent_ctr_t *c, const char *kind, cJSON *events)
{
    cleanup_free char *fp = xasprintf("spec.containers{%s}", c->name);
    minik_agent_event_add(events, "Normal", "Killing", fp,
                          "Container %s failed %s probe, will be restarted", c->name, kind);
    minik_error_t *e = NULL;
    if (minik_oci_kill(a->oci_root, c->id, SIGKILL, true, &e) < 0)
        minik_error_free(e);
}

void minik_agent_probes_run(struct minik_agent *a, agent_pod_t *p, agent_ctr_t *c,
                            const cJSON *cspec, int64_t now, cJSON *events)
{
    if (!c->id || c->pid <= 0)
        return;
    const cJSON *startup = cJSON_GetObjectItemCaseSensitive(cspec, "startupProbe");
    const cJSON *live = cJSON_GetObjectItemCaseSensitive(cspec, "livenessProbe");
    const cJSON *ready = cJSON_GetObjectItemCaseSensitive(cspec, "readinessProbe");
    if (!c->started && startup) {
        int t = step(a, p, c, startup, &c->startup, "Startup", now, events);
        if (t > 0)
            c->started = true;
        else if (t < 0) {
            kill_for(a, c, "startup", events);
            return;
        }
    }
    if (!c->started) {
        c->ready = false;
        return;
    }
    if (live && step(a, p, c, live, &c->liveness, "Liveness", now, events) < 0) {
        kill_for(a, c, "liveness", events);
        c->ready = false;
        return;
    }
    if (ready)
        step(a, p, c, ready, &c->readiness, "Readiness", now, events);
    c->ready = !ready || c->readiness.ok;
}
