/* Node positions keyed by cJSON node pointer: an open-addressing hash table, because a
 * manifest of 1,000 documents has hundreds of thousands of nodes and the validator looks
 * every one of them up. */
#include "proto/posmap.h"

#include <stdint.h>
#include <stdlib.h>

#include "lib/xalloc.h"

typedef struct entry {
    const cJSON *key; /* NULL = empty slot */
    minik_pos_t pos;
} entry_t;

struct minik_posmap {
    entry_t *slots;
    size_t cap; /* power of two */
    size_t len;
};

static size_t hash_ptr(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

minik_posmap_t *minik_posmap_new(void)
{
    minik_posmap_t *pm = xcalloc(1, sizeof *pm);
    pm->cap = 256;
    pm->slots = xcalloc(pm->cap, sizeof *pm->slots);
    return pm;
}

void minik_posmap_free(minik_posmap_t *pm)
{
    if (pm == NULL)
        return;
    free(pm->slots);
    free(pm);
}

static void insert_slot(entry_t *slots, size_t cap, const cJSON *key, const minik_pos_t *pos)
{
    size_t i = hash_ptr(key) & (cap - 1);
    while (slots[i].key && slots[i].key != key)
        i = (i + 1) & (cap - 1);
    slots[i].key = key;
    slots[i].pos = *pos;
}

void minik_posmap_set(minik_posmap_t *pm, const cJSON *node, const minik_pos_t *pos_in)
{
    /* pos_in may point into our own table (copying one node's position to another), and
     * growing the table frees it: copy first. */
    const minik_pos_t copy = *pos_in;
    const minik_pos_t *pos = &copy;
    if ((pm->len + 1) * 10 > pm->cap * 7) {
        size_t ncap = pm->cap * 2;
        entry_t *ns = xcalloc(ncap, sizeof *ns);
        for (size_t i = 0; i < pm->cap; i++)
            if (pm->slots[i].key)
                insert_slot(ns, ncap, pm->slots[i].key, &pm->slots[i].pos);
        free(pm->slots);
        pm->slots = ns;
        pm->cap = ncap;
    }
    size_t i = hash_ptr(node) & (pm->cap - 1);
    while (pm->slots[i].key && pm->slots[i].key != node)
        i = (i + 1) & (pm->cap - 1);
    if (pm->slots[i].key == NULL)
        pm->len++;
    pm->slots[i].key = node;
    pm->slots[i].pos = *pos;
}

const minik_pos_t *minik_posmap_get(const minik_posmap_t *pm, const cJSON *node)
{
    if (pm == NULL || node == NULL)
        return NULL;
    size_t i = hash_ptr(node) & (pm->cap - 1);
    while (pm->slots[i].key) {
        if (pm->slots[i].key == node)
            return &pm->slots[i].pos;
        i = (i + 1) & (pm->cap - 1);
    }
    return NULL;
}
