/* Running a command in one of the agent's containers and waiting for it: what exec
 * probes, postStart and preStop hooks do. The command goes through `minik nsexec`, the
 * same path as `minik exec` (agent/nsexec.c), so it gets the container's namespaces,
 * cgroup, user, capabilities, no_new_privs and seccomp filter. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/internal.h"
#include "agent/runtime/oci.h"
#include "agent/runtime/state.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"

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

int minik_agent_exec_in_container(struct minik_agent *a, const agent_pod_t *p, const agent_ctr_t *c,
                                  const cJSON *command, int timeout_s, char **why)
{
    int n = cJSON_GetArraySize(command);
    if (n < 1 || !c->id || c->pid <= 0) {
        *why = xstrdup(n < 1 ? "no command to run" : "the container is not running");
        return -1;
    }
    cleanup_strv char **argv = xcalloc((size_t)n + 1, sizeof(char *));
    for (int i = 0; i < n; i++) {
        const cJSON *it = cJSON_GetArrayItem(command, i);
        argv[i] = xstrdup(cJSON_IsString(it) ? it->valuestring : "");
    }
    /* The container's own cgroup, as its runtime state recorded it; without one (state
     * unreadable) the command still runs in its namespaces, outside its limits. */
    minik_oci_state_t *st = NULL;
    minik_error_t *e = NULL;
    const char *status = NULL;
    cleanup_free char *cg = NULL;
    if (minik_oci_load(a->oci_root, c->id, &st, &status, &e) == 0 && st->cgroup_path)
        cg = xstrdup(st->cgroup_path);
    minik_error_free(e);
    minik_oci_state_free(st);
    cleanup_free char *bundle = xasprintf("%s/%s/bundles/%s", a->pods_dir, p->uid, c->id);
    return minik_agent_exec_in(c->pid, bundle, cg, argv, timeout_s, why);
}
