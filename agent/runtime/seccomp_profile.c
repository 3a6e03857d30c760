/* The built-in default seccomp profile: Docker's default (moby profiles/seccomp/default.json)
 * resolved for a container with Docker's default capabilities on the running
 * architecture, expressed as an OCI linux.seccomp object so it goes through the same
 * compiler as a user's profile.
 *
 * Everything not allowed fails with EPERM. That covers, among others: mount, umount2,
 * unshare, setns, keyctl, add_key, request_key, bpf, perf_event_open, kexec_load,
 * init_module, finit_module, reboot, swapon, userfaultfd, open_by_handle_at. clone is
 * allowed only without CLONE_NEW* flags, clone3 (whose flags live in memory a filter
 * cannot read) fails with ENOSYS so libc falls back to clone, socket(AF_VSOCK) is refused,
 * and personality() only accepts the harmless personas. */
#include "agent/runtime/seccomp.h"

#include <sched.h>

/* Docker's unconditional allow-list. */
static const char *const allowed[] = {
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "bind",
    "brk",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futex",
    "futex_time64",
    "futex_waitv",
    "futimesat",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "get_robust_list",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "get_thread_area",
    "gettid",
    "gettimeofday",
    "getuid",
    "getuid32",
    "getxattr",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "ioctl",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "ioprio_get",
    "ioprio_set",
    "io_setup",
    "io_submit",
    "io_uring_enter",
    "io_uring_register",
    "io_uring_setup",
    "ipc",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lchown32",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listxattr",
    "llistxattr",
    "_llseek",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "lstat64",
    "madvise",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "mremap",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "name_to_handle_at",
    "nanosleep",
    "newfstatat",
    "_newselect",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "pselect6",
    "pselect6_time64",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "send",
    "sendfile",
    "sendfile64",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setrlimit",
    "set_robust_list",
    "setsid",
    "setsockopt",
    "set_thread_area",
    "set_tid_address",
    "setuid",
    "setuid32",
    "setxattr",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "sigprocmask",
    "sigreturn",
    "socketcall",
    "socketpair",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    "times",
    "tkill",
    "truncate",
    "truncate64",
    "ugetrlimit",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vfork",
    "vmsplice",
    "wait4",
    "waitid",
    "waitpid",
    "write",
    "writev",
    /* Conditional in Docker, true for minik containers: Linux >= 4.8 (ptrace can no longer
     * bypass seccomp) and CAP_SYS_CHROOT, which is in the default capability set. */
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "chroot",
};

#if defined(__x86_64__)
static const char *const arch_allowed[] = {"arch_prctl", "modify_ldt"};
static const char *const arches[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
#elif defined(__aarch64__)
static const char *const arch_allowed[] = {"arm_fadvise64_64", "arm_sync_file_range",
                                           "sync_file_range2", "breakpoint",
                                           "cacheflush",       "set_tls"};
static const char *const arches[] = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
#elif defined(__i386__)
static const char *const arch_allowed[] = {"modify_ldt"};
static const char *const arches[] = {"SCMP_ARCH_X86"};
#elif defined(__arm__)
static const char *const arch_allowed[] = {"arm_fadvise64_64", "arm_sync_file_range",
                                           "sync_file_range2", "breakpoint",
                                           "cacheflush",       "set_tls"};
static const char *const arches[] = {"SCMP_ARCH_ARM"};
#else
static const char *const arch_allowed[] = {"riscv_flush_icache"};
static const char *const arches[] = {"SCMP_ARCH_NATIVE"};
#endif

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Namespace-creating clone flags: clone is allowed only with all of them clear. */
#define CLONE_NAMESPACE_FLAGS                                                                      \
    (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |     \
     CLONE_NEWCGROUP)

static cJSON *names_array(const char *const *names, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(names[i]));
    return a;
}

static cJSON *rule(const char *name, const char *action)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "names", names_array(&name, 1));
    cJSON_AddStringToObject(r, "action", action);
    return r;
}

static void add_arg(cJSON *rule, int index, double value, double value_two, const char *op)
{
    cJSON *args = cJSON_GetObjectItemCaseSensitive(rule, "args");
    if (args == NULL)
        args = cJSON_AddArrayToObject(rule, "args");
    cJSON *a = cJSON_CreateObject();
    cJSON_AddNumberToObject(a, "index", index);
    cJSON_AddNumberToObject(a, "value", value);
    cJSON_AddNumberToObject(a, "valueTwo", value_two);
    cJSON_AddStringToObject(a, "op", op);
    cJSON_AddItemToArray(args, a);
}

cJSON *minik_seccomp_default_profile(void)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "defaultAction", "SCMP_ACT_ERRNO");
    cJSON_AddNumberToObject(p, "defaultErrnoRet", 1); /* EPERM */
    cJSON_AddItemToObject(p, "architectures", names_array(arches, N(arches)));
    cJSON *sys = cJSON_AddArrayToObject(p, "syscalls");

    cJSON *allow = cJSON_CreateObject();
    cJSON_AddItemToObject(allow, "names", names_array(allowed, N(allowed)));
    cJSON_AddStringToObject(allow, "action", "SCMP_ACT_ALLOW");
    cJSON_AddItemToArray(sys, allow);

    cJSON *arch = cJSON_CreateObject();
    cJSON_AddItemToObject(arch, "names", names_array(arch_allowed, N(arch_allowed)));
    cJSON_AddStringToObject(arch, "action", "SCMP_ACT_ALLOW");
    cJSON_AddItemToArray(sys, arch);

    /* socket: anything but AF_VSOCK (40), which reaches the host's hypervisor sockets. */
    cJSON *sock = rule("socket", "SCMP_ACT_ALLOW");
    add_arg(sock, 0, 40, 0, "SCMP_CMP_NE");
    cJSON_AddItemToArray(sys, sock);

    /* personality: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and the query
     * 0xffffffff. Others (e.g. READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE) weaken the process. */
    static const double personas[] = {0, 8, 131072, 131080, 4294967295.0};
    for (size_t i = 0; i < N(personas); i++) {
        cJSON *r = rule("personality", "SCMP_ACT_ALLOW");
        add_arg(r, 0, personas[i], 0, "SCMP_CMP_EQ");
        cJSON_AddItemToArray(sys, r);
    }

    /* clone: no new namespaces. s390 passes the flags as the second argument. */
    cJSON *clone = rule("clone", "SCMP_ACT_ALLOW");
#if defined(__s390__) || defined(__s390x__)
    add_arg(clone, 1, CLONE_NAMESPACE_FLAGS, 0, "SCMP_CMP_MASKED_EQ");
#else
    add_arg(clone, 0, CLONE_NAMESPACE_FLAGS, 0, "SCMP_CMP_MASKED_EQ");
#endif
    cJSON_AddItemToArray(sys, clone);

    cJSON *clone3 = rule("clone3", "SCMP_ACT_ERRNO");
    cJSON_AddNumberToObject(clone3, "errnoRet", 38); /* ENOSYS: libc falls back to clone */
    cJSON_AddItemToArray(sys, clone3);
    return p;
}
