/* decode -> validate -> default, for `minik apply` and anything else that reads
 * manifests from disk. */
#include "proto/load.h"

#include "proto/manifest.h"

int minik_manifest_load(char *const *paths, minik_validate_mode_t mode, cJSON **objects,
                        minik_diags_t *diags)
{
    size_t errors_before = diags->n_errors;
    cJSON *out = cJSON_CreateArray();
    minik_manifest_t *m = minik_manifest_new();
    for (size_t i = 0; paths && paths[i]; i++)
        minik_manifest_decode_path(m, paths[i], diags);
    for (size_t i = 0; i < m->n_docs; i++) {
        minik_doc_t *d = &m->docs[i];
        if (minik_validate(d->obj, m->pos, d->source, mode, diags, NULL) > 0)
            continue;
        cJSON *obj = d->obj;
        d->obj = NULL; /* ownership moves to the output list */
        minik_default(obj);
        cJSON_AddItemToArray(out, obj);
    }
    if (m->n_docs == 0 && diags->n_errors == errors_before)
        minik_diags_add(diags, MINIK_DIAG_ERROR, NULL, 0, 0, "", "no objects passed to apply");
    minik_manifest_free(m);
    *objects = out;
    return diags->n_errors > errors_before ? -1 : 0;
}
