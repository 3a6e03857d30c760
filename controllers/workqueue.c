/* The controllers' work queue: see workqueue.h for the contract. */
#include "controllers/workqueue.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

#define MIN_BUCKETS    1024
#define BATCH          256
#define SLICE_MS       20
#define BACKOFF_BASE   5
#define BACKOFF_MAX_MS 10000

typedef struct item {
    struct item *hnext; /* hash chain */
    struct item *qnext; /* ready FIFO */
    char *key;
    bool queued, processing, dirty;
    uint64_t due;    /* loop time at which to queue it; 0 = not waiting */
    size_t heap_idx; /* position in the delay heap while due != 0 */
    unsigned holds;
    unsigned failures;
} item_t;

struct minik_wq {
    uv_loop_t *loop;
    char *name;
    minik_wq_process_fn fn;
    void *ud;
    /* Keys by hash, grown with the key count so chains stay short (a queue may hold one
     * key per pod or node: tens of thousands). */
    item_t **buckets;
    size_t n_buckets;
    item_t *head, *tail;
    size_t n;
    /* Waiting keys as a binary min-heap on `due`: the delay timer needs only the earliest,
     * and adding a delayed key must not cost a walk over every key. */
    item_t **heap;
    size_t heap_len, heap_cap;
    uint64_t processed;
    uint64_t cost_ns; /* decaying average time of one process call (add_paced) */
    /* kick: processes ready keys, a batch per loop iteration. An idle handle, not a 0 ms
     * timer: libuv runs a timer restarted at 0 from its own callback again in the same
     * timers phase, so the batches never gave the loop's I/O a turn. delay: earliest due. */
    uv_idle_t kick;
    uv_timer_t delay;
    int closing;
    bool freed;
};

static size_t hash_of(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static size_t bucket_of(const minik_wq_t *q, const char *key)
{
    return hash_of(key) & (q->n_buckets - 1);
}

static item_t *find(const minik_wq_t *q, const char *key)
{
    if (!q->buckets)
        return NULL; /* freed */
    for (item_t *it = q->buckets[bucket_of(q, key)]; it; it = it->hnext)
        if (strcmp(it->key, key) == 0)
            return it;
    return NULL;
}

static void rehash(minik_wq_t *q, size_t n_buckets)
{
    item_t **old = q->buckets;
    size_t n_old = q->n_buckets;
    q->buckets = xcalloc(n_buckets, sizeof(*q->buckets));
    q->n_buckets = n_buckets;
    for (size_t b = 0; b < n_old; b++) {
        item_t *it = old[b];
        while (it) {
            item_t *next = it->hnext;
            size_t h = bucket_of(q, it->key);
            it->hnext = q->buckets[h];
            q->buckets[h] = it;
            it = next;
        }
    }
    free(old);
}

static item_t *get(minik_wq_t *q, const char *key)
{
    item_t *it = find(q, key);
    if (it)
        return it;
    if (q->n >= q->n_buckets * 2)
        rehash(q, q->n_buckets * 2);
    it = xcalloc(1, sizeof(*it));
    it->key = xstrdup(key);
    size_t h = bucket_of(q, key);
    it->hnext = q->buckets[h];
    q->buckets[h] = it;
    q->n++;
    return it;
}

/* ---- the delay heap ---------------------------------------------------------------- */

static void heap_set(minik_wq_t *q, size_t i, item_t *it)
{
    q->heap[i] = it;
    it->heap_idx = i;
}

static void sift_up(minik_wq_t *q, size_t i)
{
    item_t *it = q->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (q->heap[parent]->due <= it->due)
            break;
        heap_set(q, i, q->heap[parent]);
        i = parent;
    }
    heap_set(q, i, it);
}

static void sift_down(minik_wq_t *q, size_t i)
{
    item_t *it = q->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= q->heap_len)
            break;
        if (child + 1 < q->heap_len && q->heap[child + 1]->due < q->heap[child]->due)
            child++;
        if (it->due <= q->heap[child]->due)
            break;
        heap_set(q, i, q->heap[child]);
        i = child;
    }
    heap_set(q, i, it);
}

/* Set (or bring forward) the time an item waits for. */
static void heap_schedule(minik_wq_t *q, item_t *it, uint64_t due)
{
    if (it->due) {
        it->due = due; /* only ever earlier: see minik_wq_add_after */
        sift_up(q, it->heap_idx);
        return;
    }
    if (q->heap_len == q->heap_cap) {
        q->heap_cap = q->heap_cap ? q->heap_cap * 2 : 64;
        q->heap = xrealloc(q->heap, q->heap_cap * sizeof(*q->heap));
    }
    it->due = due;
    q->heap[q->heap_len] = it;
    sift_up(q, q->heap_len++);
}

/* Remove the earliest item from the heap (it stops waiting). */
static item_t *heap_pop(minik_wq_t *q)
{
    item_t *top = q->heap[0];
    top->due = 0;
    if (--q->heap_len > 0) {
        heap_set(q, 0, q->heap[q->heap_len]);
        sift_down(q, 0);
    }
    return top;
}

/* Forget an item nobody needs any more (not queued, waiting, held, backing off). */
static void maybe_drop(minik_wq_t *q, item_t *it)
{
    if (it->queued || it->processing || it->due || it->holds || it->failures || it->dirty)
        return;
    item_t **pp = &q->buckets[bucket_of(q, it->key)];
    while (*pp != it)
        pp = &(*pp)->hnext;
    *pp = it->hnext;
    q->n--;
    free(it->key);
    free(it);
}

static void on_kick(uv_idle_t *h);

static void enqueue(minik_wq_t *q, item_t *it)
{
    if (q->freed)
        return;
    if (it->processing || it->holds) {
        it->dirty = true;
        return;
    }
    if (it->queued)
        return;
    it->queued = true;
    it->qnext = NULL;
    if (q->tail)
        q->tail->qnext = it;
    else
        q->head = it;
    q->tail = it;
    if (!uv_is_active((uv_handle_t *)&q->kick))
        uv_idle_start(&q->kick, on_kick);
}

static void on_delay(uv_timer_t *t);

static void arm_delay(minik_wq_t *q)
{
    if (q->freed)
        return;
    if (q->heap_len == 0) {
        uv_timer_stop(&q->delay);
        return;
    }
    uint64_t earliest = q->heap[0]->due;
    uint64_t now = uv_now(q->loop);
    uv_timer_start(&q->delay, on_delay, earliest > now ? earliest - now : 0, 0);
}

static void on_delay(uv_timer_t *t)
{
    minik_wq_t *q = t->data;
    uint64_t now = uv_now(q->loop);
    while (!q->freed && q->heap_len > 0 && q->heap[0]->due <= now)
        enqueue(q, heap_pop(q));
    arm_delay(q);
}

static void on_kick(uv_idle_t *h)
{
    minik_wq_t *q = h->data;
    /* The loop is shared with the API server and the scheduler (and the signal that stops
     * the server): a batch also ends after a time slice, whatever each key costs. */
    uint64_t deadline = uv_hrtime() + (uint64_t)SLICE_MS * 1000000u;
    for (int i = 0; i < BATCH && q->head && !q->freed && (i == 0 || uv_hrtime() < deadline); i++) {
        item_t *it = q->head;
        q->head = it->qnext;
        if (!q->head)
            q->tail = NULL;
        it->queued = false;
        it->processing = true;
        it->dirty = false;
        uint64_t t0 = uv_hrtime();
        q->fn(it->key, q->ud);
        q->cost_ns = (q->cost_ns * 7 + (uv_hrtime() - t0)) / 8;
        q->processed++;
        it->processing = false;
        if (it->dirty && !it->holds) {
            it->dirty = false;
            enqueue(q, it);
        }
        maybe_drop(q, it);
    }
    /* More than a batch: the idle handle stays active and continues next iteration, after
     * the loop's other handles have had their turn. */
    if (!q->head || q->freed)
        uv_idle_stop(&q->kick);
}

minik_wq_t *minik_wq_new(uv_loop_t *loop, const char *name, minik_wq_process_fn fn, void *ud)
{
    minik_wq_t *q = xcalloc(1, sizeof(*q));
    q->loop = loop;
    q->name = xstrdup(name);
    q->fn = fn;
    q->ud = ud;
    q->n_buckets = MIN_BUCKETS;
    q->buckets = xcalloc(q->n_buckets, sizeof(*q->buckets));
    uv_idle_init(loop, &q->kick);
    uv_timer_init(loop, &q->delay);
    q->kick.data = q->delay.data = q;
    return q;
}

static void closed(uv_handle_t *h)
{
    minik_wq_t *q = h->data;
    if (--q->closing > 0)
        return;
    free(q->name);
    free(q);
}

void minik_wq_free(minik_wq_t *q)
{
    if (!q)
        return;
    q->freed = true;
    for (size_t b = 0; b < q->n_buckets; b++) {
        item_t *it = q->buckets[b];
        while (it) {
            item_t *next = it->hnext;
            free(it->key);
            free(it);
            it = next;
        }
    }
    free(q->buckets);
    q->buckets = NULL;
    q->n_buckets = 0;
    free(q->heap);
    q->heap = NULL;
    q->heap_len = q->heap_cap = 0;
    q->head = q->tail = NULL;
    q->closing = 2;
    uv_close((uv_handle_t *)&q->kick, closed);
    uv_close((uv_handle_t *)&q->delay, closed);
}

void minik_wq_add(minik_wq_t *q, const char *key)
{
    if (q->freed)
        return;
    enqueue(q, get(q, key));
}

void minik_wq_add_after(minik_wq_t *q, const char *key, uint64_t delay_ms)
{
    if (q->freed)
        return;
    if (delay_ms == 0) {
        minik_wq_add(q, key);
        return;
    }
    item_t *it = get(q, key);
    uint64_t due = uv_now(q->loop) + delay_ms;
    /* Keep the earlier of two requested times. */
    if (it->due && it->due <= due)
        return;
    heap_schedule(q, it, due);
    arm_delay(q);
}

void minik_wq_add_paced(minik_wq_t *q, const char *key)
{
    if (q->freed)
        return;
    /* Wait three times what a reconcile costs, so that a key receiving a stream of events
     * (a ReplicaSet whose thousands of pods are being bound) takes at most about a quarter
     * of the loop; below a millisecond it is processed at once. */
    uint64_t delay_ms = q->cost_ns * 3 / 1000000;
    if (delay_ms > MINIK_WQ_PACE_MAX_MS)
        delay_ms = MINIK_WQ_PACE_MAX_MS;
    item_t *it = find(q, key);
    if (delay_ms == 0 || (it && (it->queued || it->processing)))
        minik_wq_add(q, key); /* cheap, or already on its way: nothing to wait for */
    else
        minik_wq_add_after(q, key, delay_ms);
}

static uint64_t backoff_of(unsigned failures)
{
    uint64_t ms = BACKOFF_BASE;
    for (unsigned i = 1; i < failures && ms < BACKOFF_MAX_MS; i++)
        ms *= 2;
    return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

void minik_wq_add_rate_limited(minik_wq_t *q, const char *key)
{
    if (q->freed)
        return;
    item_t *it = get(q, key);
    it->failures++;
    minik_wq_add_after(q, key, backoff_of(it->failures));
}

void minik_wq_forget(minik_wq_t *q, const char *key)
{
    item_t *it = q->freed ? NULL : find(q, key);
    if (!it)
        return;
    it->failures = 0;
    maybe_drop(q, it);
}

void minik_wq_hold(minik_wq_t *q, const char *key)
{
    if (q->freed)
        return;
    get(q, key)->holds++;
}

void minik_wq_release(minik_wq_t *q, const char *key)
{
    item_t *it = q->freed ? NULL : find(q, key);
    if (!it || !it->holds)
        return;
    if (--it->holds == 0) {
        /* Look again now that the write is visible. */
        it->dirty = false;
        enqueue(q, it);
    }
}

size_t minik_wq_len(const minik_wq_t *q)
{
    return q->n;
}

uint64_t minik_wq_processed(const minik_wq_t *q)
{
    return q->processed;
}

uint64_t minik_wq_backoff_ms(const minik_wq_t *q, const char *key)
{
    const item_t *it = find(q, key);
    return it && it->failures ? backoff_of(it->failures) : 0;
}
