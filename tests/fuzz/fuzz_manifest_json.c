/* Manifest pipeline on JSON bodies, both ways they arrive: parsed by cJSON without
 * positions (the API server) and by the manifest decoder with positions (the CLI). Both
 * must agree on validity; valid objects default and re-encode to the same JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/encode.h"
#include "proto/manifest.h"
#include "proto/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* cJSON silently cuts strings at a NUL byte and passes invalid UTF-8 through; the API
     * server refuses such bodies (minik_str_utf8_valid) before they reach proto, so they
     * are not this target's concern. */
    if (size > MINIK_MANIFEST_MAX_BYTES || memchr(data, '\0', size) ||
        !minik_str_utf8_valid((const char *)data, size))
        return 0;
    cJSON *body = cJSON_ParseWithLength((const char *)data, size);
    if (body == NULL)
        return 0;
    minik_diags_t d = MINIK_DIAGS_INIT;
    int bad = minik_validate(body, NULL, NULL, MINIK_VALIDATE_STRICT, &d, NULL);
    if (bad == 0) {
        minik_default(body);
        minik_buf_t b = MINIK_BUF_INIT;
        minik_encode_json(body, true, &b);
        cJSON *back = cJSON_Parse(b.data);
        if (back == NULL || !cJSON_Compare(body, back, true))
            abort();
        cJSON_Delete(back);
        minik_buf_free(&b);
    }
    minik_diags_clear(&d);

    /* The same text through the YAML decoder, which records positions. */
    minik_manifest_t *m = minik_manifest_new();
    minik_manifest_decode_buf(m, "body.json", (const char *)data, size, &d);
    for (size_t i = 0; i < m->n_docs; i++) {
        if (minik_validate(m->docs[i].obj, m->pos, "body.json", MINIK_VALIDATE_WARN, &d, NULL) == 0)
            minik_default(m->docs[i].obj);
    }
    minik_diags_clear(&d);
    minik_manifest_free(m);
    cJSON_Delete(body);
    return 0;
}
