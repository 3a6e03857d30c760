#include "cli/client_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "proto/kubeconfig.h"
#include "proto/status_reason.h"

minik_client_flags_t minik_client_flags;

#define ADMIN_CONF "/var/lib/minik/admin.conf"

char *minik_cli_kubeconfig_path(const char *flag, minik_error_t **err)
{
    if (flag && *flag)
        return xstrdup(flag);
    const char *env = getenv("MINIK_CONFIG");
    if (env && *env)
        return xstrdup(env);
    const char *home = getenv("HOME");
    cleanup_free char *user = home && *home ? xasprintf("%s/.minik/config", home) : NULL;
    if (user && access(user, F_OK) == 0)
        return steal_pointer(&user);
    if (access(ADMIN_CONF, F_OK) == 0)
        return xstrdup(ADMIN_CONF);
    minik_error_set(err, 0,
                    "no kubeconfig found: pass --kubeconfig FILE, set $MINIK_CONFIG, or create "
                    "%s (tried %s)",
                    user ? user : "~/.minik/config", ADMIN_CONF);
    return NULL;
}

int minik_cli_client_config(minik_client_config_t *cfg, minik_error_t **err)
{
    const minik_client_flags_t *f = &minik_client_flags;
    /* As kubectl: --server replaces the file's server URL but the file (when there is one)
     * still supplies the CA and the token. */
    cleanup_free char *path = minik_cli_kubeconfig_path(f->kubeconfig, err);
    if (!path) {
        /* --server alone is enough when no file exists at the default places. */
        if (!f->server)
            return -1;
        minik_error_clear(err);
    } else if (minik_kubeconfig_load(path, f->context, cfg, err) < 0) {
        return -1;
    }
    if (f->server) {
        free(cfg->server);
        cfg->server = xstrdup(f->server);
    }
    if (f->token) {
        free(cfg->token);
        cfg->token = xstrdup(f->token);
    }
    if (f->insecure_skip_tls_verify)
        cfg->insecure_skip_tls_verify = true;
    if (!cfg->server)
        return minik_error_set(err, 0, "no server URL: pass --server or use a kubeconfig");
    return 0;
}

int minik_cli_client_open(minik_client_t **client, char **ns, minik_error_t **err)
{
    minik_client_config_t cfg = {0};
    int ret = minik_cli_client_config(&cfg, err);
    if (ret == 0)
        ret = minik_client_new(&cfg, client, err);
    if (ret == 0 && ns) {
        const char *n = minik_client_flags.namespace;
        if (!n || !*n)
            n = cfg.namespace;
        *ns = xstrdup(n && *n ? n : "default");
    }
    minik_client_config_clear(&cfg);
    return ret;
}

int minik_cli_fail_api(const minik_error_t *err)
{
    if (err && err->code >= 400 && err->code != 401) {
        fprintf(stderr, "Error from server (%s): %s\n", minik_status_reason(err->code),
                err->msg ? err->msg : "");
        return MINIK_EXIT_ERROR;
    }
    return minik_cli_fail(err);
}

char *minik_cli_resource_name(const minik_kind_t *k)
{
    if (k->group && *k->group)
        return xasprintf("%s.%s", k->plural, k->group);
    return xstrdup(k->plural);
}
