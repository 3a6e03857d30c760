/* The unschedulable message, in kube-scheduler's words:
 *
 *     0/3 nodes are available: 1 node(s) had untolerated taint {gpu: true}, 2 Insufficient memory.
 *
 * Each failing node contributes the reasons of the first filter that rejected it; equal
 * reasons are counted, and the "count reason" strings are sorted as plain strings
 * (Go's sort.Strings in FitError.Error), which is why "1 node(s)..." precedes
 * "2 Insufficient memory" and "10 ..." precedes "2 ...". */
#ifndef MINIK_SCHEDULER_EXPLAIN_H
#define MINIK_SCHEDULER_EXPLAIN_H

#include <stddef.h>

#include "lib/strmap.h"

typedef struct minik_sched_explain {
    minik_strmap_t counts; /* reason -> (void *)(uintptr_t)count */
} minik_sched_explain_t;

#define MINIK_SCHED_EXPLAIN_INIT                                                                   \
    {                                                                                              \
        MINIK_STRMAP_INIT                                                                          \
    }

/* Count one node rejected for `reason`. */
void minik_sched_explain_add(minik_sched_explain_t *e, const char *reason);
/* The message for a pod that fits none of `n_nodes` nodes ("no nodes available to
 * schedule pods" when there are none). The caller owns the string. */
char *minik_sched_explain_message(const minik_sched_explain_t *e, size_t n_nodes);
void minik_sched_explain_free(minik_sched_explain_t *e);

#endif
