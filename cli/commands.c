/* The dispatch table: one row per subcommand, in the order `minik --help` lists them. */
#include "cli/cli.h"
#include "cli/commands.h"

const minik_command_t minik_commands[] = {
    {"version", "Print version information", minik_cmd_version, false},
    {"image", "Pull, import, list and remove images on this node", minik_cmd_image, false},
    {0},
};
