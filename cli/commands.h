/* One declaration per subcommand; each lives in cli/cmd_<name>.c. */
#ifndef MINIK_CLI_COMMANDS_H
#define MINIK_CLI_COMMANDS_H

int minik_cmd_server(int argc, char **argv);
int minik_cmd_token(int argc, char **argv);
int minik_cmd_logs(int argc, char **argv);
int minik_cmd_agent(int argc, char **argv);
int minik_cmd_version(int argc, char **argv);
int minik_cmd_backup(int argc, char **argv);
int minik_cmd_restore(int argc, char **argv);
int minik_cmd_apply(int argc, char **argv);
int minik_cmd_get(int argc, char **argv);
int minik_cmd_describe(int argc, char **argv);
int minik_cmd_delete(int argc, char **argv);
int minik_cmd_diff(int argc, char **argv);
int minik_cmd_scale(int argc, char **argv);
int minik_cmd_api_resources(int argc, char **argv);
int minik_cmd_oci(int argc, char **argv);
int minik_cmd_shim(int argc, char **argv);
int minik_cmd_image(int argc, char **argv);
int minik_cmd_rollout(int argc, char **argv);
int minik_cmd_node(int argc, char **argv);

#endif
