/* libFuzzer target: what a registry or a credentials secret can hand us before any image
 * data: WWW-Authenticate challenges, and docker config.json / dockerconfigjson documents.
 * The input is split at the first NUL: challenge before it, credentials JSON after. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "agent/images/internal.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cleanup_free char *s = xstrndup((const char *)data, size);
    size_t first = strlen(s);
    const char *creds = first < size ? (const char *)data + first + 1 : "";
    cleanup_free char *json = xstrndup(creds, size - (first < size ? first + 1 : size));

    minik_auth_challenge_t *c = NULL;
    cleanup_error minik_error_t *e1 = NULL;
    if (minik_auth_parse_challenge(s, &c, &e1) == 0)
        minik_auth_challenge_free(c);

    static const char *hosts[] = {"docker.io", "localhost:5000", "h", "quay.io"};
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        minik_cred_t *cr = NULL;
        cleanup_error minik_error_t *e2 = NULL;
        if (minik_auth_lookup(json, hosts[i], &cr, &e2) == 0)
            minik_cred_free(cr);
    }
    return 0;
}
