/* libFuzzer target: image manifests and indexes as a registry or an archive might send
 * them, then platform selection over whatever index came out. The first byte picks the
 * Content-Type the parser is told, as a registry's header would. */
#include <stddef.h>
#include <stdint.h>

#include "agent/images/internal.h"
#include "lib/cleanup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *types[] = {NULL,
                                  MINIK_MT_OCI_MANIFEST,
                                  MINIK_MT_OCI_INDEX,
                                  MINIK_MT_DOCKER_MANIFEST,
                                  MINIK_MT_DOCKER_LIST,
                                  "application/json; charset=utf-8"};
    if (size < 1)
        return 0;
    const char *ct = types[data[0] % (sizeof(types) / sizeof(types[0]))];
    minik_image_manifest_t *m = NULL;
    cleanup_error minik_error_t *err = NULL;
    if (minik_image_manifest_parse((const char *)data + 1, size - 1, ct, &m, &err) < 0)
        return 0;
    if (m->is_index) {
        static const char *plats[] = {"linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v5"};
        for (size_t i = 0; i < sizeof(plats) / sizeof(plats[0]); i++) {
            minik_platform_t p;
            const minik_descriptor_t *d = NULL;
            cleanup_error minik_error_t *e2 = NULL;
            if (minik_platform_parse(plats[i], &p, NULL) == 0) {
                minik_image_manifest_select_platform(m, &p, &d, &e2);
                minik_platform_clear(&p);
            }
        }
    }
    minik_image_manifest_free(m);
    return 0;
}
