/* Cron schedules as CronJob.spec.schedule uses them: five fields (minute hour
 * day-of-month month day-of-week) with *, lists, ranges, /steps, month and weekday names,
 * and the @yearly/@monthly/@weekly/@daily/@hourly macros. Times are UTC. */
#ifndef MINIK_PROTO_CRON_H
#define MINIK_PROTO_CRON_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "lib/error.h"

typedef struct minik_cron {
    uint64_t minute;       /* bit i: minute i (0-59) */
    uint32_t hour;         /* 0-23 */
    uint32_t dom;          /* 1-31 */
    uint16_t month;        /* 1-12 */
    uint8_t dow;           /* 0-6, Sunday 0 */
    bool dom_any, dow_any; /* field was * (or ?): cron's day-matching rule needs it */
} minik_cron_t;

/* Parse `spec`; a bad one fails with a message naming the field and the problem. */
int minik_cron_parse(const char *spec, minik_cron_t *out, minik_error_t **err);

/* The first scheduled time strictly after `after` (whole minutes, UTC), or 0 if there is
 * none within the next 5 years (e.g. "0 0 30 2 *"). */
time_t minik_cron_next(const minik_cron_t *c, time_t after);

#endif
