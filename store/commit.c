/* Group commit: writes submitted during one loop iteration become one transaction with
 * one fsync on the thread pool.
 *
 * Life of a submitted write: minik_store_submit queues it and arms a check handle (plus
 * an idle handle so poll does not block). The check callback, at the end of the
 * iteration, hands the whole queue to a worker as one batch. While that batch is being
 * committed, new submissions pile up and form the next batch: under load, batches grow
 * and the fsync cost is shared by more writes. Only one batch is in flight at a time, so
 * resourceVersions follow commit order. When the worker is done, events are fanned out
 * (in rv order) and then every write of the batch is acknowledged. */
#include <assert.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/xalloc.h"
#include "store/store_internal.h"

static void free_op(store_op_t *op)
{
    cJSON_Delete(op->obj);
    cJSON_Delete(op->result);
    minik_error_free(op->err);
    free(op);
}

/* Give every op without an outcome a copy of the batch-wide error `e`. */
static void fail_all(store_op_t *ops, const minik_error_t *e)
{
    for (store_op_t *op = ops; op; op = op->next) {
        cJSON_Delete(op->result);
        op->result = NULL;
        if (op->err == NULL)
            minik_error_set_code(&op->err, e->code ? e->code : 500, 0, "%s", e->msg);
        op->status = -1;
    }
}

static int savepoint(minik_store_t *s, const char *sql, minik_error_t **err)
{
    if (sqlite3_exec(s->wdb, sql, NULL, NULL, NULL) != SQLITE_OK)
        return minik_store_sqlite_error(s->wdb, s->path, sql, err);
    return 0;
}

void store_run_batch(minik_store_t *s, store_op_t *ops)
{
    cleanup_error minik_error_t *fatal = NULL;
    store_event_t *evs = NULL, **evtail = &evs;
    pthread_mutex_lock(&s->wlock);
    int64_t rv = s->rv, compact_rv = s->compact_rv;
    uint64_t ok = 0;
    int r = store_begin(s, &fatal);
    for (store_op_t *op = ops; r == 0 && op; op = op->next) {
        if (op->err)
            continue; /* refused before dispatch (store closing) */
        /* A savepoint per op: a 409 or 404 undoes only that op's statements. */
        r = savepoint(s, "SAVEPOINT op", &fatal);
        if (r < 0)
            break;
        store_event_t *ev = NULL;
        op->status = store_apply_op(s, op->op, op->obj, rv + 1, &op->result, &ev, &op->err);
        if (op->status == 0) {
            rv++;
            ok++;
            *evtail = ev;
            evtail = &ev->next;
            r = savepoint(s, "RELEASE op", &fatal);
        } else if (sqlite3_get_autocommit(s->wdb)) {
            /* SQLite rolled the whole transaction back (I/O error, disk full): every
             * write of the batch is lost, so none may be acknowledged. */
            r = minik_error_set_code(&fatal, op->err->code ? op->err->code : 500, 0, "%s",
                                     op->err->msg);
        } else {
            r = savepoint(s, "ROLLBACK TO op", &fatal);
            if (r == 0)
                r = savepoint(s, "RELEASE op", &fatal);
        }
    }
    if (r == 0 && ok > 0)
        r = store_finish_tx(s, rv, &compact_rv, &fatal);
    if (r == 0)
        r = store_commit(s, &fatal);
    if (r < 0) {
        store_rollback(s);
        fail_all(ops, fatal);
        while (evs) {
            store_event_t *next = evs->next;
            store_event_free(evs);
            evs = next;
        }
    } else {
        __atomic_store_n(&s->rv, rv, __ATOMIC_RELEASE);
        __atomic_store_n(&s->compact_rv, compact_rv, __ATOMIC_RELEASE);
        s->writes += ok;
        store_feed_push(s, evs);
    }
    pthread_mutex_unlock(&s->wlock);
}

static void on_check(uv_check_t *h);
static void on_idle(uv_idle_t *h);

static void arm(minik_store_t *s)
{
    /* While the handles close, submits are refused (503) and answered by on_closed. */
    if (s->dispatch_armed || s->uv->closing)
        return;
    s->dispatch_armed = true;
    uv_check_start(&s->uv->check, on_check);
    uv_idle_start(&s->uv->idle, on_idle);
}

static void on_idle(uv_idle_t *h)
{
    /* Exists only so that poll does not block while a dispatch is due. */
}

static void on_closed(uv_handle_t *h)
{
    store_uv_t *u = h->data;
    if (--u->open_handles > 0)
        return;
    void (*cb)(void *) = NULL;
    void *ud = NULL;
    minik_store_t *s = u->store;
    if (s) {
        /* Writes submitted after the close began: each already carries its 503 (and a
         * callback submitting again gets the same answer here). */
        while (s->queue_head) {
            store_op_t *op = s->queue_head;
            s->queue_head = op->next;
            if (s->queue_head == NULL)
                s->queue_tail = NULL;
            s->queue_len--;
            op->done(op->status, NULL, steal_pointer(&op->err), op->ud);
            free_op(op);
        }
        s->uv = NULL;
        cb = s->closed_cb;
        ud = s->closed_ud;
    }
    free(u);
    if (cb)
        cb(ud); /* may free the store */
}

static void close_handles(store_uv_t *u)
{
    if (u->closing)
        return;
    u->closing = true;
    uv_close((uv_handle_t *)&u->check, on_closed);
    uv_close((uv_handle_t *)&u->idle, on_closed);
}

static void maybe_finish_close(minik_store_t *s)
{
    if (!s->closing || s->batch || s->queue_head || s->uv == NULL)
        return;
    close_handles(s->uv);
}

static void work_cb(uv_work_t *req)
{
    store_uv_t *u = req->data;
    store_run_batch(u->store, u->store->batch);
}

static void after_work_cb(uv_work_t *req, int status)
{
    store_uv_t *u = req->data;
    minik_store_t *s = u->store;
    store_op_t *ops = steal_pointer(&s->batch);
    /* Watchers first, then writers: a client that got its answer can rely on the watch
     * caches (controllers, scheduler) already having seen the change. */
    store_feed_deliver(s);
    while (ops) {
        store_op_t *op = ops;
        ops = op->next;
        op->done(op->status, steal_pointer(&op->result), steal_pointer(&op->err), op->ud);
        free_op(op);
    }
    /* What was submitted meanwhile (and by the callbacks above) goes out at the end of
     * this iteration. */
    if (s->queue_head)
        arm(s);
    maybe_finish_close(s);
}

static void dispatch(minik_store_t *s)
{
    s->batch = s->queue_head;
    s->queue_head = s->queue_tail = NULL;
    s->queue_len = 0;
    s->uv->work.data = s->uv;
    int r = uv_queue_work(s->uv->loop, &s->uv->work, work_cb, after_work_cb);
    if (r < 0) {
        /* Only fails for a NULL callback; keep the guarantee anyway by committing here. */
        work_cb(&s->uv->work);
        after_work_cb(&s->uv->work, 0);
    }
}

static void on_check(uv_check_t *h)
{
    store_uv_t *u = h->data;
    minik_store_t *s = u->store;
    s->dispatch_armed = false;
    uv_check_stop(&u->check);
    uv_idle_stop(&u->idle);
    /* Events of synchronous writes made during this iteration. */
    store_feed_deliver(s);
    if (s->queue_head && s->batch == NULL)
        dispatch(s);
    maybe_finish_close(s);
}

int minik_store_attach_loop(minik_store_t *s, uv_loop_t *loop, minik_error_t **err)
{
    if (s->uv)
        return minik_error_set_code(err, 500, 0, "store \"%s\": a loop is already attached",
                                    s->path);
    if (s->read_only)
        return minik_error_set_code(err, 500, 0, "database \"%s\" is open read-only", s->path);
    store_uv_t *u = xcalloc(1, sizeof *u);
    u->store = s;
    u->loop = loop;
    uv_check_init(loop, &u->check);
    uv_idle_init(loop, &u->idle);
    u->check.data = u->idle.data = u;
    u->open_handles = 2;
    s->uv = u;
    return 0;
}

void minik_store_submit(minik_store_t *s, minik_store_op_t op, cJSON *obj, minik_store_done_cb done,
                        void *ud)
{
    /* A programming error, not a runtime condition: the async API needs the loop. */
    assert(s->uv != NULL && "minik_store_submit needs minik_store_attach_loop");
    store_op_t *o = xcalloc(1, sizeof *o);
    o->op = op;
    o->obj = obj;
    o->done = done;
    o->ud = ud;
    o->status = -1;
    if (s->closing)
        minik_error_set_code(&o->err, 503, 0, "store \"%s\" is shutting down", s->path);
    if (s->queue_tail)
        s->queue_tail->next = o;
    else
        s->queue_head = o;
    s->queue_tail = o;
    s->queue_len++;
    arm(s);
}

void store_commit_arm(minik_store_t *s)
{
    arm(s);
}

void minik_store_close_async(minik_store_t *s, void (*closed)(void *ud), void *ud)
{
    s->closing = true;
    s->closed_cb = closed;
    s->closed_ud = ud;
    if (s->uv == NULL) {
        if (closed)
            closed(ud);
        return;
    }
    if (s->queue_head && s->batch == NULL)
        arm(s);
    maybe_finish_close(s);
}

void store_commit_detach(minik_store_t *s)
{
    store_uv_t *u = s->uv;
    if (u == NULL)
        return;
    /* Freeing with writes still queued breaks the contract (they are dropped without a
     * callback); a batch in flight would be a use-after-free, which the contract forbids. */
    while (s->queue_head) {
        store_op_t *op = s->queue_head;
        s->queue_head = op->next;
        free_op(op);
    }
    s->queue_tail = NULL;
    u->store = NULL;
    s->uv = NULL;
    close_handles(u);
}
