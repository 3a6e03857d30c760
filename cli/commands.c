/* The dispatch table: one row per subcommand, in the order `minik --help` lists them. */
#include "cli/cli.h"
#include "cli/commands.h"

const minik_command_t minik_commands[] = {
    {"server", "Run the control plane (API server and store)", minik_cmd_server, false},
    {"token", "Create node-join tokens", minik_cmd_token, false},
    {"version", "Print version information", minik_cmd_version, false},
    {"backup", "Copy the cluster state database to a file", minik_cmd_backup, false},
    {"restore", "Replace the cluster state database by a backup", minik_cmd_restore, false},
    {"apply", "Apply manifests (FILE, DIR or -); --dry-run=client checks them locally",
     minik_cmd_apply, false},
    {0},
};
