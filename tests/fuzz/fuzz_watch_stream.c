/* Fuzz the watch stream decoder (bytes from the server, possibly hostile): the input is
 * fed in pieces whose sizes come from the first byte, so every split point is exercised.
 * Events must come out as objects with a type; nothing may crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/error.h"
#include "proto/client.h"

static int on_event(const char *type, const cJSON *object, void *ud)
{
    size_t *n = ud;
    if (!type || !cJSON_IsObject(object))
        __builtin_trap();
    (*n)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t step = (size_t)(data[0] % 17) + 1;
    data++;
    size--;
    size_t n = 0;
    minik_error_t *err = NULL;
    minik_watch_decoder_t *d = minik_watch_decoder_new(on_event, &n, 4096);
    int r = 0;
    for (size_t off = 0; off < size && r == 0; off += step) {
        size_t len = size - off < step ? size - off : step;
        r = minik_watch_decoder_feed(d, (const char *)data + off, len, &err);
    }
    if (r == 0)
        minik_watch_decoder_finish(d, &err);
    minik_error_free(err);
    minik_watch_decoder_free(d);
    return 0;
}
