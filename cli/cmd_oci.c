/* `minik oci create|start|state|kill|delete|run`: an OCI-runtime command line over the
 * runtime the agent uses, behaving like runc for those verbs, and the hidden `minik shim`
 * mode the runtime re-executes itself in. */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/runtime/oci.h"
#include "agent/runtime/shim.h"
#include "agent/runtime/state.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/cleanup.h"
#include "lib/str.h"

static const char *root_flag;
static const char *bundle_flag;
static const char *pid_file_flag;
static const char *log_path_flag;
static const char *log_max_size_flag;
static const char *log_max_files_flag;
static const char *preserve_fds_flag;
static const char *ready_fd_flag;
static bool force_flag, all_flag, detach_flag;

#define ROOT_FLAG                                                                                  \
    {                                                                                              \
        "root", 0, MINIK_FLAG_STRING, &root_flag, "DIR",                                           \
            "state directory (default " MINIK_OCI_DEFAULT_ROOT ")"                                 \
    }
#define CREATE_FLAGS                                                                               \
    ROOT_FLAG, {"bundle",     'b',   MINIK_FLAG_STRING,                                            \
                &bundle_flag, "DIR", "bundle with config.json (default .)"},                       \
        {"pid-file",     0,      MINIK_FLAG_STRING,                                                \
         &pid_file_flag, "FILE", "write the container's pid here"},                                \
        {"log-path",                                                                               \
         0,                                                                                        \
         MINIK_FLAG_STRING,                                                                        \
         &log_path_flag,                                                                           \
         "FILE",                                                                                   \
         "CRI log of the container's stdout/stderr (default: inherit this stdio)"},                \
        {"log-max-size",     0,      MINIK_FLAG_STRING,                                            \
         &log_max_size_flag, "SIZE", "rotate the log at this size (e.g. 10Mi; default 10Mi)"},     \
        {"log-max-files",     0,   MINIK_FLAG_STRING,                                              \
         &log_max_files_flag, "N", "log files to keep, current one included (default 5)"},         \
    {                                                                                              \
        "preserve-fds", 0, MINIK_FLAG_STRING, &preserve_fds_flag, "N",                             \
            "pass fds 3 .. 3+N-1 to the container"                                                 \
    }

static const minik_cli_flag_t create_flags[] = {CREATE_FLAGS, {0}};
static const minik_cli_flag_t run_flags[] = {
    CREATE_FLAGS,
    {"detach", 'd', MINIK_FLAG_BOOL, &detach_flag, NULL, "return once the container runs"},
    {0},
};
static const minik_cli_flag_t root_flags[] = {ROOT_FLAG, {0}};
static const minik_cli_flag_t kill_flags[] = {
    ROOT_FLAG,
    {"all", 'a', MINIK_FLAG_BOOL, &all_flag, NULL, "signal every process of the container"},
    {0},
};
static const minik_cli_flag_t delete_flags[] = {
    ROOT_FLAG,
    {"force", 'f', MINIK_FLAG_BOOL, &force_flag, NULL, "kill a running container first"},
    {0},
};
static const minik_cli_flag_t shim_flags[] = {
    CREATE_FLAGS,
    {"ready-fd", 0, MINIK_FLAG_STRING, &ready_fd_flag, "FD", "report readiness on this fd"},
    {0},
};

static const minik_cli_spec_t create_spec = {
    .usage = "minik oci create [flags] ID",
    .summary = "Create a container from an OCI bundle; it waits for `start`",
    .flags = create_flags,
    .min_args = 1,
    .max_args = 1,
};
static const minik_cli_spec_t start_spec = {
    .usage = "minik oci start [--root DIR] ID",
    .summary = "Start a created container's process",
    .flags = root_flags,
    .min_args = 1,
    .max_args = 1,
};
static const minik_cli_spec_t state_spec = {
    .usage = "minik oci state [--root DIR] ID",
    .summary = "Print a container's state as OCI runtime-spec JSON",
    .flags = root_flags,
    .min_args = 1,
    .max_args = 1,
};
static const minik_cli_spec_t kill_spec = {
    .usage = "minik oci kill [--root DIR] [--all] ID [SIGNAL]",
    .summary = "Send a signal (name like TERM/SIGTERM or number; default TERM) to a container",
    .flags = kill_flags,
    .min_args = 1,
    .max_args = 2,
};
static const minik_cli_spec_t delete_spec = {
    .usage = "minik oci delete [--root DIR] [--force] ID",
    .summary = "Delete a container: its processes, cgroup and state",
    .flags = delete_flags,
    .min_args = 1,
    .max_args = 1,
};
static const minik_cli_spec_t run_spec = {
    .usage = "minik oci run [flags] ID",
    .summary = "Create and start a container, wait for it and exit with its exit code",
    .flags = run_flags,
    .min_args = 1,
    .max_args = 1,
};
static const minik_cli_spec_t oci_spec = {
    .usage = "minik oci <create|start|state|kill|delete|run> [flags] ID",
    .summary = "Run OCI bundles with minik's runtime (an OCI runtime command line, like runc)",
    .description = "Commands:\n"
                   "  create   create a container from a bundle; it waits for `start`\n"
                   "  start    start a created container\n"
                   "  state    print a container's state as JSON\n"
                   "  kill     send a signal to a container\n"
                   "  delete   delete a container\n"
                   "  run      create + start, wait, exit with the container's exit code\n"
                   "Exit codes: 0 ok, 1 error, 2 usage; `run` exits with the container's code.",
    .flags = root_flags,
    .min_args = 0,
    .max_args = -1,
};
static const minik_cli_spec_t shim_spec = {
    .usage = "minik shim [flags] ID",
    .summary = "Internal: the per-container shim process",
    .flags = shim_flags,
    .min_args = 1,
    .max_args = 1,
};

static void reset_flags(void)
{
    bundle_flag = pid_file_flag = log_path_flag = log_max_size_flag = NULL;
    log_max_files_flag = preserve_fds_flag = ready_fd_flag = NULL;
    force_flag = all_flag = detach_flag = false;
}

static const char *root_dir(void)
{
    return root_flag ? root_flag : MINIK_OCI_DEFAULT_ROOT;
}

/* "10Mi", "512k", "1G", "4096" into bytes. */
static int parse_size(const char *s, uint64_t *out, minik_error_t **err)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno || s[0] == '-')
        return minik_error_set(err, EINVAL, "--log-max-size: \"%s\" is not a size", s);
    uint64_t mult = 1;
    switch (toupper((unsigned char)*end)) {
    case '\0':
        break;
    case 'K':
        mult = 1024;
        end++;
        break;
    case 'M':
        mult = 1024 * 1024;
        end++;
        break;
    case 'G':
        mult = 1024ULL * 1024 * 1024;
        end++;
        break;
    default:
        return minik_error_set(err, EINVAL, "--log-max-size: \"%s\" is not a size", s);
    }
    if (*end == 'i' || *end == 'B')
        end++;
    if (*end != '\0')
        return minik_error_set(err, EINVAL, "--log-max-size: \"%s\" is not a size", s);
    *out = v * mult;
    return 0;
}

static int create_opts(minik_oci_create_opts_t *o, minik_error_t **err)
{
    *o = (minik_oci_create_opts_t){
        .root = root_dir(),
        .bundle = bundle_flag ? bundle_flag : ".",
        .pid_file = pid_file_flag,
        .log_path = log_path_flag,
        .log_max_size = 10 * 1024 * 1024,
        .log_max_files = 5,
    };
    int64_t v;
    if (log_max_size_flag && parse_size(log_max_size_flag, &o->log_max_size, err) < 0)
        return -1;
    if (log_max_files_flag) {
        if (minik_str_to_i64(log_max_files_flag, 1, 1000, &v, "--log-max-files", err) < 0)
            return -1;
        o->log_max_files = (int)v;
    }
    if (preserve_fds_flag) {
        if (minik_str_to_i64(preserve_fds_flag, 0, 1000, &v, "--preserve-fds", err) < 0)
            return -1;
        o->preserve_fds = (int)v;
    }
    return 0;
}

static int do_create(int argc, char **argv)
{
    int first;
    int r = minik_cli_parse(&create_spec, argc, argv, &first);
    if (r)
        return minik_cli_parse_exit(r);
    cleanup_error minik_error_t *err = NULL;
    minik_oci_create_opts_t o;
    pid_t pid;
    if (create_opts(&o, &err) < 0)
        return minik_cli_usage_error(&create_spec, "%s", err->msg);
    if (minik_oci_create(&o, argv[first], &pid, &err) < 0)
        return minik_cli_fail(err);
    return MINIK_EXIT_OK;
}

static int do_start(int argc, char **argv)
{
    int first;
    int r = minik_cli_parse(&start_spec, argc, argv, &first);
    if (r)
        return minik_cli_parse_exit(r);
    cleanup_error minik_error_t *err = NULL;
    if (minik_oci_start(root_dir(), argv[first], &err) < 0)
        return minik_cli_fail(err);
    return MINIK_EXIT_OK;
}

static int do_state(int argc, char **argv)
{
    int first;
    int r = minik_cli_parse(&state_spec, argc, argv, &first);
    if (r)
        return minik_cli_parse_exit(r);
    cleanup_error minik_error_t *err = NULL;
    minik_oci_state_t *st = NULL;
    const char *status = NULL;
    if (minik_oci_load(root_dir(), argv[first], &st, &status, &err) < 0)
        return minik_cli_fail(err);
    cleanup_cjson cJSON *j = minik_oci_state_to_json(st, status);
    cleanup_free char *text = cJSON_Print(j);
    printf("%s\n", text);
    minik_oci_state_free(st);
    return MINIK_EXIT_OK;
}

static int do_kill(int argc, char **argv)
{
    int first;
    int r = minik_cli_parse(&kill_spec, argc, argv, &first);
    if (r)
        return minik_cli_parse_exit(r);
    cleanup_error minik_error_t *err = NULL;
    int sig = SIGTERM;
    if (argc - first == 2 && minik_signal_parse(argv[first + 1], &sig, &err) < 0)
        return minik_cli_usage_error(&kill_spec, "%s", err->msg);
    if (minik_oci_kill(root_dir(), argv[first], sig, all_flag, &err) < 0)
        return minik_cli_fail(err);
    return MINIK_EXIT_OK;
}

static int do_delete(int argc, char **argv)
{
    int first;
    int r = minik_cli_parse(&delete_spec, argc, argv, &first);
    if (r)
        return minik_cli_parse_exit(r);
    cleanup_error minik_error_t *err = NULL;
    if (minik_oci_delete(root_dir(), argv[first], force_flag, &err) < 0) {
        /* runc: deleting a missing container with --force is not an error. */
        if (force_flag && err->errnum == ENOENT)
            return MINIK_EXIT_OK;
        return minik_cli_fail(err);
    }
    return MINIK_EXIT_OK;
}

static volatile pid_t forward_to;

static void forward_signal(int sig)
{
    pid_t p = forward_to;
    if (p > 0)
        kill(p, sig);
}

static int do_run(int argc, char **argv)
{
    int first;
    int r = minik_cli_parse(&run_spec, argc, argv, &first);
    if (r)
        return minik_cli_parse_exit(r);
    const char *id = argv[first];
    cleanup_error minik_error_t *err = NULL;
    minik_oci_create_opts_t o;
    pid_t pid;
    if (create_opts(&o, &err) < 0)
        return minik_cli_usage_error(&run_spec, "%s", err->msg);
    if (minik_oci_create(&o, id, &pid, &err) < 0)
        return minik_cli_fail(err);
    if (minik_oci_start(o.root, id, &err) < 0) {
        minik_error_t *ignored = NULL;
        minik_oci_delete(o.root, id, true, &ignored);
        minik_error_free(ignored);
        return minik_cli_fail(err);
    }
    if (detach_flag)
        return MINIK_EXIT_OK;
    /* Like runc run: signals sent to us go to the container. */
    struct sigaction sa = {.sa_handler = forward_signal};
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
    int code = 0;
    r = minik_oci_wait(o.root, id, &code, &forward_to, &err);
    if (r < 0)
        return minik_cli_fail(err);
    minik_error_t *derr = NULL;
    if (minik_oci_delete(o.root, id, true, &derr) < 0) {
        minik_cli_fail(derr);
        minik_error_free(derr);
    }
    return code;
}

int minik_cmd_oci(int argc, char **argv)
{
    reset_flags();
    root_flag = NULL;
    /* Global flags before the verb, runc style: minik oci --root DIR create ... */
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
            root_flag = argv[i + 1];
            i += 2;
        } else if (minik_str_has_prefix(argv[i], "--root=")) {
            root_flag = argv[i] + 7;
            i++;
        } else {
            break;
        }
    }
    if (i >= argc || argv[i][0] == '-') {
        int r = minik_cli_parse(&oci_spec, argc, argv, NULL);
        if (r)
            return minik_cli_parse_exit(r);
        return minik_cli_usage_error(&oci_spec, "missing command");
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } verbs[] = {
        {"create", do_create}, {"start", do_start},   {"state", do_state},
        {"kill", do_kill},     {"delete", do_delete}, {"run", do_run},
    };
    for (size_t k = 0; k < sizeof verbs / sizeof verbs[0]; k++)
        if (strcmp(argv[i], verbs[k].name) == 0)
            return verbs[k].fn(argc - i, argv + i);
    return minik_cli_usage_error(&oci_spec, "unknown command \"%s\"", argv[i]);
}

int minik_cmd_shim(int argc, char **argv)
{
    reset_flags();
    root_flag = NULL;
    int first;
    int r = minik_cli_parse(&shim_spec, argc, argv, &first);
    if (r)
        return minik_cli_parse_exit(r);
    cleanup_error minik_error_t *err = NULL;
    minik_oci_create_opts_t o;
    int64_t ready = -1;
    if (create_opts(&o, &err) < 0 ||
        (ready_fd_flag &&
         minik_str_to_i64(ready_fd_flag, 0, 65535, &ready, "--ready-fd", &err) < 0))
        return minik_cli_usage_error(&shim_spec, "%s", err->msg);
    minik_shim_opts_t so = {
        .root = o.root,
        .id = argv[first],
        .bundle = o.bundle,
        .log_path = o.log_path,
        .log_max_size = o.log_max_size,
        .log_max_files = o.log_max_files,
        .preserve_fds = o.preserve_fds,
        .ready_fd = (int)ready,
    };
    return minik_shim_run(&so);
}
