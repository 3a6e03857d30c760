/* The dispatch table: one row per subcommand, in the order `minik --help` lists them. */
#include "cli/cli.h"
#include "cli/commands.h"

const minik_command_t minik_commands[] = {
    {"version", "Print version information", minik_cmd_version, false},
    {"apply", "Apply manifests (FILE, DIR or -); --dry-run=client checks them locally",
     minik_cmd_apply, false},
    {0},
};
