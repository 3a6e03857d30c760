/* CRI log text -> rendered lines: never crash, never read out of bounds, and a tail of N
 * lines is exactly the end of the full rendering. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/logs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    minik_buf_t all = MINIK_BUF_INIT, tail = MINIK_BUF_INIT;
    size_t n = minik_agent_logs_render((const char *)data, size, -1, (size & 1) != 0, &all);
    long t = (long)(size % 5);
    size_t m = minik_agent_logs_render((const char *)data, size, t, (size & 1) != 0, &tail);
    if (m > n || (n > 0 && (size_t)t <= n && m != (size_t)t))
        abort();
    if (tail.len > all.len ||
        (tail.len && memcmp(all.data + all.len - tail.len, tail.data, tail.len) != 0))
        abort();
    minik_buf_free(&all);
    minik_buf_free(&tail);
    return 0;
}
