/* Unit tests for the cgroup drivers over temp directories laid out like cgroup2, cgroup v1
 * and hybrid hosts: the files the drivers write are checked for their exact contents. The
 * real kernel hierarchies are exercised by tests/e2e/cgroup.bats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "agent/runtime/cgroup.h"
#include "agent/runtime/cgroup_internal.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/xalloc.h"

static char *tmp_root;

static void put(const char *rel, const char *content)
{
    cleanup_free char *p = xasprintf("%s/%s", tmp_root, rel);
    cleanup_free char *dir = xstrdup(p);
    *strrchr(dir, '/') = '\0';
    assert_int_equal(minik_mkdir_p(dir, 0755, NULL), 0);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static char *get(const char *rel)
{
    cleanup_free char *p = xasprintf("%s/%s", tmp_root, rel);
    char *data = NULL;
    if (minik_file_read(p, 1 << 20, &data, NULL, NULL) < 0)
        return xstrdup("<missing>");
    return data;
}

#define assert_file(rel, want)                                                                     \
    do {                                                                                           \
        cleanup_free char *got_ = get(rel);                                                        \
        assert_string_equal(got_, want);                                                           \
    } while (0)

/* A real child standing in for a container process: paused until a signal ends it, its pid
 * written to `procs` (a cgroup.procs file under the fake root). */
static pid_t stand_in(const char *procs)
{
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        pause();
        _exit(0);
    }
    char pid[64];
    snprintf(pid, sizeof(pid), "%ld\n", (long)child);
    put(procs, pid);
    return child;
}

/* minik_cgroup_kill(cg, sig) must end the stand-in with sig; the stand-in is reaped either way
 * (never left behind by a failing test). */
static void expect_kill_delivers(minik_cgroup_t *cg, pid_t child, int sig)
{
    cleanup_error minik_error_t *err = NULL;
    if (minik_cgroup_kill(cg, sig, &err) < 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        fail_msg("%s", err->msg);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), sig);
}

static bool exists(const char *rel)
{
    cleanup_free char *p = xasprintf("%s/%s", tmp_root, rel);
    return access(p, F_OK) == 0;
}

static cJSON *json(const char *s)
{
    cJSON *j = cJSON_Parse(s);
    assert_non_null(j);
    return j;
}

static int setup(void **state)
{
    char t[] = "/tmp/minik-cgtest-XXXXXX";
    assert_non_null(mkdtemp(t));
    tmp_root = xstrdup(t);
    minik_cgroup_set_root(tmp_root);
    return 0;
}

static int teardown(void **state)
{
    minik_error_t *err = NULL;
    minik_rm_rf(tmp_root, &err);
    minik_error_free(err);
    free(tmp_root);
    tmp_root = NULL;
    minik_cgroup_set_root(NULL);
    return 0;
}

/* ---- layouts ------------------------------------------------------------------------------ */

static const char *const v2_files[] = {
    "cgroup.procs",  "memory.max",    "memory.swap.max", "memory.low",  "cpu.weight",
    "cpu.max",       "pids.max",      "cpuset.cpus",     "cpuset.mems", "cgroup.kill",
    "cgroup.freeze", "cpu.max.burst", "memory.high",
};

static void layout_v2(const char *group)
{
    put("cgroup.controllers", "cpuset cpu io memory pids\n");
    put("cgroup.subtree_control", "");
    put("cgroup.procs", "");
    for (size_t i = 0; i < sizeof(v2_files) / sizeof(v2_files[0]); i++) {
        cleanup_free char *p = xasprintf("%s/%s", group, v2_files[i]);
        put(p, "");
    }
}

static const char *const v1_files[][2] = {
    {"memory", "memory.limit_in_bytes"},
    {"memory", "memory.memsw.limit_in_bytes"},
    {"memory", "memory.soft_limit_in_bytes"},
    {"memory", "memory.swappiness"},
    {"memory", "memory.oom_control"},
    {"memory", "cgroup.procs"},
    {"cpu", "cpu.shares"},
    {"cpu", "cpu.cfs_quota_us"},
    {"cpu", "cpu.cfs_period_us"},
    {"cpu", "cgroup.procs"},
    {"cpuacct", "cgroup.procs"},
    {"cpuset", "cpuset.cpus"},
    {"cpuset", "cpuset.mems"},
    {"cpuset", "cgroup.procs"},
    {"pids", "pids.max"},
    {"pids", "cgroup.procs"},
    {"devices", "devices.allow"},
    {"devices", "devices.deny"},
    {"devices", "cgroup.procs"},
    {"freezer", "freezer.state"},
    {"freezer", "cgroup.procs"},
};

static void layout_v1(const char *group)
{
    for (size_t i = 0; i < sizeof(v1_files) / sizeof(v1_files[0]); i++) {
        cleanup_free char *root = xasprintf("%s/cgroup.procs", v1_files[i][0]);
        put(root, "");
        cleanup_free char *p = xasprintf("%s%s/%s", v1_files[i][0], group, v1_files[i][1]);
        put(p, "");
    }
    cleanup_free char *lim = xasprintf("memory%s/memory.limit_in_bytes", group);
    put(lim, "9223372036854771712\n");
}

/* ---- paths and conversions --------------------------------------------------------------- */

static void path_normalize_table(void **state)
{
    static const char *const ok[][2] = {
        {"/minik/abc", "/minik/abc"},       {"minik:abc", "/minik/abc"},
        {"//minik///abc/", "/minik/abc"},   {"system.slice:minik:abc", "/system.slice/minik-abc"},
        {":minik:abc", "/minik/minik-abc"}, {"relative/x", "/relative/x"},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        cleanup_free char *out = NULL;
        cleanup_error minik_error_t *err = NULL;
        assert_int_equal(minik_cgroup_path_normalize(ok[i][0], &out, &err), 0);
        assert_string_equal(out, ok[i][1]);
    }
    static const char *const bad[] = {"", "/", "/minik/../etc", "a:b:c:d", "/x/./y"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cleanup_free char *out = NULL;
        cleanup_error minik_error_t *err = NULL;
        assert_true(minik_cgroup_path_normalize(bad[i], &out, &err) < 0);
        assert_non_null(err);
        assert_non_null(strstr(err->msg, "cgroupsPath"));
        assert_null(out);
    }
}

/* The conversion table of runc >= 1.3.2 (opencontainers/cgroups PR "cpu weight: a better
 * shares conversion"): 2 -> 1, 1024 -> 100 (both defaults), 262144 -> 10000. */
static void shares_to_weight_table(void **state)
{
    static const uint64_t t[][2] = {
        {0, 0},          {1, 1},          {2, 1},          {3, 2},        {10, 4},
        {64, 12},        {128, 21},       {256, 35},       {512, 59},     {1024, 100},
        {2048, 174},     {4096, 303},     {10000, 627},    {65536, 3023}, {100000, 4340},
        {262143, 10000}, {262144, 10000}, {500000, 10000},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        assert_int_equal(minik_cgroup_shares_to_weight(t[i][0]), t[i][1]);
}

/* ---- resources parsing ------------------------------------------------------------------- */

static void resources_errors_name_the_field(void **state)
{
    static const char *const cases[][2] = {
        {"[]", "resources: expected an object"},
        {"{\"memory\":5}", "resources.memory: expected an object"},
        {"{\"memory\":{\"limit\":\"1G\"}}", "resources.memory.limit: expected an integer"},
        {"{\"memory\":{\"limit\":1.5}}", "resources.memory.limit: expected an integer, got 1.5"},
        {"{\"memory\":{\"limit\":-5}}", "resources.memory.limit: -5 is out of range"},
        {"{\"memory\":{\"limit\":100000,\"swap\":50000}}", "resources.memory.swap: 50000 is below"},
        {"{\"memory\":{\"swappiness\":101}}", "resources.memory.swappiness: 101 is out of range"},
        {"{\"memory\":{\"disableOOMKiller\":1}}",
         "resources.memory.disableOOMKiller: expected true or false"},
        {"{\"cpu\":{\"shares\":1}}", "resources.cpu.shares: 1 is below the minimum 2"},
        {"{\"cpu\":{\"shares\":300000}}", "resources.cpu.shares: 300000 is out of range"},
        {"{\"cpu\":{\"period\":10}}", "resources.cpu.period: 10 is below the minimum 1000"},
        {"{\"cpu\":{\"cpus\":\"0-1;rm\"}}", "resources.cpu.cpus: \"0-1;rm\" is not a list"},
        {"{\"cpu\":{\"mems\":7}}", "resources.cpu.mems: expected a string"},
        {"{\"pids\":{\"limit\":true}}", "resources.pids.limit: expected an integer"},
        {"{\"devices\":{}}", "resources.devices: expected an array"},
        {"{\"devices\":[{\"allow\":true},{\"type\":\"c\"}]}",
         "resources.devices[1].allow: required"},
        {"{\"devices\":[{\"allow\":true,\"type\":\"x\"}]}",
         "resources.devices[0].type: expected \"a\", \"b\" or \"c\""},
        {"{\"devices\":[{\"allow\":true,\"access\":\"rwx\"}]}",
         "resources.devices[0].access: \"rwx\": only r, w and m"},
        {"{\"devices\":[{\"allow\":true,\"major\":-2}]}", "resources.devices[0].major: -2 is out"},
        {"{\"unified\":{\"../etc/x\":\"1\"}}", "resources.unified[\"../etc/x\"]: not a controller"},
        {"{\"unified\":{\"cgroup.procs\":\"1\"}}", "not a controller file"},
        {"{\"unified\":{\"memory.high\":5}}", "resources.unified.memory.high: expected a string"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cleanup_cjson cJSON *j = json(cases[i][0]);
        cleanup_error minik_error_t *err = NULL;
        cg_resources_t r;
        assert_true(cg_resources_parse(j, true, &r, &err) < 0);
        assert_non_null(err);
        if (strstr(err->msg, cases[i][1]) == NULL)
            fail_msg("case %zu %s: got \"%s\", want \"%s\"", i, cases[i][0], err->msg, cases[i][1]);
    }
}

static void resources_devices_deny_all_then_spec_then_defaults(void **state)
{
    cleanup_cjson cJSON *j = json("{\"devices\":[{\"allow\":true,\"type\":\"c\",\"major\":10,"
                                  "\"minor\":229,\"access\":\"wr\"}]}");
    cg_resources_t r;
    assert_int_equal(cg_resources_parse(j, true, &r, NULL), 0);
    size_t n_def = 0;
    cg_default_devices(&n_def);
    assert_true(r.has_devices);
    assert_int_equal(r.n_devices, 1 + 1 + n_def);
    char line[64];
    cg_device_rule_format(&r.devices[0], line);
    assert_false(r.devices[0].allow);
    assert_string_equal(line, "a *:* rwm");
    cg_device_rule_format(&r.devices[1], line);
    assert_string_equal(line, "c 10:229 rw"); /* access normalised to r, w, m order */
    cg_device_rule_format(&r.devices[2], line);
    assert_string_equal(line, "c 1:3 rwm"); /* /dev/null first among the defaults */
    cg_resources_clear(&r);

    /* An update that does not mention devices leaves them alone. */
    cleanup_cjson cJSON *u = json("{\"pids\":{\"limit\":5}}");
    assert_int_equal(cg_resources_parse(u, false, &r, NULL), 0);
    assert_false(r.has_devices);
    assert_true(r.has_pids_limit);
    cg_resources_clear(&r);
}

/* ---- the v2 device filter program ----------------------------------------------------------- */

/* A tiny interpreter for the instructions cg_devices_bpf_build emits, so the program's
 * decisions can be checked for any device without a kernel (the e2e suite attaches the
 * real thing). */
static int run_dev_prog(const struct bpf_insn *p, size_t n, uint32_t type, uint32_t access,
                        uint32_t major, uint32_t minor)
{
    uint64_t r[11] = {0};
    const uint32_t ctx[3] = {type | (access << 16), major, minor};
    for (size_t pc = 0; pc < n; pc++) {
        const struct bpf_insn *i = &p[pc];
        switch (i->code) {
        case BPF_LDX | BPF_MEM | BPF_W:
            assert_int_equal(i->src_reg, 1);
            r[i->dst_reg] = ctx[i->off / 4];
            break;
        case BPF_ALU64 | BPF_MOV | BPF_X:
            r[i->dst_reg] = r[i->src_reg];
            break;
        case BPF_ALU64 | BPF_MOV | BPF_K:
            r[i->dst_reg] = (uint64_t)(int64_t)i->imm;
            break;
        case BPF_ALU | BPF_AND | BPF_K:
            r[i->dst_reg] = (uint32_t)r[i->dst_reg] & (uint32_t)i->imm;
            break;
        case BPF_ALU | BPF_RSH | BPF_K:
            r[i->dst_reg] = (uint32_t)r[i->dst_reg] >> i->imm;
            break;
        case BPF_JMP | BPF_JNE | BPF_K:
            if (r[i->dst_reg] != (uint64_t)(int64_t)i->imm)
                pc += (size_t)i->off;
            break;
        case BPF_JMP | BPF_JEQ | BPF_K:
            if (r[i->dst_reg] == (uint64_t)(int64_t)i->imm)
                pc += (size_t)i->off;
            break;
        case BPF_JMP | BPF_EXIT:
            return (int)r[0];
        default:
            fail_msg("unexpected instruction %#x at %zu", i->code, pc);
        }
    }
    fail_msg("program fell off its end");
    return -1;
}

#define C BPF_DEVCG_DEV_CHAR
#define B BPF_DEVCG_DEV_BLOCK
#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD

static void device_filter_decisions(void **state)
{
    cleanup_cjson cJSON *j = json("{\"devices\":["
                                  "{\"allow\":true,\"type\":\"c\",\"major\":10,\"minor\":229,"
                                  "\"access\":\"rw\"},"
                                  "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":11,"
                                  "\"access\":\"rw\"},"
                                  "{\"allow\":false,\"type\":\"c\",\"major\":1,\"minor\":11,"
                                  "\"access\":\"w\"}]}");
    cg_resources_t r;
    assert_int_equal(cg_resources_parse(j, true, &r, NULL), 0);
    void *insns = NULL;
    size_t n = 0;
    assert_int_equal(cg_devices_bpf_build(r.devices, r.n_devices, &insns, &n, NULL), 0);
    const struct bpf_insn *p = insns;
    static const struct {
        uint32_t type, access, major, minor;
        int want;
    } t[] = {
        {C, R, 1, 3, 1},        {C, R | W, 1, 3, 1},      {C, M, 1, 3, 1},      /* /dev/null */
        {C, R | W, 10, 229, 1}, {C, M, 10, 229, 1},                             /* spec + mknod */
        {C, R, 1, 11, 1},       {C, W, 1, 11, 0},         {C, R | W, 1, 11, 0}, /* last rule wins */
        {B, R, 8, 0, 0},        {B, M, 8, 0, 1},                           /* block: mknod only */
        {C, R | W, 136, 5, 1},  {C, R | W, 136, 4242, 1},                  /* pts wildcard */
        {C, R, 4, 1, 0},        {C, R, 1, 1, 0},          {C, W, 5, 1, 1}, /* tty0, mem, console */
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int got = run_dev_prog(p, n, t[i].type, t[i].access, t[i].major, t[i].minor);
        if (got != t[i].want)
            fail_msg("case %zu (%c %u:%u access %u): got %d want %d", i, t[i].type == C ? 'c' : 'b',
                     t[i].major, t[i].minor, t[i].access, got, t[i].want);
    }
    /* The leading deny-all is a catch-all: no unreachable default epilogue after it. */
    assert_int_equal(p[n - 1].code, BPF_JMP | BPF_EXIT);
    assert_int_equal(p[n - 2].imm, 0);
    free(insns);
    cg_resources_clear(&r);

    /* A deny after an allow removes only its accesses; an allow after a deny re-opens only
     * what it lists. */
    const cg_device_rule_t layered[] = {{true, 'c', 1, 11, "rwm"},
                                        {false, 'c', 1, 11, "w"},
                                        {true, 'c', 1, 12, "r"},
                                        {false, 'c', 1, 12, "rw"},
                                        {true, 'c', 1, 12, "r"}};
    assert_int_equal(cg_devices_bpf_build(layered, 5, &insns, &n, NULL), 0);
    p = insns;
    assert_int_equal(run_dev_prog(p, n, C, R | M, 1, 11), 1);
    assert_int_equal(run_dev_prog(p, n, C, W, 1, 11), 0);
    assert_int_equal(run_dev_prog(p, n, C, R, 1, 12), 1);
    assert_int_equal(run_dev_prog(p, n, C, R | W, 1, 12), 0);
    free(insns);

    /* Without a catch-all, anything unmatched is denied by the epilogue. */
    const cg_device_rule_t only[] = {{true, 'c', 1, 3, "r"}};
    assert_int_equal(cg_devices_bpf_build(only, 1, &insns, &n, NULL), 0);
    p = insns;
    assert_int_equal(run_dev_prog(p, n, C, R, 1, 3), 1);
    assert_int_equal(run_dev_prog(p, n, C, W, 1, 3), 0);
    assert_int_equal(run_dev_prog(p, n, B, R, 1, 3), 0);
    assert_int_equal(run_dev_prog(p, n, C, R, 1, 5), 0);
    free(insns);
}

/* ---- v2 ---------------------------------------------------------------------------------- */

static const char *full_spec = "{\"memory\":{\"limit\":536870912,\"swap\":805306368,"
                               "\"reservation\":268435456},"
                               "\"cpu\":{\"shares\":1024,\"quota\":50000,\"period\":100000,"
                               "\"cpus\":\"0-1\",\"mems\":\"0\"},"
                               "\"pids\":{\"limit\":100},"
                               "\"unknownField\":{\"ignored\":true}}";

static void v2_create_writes_translated_limits(void **state)
{
    layout_v2("minik/t1");
    put("minik/cgroup.controllers", "cpu memory pids\n");
    put("minik/cgroup.subtree_control", "pids\n");
    cleanup_cjson cJSON *res = json(full_spec);
    cleanup_error minik_error_t *err = NULL;
    minik_cgroup_t *cg = NULL;
    assert_int_equal(minik_cgroup_detect(NULL), MINIK_CGROUP_MODE_V2);
    if (minik_cgroup_create("minik:t1", res, &cg, &err) < 0)
        fail_msg("%s", err->msg);
    assert_string_equal(minik_cgroup_path(cg), "/minik/t1");
    assert_file("minik/t1/memory.max", "536870912");
    assert_file("minik/t1/memory.swap.max", "268435456"); /* swap - limit */
    assert_file("minik/t1/memory.low", "268435456");
    assert_file("minik/t1/cpu.weight", "100");
    assert_file("minik/t1/cpu.max", "50000 100000");
    assert_file("minik/t1/pids.max", "100");
    assert_file("minik/t1/cpuset.cpus", "0-1");
    assert_file("minik/t1/cpuset.mems", "0");
    /* Controllers enabled one per write in every ancestor; pids is the last one wanted. */
    assert_file("cgroup.subtree_control", "+pids");
    assert_file("minik/cgroup.subtree_control", "+memory"); /* pids was on already */

    /* Update: unlimited memory (swap follows), quota removed, pids unlimited, unified. */
    cleanup_cjson cJSON *upd = json("{\"memory\":{\"limit\":-1},\"cpu\":{\"quota\":-1},"
                                    "\"pids\":{\"limit\":-1},"
                                    "\"unified\":{\"memory.high\":\"400000000\"}}");
    if (minik_cgroup_update(cg, upd, &err) < 0)
        fail_msg("%s", err->msg);
    assert_file("minik/t1/memory.max", "max");
    assert_file("minik/t1/memory.swap.max", "max");
    assert_file("minik/t1/cpu.max", "max");
    assert_file("minik/t1/pids.max", "max");
    assert_file("minik/t1/memory.high", "400000000");
    assert_file("minik/t1/cpu.weight", "100"); /* untouched */
    minik_cgroup_free(cg);
}

static void v2_swap_without_limit_is_refused(void **state)
{
    layout_v2("minik/t2");
    cleanup_cjson cJSON *res = json("{\"memory\":{\"swap\":1000000}}");
    cleanup_error minik_error_t *err = NULL;
    minik_cgroup_t *cg = NULL;
    assert_true(minik_cgroup_create("/minik/t2", res, &cg, &err) < 0);
    assert_non_null(strstr(err->msg, "resources.memory.swap: needs resources.memory.limit"));
    assert_null(cg);
}

static void v2_missing_controller_fails_and_rolls_back(void **state)
{
    put("cgroup.controllers", "memory\n");
    put("cgroup.subtree_control", "");
    cleanup_cjson cJSON *res = json("{\"pids\":{\"limit\":10}}");
    cleanup_error minik_error_t *err = NULL;
    minik_cgroup_t *cg = NULL;
    assert_true(minik_cgroup_create("/minik/t3", res, &cg, &err) < 0);
    assert_non_null(strstr(err->msg, "pids.max"));
    assert_non_null(strstr(err->msg, "cgroup /minik/t3"));
    assert_false(exists("minik/t3"));
}

static void v2_stats_pids_and_kill(void **state)
{
    layout_v2("minik/t4");
    minik_cgroup_t *cg = NULL;
    cleanup_error minik_error_t *err = NULL;
    if (minik_cgroup_create("/minik/t4", NULL, &cg, &err) < 0)
        fail_msg("%s", err->msg);
    put("minik/t4/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
    put("minik/t4/memory.current", "1000000\n");
    put("minik/t4/memory.stat", "anon 4096\nfile 300000\ninactive_file 200000\n");
    put("minik/t4/memory.max", "max\n");
    put("minik/t4/memory.events", "low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\n");
    put("minik/t4/pids.current", "3\n");
    put("minik/t4/pids.max", "100\n");
    minik_cgroup_stats_t st;
    assert_int_equal(minik_cgroup_stats(cg, &st, NULL), 0);
    assert_int_equal(st.cpu_usage_ns, 1500000);
    assert_int_equal(st.memory_usage_bytes, 800000);
    assert_true(st.memory_limit_bytes == UINT64_MAX);
    assert_int_equal(st.oom_kills, 2);
    assert_int_equal(st.pids_current, 3);
    assert_int_equal(st.pids_limit, 100);

    /* A real child stands in for a container process: the fallback path (freeze, signal
     * each pid, thaw) must deliver SIGTERM to it and leave the group thawed. */
    pid_t child = stand_in("minik/t4/cgroup.procs");
    pid_t *pids = NULL;
    size_t n = 0;
    assert_int_equal(minik_cgroup_pids(cg, &pids, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(pids[0], child);
    free(pids);
    expect_kill_delivers(cg, child, SIGTERM);
    assert_file("minik/t4/cgroup.freeze", "0");
    assert_file("minik/t4/cgroup.kill", "");

    /* SIGKILL goes through cgroup.kill in one write. */
    assert_int_equal(minik_cgroup_kill(cg, SIGKILL, NULL), 0);
    assert_file("minik/t4/cgroup.kill", "1");
    minik_cgroup_free(cg);
}

static void v2_oom_fd_signals_on_memory_events_change(void **state)
{
    layout_v2("minik/t5");
    put("minik/t5/memory.events", "oom_kill 0\n");
    minik_cgroup_t *cg = NULL;
    assert_int_equal(minik_cgroup_create("/minik/t5", NULL, &cg, NULL), 0);
    int fd = minik_cgroup_oom_fd(cg, NULL);
    assert_true(fd >= 0);
    struct pollfd p = {fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 0), 0);
    put("minik/t5/memory.events", "oom_kill 1\n");
    assert_int_equal(poll(&p, 1, 1000), 1);
    minik_cgroup_oom_drain(fd);
    assert_int_equal(poll(&p, 1, 0), 0);
    close(fd);
    minik_cgroup_free(cg);
}

static void v2_destroy_removes_and_open_fails(void **state)
{
    put("cgroup.controllers", "");
    minik_cgroup_t *cg = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_int_equal(minik_cgroup_create("/minik/t6", NULL, &cg, NULL), 0);
    assert_true(exists("minik/t6"));
    put("minik/t6/cgroup.procs", "");
    minik_cgroup_t *again = NULL;
    assert_int_equal(minik_cgroup_open("/minik/t6", &again, NULL), 0);
    minik_cgroup_free(again);
    cleanup_free char *procs = xasprintf("%s/minik/t6/cgroup.procs", tmp_root);
    unlink(procs);
    assert_int_equal(minik_cgroup_destroy(cg, NULL), 0);
    assert_false(exists("minik/t6"));
    assert_int_equal(minik_cgroup_destroy(cg, NULL), 0); /* idempotent */
    minik_cgroup_free(cg);
    assert_int_equal(minik_cgroup_open("/minik/t6", &again, &err), -ENOENT);
    assert_non_null(strstr(err->msg, "/minik/t6 does not exist"));
}

/* ---- v1 and hybrid ----------------------------------------------------------------------- */

static void v1_create_writes_limits(void **state)
{
    layout_v1("/minik/t7");
    cleanup_cjson cJSON *res = json(full_spec);
    cleanup_error minik_error_t *err = NULL;
    minik_cgroup_t *cg = NULL;
    assert_int_equal(minik_cgroup_detect(NULL), MINIK_CGROUP_MODE_V1);
    if (minik_cgroup_create("/minik/t7", res, &cg, &err) < 0)
        fail_msg("%s", err->msg);
    assert_file("memory/minik/t7/memory.limit_in_bytes", "536870912");
    assert_file("memory/minik/t7/memory.memsw.limit_in_bytes", "805306368");
    assert_file("memory/minik/t7/memory.soft_limit_in_bytes", "268435456");
    assert_file("cpu/minik/t7/cpu.shares", "1024");
    assert_file("cpu/minik/t7/cpu.cfs_period_us", "100000");
    assert_file("cpu/minik/t7/cpu.cfs_quota_us", "50000");
    assert_file("cpuset/minik/t7/cpuset.cpus", "0-1");
    assert_file("cpuset/minik/t7/cpuset.mems", "0");
    assert_file("pids/minik/t7/pids.max", "100");
    /* Devices: deny all, then (last written) the final default rule. */
    assert_file("devices/minik/t7/devices.deny", "a *:* rwm");
    assert_file("devices/minik/t7/devices.allow", "b *:* m");
    assert_true(exists("cpuacct/minik/t7"));
    assert_true(exists("freezer/minik/t7"));
    assert_false(exists("unified")); /* pure v1: no unified group */

    /* Raising the memory+swap total writes memsw first: the kernel checks limit <= memsw
     * at each step. (In a temp dir both orders "work"; the values must be right.) */
    cleanup_cjson cJSON *upd = json("{\"memory\":{\"limit\":-1},\"pids\":{\"limit\":-1},"
                                    "\"cpu\":{\"quota\":-1}}");
    if (minik_cgroup_update(cg, upd, &err) < 0)
        fail_msg("%s", err->msg);
    assert_file("memory/minik/t7/memory.limit_in_bytes", "-1");
    assert_file("memory/minik/t7/memory.memsw.limit_in_bytes", "-1");
    assert_file("pids/minik/t7/pids.max", "max");
    assert_file("cpu/minik/t7/cpu.cfs_quota_us", "-1");

    cleanup_cjson cJSON *uni = json("{\"unified\":{\"memory.high\":\"1\"}}");
    assert_true(minik_cgroup_update(cg, uni, &err) < 0);
    assert_non_null(strstr(err->msg, "resources.unified: needs a cgroup v2 host (this one is v1)"));
    minik_cgroup_free(cg);
}

static void v1_stats_from_v1_files(void **state)
{
    layout_v1("/minik/t8");
    minik_cgroup_t *cg = NULL;
    assert_int_equal(minik_cgroup_create("/minik/t8", NULL, &cg, NULL), 0);
    put("cpuacct/minik/t8/cpuacct.usage", "123456789\n");
    put("memory/minik/t8/memory.usage_in_bytes", "5000000\n");
    put("memory/minik/t8/memory.stat", "cache 100\ninactive_file 5\ntotal_inactive_file 1000000\n");
    put("memory/minik/t8/memory.limit_in_bytes", "9223372036854771712\n");
    put("memory/minik/t8/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n");
    put("pids/minik/t8/pids.current", "7\n");
    put("pids/minik/t8/pids.max", "max\n");
    minik_cgroup_stats_t st;
    cleanup_error minik_error_t *err = NULL;
    if (minik_cgroup_stats(cg, &st, &err) < 0)
        fail_msg("%s", err->msg);
    assert_int_equal(st.cpu_usage_ns, 123456789);
    assert_int_equal(st.memory_usage_bytes, 4000000);
    assert_true(st.memory_limit_bytes == UINT64_MAX);
    assert_int_equal(st.oom_kills, 4);
    assert_int_equal(st.pids_current, 7);
    assert_true(st.pids_limit == UINT64_MAX);
    minik_cgroup_free(cg);
}

static void v1_swap_without_accounting_is_an_error(void **state)
{
    layout_v1("/minik/t9");
    cleanup_free char *memsw =
        xasprintf("%s/memory/minik/t9/memory.memsw.limit_in_bytes", tmp_root);
    unlink(memsw);
    cleanup_cjson cJSON *res = json("{\"memory\":{\"limit\":1000000,\"swap\":2000000}}");
    cleanup_error minik_error_t *err = NULL;
    minik_cgroup_t *cg = NULL;
    assert_true(minik_cgroup_create("/minik/t9", res, &cg, &err) < 0);
    assert_non_null(strstr(err->msg, "resources.memory.swap: swap accounting is not enabled"));
}

static void hybrid_enters_unified_too_and_kills_through_it(void **state)
{
    layout_v1("/minik/t10");
    put("unified/cgroup.controllers", "hugetlb\n");
    put("unified/minik/t10/cgroup.procs", "");
    put("unified/minik/t10/cgroup.kill", "");
    assert_int_equal(minik_cgroup_detect(NULL), MINIK_CGROUP_MODE_HYBRID);
    cleanup_cjson cJSON *res = json("{\"pids\":{\"limit\":20}}");
    minik_cgroup_t *cg = NULL;
    cleanup_error minik_error_t *err = NULL;
    if (minik_cgroup_create("/minik/t10", res, &cg, &err) < 0)
        fail_msg("%s", err->msg);
    assert_file("pids/minik/t10/pids.max", "20");
    assert_int_equal(minik_cgroup_enter(cg, 4242, NULL), 0);
    static const char *const where[] = {"memory", "cpu",     "cpuacct", "cpuset",
                                        "pids",   "devices", "freezer", "unified"};
    for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
        cleanup_free char *p = xasprintf("%s/minik/t10/cgroup.procs", where[i]);
        assert_file(p, "4242");
    }
    /* No freezer write: SIGKILL goes to the unified group's cgroup.kill. */
    assert_int_equal(minik_cgroup_kill(cg, SIGKILL, NULL), 0);
    assert_file("unified/minik/t10/cgroup.kill", "1");
    assert_file("freezer/minik/t10/freezer.state", "");
    minik_cgroup_free(cg);
}

static void v1_kill_freezes_signals_thaws(void **state)
{
    layout_v1("/minik/t11");
    minik_cgroup_t *cg = NULL;
    assert_int_equal(minik_cgroup_create("/minik/t11", NULL, &cg, NULL), 0);
    pid_t child = stand_in("freezer/minik/t11/cgroup.procs");
    expect_kill_delivers(cg, child, SIGKILL);
    assert_file("freezer/minik/t11/freezer.state", "THAWED");
    minik_cgroup_free(cg);
}

static void v1_kill_without_freezer_still_signals(void **state)
{
    layout_v1("/minik/t12");
    cleanup_free char *fz = xasprintf("%s/freezer", tmp_root);
    assert_int_equal(minik_rm_rf(fz, NULL), 0);
    minik_cgroup_t *cg = NULL;
    assert_int_equal(minik_cgroup_create("/minik/t12", NULL, &cg, NULL), 0);
    pid_t child = stand_in("pids/minik/t12/cgroup.procs");
    expect_kill_delivers(cg, child, SIGTERM);
    minik_cgroup_free(cg);
}

static void failed_create_leaves_no_directory(void **state)
{
    layout_v1("/minik/t13");
    static const char *const hier[] = {"memory", "cpu", "cpuacct", "cpuset", "devices", "freezer"};
    for (size_t i = 0; i < sizeof(hier) / sizeof(hier[0]); i++) {
        /* Only directories the driver makes itself (empty, so rmdir can remove them). */
        cleanup_free char *d = xasprintf("%s/%s/minik/t13", tmp_root, hier[i]);
        assert_int_equal(minik_rm_rf(d, NULL), 0);
    }
    /* pids comes last: making its directory fails after all the others exist. */
    cleanup_free char *pids = xasprintf("%s/pids/minik", tmp_root);
    assert_int_equal(minik_rm_rf(pids, NULL), 0);
    put("pids/minik", "not a directory");
    cleanup_error minik_error_t *err = NULL;
    minik_cgroup_t *cg = NULL;
    assert_true(minik_cgroup_create("/minik/t13", NULL, &cg, &err) < 0);
    assert_non_null(strstr(err->msg, "pids/minik/t13"));
    for (size_t i = 0; i < sizeof(hier) / sizeof(hier[0]); i++) {
        cleanup_free char *d = xasprintf("%s/minik/t13", hier[i]);
        if (exists(d))
            fail_msg("%s left behind", d);
    }
}

static void no_hierarchy_is_a_clear_error(void **state)
{
    cleanup_error minik_error_t *err = NULL;
    minik_cgroup_t *cg = NULL;
    assert_true(minik_cgroup_create("/minik/x", NULL, &cg, &err) < 0);
    assert_non_null(strstr(err->msg, "no cgroup hierarchy found under"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(path_normalize_table),
        cmocka_unit_test(shares_to_weight_table),
        cmocka_unit_test(resources_errors_name_the_field),
        cmocka_unit_test(resources_devices_deny_all_then_spec_then_defaults),
        cmocka_unit_test(device_filter_decisions),
        cmocka_unit_test_setup_teardown(v2_create_writes_translated_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(v2_swap_without_limit_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(v2_missing_controller_fails_and_rolls_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(v2_stats_pids_and_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(v2_oom_fd_signals_on_memory_events_change, setup, teardown),
        cmocka_unit_test_setup_teardown(v2_destroy_removes_and_open_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(v1_create_writes_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(v1_stats_from_v1_files, setup, teardown),
        cmocka_unit_test_setup_teardown(v1_swap_without_accounting_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(hybrid_enters_unified_too_and_kills_through_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(v1_kill_freezes_signals_thaws, setup, teardown),
        cmocka_unit_test_setup_teardown(v1_kill_without_freezer_still_signals, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_create_leaves_no_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(no_hierarchy_is_a_clear_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
