/* Fuzz the OCI config.json parser (agent/runtime/spec.c): any input must give a spec or
 * an error, never a crash, leak or undefined behaviour. */
#include <stddef.h>
#include <stdint.h>

#include "agent/runtime/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    minik_spec_t *s = NULL;
    minik_error_t *err = NULL;
    if (minik_spec_parse((const char *)data, size, &s, &err) == 0)
        minik_spec_free(s);
    minik_error_free(err);
    return 0;
}
