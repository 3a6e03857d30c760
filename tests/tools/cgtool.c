/* cgtool: drives agent/runtime/cgroup* and seccomp* from the e2e suites
 * (tests/e2e/cgroup.bats) on the host's real hierarchies. Not installed; not part of minik.
 *
 *   cgtool [--root DIR] mode
 *   cgtool [--root DIR] create PATH [RESOURCES_JSON]
 *   cgtool [--root DIR] update PATH RESOURCES_JSON
 *   cgtool [--root DIR] run PATH -- CMD...       run CMD inside the group, wait, exit as it did
 *   cgtool [--root DIR] spawn PATH -- CMD...     start CMD inside the group, print its pid
 *   cgtool [--root DIR] oom-run PATH SECS -- CMD...
 *                       run CMD inside; report whether the OOM fd fired and the kill count
 *   cgtool [--root DIR] stats|pids|destroy PATH
 *   cgtool [--root DIR] kill PATH SIGNUM
 *   cgtool hog MIB                               touch MIB MiB of memory, then exit 0
 *   cgtool forks N                               fork N sleepers; print how many succeeded
 *   cgtool seccomp-run PROFILE|default -- CMD... exec CMD under a seccomp filter
 *   cgtool seccomp-gen                           print the default profile compiled now, as
 *                                                agent/runtime/seccomp_default_<arch>.inc
 * Benchmarks (tests/bench/bench_cgroup.sh), each printing microseconds per iteration:
 *   cgtool [--root DIR] bench-cgroup PATH N RESOURCES_JSON   create + enter + destroy
 *   cgtool bench-seccomp N                       compile the default profile
 *   cgtool bench-syscall N default|none          one getppid under the filter (or none) */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/runtime/cgroup.h"
#include "agent/runtime/seccomp.h"
#include "lib/cleanup.h"
#include "lib/file.h"

static int fail(minik_error_t *err)
{
    fprintf(stderr, "cgtool: %s\n", err ? err->msg : "failed");
    minik_error_free(err);
    return 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: see the comment at the top of tests/tools/cgtool.c\n");
    return 2;
}

static cJSON *parse_json(const char *s)
{
    cJSON *j = cJSON_Parse(s);
    if (j == NULL)
        fprintf(stderr, "cgtool: bad JSON: %s\n", s);
    return j;
}

/* fork CMD held on a pipe until it has been entered into the group, so the limits apply
 * from its first instruction. */
static pid_t start_in(minik_cgroup_t *cg, char **cmd, bool detach, minik_error_t **err)
{
    int p[2];
    if (pipe(p) < 0)
        return minik_error_set(err, errno, "pipe");
    pid_t pid = fork();
    if (pid < 0)
        return minik_error_set(err, errno, "fork");
    if (pid == 0) {
        close(p[1]);
        if (detach) {
            /* Let the caller's $(cgtool spawn ...) return: drop the inherited stdio. */
            int null = open("/dev/null", O_RDWR | O_CLOEXEC);
            if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
                _exit(126);
            setsid();
        }
        char c;
        if (read(p[0], &c, 1) != 1)
            _exit(126);
        close(p[0]);
        execvp(cmd[0], cmd);
        perror("cgtool: exec");
        _exit(127);
    }
    close(p[0]);
    int ret = minik_cgroup_enter(cg, pid, err);
    if (ret < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(p[1]);
        return ret;
    }
    if (write(p[1], "x", 1) != 1) {
        close(p[1]);
        return minik_error_set(err, errno, "release child");
    }
    close(p[1]);
    return pid;
}

static int wait_exit(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(st)) {
        printf("signal=%d\n", WTERMSIG(st));
        return 128 + WTERMSIG(st);
    }
    printf("exit=%d\n", WEXITSTATUS(st));
    return WEXITSTATUS(st);
}

static int cmd_hog(const char *mib)
{
    size_t n = (size_t)strtoul(mib, NULL, 10) << 20;
    /* mmap, not malloc: nothing for the leak checker to report when the hog survives. */
    char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 3;
    memset(p, 0x5a, n); /* touch every page: charged to the memory cgroup */
    munmap(p, n);
    return 0;
}

static int cmd_forks(const char *count)
{
    int n = atoi(count), ok = 0, err = 0;
    pid_t kids[1024];
    for (int i = 0; i < n && i < 1024; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            pause();
            _exit(0);
        }
        if (pid < 0) {
            err = errno;
            break;
        }
        kids[ok++] = pid;
    }
    printf("forked=%d error=%s\n", ok, err ? strerrorname_np(err) : "none");
    fflush(stdout);
    for (int i = 0; i < ok; i++) {
        kill(kids[i], SIGKILL);
        waitpid(kids[i], NULL, 0);
    }
    return 0;
}

static int cmd_seccomp_run(const char *profile, char **cmd)
{
    cleanup_cjson cJSON *j = NULL;
    if (strcmp(profile, "default") != 0) {
        cleanup_free char *text = NULL;
        minik_error_t *err = NULL;
        if (minik_file_read(profile, 1 << 20, &text, NULL, &err) < 0)
            return fail(err);
        if ((j = parse_json(text)) == NULL)
            return 1;
    }
    minik_seccomp_t *sc = NULL;
    minik_error_t *err = NULL;
    if (minik_seccomp_prepare(j, &sc, &err) < 0)
        return fail(err);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        int r = minik_seccomp_apply(sc);
        if (r < 0) {
            fprintf(stderr, "cgtool: seccomp apply: %s\n", strerror(-r));
            _exit(125);
        }
        execvp(cmd[0], cmd);
        _exit(127);
    }
    minik_seccomp_free(sc);
    return wait_exit(pid);
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* One container's worth of cgroup work: create with limits, enter a (parked) process,
 * destroy after it exits. The fork/exit of the stand-in process is included. */
static int bench_cgroup(const char *path, int n, const char *json)
{
    cleanup_cjson cJSON *res = parse_json(json);
    if (res == NULL)
        return 1;
    double t0 = now_us();
    for (int i = 0; i < n; i++) {
        minik_cgroup_t *cg = NULL;
        minik_error_t *err = NULL;
        if (minik_cgroup_create(path, res, &cg, &err) < 0)
            return fail(err);
        int p[2];
        if (pipe(p) < 0)
            return 1;
        pid_t pid = fork();
        if (pid == 0) {
            char c;
            close(p[1]);
            _exit(read(p[0], &c, 1) == 1 ? 0 : 1);
        }
        close(p[0]);
        int ret = minik_cgroup_enter(cg, pid, &err);
        if (write(p[1], "x", 1) != 1)
            ret = -1;
        close(p[1]);
        waitpid(pid, NULL, 0);
        if (ret < 0 || minik_cgroup_destroy(cg, &err) < 0) {
            minik_cgroup_free(cg);
            return fail(err);
        }
        minik_cgroup_free(cg);
    }
    printf("%.1f\n", (now_us() - t0) / n);
    return 0;
}

/* prepare(NULL) (the embedded default program) and a compile of the same profile from
 * its JSON: "<embedded us> <compile us> <insns>". */
static int bench_seccomp(int n)
{
    cleanup_cjson cJSON *p = minik_seccomp_default_profile();
    double t[3];
    size_t insns = 0;
    t[0] = now_us();
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < n; i++) {
            minik_seccomp_t *sc = NULL;
            minik_error_t *err = NULL;
            if (minik_seccomp_prepare(k == 0 ? NULL : p, &sc, &err) < 0)
                return fail(err);
            insns = minik_seccomp_insns(sc);
            minik_seccomp_free(sc);
        }
        t[k + 1] = now_us();
    }
    printf("%.1f %.1f %zu\n", (t[1] - t[0]) / n, (t[2] - t[1]) / n, insns);
    return 0;
}

/* Cost of one syscall that the filter must evaluate on its arguments (personality is
 * allowed only for some values, so the kernel's per-syscall action cache cannot skip the
 * program) and one it can cache (getppid). Printed in ns. */
static int bench_syscall(int n, const char *which)
{
    minik_seccomp_t *sc = NULL;
    minik_error_t *err = NULL;
    if (strcmp(which, "default") == 0) {
        if (minik_seccomp_prepare(NULL, &sc, &err) < 0)
            return fail(err);
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        int r = minik_seccomp_apply(sc);
        minik_seccomp_free(sc);
        if (r < 0)
            return 1;
    }
    double t0 = now_us();
    for (int i = 0; i < n; i++)
        syscall(SYS_getppid);
    double t1 = now_us();
    for (int i = 0; i < n; i++)
        syscall(SYS_personality, 0xffffffffUL);
    double t2 = now_us();
    printf("%.1f %.1f\n", (t1 - t0) * 1e3 / n, (t2 - t1) * 1e3 / n);
    return 0;
}

static int seccomp_gen(void)
{
    cleanup_cjson cJSON *p = minik_seccomp_default_profile();
    minik_seccomp_t *sc = NULL;
    minik_error_t *err = NULL;
    /* Compile from the JSON (not prepare(NULL), which would return the embedded copy). */
    if (minik_seccomp_prepare(p, &sc, &err) < 0)
        return fail(err);
    size_t n = 0;
    const struct sock_filter *f = minik_seccomp_filter(sc, &n);
    printf("/* Generated by `cgtool seccomp-gen` from seccomp_profile.c with libseccomp %u.%u.%u;\n"
           " * do not edit. tests/unit/test_seccomp.c checks it matches a fresh compile. */\n",
           seccomp_version()->major, seccomp_version()->minor, seccomp_version()->micro);
    for (size_t i = 0; i < n; i++)
        printf("{0x%04x, %u, %u, 0x%08x},\n", f[i].code, f[i].jt, f[i].jf, f[i].k);
    minik_seccomp_free(sc);
    return 0;
}

int main(int argc, char **argv)
{
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "--root") == 0) {
        minik_cgroup_set_root(argv[i + 1]);
        i += 2;
    }
    if (i >= argc)
        return usage();
    const char *verb = argv[i++];
    char **rest = argv + i;
    int nrest = argc - i;
    char **cmd = NULL;
    for (int k = 0; k < nrest; k++)
        if (strcmp(rest[k], "--") == 0) {
            cmd = rest + k + 1;
            rest[k] = NULL;
            nrest = k;
            break;
        }

    minik_error_t *err = NULL;
    if (strcmp(verb, "hog") == 0 && nrest == 1)
        return cmd_hog(rest[0]);
    if (strcmp(verb, "forks") == 0 && nrest == 1)
        return cmd_forks(rest[0]);
    if (strcmp(verb, "seccomp-run") == 0 && nrest == 1 && cmd && cmd[0])
        return cmd_seccomp_run(rest[0], cmd);
    if (strcmp(verb, "seccomp-gen") == 0)
        return seccomp_gen();
    if (strcmp(verb, "bench-cgroup") == 0 && nrest == 3)
        return bench_cgroup(rest[0], atoi(rest[1]), rest[2]);
    if (strcmp(verb, "bench-seccomp") == 0 && nrest == 1)
        return bench_seccomp(atoi(rest[0]));
    if (strcmp(verb, "bench-syscall") == 0 && nrest == 2)
        return bench_syscall(atoi(rest[0]), rest[1]);
    if (strcmp(verb, "mode") == 0) {
        minik_cgroup_mode_t m = minik_cgroup_detect(&err);
        if (m == MINIK_CGROUP_MODE_UNKNOWN)
            return fail(err);
        printf("%s\n", minik_cgroup_mode_name(m));
        return 0;
    }
    if (nrest < 1)
        return usage();
    const char *path = rest[0];
    minik_cgroup_t *cg = NULL;
    int rc = 0;

    if (strcmp(verb, "create") == 0) {
        cleanup_cjson cJSON *res = nrest > 1 ? parse_json(rest[1]) : NULL;
        if (nrest > 1 && res == NULL)
            return 1;
        if (minik_cgroup_create(path, res, &cg, &err) < 0)
            return fail(err);
        printf("%s\n", minik_cgroup_path(cg));
        minik_cgroup_free(cg);
        return 0;
    }
    if (minik_cgroup_open(path, &cg, &err) < 0)
        return fail(err);
    if (strcmp(verb, "update") == 0 && nrest == 2) {
        cleanup_cjson cJSON *res = parse_json(rest[1]);
        if (res == NULL || minik_cgroup_update(cg, res, &err) < 0)
            rc = 1;
    } else if ((strcmp(verb, "run") == 0 || strcmp(verb, "spawn") == 0) && cmd && cmd[0]) {
        pid_t pid = start_in(cg, cmd, strcmp(verb, "spawn") == 0, &err);
        if (pid < 0)
            rc = 1;
        else if (strcmp(verb, "spawn") == 0)
            printf("%ld\n", (long)pid);
        else
            rc = wait_exit(pid);
    } else if (strcmp(verb, "oom-run") == 0 && nrest == 2 && cmd && cmd[0]) {
        int fd = minik_cgroup_oom_fd(cg, &err);
        pid_t pid = fd < 0 ? -1 : start_in(cg, cmd, false, &err);
        if (pid < 0)
            rc = 1;
        else {
            rc = wait_exit(pid);
            /* The notification may trail the exit slightly. */
            struct pollfd p = {fd, POLLIN, 0};
            int fired = poll(&p, 1, atoi(rest[1]) * 1000) == 1;
            minik_cgroup_oom_drain(fd);
            minik_cgroup_stats_t st;
            if (minik_cgroup_stats(cg, &st, &err) < 0)
                rc = 1;
            else
                printf("oom_event=%d oom_kills=%llu\n", fired, (unsigned long long)st.oom_kills);
        }
        if (fd >= 0)
            close(fd);
    } else if (strcmp(verb, "stats") == 0) {
        minik_cgroup_stats_t st;
        if (minik_cgroup_stats(cg, &st, &err) < 0)
            rc = 1;
        else
            printf("cpu_usage_ns=%llu\nmemory_usage_bytes=%llu\nmemory_limit_bytes=%llu\n"
                   "pids_current=%llu\npids_limit=%llu\noom_kills=%llu\n",
                   (unsigned long long)st.cpu_usage_ns, (unsigned long long)st.memory_usage_bytes,
                   (unsigned long long)st.memory_limit_bytes, (unsigned long long)st.pids_current,
                   (unsigned long long)st.pids_limit, (unsigned long long)st.oom_kills);
    } else if (strcmp(verb, "pids") == 0) {
        pid_t *pids = NULL;
        size_t n = 0;
        if (minik_cgroup_pids(cg, &pids, &n, &err) < 0)
            rc = 1;
        for (size_t k = 0; k < n; k++)
            printf("%ld\n", (long)pids[k]);
        free(pids);
    } else if (strcmp(verb, "kill") == 0 && nrest == 2) {
        if (minik_cgroup_kill(cg, atoi(rest[1]), &err) < 0)
            rc = 1;
    } else if (strcmp(verb, "destroy") == 0) {
        if (minik_cgroup_destroy(cg, &err) < 0)
            rc = 1;
    } else
        rc = usage();
    minik_cgroup_free(cg);
    if (rc == 1 && err)
        return fail(err);
    minik_error_free(err);
    return rc;
}
