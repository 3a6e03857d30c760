/* Unit tests for agent/runtime/seccomp*: OCI parse errors name their field, and real
 * filters are installed in forked children to check what each syscall returns. Every
 * "blocked" check is paired with a control run without the filter, so an EPERM the test
 * sees is the filter's doing and not the kernel's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/runtime/seccomp.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static cJSON *json(const char *s)
{
    cJSON *j = cJSON_Parse(s);
    assert_non_null(j);
    return j;
}

/* ---- parsing ------------------------------------------------------------------------------ */

static void parse_errors_name_the_field(void **state)
{
    static const char *const cases[][2] = {
        {"[]", "seccomp: expected an object"},
        {"{}", "seccomp.defaultAction: required"},
        {"{\"defaultAction\":\"SCMP_ACT_NOPE\"}",
         "seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\""},
        {"{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}", "seccomp.defaultAction: \"SCMP_ACT_NOTIFY\" is "
                                                    "not supported"},
        {"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":-1}",
         "seccomp.defaultErrnoRet: expected an integer"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\","
         "\"SCMP_ARCH_Z80\"]}",
         "seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_Z80\""},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":{}}",
         "seccomp.syscalls: expected an array"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"action\":\"SCMP_ACT_ERRNO\"}]}",
         "seccomp.syscalls[0].names: required"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
         "\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":[\"write\"],\"action\":\"SCMP_ACT_FOO\"}]}",
         "seccomp.syscalls[1].action: unknown action \"SCMP_ACT_FOO\""},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\",7],"
         "\"action\":\"SCMP_ACT_ERRNO\"}]}",
         "seccomp.syscalls[0].names[1]: expected a syscall name"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
         "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,\"op\":"
         "\"SCMP_CMP_ABOUT\"}]}]}",
         "seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_ABOUT\""},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
         "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":6,\"value\":1,\"op\":"
         "\"SCMP_CMP_EQ\"}]}]}",
         "seccomp.syscalls[0].args[0].index: expected an integer in [0, 5]"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
         "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":1,\"value\":-3,\"op\":"
         "\"SCMP_CMP_EQ\"}]}]}",
         "seccomp.syscalls[0].args[0].value: expected an integer"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
         "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1.5}]}",
         "seccomp.syscalls[0].errnoRet: expected an integer"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
         "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":1,\"value\":3}]}]}",
         "seccomp.syscalls[0].args[0].op: required"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cleanup_cjson cJSON *j = json(cases[i][0]);
        cleanup_error minik_error_t *err = NULL;
        minik_seccomp_t *sc = NULL;
        assert_true(minik_seccomp_prepare(j, &sc, &err) < 0);
        assert_null(sc);
        assert_non_null(err);
        if (strstr(err->msg, cases[i][1]) == NULL)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, err->msg, cases[i][1]);
        cleanup_error minik_error_t *verr = NULL;
        assert_true(minik_seccomp_validate(j, &verr) < 0);
    }
}

static void default_profile_compiles_for_three_abis(void **state)
{
    minik_seccomp_t *sc = NULL;
    cleanup_error minik_error_t *err = NULL;
    if (minik_seccomp_prepare(NULL, &sc, &err) < 0)
        fail_msg("%s", err->msg);
    assert_true(minik_seccomp_insns(sc) > 300);
    minik_seccomp_free(sc);
    minik_seccomp_free(NULL);

    cleanup_cjson cJSON *p = minik_seccomp_default_profile();
    cJSON *def = cJSON_GetObjectItem(p, "defaultAction");
    assert_string_equal(def->valuestring, "SCMP_ACT_ERRNO");
#if defined(__x86_64__)
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(p, "architectures")), 3);
#endif
}

static void embedded_default_matches_a_fresh_compile(void **state)
{
    size_t n_emb = 0, n_new = 0;
    const struct sock_filter *emb = minik_seccomp_default_filter(&n_emb);
    if (emb == NULL)
        skip(); /* no precompiled program for this architecture: prepare(NULL) compiles */
    cleanup_cjson cJSON *p = minik_seccomp_default_profile();
    minik_seccomp_t *sc = NULL;
    assert_int_equal(minik_seccomp_prepare(p, &sc, NULL), 0);
    const struct sock_filter *fresh = minik_seccomp_filter(sc, &n_new);
    bool same = n_emb == n_new && memcmp(emb, fresh, n_new * sizeof(*fresh)) == 0;
    minik_seccomp_free(sc);
    if (!same)
        fail_msg("agent/runtime/seccomp_default_x86_64.inc is stale (%zu vs %zu insns): "
                 "regenerate it with `build/tools/cgtool seccomp-gen` (see seccomp_default.c)",
                 n_emb, n_new);
    /* And prepare(NULL) hands out that program. */
    assert_int_equal(minik_seccomp_prepare(NULL, &sc, NULL), 0);
    const struct sock_filter *def = minik_seccomp_filter(sc, &n_new);
    assert_int_equal(n_new, n_emb);
    assert_memory_equal(def, emb, n_emb * sizeof(*emb));
    minik_seccomp_free(sc);
}

/* ---- running filters ---------------------------------------------------------------------- */

typedef struct probe {
    const char *what;
    long (*call)(void);
} probe_t;

static long do_mount(void)
{
    return syscall(SYS_mount, "none", "/nonexistent-minik", "tmpfs", 0, NULL);
}
static long do_umount2(void)
{
    return syscall(SYS_umount2, "/nonexistent-minik", 0);
}
static long do_unshare(void)
{
    return syscall(SYS_unshare, CLONE_NEWUSER);
}
static long do_setns(void)
{
    return syscall(SYS_setns, -1, 0);
}
static long do_keyctl(void)
{
    return syscall(SYS_keyctl, -1, 0, 0, 0, 0);
}
static long do_add_key(void)
{
    return syscall(SYS_add_key, NULL, NULL, NULL, 0, 0);
}
static long do_request_key(void)
{
    return syscall(SYS_request_key, NULL, NULL, NULL, 0);
}
static long do_bpf(void)
{
    return syscall(SYS_bpf, -1, NULL, 0);
}
static long do_perf_event_open(void)
{
    return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
}
static long do_kexec_load(void)
{
    return syscall(SYS_kexec_load, 0, 0, NULL, 0xffffffffUL); /* invalid flags */
}
static long do_init_module(void)
{
    return syscall(SYS_init_module, NULL, 0, "");
}
static long do_finit_module(void)
{
    return syscall(SYS_finit_module, -1, "", 0);
}
static long do_reboot(void)
{
    return syscall(SYS_reboot, 0, 0, 0, NULL); /* bad magic: EINVAL when allowed */
}
static long do_swapon(void)
{
    return syscall(SYS_swapon, NULL, 0);
}
static long do_userfaultfd(void)
{
    return syscall(SYS_userfaultfd, -1);
}
static long do_open_by_handle_at(void)
{
    return syscall(SYS_open_by_handle_at, -1, NULL, 0);
}
static long do_socket_vsock(void)
{
    long r = syscall(SYS_socket, AF_VSOCK, SOCK_STREAM, 0);
    if (r >= 0)
        close((int)r);
    return r;
}
static long do_personality_no_aslr(void)
{
    return syscall(SYS_personality, 0x0040000 /* ADDR_NO_RANDOMIZE */);
}
static long do_clone_newns(void)
{
    long r = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
    if (r == 0)
        _exit(0);
    if (r > 0)
        waitpid((pid_t)r, NULL, 0);
    return r;
}

static const probe_t blocked[] = {
    {"mount", do_mount},
    {"umount2", do_umount2},
    {"unshare(CLONE_NEWUSER)", do_unshare},
    {"setns", do_setns},
    {"keyctl", do_keyctl},
    {"add_key", do_add_key},
    {"request_key", do_request_key},
    {"bpf", do_bpf},
    {"perf_event_open", do_perf_event_open},
    {"kexec_load", do_kexec_load},
    {"init_module", do_init_module},
    {"finit_module", do_finit_module},
    {"reboot", do_reboot},
    {"swapon", do_swapon},
    {"userfaultfd", do_userfaultfd},
    {"open_by_handle_at", do_open_by_handle_at},
    {"socket(AF_VSOCK)", do_socket_vsock},
    {"personality(ADDR_NO_RANDOMIZE)", do_personality_no_aslr},
    {"clone(CLONE_NEWNS)", do_clone_newns},
};
#define N_BLOCKED (sizeof(blocked) / sizeof(blocked[0]))

/* What a child reports back: each probe's return value and errno. */
typedef struct result {
    int apply_ret;
    long ret[N_BLOCKED];
    int err[N_BLOCKED];
    long clone3_ret;
    int clone3_err;
    long getpid_ok, rw_ok, thread_ok, fork_ok, personality_query_ok;
} result_t;

static void *thread_fn(void *arg)
{
    return arg;
}

/* Runs in the child. Only plain syscalls and libc wrappers after the filter is on. */
static void child_probe(const minik_seccomp_t *sc, int out)
{
    result_t r;
    memset(&r, 0, sizeof(r));
    if (sc) {
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        r.apply_ret = minik_seccomp_apply(sc);
    }
    for (size_t i = 0; i < N_BLOCKED; i++) {
        errno = 0;
        r.ret[i] = blocked[i].call();
        r.err[i] = errno;
    }
    errno = 0;
    r.clone3_ret = syscall(SYS_clone3, NULL, 0);
    r.clone3_err = errno;
    r.getpid_ok = syscall(SYS_getpid) == getpid();
    int p[2];
    char c = 'x';
    r.rw_ok = pipe(p) == 0 && write(p[1], &c, 1) == 1 && read(p[0], &c, 1) == 1;
    /* pthread_create tries clone3 first, and must fall back to clone on ENOSYS. */
    pthread_t t;
    void *ret = NULL;
    r.thread_ok =
        pthread_create(&t, NULL, thread_fn, &r) == 0 && pthread_join(t, &ret) == 0 && ret == &r;
    pid_t f = fork();
    if (f == 0)
        _exit(7);
    int st = 0;
    r.fork_ok = f > 0 && waitpid(f, &st, 0) == f && WIFEXITED(st) && WEXITSTATUS(st) == 7;
    r.personality_query_ok = syscall(SYS_personality, 0xffffffffUL) >= 0;
    if (write(out, &r, sizeof(r)) != (ssize_t)sizeof(r))
        _exit(2);
    _exit(0);
}

static void run_probe(const minik_seccomp_t *sc, result_t *r)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        child_probe(sc, p[1]);
    }
    close(p[1]);
    size_t got = 0;
    while (got < sizeof(*r)) {
        ssize_t n = read(p[0], (char *)r + got, sizeof(*r) - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(p[0]);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("probe child died: status %#x", st);
    assert_int_equal(got, sizeof(*r));
}

static void default_profile_blocks_listed_syscalls(void **state)
{
    minik_seccomp_t *sc = NULL, *marked = NULL;
    assert_int_equal(minik_seccomp_prepare(NULL, &sc, NULL), 0);
    /* The same profile with the default errno changed to an unusual value: every probe
     * failing with exactly that errno proves it is the filter's default action that stops
     * it (some calls fail with EPERM on this host anyway, e.g. reboot inside a VM). */
    cleanup_cjson cJSON *p = minik_seccomp_default_profile();
    cJSON_ReplaceItemInObject(p, "defaultErrnoRet", cJSON_CreateNumber(EHWPOISON));
    assert_int_equal(minik_seccomp_prepare(p, &marked, NULL), 0);
    result_t ctl, got, mark;
    run_probe(NULL, &ctl);
    run_probe(sc, &got);
    run_probe(marked, &mark);
    minik_seccomp_free(sc);
    minik_seccomp_free(marked);
    assert_int_equal(got.apply_ret, 0);
    for (size_t i = 0; i < N_BLOCKED; i++) {
        if (got.ret[i] != -1 || got.err[i] != EPERM)
            fail_msg("%s: want -1/EPERM under the default profile, got %ld/%s", blocked[i].what,
                     got.ret[i], strerror(got.err[i]));
        if (mark.ret[i] != -1 || mark.err[i] != EHWPOISON)
            fail_msg("%s: not stopped by the filter's default action (got %ld/%s)", blocked[i].what,
                     mark.ret[i], strerror(mark.err[i]));
        if (ctl.err[i] == EHWPOISON)
            fail_msg("%s: the control run fails with the marker errno", blocked[i].what);
    }
    assert_true(ctl.clone3_ret == -1 && ctl.clone3_err != ENOSYS);
    assert_int_equal(got.clone3_ret, -1);
    assert_int_equal(got.clone3_err, ENOSYS);
    assert_true(got.getpid_ok);
    assert_true(got.rw_ok);
    assert_true(got.thread_ok);
    assert_true(got.fork_ok);
    assert_true(got.personality_query_ok);
}

/* A custom profile: allow by default, one syscall fails with errno 42, one only for a
 * given argument; unknown names are skipped. */
static void custom_profile_behaves(void **state)
{
    cleanup_cjson cJSON *j =
        json("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_NATIVE\"],"
             "\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],"
             "\"syscalls\":["
             "{\"names\":[\"no_such_syscall_minik\",\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\","
             "\"errnoRet\":42},"
             "{\"names\":[\"dup\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":43,"
             "\"args\":[{\"index\":0,\"value\":100,\"op\":\"SCMP_CMP_EQ\"}]},"
             "{\"names\":[\"getpgid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":44,"
             "\"args\":[{\"index\":0,\"value\":11,\"op\":\"SCMP_CMP_EQ\"},"
             "{\"index\":0,\"value\":12,\"op\":\"SCMP_CMP_EQ\"}]},"
             "{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\"}]}");
    minik_seccomp_t *sc = NULL;
    cleanup_error minik_error_t *err = NULL;
    if (minik_seccomp_prepare(j, &sc, &err) < 0)
        fail_msg("%s", err->msg);
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        if (minik_seccomp_apply(sc) != 0)
            _exit(10);
        errno = 0;
        /* syscall(2): glibc's getppid() assumes it cannot fail and returns the raw -42. */
        if (syscall(SYS_getppid) != -1 || errno != 42)
            _exit(11);
        if (syscall(SYS_getpid) != getpid())
            _exit(12);
        errno = 0;
        if (dup(100) != -1 || errno != 43)
            _exit(13);
        int d = dup(0);
        if (d < 0)
            _exit(14);
        /* Two conditions on one argument are ORed (runc). */
        errno = 0;
        if (getpgid(11) != -1 || errno != 44)
            _exit(15);
        errno = 0;
        if (getpgid(12) != -1 || errno != 44)
            _exit(16);
        errno = 0;
        if (getpgid(0) < 0)
            _exit(17);
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    minik_seccomp_free(sc);
    close(p[0]);
    close(p[1]);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void apply_without_nnp_or_cap_fails_cleanly(void **state)
{
    /* Root has CAP_SYS_ADMIN, so drop to an unprivileged uid first: the kernel must refuse
     * the filter with EACCES, and apply must report it rather than crash. */
    if (geteuid() != 0)
        skip();
    minik_seccomp_t *sc = NULL;
    assert_int_equal(minik_seccomp_prepare(NULL, &sc, NULL), 0);
    pid_t pid = fork();
    if (pid == 0) {
        if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
            _exit(20);
        _exit(minik_seccomp_apply(sc) == -EACCES ? 0 : 21);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    minik_seccomp_free(sc);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

#if defined(__x86_64__)
/* A 32-bit syscall through the int $0x80 gate, from this 64-bit process. */
static long int80(long nr, long a1)
{
    long ret;
    __asm__ volatile("int $0x80"
                     : "=a"(ret)
                     : "a"(nr), "b"(a1)
                     : "memory", "r8", "r9", "r10", "r11");
    return ret;
}

static bool ia32_available(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(int80(20 /* i386 getpid */, 0) == getpid() ? 0 : 1);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void ia32_abi_gets_the_same_rules(void **state)
{
    if (!ia32_available())
        skip(); /* kernel without IA32 emulation */
    minik_seccomp_t *sc = NULL;
    assert_int_equal(minik_seccomp_prepare(NULL, &sc, NULL), 0);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        if (minik_seccomp_apply(sc) != 0)
            _exit(30);
        if (int80(20 /* getpid */, 0) != getpid())
            _exit(31); /* allowed on the 32-bit ABI too */
        if (int80(310 /* i386 unshare */, CLONE_NEWUSER) != -EPERM)
            _exit(32);
        if (int80(26 /* i386 ptrace */, -1) == -EPERM)
            _exit(33); /* allowed (fails with the kernel's own error instead) */
        if (int80(88 /* i386 reboot */, 0) != -EPERM)
            _exit(34);
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    minik_seccomp_free(sc);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("32-bit probe child: status %#x", st);
}

/* An OCI profile that lists only x86_64 leaves 32-bit syscalls to the "bad arch" action,
 * which kills (runc behaves the same). */
static void ia32_not_listed_is_killed(void **state)
{
    if (!ia32_available())
        skip();
    cleanup_cjson cJSON *j = json("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
                                  "\"architectures\":[\"SCMP_ARCH_X86_64\"]}");
    minik_seccomp_t *sc = NULL;
    assert_int_equal(minik_seccomp_prepare(j, &sc, NULL), 0);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        if (minik_seccomp_apply(sc) != 0)
            _exit(40);
        int80(20, 0);
        _exit(41);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    minik_seccomp_free(sc);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSYS);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_errors_name_the_field),
        cmocka_unit_test(default_profile_compiles_for_three_abis),
        cmocka_unit_test(embedded_default_matches_a_fresh_compile),
        cmocka_unit_test(default_profile_blocks_listed_syscalls),
        cmocka_unit_test(custom_profile_behaves),
        cmocka_unit_test(apply_without_nnp_or_cap_fails_cleanly),
#if defined(__x86_64__)
        cmocka_unit_test(ia32_abi_gets_the_same_rules),
        cmocka_unit_test(ia32_not_listed_is_killed),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
