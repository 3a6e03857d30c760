/* meta.k8s.io/v1 Table responses: what kubectl asks for (Accept: ...;as=Table;...) when it
 * prints `kubectl get`, so its columns match the kind (NAME READY STATUS RESTARTS AGE for
 * pods, ...), computed here as kube-apiserver does. */
#ifndef MINIK_APISERVER_TABLE_H
#define MINIK_APISERVER_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

/* Does an Accept header ask for a Table? */
bool minik_api_table_wanted(const char *accept);

/* A Table of `items` (borrowed; an array of objects of `kind`) with resourceVersion rv
 * (NULL: none). `now` is the clock for the AGE column. with_columns false leaves out the
 * columnDefinitions (watch events after the first). The caller owns the result. */
cJSON *minik_api_table_new(const char *kind, const cJSON *items, const char *rv, time_t now,
                           bool with_columns);

/* kubectl's short human duration: "45s", "5m12s", "3h", "2d4h", "400d". */
void minik_api_table_age(int64_t seconds, char *buf, size_t len);

#endif
