/* Writes to procfs only through a procfs we verified (CVE-2019-16884 / CVE-2019-19921
 * class: a container image or a racing mount can put something else at /proc, so that a
 * write meant for /proc/self/attr or /proc/sys lands in an attacker's file). */
#ifndef MINIK_RUNTIME_PROCFS_H
#define MINIK_RUNTIME_PROCFS_H

#include <sys/types.h>

#include "lib/error.h"

/* Open `path` (normally "/proc") as a directory fd and check it is the root of a procfs
 * mount. Returns the fd (O_CLOEXEC) or < 0. */
int minik_procfs_open(const char *path, minik_error_t **err);

/* Write `value` to <procfs>/<rel> (e.g. "self/oom_score_adj", "sys/net/ipv4/ip_forward",
 * "1234/uid_map"). The file is opened beneath procfd without crossing mounts or following
 * magic links, and the opened file is checked to be on procfs before writing. */
int minik_procfs_write(int procfd, const char *rel, const char *value, minik_error_t **err);

#endif
