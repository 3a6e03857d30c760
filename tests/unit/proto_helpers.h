/* Shared by the proto unit runners: decode + validate + default a YAML string. */
#ifndef MINIK_TESTS_PROTO_HELPERS_H
#define MINIK_TESTS_PROTO_HELPERS_H

#include <cjson/cJSON.h>

#include "proto/validate.h"

/* Decode `yaml` as file "app.yaml", validate every document with `mode`, default the
 * valid ones. Returns every diagnostic, one per line ("" when none; caller frees).
 * *objs (may be NULL) receives an array of the defaulted valid documents. */
char *proto_check(const char *yaml, minik_validate_mode_t mode, cJSON **objs);

/* The first defaulted object of a manifest that must be valid (fails the test if not). */
cJSON *proto_load_one(const char *yaml);

/* The value at a dotted path with [i] indexes ("spec.containers[0].image"); NULL if
 * absent. */
const cJSON *proto_at(const cJSON *obj, const char *path);

/* A 127.0.0.1 port nothing listens on (bound, read, closed): for "unreachable server"
 * tests. */
int proto_closed_port(void);

#endif
