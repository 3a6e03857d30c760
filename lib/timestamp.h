/* RFC 3339 timestamps, as Kubernetes objects carry them (metadata.creationTimestamp,
 * conditions' lastTransitionTime, ...): the one formatter and the one parser. */
#ifndef MINIK_TIMESTAMP_H
#define MINIK_TIMESTAMP_H

#include <stdint.h>
#include <time.h>

/* Room for any formatted timestamp, with its NUL. */
#define MINIK_TIMESTAMP_LEN 32

/* t as UTC with second precision, "2026-11-26T15:04:05Z", into out. Returns out. */
char *minik_timestamp_format(time_t t, char out[MINIK_TIMESTAMP_LEN]);

/* The same, freshly allocated (the caller frees it). */
char *minik_timestamp_new(time_t t);

/* Parse an RFC 3339 timestamp ("2026-11-26T15:04:05Z"; fractional seconds and numeric
 * offsets accepted) to seconds since the epoch. Returns -1 for NULL or anything else. */
int64_t minik_timestamp_parse(const char *s);

#endif
