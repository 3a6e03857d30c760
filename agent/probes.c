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
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "agent/internal.h"
#include "agent/runtime/oci.h"
#include "agent/runtime/state.h"
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

/* Run argv in the container through `minik nsexec` (its namespaces, cgroup, user,
 * capabilities, no_new_privs and seccomp filter, as `minik exec`); exit code or -1. */
int minik_agent_exec_in(pid_t pid, const char *bundle, const char *cgroup_path, char **argv,
                        int timeout_s, char **why)
{
    size_t n = minik_strv_len(argv);
    char **args = xcalloc(n + 12, sizeof(char *));
    size_t k = 0;
    cleanup_free char *pid_s = xasprintf("%d", pid);
    args[k++] = "minik";
    args[k++] = "nsexec";
    args[k++] = "--pid";
    args[k++] = pid_s;
    args[k++] = "--bundle";
    args[k++] = (char *)bundle;
    if (cgroup_path) {
        args[k++] = "--cgroup";
        args[k++] = (char *)cgroup_path;
    }
    args[k++] = "--";
    for (size_t i = 0; i < n; i++)
        args[k++] = argv[i];
    pid_t child = fork();
    if (child == 0) {
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execv("/proc/self/exe", args);
        _exit(127);
    }
    free(args);
    if (child < 0) {
        *why = xasprintf("fork: %s", strerror(errno));
        return -1;
    }
    int st = 0;
    for (int waited = 0;; waited += 10) {
        pid_t r = waitpid(child, &st, WNOHANG);
        if (r == child)
            break;
        if (waited >= timeout_s * 1000) {
            kill(child, SIGKILL);
            waitpid(child, &st, 0);
            *why = xasprintf("command timed out after %ds", timeout_s);
            return -1;
        }
        usleep(10000);
    }
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (code != 0)
        *why = xasprintf("command exited with %d", code);
    return code;
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
        int n = cJSON_GetArraySize(cmd);
        if (n < 1) {
            *why = xstrdup("exec probe without a command");
            return false;
        }
        char **argv = xcalloc((size_t)n + 1, sizeof(char *));
        for (int i = 0; i < n; i++) {
            const cJSON *it = cJSON_GetArrayItem(cmd, i);
            argv[i] = xstrdup(cJSON_IsString(it) ? it->valuestring : "");
        }
        minik_oci_state_t *st = NULL;
        minik_error_t *e = NULL;
        cleanup_free char *cg = NULL;
        if (minik_oci_load(a->oci_root, c->id, &st, &(const char *){NULL}, &e) == 0 &&
            st->cgroup_path)
            cg = xstrdup(st->cgroup_path);
        minik_error_free(e);
        minik_oci_state_free(st);
        cleanup_free char *bundle = xasprintf("%s/%s/bundles/%s", a->pods_dir, p->uid, c->id);
        int code = minik_agent_exec_in(c->pid, bundle, cg, argv, timeout_s, why);
        minik_strv_free(argv);
        return code == 0;
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
