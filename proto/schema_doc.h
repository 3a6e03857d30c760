/* docs/manifests.md's field reference is generated from the field tables, so the
 * documentation cannot drift from what the validator accepts (a unit test compares). */
#ifndef MINIK_PROTO_SCHEMA_DOC_H
#define MINIK_PROTO_SCHEMA_DOC_H

#include "lib/buf.h"

/* Append the markdown reference of every kind and shared structure. */
void minik_schema_doc_markdown(minik_buf_t *out);

#endif
