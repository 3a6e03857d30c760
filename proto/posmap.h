/* Internal to proto/: building the node -> position table (readers use
 * minik_posmap_get from proto/manifest.h). Entries are never removed: a manifest's nodes
 * live as long as the manifest. */
#ifndef MINIK_PROTO_POSMAP_H
#define MINIK_PROTO_POSMAP_H

#include "proto/manifest.h"

minik_posmap_t *minik_posmap_new(void);
void minik_posmap_free(minik_posmap_t *pm);
/* Record (or overwrite) the position of node. */
void minik_posmap_set(minik_posmap_t *pm, const cJSON *node, const minik_pos_t *pos);

#endif
