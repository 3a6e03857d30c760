/* `minik token create|list|delete`: node-join tokens, managed by the API server (as
 * admin, through the API, so it works from any machine with the admin kubeconfig). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "lib/cleanup.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/client.h"
#include "proto/kubeconfig.h"

static const char *data_dir;
static const char *kubeconfig;
static const char *ttl_s;
static const char *description;

static const minik_cli_flag_t flags[] = {
    {"data-dir", 0, MINIK_FLAG_STRING, &data_dir, "DIR",
     "use DIR/admin.conf of a server on this machine (default /var/lib/minik)"},
    {"kubeconfig", 0, MINIK_FLAG_STRING, &kubeconfig, "FILE",
     "an admin kubeconfig, for a server elsewhere"},
    {"ttl", 0, MINIK_FLAG_STRING, &ttl_s, "DURATION",
     "create: the token can join a node only within this time (e.g. 24h; default: no expiry)"},
    {"description", 0, MINIK_FLAG_STRING, &description, "TEXT",
     "create: a note shown by token list (at most 255 characters)"},
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik token create [--ttl 24h] [--description TEXT] | list | delete ID "
             "[--data-dir DIR | --kubeconfig FILE]",
    .summary = "Create, list and delete node-join tokens",
    .description =
        "create prints K10<sha256 of the cluster CA>::<id>.<secret> on its last line: the\n"
        "agent checks the server's CA against the hash before it sends the secret\n"
        "(minik agent --server URL --token T). The agent then exchanges the join token for\n"
        "its node's own credential (listed with its node, no expiry) and the join token is\n"
        "spent: it works once. A node credential may only touch its Node, its pods (and their\n"
        "status) and events. delete revokes a token: deleting a node's credential cuts the\n"
        "node off from its next request.",
    .flags = flags,
    .min_args = 1,
    .max_args = 2,
};

static int connect_admin(minik_client_t **client, minik_error_t **err)
{
    cleanup_free char *conf =
        kubeconfig ? xstrdup(kubeconfig)
                   : xasprintf("%s/admin.conf", data_dir ? data_dir : "/var/lib/minik");
    minik_client_config_t cfg = {0};
    int r = minik_kubeconfig_load(conf, NULL, &cfg, err);
    if (r == 0)
        r = minik_client_new(&cfg, client, err);
    minik_client_config_clear(&cfg);
    return r;
}

static int do_create(minik_client_t *client)
{
    cleanup_error minik_error_t *err = NULL;
    cleanup_cjson cJSON *body = cJSON_CreateObject();
    if (ttl_s) {
        int64_t ms = 0;
        if (minik_str_to_duration_ms(ttl_s, &ms, "--ttl", &err) < 0 || ms < 1000) {
            fprintf(stderr, "error: --ttl %s: want a duration of at least 1s, like 24h or 90m\n",
                    ttl_s);
            return MINIK_EXIT_USAGE;
        }
        cJSON_AddNumberToObject(body, "ttlSeconds", (double)(ms / 1000));
    }
    if (description)
        cJSON_AddStringToObject(body, "description", description);
    cleanup_cjson cJSON *out = NULL;
    if (minik_client_json(client, "POST", "/apis/minik.io/v1/tokens", NULL, body, &out, &err) < 0)
        return minik_cli_fail(err);
    const char *tok = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(out, "token"));
    if (!tok) {
        fprintf(stderr, "error: the server's reply carries no token\n");
        return MINIK_EXIT_ERROR;
    }
    printf("%s\n", tok);
    return MINIK_EXIT_OK;
}

static const char *str_or(const cJSON *o, const char *key, const char *dflt)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return v && *v ? v : dflt;
}

static int do_list(minik_client_t *client)
{
    cleanup_error minik_error_t *err = NULL;
    cleanup_cjson cJSON *out = NULL;
    if (minik_client_json(client, "GET", "/apis/minik.io/v1/tokens", NULL, NULL, &out, &err) < 0)
        return minik_cli_fail(err);
    printf("%-10s %-6s %-20s %-21s %-21s %s\n", "ID", "ROLE", "NODE", "CREATED", "EXPIRES",
           "DESCRIPTION");
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(out, "items"))
    {
        printf("%-10s %-6s %-20s %-21s %-21s %s\n", str_or(it, "id", "?"), str_or(it, "role", "?"),
               str_or(it, "node", "<none>"), str_or(it, "created", "-"),
               str_or(it, "expires", "never"), str_or(it, "description", ""));
    }
    return MINIK_EXIT_OK;
}

static int do_delete(minik_client_t *client, const char *id)
{
    cleanup_error minik_error_t *err = NULL;
    cleanup_free char *path = xasprintf("/apis/minik.io/v1/tokens/%s", id);
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) {
            fprintf(stderr,
                    "error: token id \"%s\": want the 8 hex characters shown by "
                    "minik token list\n",
                    id);
            return MINIK_EXIT_USAGE;
        }
    if (minik_client_json(client, "DELETE", path, NULL, NULL, NULL, &err) < 0)
        return minik_cli_fail(err);
    printf("token %s deleted\n", id);
    return MINIK_EXIT_OK;
}

int minik_cmd_token(int argc, char **argv)
{
    int first = 0;
    int r = minik_cli_parse(&spec, argc, argv, &first);
    if (r != 0)
        return minik_cli_parse_exit(r);
    const char *sub = argv[first];
    int nargs = argc - first - 1;
    bool create = strcmp(sub, "create") == 0, list = strcmp(sub, "list") == 0,
         del = strcmp(sub, "delete") == 0;
    if (!create && !list && !del)
        return minik_cli_usage_error(
            &spec, "unknown token subcommand \"%s\" (want: create, list, delete)", sub);
    if (del != (nargs == 1))
        return minik_cli_usage_error(
            &spec, del ? "token delete needs the token's ID" : "token %s takes no arguments", sub);
    if (!create && (ttl_s || description))
        return minik_cli_usage_error(&spec, "--ttl and --description only apply to create");
    cleanup_error minik_error_t *err = NULL;
    cleanup_client minik_client_t *client = NULL;
    if (connect_admin(&client, &err) < 0)
        return minik_cli_fail(err);
    if (create)
        return do_create(client);
    if (list)
        return do_list(client);
    return do_delete(client, argv[first + 1]);
}
