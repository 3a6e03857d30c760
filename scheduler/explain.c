#include "scheduler/explain.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/xalloc.h"

void minik_sched_explain_add(minik_sched_explain_t *e, const char *reason)
{
    uintptr_t n = (uintptr_t)minik_strmap_get(&e->counts, reason);
    minik_strmap_put(&e->counts, reason, (void *)(n + 1));
}

typedef struct collect {
    char **items;
    size_t n;
} collect_t;

static void collect_one(const char *key, void *value, void *ud)
{
    collect_t *c = ud;
    c->items[c->n++] = xasprintf("%zu %s", (size_t)(uintptr_t)value, key);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *minik_sched_explain_message(const minik_sched_explain_t *e, size_t n_nodes)
{
    if (n_nodes == 0)
        return xstrdup("no nodes available to schedule pods");
    collect_t c = {xcalloc(e->counts.len + 1, sizeof(char *)), 0};
    minik_strmap_foreach(&e->counts, collect_one, &c);
    qsort(c.items, c.n, sizeof(char *), cmp_str);
    minik_buf_t b = MINIK_BUF_INIT;
    minik_buf_appendf(&b, "0/%zu nodes are available", n_nodes);
    for (size_t i = 0; i < c.n; i++) {
        minik_buf_append_str(&b, i == 0 ? ": " : ", ");
        minik_buf_append_str(&b, c.items[i]);
        free(c.items[i]);
    }
    minik_buf_append_char(&b, '.');
    free(c.items);
    return minik_buf_steal(&b);
}

void minik_sched_explain_free(minik_sched_explain_t *e)
{
    minik_strmap_clear(&e->counts);
}
