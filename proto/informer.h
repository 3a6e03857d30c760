/* A list-then-watch cache of one collection on an event loop (what client-go calls a
 * reflector with a store): GET the list, keep its items, then watch from the list's
 * resourceVersion and apply every ADDED/MODIFIED/DELETED to the copy. A stream that ends
 * (the server's timeoutSeconds, a restart) resumes from the last resourceVersion seen; a
 * 410 Gone (the feed moved past it) lists again; a failure retries after a second.
 *
 *     minik_informer_t *inf;
 *     minik_informer_new(loop, cuv, client, "/api/v1/services", NULL, on_change, ud, &inf);
 *     minik_informer_start(inf);
 *     ... on_change(inf, ud): minik_informer_items(inf) is the current set ...
 *     minik_informer_close(inf, closed, ud);
 *
 * Everything runs on the loop thread; the cache is never touched by another thread. */
#ifndef MINIK_PROTO_INFORMER_H
#define MINIK_PROTO_INFORMER_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "proto/client.h"
#include "proto/client_uv.h"

typedef struct minik_informer minik_informer_t;

/* Called after the cache changed: after each (re)list and after each watch event that
 * added, changed or removed an object. */
typedef void (*minik_informer_changed_fn)(minik_informer_t *inf, void *ud);

typedef struct minik_informer_opts {
    /* timeoutSeconds of each watch request (default 300): the stream is re-established
     * that often, as client-go's reflectors do, so a half-dead connection cannot hold a
     * stale cache forever. */
    int watch_timeout_s;
    /* Wait before retrying after a failure (default 1000 ms). */
    uint64_t retry_ms;
} minik_informer_opts_t;

typedef struct minik_informer_stats {
    uint64_t lists;   /* successful lists */
    uint64_t watches; /* watch requests started */
    uint64_t events;  /* ADDED/MODIFIED/DELETED applied */
    uint64_t failures;
} minik_informer_stats_t;

/* An informer over `path` (a collection: "/api/v1/services"; it must not carry a query).
 * loop, cuv and c are borrowed and must outlive it. opts may be NULL. Nothing is
 * requested until _start. */
int minik_informer_new(uv_loop_t *loop, minik_client_uv_t *cuv, minik_client_t *c, const char *path,
                       const minik_informer_opts_t *opts, minik_informer_changed_fn changed,
                       void *ud, minik_informer_t **out, minik_error_t **err);

/* List, then watch. */
void minik_informer_start(minik_informer_t *inf);

/* The objects as last seen: a cJSON array owned by the informer, valid until the loop
 * runs again. Empty before the first list. */
const cJSON *minik_informer_items(const minik_informer_t *inf);

/* Has the first list arrived? */
bool minik_informer_synced(const minik_informer_t *inf);

void minik_informer_get_stats(const minik_informer_t *inf, minik_informer_stats_t *out);

/* Stop: cancel the watch (no change callback runs after this returns), close the retry
 * timer, free the informer, then call closed(ud) from the timer's close callback. A list
 * request still in flight finishes later and is ignored. NULL is a no-op. */
void minik_informer_close(minik_informer_t *inf, void (*closed)(void *ud), void *ud);

#endif
