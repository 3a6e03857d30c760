/* Unit tests for agent/runtime: the config.json parser, signals, container state files,
 * CRI log records and rotation, procfs verification and in-root path resolution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/runtime/crilog.h"
#include "agent/runtime/procfs.h"
#include "agent/runtime/rootfs.h"
#include "agent/runtime/spec.h"
#include "agent/runtime/state.h"
#include "lib/buf.h"
#include "lib/cleanup.h"
#include "lib/file.h"
#include "lib/xalloc.h"

static const char *base_config =
    "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\",\"-c\",\"true\"],"
    "\"env\":[\"PATH=/bin\"],\"cwd\":\"/\"},\"root\":{\"path\":\"rootfs\"},"
    "\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"pid\"}]}}";

/* Parse base_config with `patch` (a JSON object) merged over the top level. */
static int parse_with(const char *patch, minik_spec_t **out, minik_error_t **err)
{
    cleanup_cjson cJSON *base = cJSON_Parse(base_config);
    cleanup_cjson cJSON *p = cJSON_Parse(patch);
    assert_non_null(p);
    cJSON *item;
    cJSON_ArrayForEach(item, p)
    {
        cJSON_DeleteItemFromObjectCaseSensitive(base, item->string);
        cJSON_AddItemToObject(base, item->string, cJSON_Duplicate(item, true));
    }
    cleanup_free char *text = cJSON_PrintUnformatted(base);
    return minik_spec_parse(text, strlen(text), out, err);
}

static void expect_error(const char *patch, const char *msg)
{
    minik_spec_t *s = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_true(parse_with(patch, &s, &err) < 0);
    assert_null(s);
    assert_non_null(err);
    if (strstr(err->msg, msg) == NULL)
        fail_msg("error \"%s\" does not contain \"%s\"", err->msg, msg);
}

static void parses_a_full_config(void **state)
{
    const char *patch =
        "{\"process\":{\"args\":[\"/bin/app\",\"x\"],\"env\":[\"A=1\",\"B=2=3\"],\"cwd\":\"/srv\","
        "\"user\":{\"uid\":1000,\"gid\":100,\"additionalGids\":[10,20]},"
        "\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_NET_RAW\"],\"effective\":[\"CAP_KILL\"]"
        ","
        "\"permitted\":[\"CAP_KILL\"],\"ambient\":[],\"inheritable\":[\"CAP_KILL\"]},"
        "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":100,\"hard\":200}],"
        "\"noNewPrivileges\":true,\"oomScoreAdj\":-500},"
        "\"root\":{\"path\":\"/abs/rootfs\",\"readonly\":true},\"hostname\":\"h\","
        "\"mounts\":[{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/srv/data\","
        "\"options\":[\"rbind\",\"ro\",\"nosuid\",\"rslave\"]},"
        "{\"destination\":\"/"
        "tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"mode=1777\",\"size=1m\","
        "\"noexec\"]}],"
        "\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"uts\"},{\"type\":\"network\","
        "\"path\":\"/run/netns/x\"},{\"type\":\"ipc\"}],\"cgroupsPath\":\"/minik/x\","
        "\"resources\":{\"memory\":{\"limit\":1048576}},\"seccomp\":{\"defaultAction\":\"SCMP_ACT_"
        "ALLOW\"},"
        "\"sysctl\":{\"net.ipv4.ip_forward\":\"1\",\"kernel.shmmax\":\"100\"},"
        "\"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\"],"
        "\"devices\":[{\"path\":\"/dev/"
        "fuse\",\"type\":\"c\",\"major\":10,\"minor\":229,\"fileMode\":438}],"
        "\"rootfsPropagation\":\"rprivate\"},\"annotations\":{\"a\":\"b\"}}";
    minik_spec_t *s = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_int_equal(parse_with(patch, &s, &err), 0);
    assert_string_equal(s->args[0], "/bin/app");
    assert_string_equal(s->args[1], "x");
    assert_null(s->args[2]);
    assert_string_equal(s->env[1], "B=2=3");
    assert_string_equal(s->cwd, "/srv");
    assert_int_equal(s->uid, 1000);
    assert_int_equal(s->gid, 100);
    assert_int_equal(s->n_additional_gids, 2);
    assert_int_equal(s->additional_gids[1], 20);
    assert_true(s->caps_given);
    assert_int_equal(s->cap_bounding, (1ULL << 5) | (1ULL << 13));
    assert_int_equal(s->cap_effective, 1ULL << 5);
    assert_int_equal(s->cap_ambient, 0);
    assert_int_equal(s->n_rlimits, 1);
    assert_int_equal(s->rlimits[0].resource, RLIMIT_NOFILE);
    assert_int_equal(s->rlimits[0].hard, 200);
    assert_true(s->no_new_privileges);
    assert_true(s->has_oom_score_adj);
    assert_int_equal(s->oom_score_adj, -500);
    assert_true(s->root_readonly);
    assert_string_equal(s->hostname, "h");
    assert_int_equal(s->n_mounts, 2);
    assert_true(s->mounts[0].bind);
    assert_int_equal(s->mounts[0].flags, MS_REC | MS_RDONLY | MS_NOSUID);
    assert_int_equal(s->mounts[0].propagation, MS_SLAVE | MS_REC);
    assert_false(s->mounts[1].bind);
    assert_int_equal(s->mounts[1].flags, MS_NOEXEC);
    assert_string_equal(s->mounts[1].data, "mode=1777,size=1m");
    assert_non_null(minik_spec_namespace(s, CLONE_NEWUTS));
    assert_string_equal(minik_spec_namespace(s, CLONE_NEWNET)->path, "/run/netns/x");
    assert_null(minik_spec_namespace(s, CLONE_NEWPID));
    assert_string_equal(s->cgroups_path, "/minik/x");
    assert_non_null(s->resources);
    assert_non_null(s->seccomp);
    assert_int_equal(s->n_sysctls, 2);
    assert_string_equal(s->masked_paths[0], "/proc/kcore");
    assert_string_equal(s->readonly_paths[0], "/proc/sys");
    assert_int_equal(s->n_devices, 1);
    assert_int_equal(s->devices[0].minor, 229);
    assert_int_equal(s->devices[0].mode, 0666);
    assert_int_equal(s->rootfs_propagation, MS_PRIVATE | MS_REC);
    assert_non_null(s->annotations);
    minik_spec_free(s);
}

static void missing_capabilities_get_the_docker_defaults(void **state)
{
    minik_spec_t *s = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_int_equal(parse_with("{}", &s, &err), 0);
    assert_false(s->caps_given);
    assert_int_equal(s->cap_effective, 0xa80425fbULL);
    assert_int_equal(s->cap_bounding, 0xa80425fbULL);
    assert_int_equal(s->cap_permitted, 0xa80425fbULL);
    assert_int_equal(s->cap_ambient, 0);
    assert_string_equal(s->cwd, "/");
    assert_null(s->seccomp);
    minik_spec_free(s);
}

static void capability_names_round_trip(void **state)
{
    /* The one table: every number has a name that maps back to it, in kernel order. */
    for (int i = 0; i < MINIK_SPEC_CAP_COUNT; i++) {
        assert_non_null(minik_spec_cap_names[i]);
        assert_int_equal(minik_spec_cap_from_name(minik_spec_cap_names[i]), i);
        assert_string_equal(minik_spec_cap_name(i), minik_spec_cap_names[i]);
    }
    assert_int_equal(minik_spec_cap_from_name("CAP_NET_RAW"), 13);
    assert_int_equal(minik_spec_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
    assert_int_equal(minik_spec_cap_from_name("CAP_FLY"), -1);
    assert_string_equal(minik_spec_cap_name(MINIK_SPEC_CAP_COUNT), "CAP_UNKNOWN");
    assert_string_equal(minik_spec_cap_name(-1), "CAP_UNKNOWN");
    assert_int_equal(MINIK_SPEC_DEFAULT_CAPS & ~MINIK_SPEC_ALL_CAPS, 0);
}

static void errors_name_the_field(void **state)
{
    expect_error("{\"process\":{\"args\":[\"sh\",5]}}",
                 "config.json: process.args[1]: expected a string, got a number");
    expect_error("{\"process\":{\"args\":[]}}", "process.args: must name the program");
    expect_error("{\"process\":{\"args\":[\"sh\"],\"terminal\":true}}", "process.terminal");
    expect_error("{\"process\":{\"args\":[\"sh\"],\"cwd\":\"rel\"}}",
                 "process.cwd: \"rel\" is not an absolute path");
    expect_error("{\"process\":{\"args\":[\"sh\"],\"env\":[\"NOEQUALS\"]}}",
                 "process.env[0]: \"NOEQUALS\" is not NAME=VALUE");
    expect_error("{\"process\":{\"args\":[\"sh\"],\"user\":{\"uid\":-1}}}",
                 "process.user.uid: -1 is out of range");
    expect_error("{\"process\":{\"args\":[\"sh\"],\"capabilities\":{\"bounding\":[\"CAP_FLY\"]}}}",
                 "process.capabilities.bounding[0]: unknown capability \"CAP_FLY\"");
    expect_error("{\"process\":{\"args\":[\"sh\"],\"rlimits\":[{\"type\":\"RLIMIT_X\",\"soft\":1,"
                 "\"hard\":1}]}}",
                 "process.rlimits[0].type: unknown rlimit \"RLIMIT_X\"");
    expect_error("{\"process\":{\"args\":[\"sh\"],\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\","
                 "\"soft\":10,\"hard\":1}]}}",
                 "soft limit 10 is above the hard limit 1");
    expect_error("{\"process\":{\"args\":[\"sh\"],\"oomScoreAdj\":5000}}", "process.oomScoreAdj");
    expect_error("{\"root\":{}}", "root.path: missing");
    expect_error("{\"ociVersion\":\"0.9\"}", "ociVersion: \"0.9\" is not a 1.x runtime spec");
    expect_error("{\"mounts\":[{\"destination\":\"/a/../../etc\",\"type\":\"tmpfs\"}]}",
                 "mounts[0].destination");
    expect_error("{\"mounts\":[{\"destination\":\"/a\",\"type\":\"bind\"}]}",
                 "mounts[0]: a bind mount needs a \"source\"");
    expect_error("{\"hostname\":\"h\"}", "hostname: needs a \"uts\" entry");
    expect_error("{\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"time\"}]}}",
                 "linux.namespaces[1].type: unsupported namespace \"time\"");
    expect_error("{\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"pid\"},{\"type\":"
                 "\"pid\"}]}}",
                 "\"pid\" is listed twice");
    expect_error("{\"linux\":{\"namespaces\":[{\"type\":\"pid\"}]}}",
                 "a \"mount\" namespace is required");
    expect_error("{\"linux\":{\"namespaces\":[{\"type\":\"mount\",\"path\":\"/proc/1/ns/mnt\"}]}}",
                 "joining a mount namespace");
    expect_error("{\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"user\"}]}}",
                 "a new user namespace needs linux.uidMappings");
    expect_error("{\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],\"uidMappings\":[{"
                 "\"containerID\":0,\"hostID\":1,\"size\":1}]}}",
                 "mappings need a new user namespace");
    expect_error("{\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],\"sysctl\":{"
                 "\"kernel.core_pattern\":\"|/x\"}}}",
                 "\"kernel.core_pattern\" is not namespaced");
    expect_error("{\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],\"sysctl\":{"
                 "\"net.ipv4.ip_forward\":\"1\"}}}",
                 "needs the container's own network namespace");
    expect_error("{\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"network\"}],"
                 "\"sysctl\":{\"net/../../x\":\"1\"}}}",
                 "invalid key");
    expect_error("{\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],\"devices\":[{\"path\":\"/etc/"
                 "x\",\"type\":\"c\",\"major\":1,\"minor\":1}]}}",
                 "linux.devices[0]: \"path\" must be an absolute path under /dev");
    expect_error("{\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],\"rootfsPropagation\":\"x\"}}",
                 "linux.rootfsPropagation");
    expect_error("{\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],\"maskedPaths\":[\"rel\"]}}",
                 "linux.maskedPaths[0]");
    expect_error("{\"annotations\":{\"a\":1}}", "annotations.a: expected a string");
}

static void syntax_errors_have_line_and_column(void **state)
{
    const char *text = "{\n  \"ociVersion\": \"1.0.2\",\n  \"process\": {,\n}";
    minik_spec_t *s = NULL;
    cleanup_error minik_error_t *err = NULL;
    assert_true(minik_spec_parse(text, strlen(text), &s, &err) < 0);
    assert_non_null(strstr(err->msg, "config.json:3:"));
    assert_non_null(strstr(err->msg, "invalid JSON"));
}

static void signals_by_name_and_number(void **state)
{
    int sig = 0;
    cleanup_error minik_error_t *err = NULL;
    assert_int_equal(minik_signal_parse("TERM", &sig, &err), 0);
    assert_int_equal(sig, SIGTERM);
    assert_int_equal(minik_signal_parse("SIGKILL", &sig, &err), 0);
    assert_int_equal(sig, SIGKILL);
    assert_int_equal(minik_signal_parse("sigusr1", &sig, &err), 0);
    assert_int_equal(sig, SIGUSR1);
    assert_int_equal(minik_signal_parse("9", &sig, &err), 0);
    assert_int_equal(sig, 9);
    assert_true(minik_signal_parse("0", &sig, &err) < 0);
    minik_error_clear(&err);
    assert_true(minik_signal_parse("SIGFOO", &sig, &err) < 0);
    assert_non_null(strstr(err->msg, "invalid signal \"SIGFOO\""));
}

static void container_ids_are_checked(void **state)
{
    cleanup_error minik_error_t *err = NULL;
    assert_int_equal(minik_oci_id_check("web-1_a.b", &err), 0);
    assert_true(minik_oci_id_check("../x", &err) < 0);
    minik_error_clear(&err);
    assert_true(minik_oci_id_check("a/b", &err) < 0);
    minik_error_clear(&err);
    assert_true(minik_oci_id_check("", &err) < 0);
}

static char *make_tmp(void)
{
    char *d = xstrdup("/tmp/minik-test-runtime-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void state_and_exit_files_round_trip(void **state)
{
    cleanup_free char *dir = make_tmp();
    cleanup_error minik_error_t *err = NULL;
    cJSON *ann = cJSON_CreateObject();
    cJSON_AddStringToObject(ann, "k", "v");
    minik_oci_state_t st = {
        .oci_version = "1.0.2",
        .id = "c1",
        .bundle = "/b",
        .rootfs = "/b/rootfs",
        .created = "2026-11-26T00:00:00Z",
        .cgroup_path = "/minik/c1",
        .pid = getpid(),
        .shim_pid = getpid(),
        .annotations = ann,
    };
    assert_int_equal(minik_proc_start_time(getpid(), &st.pid_start), 0);
    st.shim_start = st.pid_start;
    assert_int_equal(minik_oci_state_write(dir, &st, &err), 0);
    minik_oci_state_t *back = NULL;
    assert_int_equal(minik_oci_state_read(dir, &back, &err), 0);
    assert_string_equal(back->id, "c1");
    assert_string_equal(back->cgroup_path, "/minik/c1");
    assert_int_equal(back->pid, getpid());
    assert_int_equal(back->pid_start, st.pid_start);
    assert_string_equal(cJSON_GetObjectItem(back->annotations, "k")->valuestring, "v");
    /* We are alive and there is no fifo and no exit file: running. */
    assert_string_equal(minik_oci_status(dir, back), "running");
    cleanup_free char *fifo = xasprintf("%s/exec.fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_string_equal(minik_oci_status(dir, back), "created");
    /* A recycled pid (different start time) is not our container. */
    back->pid_start++;
    assert_string_equal(minik_oci_status(dir, back), "stopped");
    back->pid_start--;
    cJSON *j = minik_oci_state_to_json(back, "stopped");
    assert_int_equal(cJSON_GetObjectItem(j, "pid")->valueint, 0);
    assert_string_equal(cJSON_GetObjectItem(j, "owner")->valuestring, "");
    cJSON_Delete(j);

    minik_oci_exit_t ex = {0};
    assert_int_equal(minik_oci_exit_read(dir, &ex, &err), 0);
    minik_oci_exit_t w = {.exit_code = 137, .signal = 9, .oom_killed = true, .error = "boom"};
    assert_int_equal(minik_oci_exit_write(dir, &w, &err), 0);
    assert_int_equal(minik_oci_exit_read(dir, &ex, &err), 1);
    assert_int_equal(ex.exit_code, 137);
    assert_int_equal(ex.signal, 9);
    assert_true(ex.oom_killed);
    assert_string_equal(ex.error, "boom");
    free(ex.error);
    assert_string_equal(minik_oci_status(dir, back), "stopped");
    minik_oci_state_free(back);
    cJSON_Delete(ann);
    assert_int_equal(minik_rm_rf(dir, &err), 0);
}

static void crilog_records_lines_and_pieces(void **state)
{
    struct timespec ts = {.tv_sec = 1795705465, .tv_nsec = 123456789};
    cleanup_buf minik_buf_t out = MINIK_BUF_INIT;
    cleanup_buf minik_buf_t pending = MINIK_BUF_INIT;
    minik_crilog_split(&out, &pending, &ts, MINIK_CRILOG_STDOUT, "one\ntw", 6);
    assert_string_equal(out.data, "2026-11-26T15:04:25.123456789Z stdout F one\n");
    assert_int_equal(pending.len, 2);
    minik_buf_reset(&out);
    minik_crilog_split(&out, &pending, &ts, MINIK_CRILOG_STDERR, "o\n\n", 3);
    assert_string_equal(out.data, "2026-11-26T15:04:25.123456789Z stderr F two\n"
                                  "2026-11-26T15:04:25.123456789Z stderr F \n");
    assert_int_equal(pending.len, 0);
    /* An over-long line is cut into P pieces; its end is an F record. */
    size_t n = MINIK_CRILOG_MAX_LINE * 2 + 10;
    cleanup_free char *big = xmalloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\n';
    minik_buf_reset(&out);
    minik_crilog_split(&out, &pending, &ts, MINIK_CRILOG_STDOUT, big, n + 1);
    size_t p = 0, f = 0;
    for (const char *c = out.data; (c = strstr(c, " stdout ")); c++)
        (c[8] == 'P') ? p++ : f++;
    assert_int_equal(p, 2);
    assert_int_equal(f, 1);
}

static void crilog_rotates_by_size(void **state)
{
    cleanup_free char *dir = make_tmp();
    cleanup_free char *path = xasprintf("%s/c.log", dir);
    cleanup_error minik_error_t *err = NULL;
    minik_crilog_t *l = NULL;
    assert_int_equal(minik_crilog_open(path, 300, 3, &l, &err), 0);
    for (int i = 0; i < 40; i++) {
        char line[32];
        int k = snprintf(line, sizeof line, "line-%02d\n", i);
        assert_int_equal(minik_crilog_write(l, MINIK_CRILOG_STDOUT, line, (size_t)k, &err), 0);
    }
    assert_int_equal(minik_crilog_write(l, MINIK_CRILOG_STDOUT, "partial", 7, &err), 0);
    assert_int_equal(minik_crilog_flush(l, MINIK_CRILOG_STDOUT, &err), 0);
    minik_crilog_free(l);
    cleanup_free char *p1 = xasprintf("%s.1", path);
    cleanup_free char *p2 = xasprintf("%s.2", path);
    cleanup_free char *p3 = xasprintf("%s.3", path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size <= 300);
    assert_int_equal(stat(p1, &st), 0);
    assert_true(st.st_size <= 300);
    assert_int_equal(stat(p2, &st), 0);
    assert_int_equal(stat(p3, &st), -1);
    cleanup_free char *text = NULL;
    assert_int_equal(minik_file_read(path, 4096, &text, NULL, &err), 0);
    assert_non_null(strstr(text, " stdout F partial\n"));
    assert_non_null(strstr(text, " stdout F line-39\n"));
    assert_int_equal(minik_rm_rf(dir, &err), 0);
}

static void procfs_is_verified(void **state)
{
    cleanup_error minik_error_t *err = NULL;
    cleanup_close int fd = minik_procfs_open("/proc", &err);
    assert_true(fd >= 0);
    /* Not procfs, or not its root: refused. */
    assert_true(minik_procfs_open("/tmp", &err) < 0);
    assert_non_null(strstr(err->msg, "is not the root of a procfs mount"));
    minik_error_clear(&err);
    assert_true(minik_procfs_open("/proc/self", &err) < 0);
    minik_error_clear(&err);
    /* Magic links are not followed for writes. */
    assert_true(minik_procfs_write(fd, "self/fd/0", "x", &err) < 0);
    minik_error_clear(&err);
    assert_true(minik_procfs_write(fd, "../etc/hostname", "x", &err) < 0);
    minik_error_clear(&err);
    char v[16];
    FILE *f = fopen("/proc/self/oom_score_adj", "r");
    assert_non_null(f);
    assert_non_null(fgets(v, sizeof v, f));
    fclose(f);
    assert_int_equal(minik_procfs_write(fd, "self/oom_score_adj", v, &err), 0);
}

static void paths_resolve_inside_the_root(void **state)
{
    cleanup_free char *root = make_tmp();
    cleanup_free char *outside = make_tmp();
    cleanup_error minik_error_t *err = NULL;
    /* A symlink pointing at a host directory, and one climbing with "..". */
    cleanup_free char *l1 = xasprintf("%s/abs", root);
    cleanup_free char *l2 = xasprintf("%s/rel", root);
    assert_int_equal(symlink(outside, l1), 0);
    cleanup_free char *climb = xasprintf("../../../../../../..%s", outside);
    assert_int_equal(symlink(climb, l2), 0);
    cleanup_free char *inside = xasprintf("%s%s", root, outside);
    assert_int_equal(minik_mkdir_p(inside, 0755, &err), 0);

    cleanup_close int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(rootfd >= 0);
    cleanup_close int a = minik_rootfs_mkpath(rootfd, "/abs/new", false, &err);
    assert_true(a >= 0);
    cleanup_close int b = minik_rootfs_mkpath(rootfd, "/rel/file", true, &err);
    assert_true(b >= 0);
    /* Both landed inside the root, nothing appeared outside. */
    cleanup_free char *in1 = xasprintf("%s/new", inside);
    cleanup_free char *in2 = xasprintf("%s/file", inside);
    struct stat st;
    assert_int_equal(stat(in1, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(stat(in2, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    cleanup_free char *out1 = xasprintf("%s/new", outside);
    assert_int_equal(stat(out1, &st), -1);
    /* Magic links are refused outright. */
    assert_true(minik_rootfs_open_in_root(rootfd, "/proc/self/root", O_PATH, &err) < 0);
    minik_error_clear(&err);
    assert_int_equal(minik_rm_rf(root, &err), 0);
    assert_int_equal(minik_rm_rf(outside, &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_a_full_config),
        cmocka_unit_test(missing_capabilities_get_the_docker_defaults),
        cmocka_unit_test(capability_names_round_trip),
        cmocka_unit_test(errors_name_the_field),
        cmocka_unit_test(syntax_errors_have_line_and_column),
        cmocka_unit_test(signals_by_name_and_number),
        cmocka_unit_test(container_ids_are_checked),
        cmocka_unit_test(state_and_exit_files_round_trip),
        cmocka_unit_test(crilog_records_lines_and_pieces),
        cmocka_unit_test(crilog_rotates_by_size),
        cmocka_unit_test(procfs_is_verified),
        cmocka_unit_test(paths_resolve_inside_the_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
