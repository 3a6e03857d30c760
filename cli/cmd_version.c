/* `minik version`: this binary's version, and the server's when a kubeconfig is found
 * (as kubectl version does), so a mismatch after an upgrade shows at a glance. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client_config.h"
#include "cli/commands.h"
#include "lib/cleanup.h"
#include "lib/version.h"
#include "proto/client.h"

static bool short_form;
static bool client_only;

static const minik_cli_flag_t flags[] = {
    {"short", 0, MINIK_FLAG_BOOL, &short_form, NULL,
     "print only this binary's version number (for scripts; implies --client)"},
    {"client", 0, MINIK_FLAG_BOOL, &client_only, NULL, "this binary only; do not ask a server"},
    MINIK_CLIENT_FLAG_ROWS,
    {0},
};

static const minik_cli_spec_t spec = {
    .usage = "minik version [--short] [--client] [--kubeconfig FILE]",
    .summary = "Print the version, git commit and build date of this binary and of the server",
    .description = "The server's line appears when a kubeconfig is found (--kubeconfig,\n"
                   "$MINIK_CONFIG, ~/.minik/config, /var/lib/minik/admin.conf); an unreachable\n"
                   "server is reported and the exit status is 1.",
    .flags = flags,
    .min_args = 0,
    .max_args = 0,
};

/* 0: printed the server's version; 1: none configured (nothing printed); -1: error. */
static int server_version(void)
{
    cleanup_error minik_error_t *err = NULL;
    /* Without any explicit way to a server, not finding a kubeconfig is not an error. */
    if (!minik_client_flags.kubeconfig && !minik_client_flags.server) {
        char *path = minik_cli_kubeconfig_path(NULL, &err);
        if (!path)
            return 1;
        free(path);
    }
    minik_client_config_t cfg = {0};
    cleanup_client minik_client_t *c = NULL;
    int r = minik_cli_client_config(&cfg, &err);
    if (r == 0) {
        cfg.timeout_ms = 5000;
        r = minik_client_new(&cfg, &c, &err);
    }
    minik_client_config_clear(&cfg);
    cleanup_cjson cJSON *v = NULL;
    if (r == 0)
        r = minik_client_json(c, "GET", "/version", NULL, NULL, &v, &err);
    if (r < 0) {
        fprintf(stderr, "error: server version: %s\n", err ? err->msg : "unknown error");
        return -1;
    }
    const char *gv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "gitVersion"));
    const char *gc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "gitCommit"));
    const char *bd = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "buildDate"));
    const char *ver = gv ? gv : "unknown";
    if (ver[0] == 'v')
        ver++;
    printf("server version %s\ngit commit:   %s\nbuild date:   %s\nserver:       %s\n", ver,
           gc ? gc : "unknown", bd ? bd : "unknown", minik_client_server(c));
    return 0;
}

int minik_cmd_version(int argc, char **argv)
{
    int r = minik_cli_parse(&spec, argc, argv, NULL);
    if (r != 0)
        return minik_cli_parse_exit(r);
    if (short_form)
        printf("%s\n", minik_version());
    else
        printf("minik version %s\ngit commit:   %s\nbuild date:   %s\n", minik_version(),
               minik_git_commit(), minik_build_date());
    if (client_only || short_form)
        return MINIK_EXIT_OK;
    return server_version() < 0 ? MINIK_EXIT_ERROR : MINIK_EXIT_OK;
}
