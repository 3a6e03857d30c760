/* Fuzz the kubeconfig reader (YAML or JSON from a file a user was handed). Relative
 * certificate-authority / tokenFile paths are resolved under a directory that does not
 * exist, so no real file is read. */
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "proto/client.h"
#include "proto/kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    minik_client_config_t cfg = {0};
    minik_error_t *err = NULL;
    if (minik_kubeconfig_parse((const char *)data, size, "/nonexistent-fuzz/config", NULL, &cfg,
                               &err) == 0) {
        if (!cfg.server)
            __builtin_trap();
    }
    minik_client_config_clear(&cfg);
    minik_error_free(err);
    return 0;
}
