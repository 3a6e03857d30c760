/* Pod sandboxes (agent/sandbox.c) made for real: namespaces bound to files, the hostname
 * set inside, and — the regression — two sandboxes created at the same moment from two
 * threads, each helper forked while the other's control socket exists, both finish
 * (the old helpers waited for end-of-file on a socket the sibling helper held a copy of,
 * and two such helpers waited for each other forever). Needs root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/sandbox.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/xalloc.h"

static char *tmpdir_new(void)
{
    char tmpl[] = "/tmp/minik-sandbox-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    return xstrdup(tmpl);
}

static void sandbox_unbind(const char *nsdir)
{
    for (int i = 0; i < 3; i++) {
        cleanup_free char *f = xasprintf("%s/%s", nsdir, minik_agent_sandbox_ns[i]);
        umount2(f, MNT_DETACH); /* not bound (hostNetwork): nothing to undo */
    }
}

static void rm_tree(const char *dir)
{
    minik_error_t *e = NULL;
    if (minik_rm_rf(dir, &e) < 0)
        minik_error_free(e);
}

/* The hostname seen inside the uts namespace bound at path ("" on failure). */
static void hostname_in(const char *path, char *out, size_t n)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        int fd = open(path, O_RDONLY);
        char name[64] = "";
        if (fd >= 0 && setns(fd, CLONE_NEWUTS) == 0)
            gethostname(name, sizeof(name) - 1);
        (void)!write(fds[1], name, strlen(name));
        _exit(0);
    }
    close(fds[1]);
    ssize_t r = read(fds[0], out, n - 1);
    out[r > 0 ? r : 0] = '\0';
    close(fds[0]);
    waitpid(pid, NULL, 0);
}

static bool same_ns(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_ino == sb.st_ino &&
           sa.st_dev == sb.st_dev;
}

static void sandbox_binds_new_namespaces_with_the_hostname(void **state)
{
    (void)state;
    if (getuid() != 0)
        skip();
    cleanup_free char *dir = tmpdir_new();
    cleanup_free char *nsdir = xasprintf("%s/ns", dir);
    minik_error_t *err = NULL;
    assert_int_equal(minik_agent_sandbox_create(nsdir, "pod-a", false, &err), 0);
    for (int i = 0; i < 3; i++) {
        cleanup_free char *f = xasprintf("%s/%s", nsdir, minik_agent_sandbox_ns[i]);
        cleanup_free char *self = xasprintf("/proc/self/ns/%s", minik_agent_sandbox_ns[i]);
        struct stat st;
        assert_int_equal(stat(f, &st), 0);
        assert_false(same_ns(f, self)); /* a namespace of its own, still alive */
    }
    cleanup_free char *uts = xasprintf("%s/uts", nsdir);
    char name[64];
    hostname_in(uts, name, sizeof(name));
    assert_string_equal(name, "pod-a");

    /* Made again (a retried start): replaced, not stacked. */
    cleanup_free char *net = xasprintf("%s/net", nsdir);
    struct stat before, after;
    assert_int_equal(stat(net, &before), 0);
    assert_int_equal(minik_agent_sandbox_create(nsdir, "pod-a", false, &err), 0);
    assert_int_equal(stat(net, &after), 0);
    assert_true(before.st_ino != after.st_ino);
    sandbox_unbind(nsdir);
    sandbox_unbind(nsdir); /* the first binding, under the second */
    rm_tree(dir);
}

static void sandbox_host_network_binds_only_ipc(void **state)
{
    (void)state;
    if (getuid() != 0)
        skip();
    cleanup_free char *dir = tmpdir_new();
    cleanup_free char *nsdir = xasprintf("%s/ns", dir);
    minik_error_t *err = NULL;
    assert_int_equal(minik_agent_sandbox_create(nsdir, "host", true, &err), 0);
    cleanup_free char *ipc = xasprintf("%s/ipc", nsdir);
    cleanup_free char *net = xasprintf("%s/net", nsdir);
    assert_false(same_ns(ipc, "/proc/self/ns/ipc"));
    struct stat st;
    assert_int_equal(stat(net, &st), -1);
    sandbox_unbind(nsdir);
    rm_tree(dir);
}

/* Both threads hold their control socket before either forks: each helper inherits the
 * other's. */
static pthread_barrier_t both_ready;
static void wait_for_the_other(void)
{
    pthread_barrier_wait(&both_ready);
}

typedef struct {
    char *nsdir;
    const char *hostname;
    int ret;
    char *msg;
    int done;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} job_t;

static void *create_job(void *arg)
{
    job_t *j = arg;
    minik_error_t *err = NULL;
    int r = minik_agent_sandbox_create(j->nsdir, j->hostname, false, &err);
    pthread_mutex_lock(&j->mu);
    j->ret = r;
    j->msg = err ? xstrdup(err->msg) : NULL;
    j->done = 1;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    minik_error_free(err);
    return NULL;
}

static bool wait_done(job_t *j, int seconds)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += seconds;
    pthread_mutex_lock(&j->mu);
    while (!j->done && pthread_cond_timedwait(&j->cv, &j->mu, &until) != ETIMEDOUT)
        ;
    bool done = j->done;
    pthread_mutex_unlock(&j->mu);
    return done;
}

static void concurrent_sandboxes_do_not_wait_for_each_other(void **state)
{
    (void)state;
    if (getuid() != 0)
        skip();
    cleanup_free char *dir = tmpdir_new();
    job_t jobs[2] = {{.hostname = "pod-1"}, {.hostname = "pod-2"}};
    pthread_t th[2];
    pthread_barrier_init(&both_ready, NULL, 2);
    minik_agent_sandbox_before_fork = wait_for_the_other;
    for (int i = 0; i < 2; i++) {
        jobs[i].nsdir = xasprintf("%s/%d/ns", dir, i);
        pthread_mutex_init(&jobs[i].mu, NULL);
        pthread_cond_init(&jobs[i].cv, NULL);
        assert_int_equal(pthread_create(&th[i], NULL, create_job, &jobs[i]), 0);
    }
    bool finished[2];
    for (int i = 0; i < 2; i++)
        finished[i] = wait_done(&jobs[i], 20);
    minik_agent_sandbox_before_fork = NULL;
    if (!finished[0] || !finished[1])
        fail_msg("sandbox creation stalled: %s%s did not finish in 20 s (the helpers wait for "
                 "each other)",
                 finished[0] ? "" : "pod-1 ", finished[1] ? "" : "pod-2");
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        if (jobs[i].ret != 0)
            fail_msg("%s: %s", jobs[i].hostname, jobs[i].msg ? jobs[i].msg : "?");
        cleanup_free char *uts = xasprintf("%s/uts", jobs[i].nsdir);
        char name[64];
        hostname_in(uts, name, sizeof(name));
        assert_string_equal(name, jobs[i].hostname);
        sandbox_unbind(jobs[i].nsdir);
        free(jobs[i].nsdir);
        free(jobs[i].msg);
        pthread_mutex_destroy(&jobs[i].mu);
        pthread_cond_destroy(&jobs[i].cv);
    }
    pthread_barrier_destroy(&both_ready);
    rm_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sandbox_binds_new_namespaces_with_the_hostname),
        cmocka_unit_test(sandbox_host_network_binds_only_ipc),
        cmocka_unit_test(concurrent_sandboxes_do_not_wait_for_each_other),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
