/* libFuzzer target: image references as pod specs and command lines carry them. A
 * reference that parses must print back to a string that parses to the same thing. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/images/internal.h"
#include "lib/cleanup.h"
#include "lib/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cleanup_free char *s = xstrndup((const char *)data, size);
    minik_image_ref_t *r = NULL;
    cleanup_error minik_error_t *err = NULL;
    if (minik_image_ref_parse(s, &r, &err) < 0)
        return 0;
    cleanup_free char *full = minik_image_ref_string(r);
    minik_image_ref_t *again = NULL;
    if (minik_image_ref_parse(full, &again, NULL) < 0)
        abort();
    cleanup_free char *full2 = minik_image_ref_string(again);
    if (strcmp(full, full2) != 0)
        abort();
    minik_image_ref_free(again);
    minik_image_ref_free(r);
    return 0;
}
