/* The text `minik describe` prints for one object, kind by kind, in kubectl's layout:
 * "Label:  value" lines aligned per block, nested sections indented, and an Events table at
 * the bottom. Pure formatting, so it is unit-tested without a server. */
#ifndef MINIK_CLI_DESCRIBE_H
#define MINIK_CLI_DESCRIBE_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "lib/buf.h"
#include "proto/kinds.h"

/* Append the description of obj (borrowed) of kind k; events is an array of Event objects
 * about it (may be NULL or empty: "Events:  <none>"). now is the current time (ages). */
void minik_describe(const minik_kind_t *k, const cJSON *obj, const cJSON *events, int64_t now,
                    minik_buf_t *out);

/* The same, with the object kubectl shows alongside: for a Service its Endpoints object
 * (an empty object when there is none: "Endpoints: <none>" per port). related may be NULL
 * (no Endpoints lines). */
void minik_describe_with(const minik_kind_t *k, const cJSON *obj, const cJSON *related,
                         const cJSON *events, int64_t now, minik_buf_t *out);

#endif
