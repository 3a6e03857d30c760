/* CronJob schedules (proto/cron.c, user input): never crash; a parsed schedule's next
 * time is later than the start, on a whole minute, and stable (next of next-1 minute's
 * predecessor is itself). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "proto/cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    char *s = xstrndup((const char *)data, size);
    minik_cron_t c;
    minik_error_t *err = NULL;
    if (minik_cron_parse(s, &c, &err) == 0) {
        static const time_t starts[] = {0, 1700000000, 1709164800 /* 2024-02-29 */};
        for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
            time_t n = minik_cron_next(&c, starts[i]);
            if (n == 0)
                continue;
            if (n <= starts[i] || n % 60 != 0)
                abort();
            if (minik_cron_next(&c, n - 60) != n)
                abort();
        }
    } else {
        minik_error_free(err);
    }
    free(s);
    return 0;
}
