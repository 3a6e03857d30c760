/* Rendering CRI log files (agent/runtime/crilog.h) the way `kubectl logs` prints them. */
#ifndef MINIK_AGENT_LOGS_H
#define MINIK_AGENT_LOGS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

/* Append the lines of CRI log text `in` to out: the message of each record, partial ("P")
 * records joined to the next, with the record's timestamp first when timestamps is set.
 * tail >= 0 keeps only the last `tail` lines. Malformed lines are skipped, never
 * guessed at. Returns the number of lines written. */
size_t minik_agent_logs_render(const char *in, size_t len, long tail, bool timestamps,
                               minik_buf_t *out);

#endif
