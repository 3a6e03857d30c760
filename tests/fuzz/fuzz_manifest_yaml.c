/* Manifest pipeline on arbitrary YAML: decode -> validate -> default -> encode, and the
 * property that a valid, defaulted object survives encode -> decode unchanged (YAML and
 * JSON) and validates again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/cleanup.h"
#include "proto/encode.h"
#include "proto/manifest.h"
#include "proto/validate.h"

static void round_trip(const cJSON *obj, bool yaml)
{
    minik_buf_t b = MINIK_BUF_INIT;
    if (yaml)
        minik_encode_yaml(obj, &b);
    else
        minik_encode_json(obj, false, &b);
    cJSON *back = NULL;
    minik_error_t *err = NULL;
    if (minik_yaml_parse_one("enc", b.data, b.len, &back, &err) < 0)
        abort(); /* our own output must parse */
    if (!cJSON_Compare(obj, back, true))
        abort(); /* and mean the same thing */
    minik_diags_t d = MINIK_DIAGS_INIT;
    if (minik_validate(back, NULL, NULL, MINIK_VALIDATE_STRICT, &d, NULL) != 0)
        abort(); /* a defaulted valid object stays valid */
    minik_diags_clear(&d);
    cJSON_Delete(back);
    minik_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    minik_manifest_t *m = minik_manifest_new();
    minik_diags_t d = MINIK_DIAGS_INIT;
    minik_manifest_decode_buf(m, "fuzz.yaml", (const char *)data, size, &d);
    for (size_t i = 0; i < m->n_docs; i++) {
        cJSON *o = m->docs[i].obj;
        int bad = minik_validate(o, m->pos, "fuzz.yaml", MINIK_VALIDATE_STRICT, &d, NULL);
        if (bad == 0) {
            minik_default(o);
            round_trip(o, true);
            round_trip(o, false);
        } else {
            /* invalid objects still encode without crashing */
            minik_buf_t b = MINIK_BUF_INIT;
            minik_encode_yaml(o, &b);
            minik_buf_free(&b);
        }
    }
    minik_buf_t out = MINIK_BUF_INIT;
    minik_diags_format(&d, &out);
    minik_buf_free(&out);
    minik_diags_clear(&d);
    minik_manifest_free(m);
    return 0;
}
