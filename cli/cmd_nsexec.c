/* `minik nsexec` (internal): the agent's helper that runs a command inside a container. */
#include <stdio.h>
#include <stdlib.h>

#include "agent/nsexec.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/cleanup.h"
#include "lib/str.h"

static const char *pid_s, *bundle, *cgroup_path;
static bool tty;

static const minik_cli_flag_t flags[] = {
    {"pid", 0, MINIK_FLAG_STRING, &pid_s, "PID", "the container's init pid"},
    {"bundle", 0, MINIK_FLAG_STRING, &bundle, "DIR", "the container's bundle (config.json)"},
    {"cgroup", 0, MINIK_FLAG_STRING, &cgroup_path, "PATH", "the container's cgroupsPath"},
    {"tty", 0, MINIK_FLAG_BOOL, &tty, NULL, "stdin is a terminal: the command's controlling one"},
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik nsexec --pid PID --bundle DIR [--cgroup PATH] [--tty] -- CMD [ARG...]",
    .summary = "Internal: run a command inside a running container",
    .flags = flags,
    .min_args = 1,
    .max_args = -1,
};

int minik_cmd_nsexec(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    cleanup_error minik_error_t *err = NULL;
    int64_t pid = 0;
    if (!pid_s || !bundle || minik_str_to_i64(pid_s, 1, INT32_MAX, &pid, "--pid", &err) < 0)
        return minik_cli_usage_error(&spec, "%s",
                                     err ? err->msg : "--pid and --bundle are required");
    minik_nsexec_opts_t o = {
        .pid = (pid_t)pid,
        .bundle = bundle,
        .cgroup_path = cgroup_path,
        .argv = argv + first,
        .tty = tty,
    };
    int code = 0;
    if (minik_nsexec_run(&o, &code, &err) < 0) {
        fprintf(stderr, "exec: %s\n", err->msg);
        return 126;
    }
    return code;
}
