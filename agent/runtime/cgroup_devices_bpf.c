/* cgroup v2 device access control: an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE,
 * loaded and attached with the raw bpf(2) syscall (no libbpf).
 *
 * The kernel runs the program on every open/mknod of a device node by a process in the
 * group, with a struct bpf_cgroup_dev_ctx {access_type, major, minor}; returning 1 allows,
 * 0 denies (EPERM). The program checks the rules last to first so the last matching rule
 * wins, as writing them in order to v1 devices.allow/deny would; no match denies. */
#include "agent/runtime/cgroup_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/xalloc.h"

/* Registers: r1 = ctx on entry; we keep type in r2, access in r3, major in r4, minor in r5
 * and use r1 as scratch once the context has been read. */
#define INSN(c, d, s, o, i)                                                                        \
    ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define LDX_W(d, s, o)       INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0)
#define ALU32_IMM(op, d, i)  INSN(BPF_ALU | (op) | BPF_K, d, 0, 0, i)
#define MOV64_REG(d, s)      INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV64_IMM(d, i)      INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define JMP_IMM(op, d, i, o) INSN(BPF_JMP | (op) | BPF_K, d, 0, o, i)
#define EXIT_INSN()          INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Index of each "goto next rule" jump in a block, patched once the block length is known. */
#define MAX_BLOCK 8

static size_t rule_block(const cg_device_rule_t *r, struct bpf_insn *b)
{
    size_t n = 0, jumps[MAX_BLOCK], nj = 0;
    if (r->type != 'a') {
        jumps[nj++] = n;
        b[n++] = JMP_IMM(BPF_JNE, 2, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0);
    }
    int acc = (strchr(r->access, 'r') ? BPF_DEVCG_ACC_READ : 0) |
              (strchr(r->access, 'w') ? BPF_DEVCG_ACC_WRITE : 0) |
              (strchr(r->access, 'm') ? BPF_DEVCG_ACC_MKNOD : 0);
    if (acc != (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
        /* As v1's exception list: an allow rule covers a request only if every requested
         * access is in it; a deny rule hits any request that asks for one of its accesses
         * (deny "w" after allow "rw" leaves read-only). */
        b[n++] = MOV64_REG(1, 3);
        b[n++] = ALU32_IMM(BPF_AND, 1, r->allow ? ~acc : acc);
        jumps[nj++] = n;
        b[n++] = JMP_IMM(r->allow ? BPF_JNE : BPF_JEQ, 1, 0, 0);
    }
    if (r->major >= 0) {
        jumps[nj++] = n;
        b[n++] = JMP_IMM(BPF_JNE, 4, (int32_t)r->major, 0);
    }
    if (r->minor >= 0) {
        jumps[nj++] = n;
        b[n++] = JMP_IMM(BPF_JNE, 5, (int32_t)r->minor, 0);
    }
    b[n++] = MOV64_IMM(0, r->allow ? 1 : 0);
    b[n++] = EXIT_INSN();
    for (size_t j = 0; j < nj; j++)
        b[jumps[j]].off = (int16_t)(n - jumps[j] - 1);
    return n;
}

int cg_devices_bpf_build(const cg_device_rule_t *rules, size_t n, void **insns, size_t *n_insns,
                         minik_error_t **err)
{
    if (n > 4096)
        return minik_error_set(err, E2BIG, "resources.devices: %zu rules is too many", n);
    struct bpf_insn *p = xcalloc(6 + n * MAX_BLOCK + 2, sizeof(*p));
    size_t k = 0;
    /* Prologue: unpack struct bpf_cgroup_dev_ctx. */
    p[k++] = LDX_W(2, 1, 0); /* access_type */
    p[k++] = MOV64_REG(3, 2);
    p[k++] = ALU32_IMM(BPF_AND, 2, 0xffff); /* device type */
    p[k++] = ALU32_IMM(BPF_RSH, 3, 16);     /* access bits */
    p[k++] = LDX_W(4, 1, 4);                /* major */
    p[k++] = LDX_W(5, 1, 8);                /* minor */
    bool catch_all = false;
    for (size_t i = n; i-- > 0 && !catch_all;) {
        size_t len = rule_block(&rules[i], p + k);
        k += len;
        /* A rule with no condition ("a *:* rwm") matches everything: the rules before it
         * can never be reached, and the verifier refuses unreachable code. */
        catch_all = len == 2;
    }
    if (!catch_all) {
        p[k++] = MOV64_IMM(0, 0); /* nothing matched: deny */
        p[k++] = EXIT_INSN();
    }
    *insns = p;
    *n_insns = k;
    return 0;
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
    return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int prog_id(int fd, uint32_t *id)
{
    struct bpf_prog_info info;
    memset(&info, 0, sizeof(info));
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.info.bpf_fd = (uint32_t)fd;
    a.info.info_len = sizeof(info);
    a.info.info = (uint64_t)(uintptr_t)&info;
    if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0)
        return -errno;
    *id = info.id;
    return 0;
}

int cg_devices_bpf_apply(const char *dir, const cg_device_rule_t *rules, size_t n,
                         minik_error_t **err)
{
    cleanup_free void *insns = NULL;
    size_t n_insns = 0;
    int ret = cg_devices_bpf_build(rules, n, &insns, &n_insns, err);
    if (ret < 0)
        return ret;

    char log[4096] = "";
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    a.insns = (uint64_t)(uintptr_t)insns;
    a.insn_cnt = (uint32_t)n_insns;
    a.license = (uint64_t)(uintptr_t) "Apache";
    a.log_buf = (uint64_t)(uintptr_t)log;
    a.log_size = sizeof(log);
    a.log_level = 1;
    cleanup_close int prog = (int)sys_bpf(BPF_PROG_LOAD, &a);
    if (prog < 0) {
        /* Retry without a log: a full log buffer alone makes the load fail with ENOSPC. */
        a.log_buf = 0;
        a.log_size = 0;
        a.log_level = 0;
        prog = (int)sys_bpf(BPF_PROG_LOAD, &a);
        if (prog < 0)
            return minik_error_set(err, errno, "load device filter (bpf BPF_PROG_LOAD)%s%.200s",
                                   log[0] ? ": " : "", log);
    }

    cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return minik_error_set(err, errno, "open \"%s\"", dir);

    /* Attach the new program beside whatever is there (BPF_F_ALLOW_MULTI), then detach
     * every other program at this group: access stays filtered at every instant, which a
     * detach-then-attach would not guarantee. */
    memset(&a, 0, sizeof(a));
    a.target_fd = (uint32_t)dfd;
    a.attach_bpf_fd = (uint32_t)prog;
    a.attach_type = BPF_CGROUP_DEVICE;
    a.attach_flags = BPF_F_ALLOW_MULTI;
    if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
        return minik_error_set(err, errno, "attach device filter to \"%s\"", dir);

    uint32_t mine = 0;
    if ((ret = prog_id(prog, &mine)) < 0)
        return minik_error_set(err, -ret, "device filter id");
    uint32_t ids[64];
    memset(&a, 0, sizeof(a));
    a.query.target_fd = (uint32_t)dfd;
    a.query.attach_type = BPF_CGROUP_DEVICE;
    a.query.prog_ids = (uint64_t)(uintptr_t)ids;
    a.query.prog_cnt = 64;
    if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
        return minik_error_set(err, errno, "query device filters of \"%s\"", dir);
    uint32_t cnt = a.query.prog_cnt < 64 ? a.query.prog_cnt : 64;
    for (uint32_t i = 0; i < cnt; i++) {
        if (ids[i] == mine)
            continue;
        union bpf_attr g;
        memset(&g, 0, sizeof(g));
        g.prog_id = ids[i];
        cleanup_close int old = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &g);
        if (old < 0)
            continue; /* detached meanwhile */
        union bpf_attr d;
        memset(&d, 0, sizeof(d));
        d.target_fd = (uint32_t)dfd;
        d.attach_bpf_fd = (uint32_t)old;
        d.attach_type = BPF_CGROUP_DEVICE;
        if (sys_bpf(BPF_PROG_DETACH, &d) < 0 && errno != ENOENT)
            return minik_error_set(err, errno, "detach old device filter from \"%s\"", dir);
    }
    return 0;
}
