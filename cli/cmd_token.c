/* `minik token create`: a new node-join token, made by the API server (as admin, through
 * the API, so it works from any machine with the admin kubeconfig). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "proto/client.h"
#include "proto/kubeconfig.h"

static const char *data_dir;
static const char *kubeconfig;

static const minik_cli_flag_t flags[] = {
    {"data-dir", 0, MINIK_FLAG_STRING, &data_dir, "DIR",
     "use DIR/admin.conf of a server on this machine (default /var/lib/minik)"},
    {"kubeconfig", 0, MINIK_FLAG_STRING, &kubeconfig, "FILE",
     "an admin kubeconfig, for a server elsewhere"},
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik token create [--data-dir DIR | --kubeconfig FILE]",
    .summary = "Create a node-join token (printed on the last line)",
    .description = "The token lets one node agent register itself: its first request that\n"
                   "names a Node binds the token to that node, and from then on it may only\n"
                   "touch that Node, the pods bound to it (and their status) and events.",
    .flags = flags,
    .min_args = 1,
    .max_args = 1,
};

int minik_cmd_token(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    if (strcmp(argv[first], "create") != 0)
        return minik_cli_usage_error(&spec, "unknown token subcommand \"%s\" (want: create)",
                                     argv[first]);
    cleanup_free char *conf =
        kubeconfig ? xstrdup(kubeconfig)
                   : xasprintf("%s/admin.conf", data_dir ? data_dir : "/var/lib/minik");
    cleanup_error minik_error_t *err = NULL;
    minik_client_config_t cfg = {0};
    cleanup_client minik_client_t *client = NULL;
    r = minik_kubeconfig_load(conf, NULL, &cfg, &err);
    if (r == 0)
        r = minik_client_new(&cfg, &client, &err);
    minik_client_config_clear(&cfg);
    if (r < 0)
        return minik_cli_fail(err);
    cleanup_cjson cJSON *out = NULL;
    if (minik_client_json(client, "POST", "/apis/minik.io/v1/tokens", NULL, NULL, &out, &err) < 0)
        return minik_cli_fail(err);
    const char *tok = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(out, "token"));
    if (!tok) {
        fprintf(stderr, "error: the server's reply carries no token\n");
        return MINIK_EXIT_ERROR;
    }
    printf("%s\n", tok);
    return MINIK_EXIT_OK;
}
