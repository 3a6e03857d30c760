/* Quantity parser: never crash, and the canonical form parses back to the same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "proto/quantity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    char *s = xstrndup((const char *)data, size);
    minik_quantity_t q;
    minik_error_t *err = NULL;
    if (minik_quantity_parse(s, &q, &err) == 0) {
        char *canon = minik_quantity_format(&q);
        minik_quantity_t q2;
        if (minik_quantity_parse(canon, &q2, &err) < 0)
            abort();
        if (q2.milli != q.milli)
            abort();
        (void)minik_quantity_value(&q);
        free(canon);
    } else {
        minik_error_clear(&err);
    }
    free(s);
    return 0;
}
