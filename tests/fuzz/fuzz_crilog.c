/* Fuzz the CRI log splitter with arbitrary container output: the first byte chooses how the
 * rest is chunked, so line boundaries fall everywhere. Every record must be one line. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/runtime/crilog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = (size_t)data[0] * 97 + 1;
    data++;
    size--;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 0};
    minik_buf_t out = MINIK_BUF_INIT, pending = MINIK_BUF_INIT;
    size_t in_newlines = 0;
    for (size_t i = 0; i < size; i++)
        in_newlines += data[i] == '\n';
    for (size_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        minik_crilog_split(&out, &pending, &ts, MINIK_CRILOG_STDOUT, (const char *)data + off, n);
    }
    /* One F record per input newline, plus P records; nothing pending exceeds the cap. */
    size_t f = 0;
    for (const char *c = out.data; c && (c = strstr(c, " stdout F ")); c++)
        f++;
    if (f < in_newlines || pending.len > MINIK_CRILOG_MAX_LINE)
        abort();
    minik_buf_free(&out);
    minik_buf_free(&pending);
    return 0;
}
