/* The dispatch table: one row per subcommand, in the order `minik --help` lists them. */
#include "cli/cli.h"
#include "cli/commands.h"

const minik_command_t minik_commands[] = {
    {"version", "Print version information", minik_cmd_version, false},
    {"oci", "Run OCI bundles (create, start, state, kill, delete, run)", minik_cmd_oci, false},
    {"shim", "Internal: per-container shim", minik_cmd_shim, true},
    {"backup", "Copy the cluster state database to a file", minik_cmd_backup, false},
    {"restore", "Replace the cluster state database by a backup", minik_cmd_restore, false},
    {0},
};
