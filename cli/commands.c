/* The dispatch table: one row per subcommand, in the order `minik --help` lists them. */
#include "cli/cli.h"
#include "cli/commands.h"

const minik_command_t minik_commands[] = {
    {"server", "Run the control plane (API server and store)", minik_cmd_server, false},
    {"apply", "Create or update objects from manifests (FILE, DIR or -)", minik_cmd_apply, false},
    {"get", "Display one or many objects", minik_cmd_get, false},
    {"describe", "Show details of objects, with their events", minik_cmd_describe, false},
    {"delete", "Delete objects by name or by manifest", minik_cmd_delete, false},
    {"diff", "Diff live objects against what apply would make of a manifest", minik_cmd_diff,
     false},
    {"scale", "Set the number of replicas of a Deployment", minik_cmd_scale, false},
    {"api-resources", "Print the supported API resources", minik_cmd_api_resources, false},
    {"logs", "Print the logs of a container in a pod", minik_cmd_logs, false},
    {"agent", "Join a cluster as a node and run its pods", minik_cmd_agent, false},
    {"token", "Create node-join tokens", minik_cmd_token, false},
    {"version", "Print version information", minik_cmd_version, false},
    {"backup", "Copy the cluster state database to a file", minik_cmd_backup, false},
    {"restore", "Replace the cluster state database by a backup", minik_cmd_restore, false},
    {"oci", "Run OCI bundles (create, start, state, kill, delete, run)", minik_cmd_oci, false},
    {"shim", "Internal: per-container shim", minik_cmd_shim, true},
    {"image", "Pull, import, list and remove images on this node", minik_cmd_image, false},
    {"rollout", "Manage a Deployment's rollout: status, history, undo, restart", minik_cmd_rollout,
     false},
    {"node", "Cordon, uncordon or drain a node", minik_cmd_node, false},
    {0},
};
