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

static void round_trip_plain(const cJSON *obj)
{
    minik_buf_t b = MINIK_BUF_INIT;
    minik_encode_yaml(obj, &b);
    cJSON *back = NULL;
    minik_error_t *err = NULL;
    if (minik_yaml_parse_one("enc", b.data, b.len, &back, &err) < 0)
        abort();
    if (!cJSON_Compare(obj, back, true))
        abort();
    cJSON_Delete(back);
    minik_buf_free(&b);
}

static bool has_long_key(const cJSON *n)
{
    for (const cJSON *c = n->child; c; c = c->next)
        if ((c->string && strlen(c->string) > 1000) || has_long_key(c))
            return true;
    return false;
}

static void round_trip(const cJSON *obj, bool yaml)
{
    /* libyaml cannot read flow (JSON) keys longer than 1024 characters: a documented
     * limit of the JSON path; the YAML writer uses explicit "? key" entries instead. */
    if (!yaml && has_long_key(obj))
        return;
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

/* Well-formed UTF-8 without NUL: what a JSON/YAML string can hold. */
static bool valid_utf8(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (c == 0 || len == 0 || i + len > n)
            return false;
        uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1fu) : len == 3 ? (c & 0x0fu) : (c & 0x07u);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* The input as a string value and as a key: the YAML writer must quote or escape it so
 * that it reads back identical. */
static void string_round_trip(const uint8_t *data, size_t size)
{
    if (!valid_utf8(data, size))
        return;
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "value", s);
    cJSON *keys = cJSON_AddObjectToObject(o, "keys"); /* its own object: no collision */
    cJSON_AddStringToObject(keys, s, "key");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "list"), cJSON_CreateString(s));
    round_trip_plain(o);
    cJSON_Delete(o);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    string_round_trip(data, size);
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
