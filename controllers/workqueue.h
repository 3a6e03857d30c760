/* A keyed, de-duplicated, rate-limited work queue on a libuv loop, shared by every
 * controller (the shape of client-go's workqueue).
 *
 * - A key added several times before it is processed is processed once.
 * - A key is never processed twice at the same time, and never while it is "held": a
 *   controller holds its key for each store write in flight, so it never reconciles from a
 *   read that does not yet show its own writes (client-go's "expectations"). When the last
 *   hold is released the key is processed again to observe the result.
 * - add_after schedules a key at a later time (one uv_timer armed at the earliest due
 *   time, not polling); add_rate_limited backs off exponentially per key (5 ms doubling
 *   to 10 s) until forget() is called after a success. */
#ifndef MINIK_CONTROLLERS_WORKQUEUE_H
#define MINIK_CONTROLLERS_WORKQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

typedef struct minik_wq minik_wq_t;

/* Called once per ready key, on the loop. The key is borrowed for the call. */
typedef void (*minik_wq_process_fn)(const char *key, void *ud);

/* A queue on `loop`. Nothing runs until a key is added. */
minik_wq_t *minik_wq_new(uv_loop_t *loop, const char *name, minik_wq_process_fn fn, void *ud);
/* Drop every key and close the timers; the memory is released from their close callbacks,
 * so the loop must run once more. NULL is a no-op. */
void minik_wq_free(minik_wq_t *q);

void minik_wq_add(minik_wq_t *q, const char *key);
void minik_wq_add_after(minik_wq_t *q, const char *key, uint64_t delay_ms);
void minik_wq_add_rate_limited(minik_wq_t *q, const char *key);
/* Add a key for an event it should see soon but not necessarily at once: after three
 * times the queue's recent average reconcile time (capped at MINIK_WQ_PACE_MAX_MS), so
 * that bursts of events coalesce into few reconciles; at once when reconciles are cheap. */
#define MINIK_WQ_PACE_MAX_MS 1000
void minik_wq_add_paced(minik_wq_t *q, const char *key);
/* Reset the key's backoff (after a successful reconcile). */
void minik_wq_forget(minik_wq_t *q, const char *key);
/* Hold/release a key around a write in flight (see above). */
void minik_wq_hold(minik_wq_t *q, const char *key);
void minik_wq_release(minik_wq_t *q, const char *key);

/* Keys known to the queue (queued, waiting or held), and processed so far (for tests). */
size_t minik_wq_len(const minik_wq_t *q);
uint64_t minik_wq_processed(const minik_wq_t *q);
/* Current backoff of a key in ms (0 if none), for tests. */
uint64_t minik_wq_backoff_ms(const minik_wq_t *q, const char *key);

#endif
