/* Join tokens come from users and from files (--token, --token-file): parsing never
 * crashes, accepted tokens have the documented shape, and format(parse(t)) gives t back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "proto/jointoken.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = xmalloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    minik_join_token_t t;
    minik_error_t *err = NULL;
    if (minik_join_token_parse(s, &t, &err) == 0) {
        if (strlen(t.bearer) != 41 || t.bearer[8] != '.')
            abort();
        if (t.has_ca_hash) {
            char *again = minik_join_token_format(t.ca_hash, t.bearer);
            if (strcmp(again, s) != 0)
                abort();
            free(again);
        } else if (strcmp(t.bearer, s) != 0) {
            abort();
        }
        const char *b = minik_join_token_bearer(s);
        if (!b || strcmp(b, t.bearer) != 0)
            abort();
    } else {
        if (!err || !err->msg[0])
            abort();
        minik_error_free(err);
    }
    (void)minik_join_token_bearer(s);
    free(s);
    return 0;
}
