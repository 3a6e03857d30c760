/* Human-readable output of the client commands: kubectl-like tables, ages, names.
 *
 * Tables are built row by row and printed with columns padded to the widest cell plus
 * three spaces, the last column unpadded, exactly as kubectl's tabwriter lays them out. */
#ifndef MINIK_CLI_PRINTERS_H
#define MINIK_CLI_PRINTERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "lib/buf.h"
#include "proto/kinds.h"

/* Iterate the members of `map` only when it is a JSON object: a broken or hostile server
 * may send an array or a scalar where a map belongs, and array members have no key. */
#define minik_json_map_for_each(it, map)                                                           \
    cJSON_ArrayForEach(it, (cJSON_IsObject(map) ? (map) : NULL))

/* The member at a dotted path of object keys ("status.podIP"); NULL if any step is missing or
 * a key is longer than 127 bytes. Borrowed from o. */
const cJSON *minik_json_at(const cJSON *o, const char *path);

typedef struct minik_table {
    size_t ncols;
    char **cells; /* rows * ncols owned strings, headers first */
    size_t nrows; /* including the header row */
    size_t cap;
} minik_table_t;

/* A table with the given header cells (copied). */
minik_table_t *minik_table_new(const char *const *headers, size_t ncols);
void minik_table_free(minik_table_t *t);
/* Append a row of exactly ncols cells, taking ownership of each cell string. */
void minik_table_add_row_owned(minik_table_t *t, char **cells);
/* Render the table (without the header row when no_headers) into out. */
void minik_table_render(const minik_table_t *t, bool no_headers, minik_buf_t *out);

/* kubectl's HumanDuration: "5s", "119s", "3m2s", "10m", "4h", "4h30m", "2d", "2d5h",
 * "400d", "2y10d", "9y". Negative beyond -1 s is "<invalid>". Caller owns the result. */
char *minik_format_age(int64_t seconds);

/* "<age>" of obj's metadata.creationTimestamp relative to now, or "<unknown>". */
char *minik_object_age(const cJSON *obj, int64_t now);

/* "deployment.apps/web", "pod/web-1": the form `-o name` prints. Caller owns it. */
char *minik_object_ref(const minik_kind_t *k, const char *name);

/* The column headers for a kind's table (wide adds the extra columns). *ncols receives the
 * count. Unknown/absent kinds get NAME AGE. */
const char *const *minik_printer_headers(const minik_kind_t *k, bool wide, size_t *ncols);

/* The cells (owned, ncols of minik_printer_headers) for one object. `name_prefix` is
 * prepended to NAME (e.g. "pod/" when several kinds are printed). now = current time. */
char **minik_printer_row(const minik_kind_t *k, const cJSON *obj, bool wide, int64_t now,
                         const char *name_prefix);

#endif
