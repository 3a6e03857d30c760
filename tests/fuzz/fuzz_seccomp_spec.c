/* Fuzz the OCI linux.seccomp parser and compiler (agent/runtime/seccomp.c): any JSON must
 * give a filter or an error, never a crash, leak or UB. The filter is compiled (libseccomp)
 * but never installed. */
#include <stddef.h>
#include <stdint.h>

#include "agent/runtime/seccomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *j = cJSON_ParseWithLength((const char *)data, size);
    if (j == NULL)
        return 0;
    minik_seccomp_t *sc = NULL;
    minik_error_t *err = NULL;
    if (minik_seccomp_prepare(j, &sc, &err) == 0) {
        /* A compiled program is never empty. */
        if (minik_seccomp_insns(sc) == 0)
            __builtin_trap();
        minik_seccomp_free(sc);
    } else if (err == NULL || err->msg == NULL) {
        __builtin_trap(); /* every failure must say why */
    }
    minik_error_free(err);
    cJSON_Delete(j);
    return 0;
}
