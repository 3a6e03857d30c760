/* Open addressing keeps the table one allocation and cache-friendly; FNV-1a is enough for
 * node names and pod keys, which are not attacker-chosen in bulk (the API validates them). */
#include "lib/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

static char tombstone_;
#define TOMBSTONE (&tombstone_)

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* Slot holding key, or the slot where it would go (first tombstone seen, else empty). */
static minik_strmap_slot_t *find(const minik_strmap_t *m, const char *key, bool *found)
{
    size_t mask = m->cap - 1;
    minik_strmap_slot_t *first_free = NULL;
    for (size_t i = hash(key) & mask;; i = (i + 1) & mask) {
        minik_strmap_slot_t *s = &m->slots[i];
        if (s->key == NULL) {
            *found = false;
            return first_free ? first_free : s;
        }
        if (s->key == TOMBSTONE) {
            if (!first_free)
                first_free = s;
            continue;
        }
        if (strcmp(s->key, key) == 0) {
            *found = true;
            return s;
        }
    }
}

static void grow(minik_strmap_t *m)
{
    size_t ncap = m->cap ? m->cap : 16;
    /* Rehash in place of tombstones when live entries are few; double otherwise. */
    if (m->len * 2 >= ncap / 2)
        ncap *= 2;
    minik_strmap_slot_t *old = m->slots;
    size_t ocap = m->cap;
    m->slots = xcalloc(ncap, sizeof(*m->slots));
    m->cap = ncap;
    m->used = m->len;
    for (size_t i = 0; i < ocap; i++) {
        if (old[i].key == NULL || old[i].key == TOMBSTONE)
            continue;
        bool found;
        minik_strmap_slot_t *s = find(m, old[i].key, &found);
        *s = old[i];
    }
    free(old);
}

void *minik_strmap_get(const minik_strmap_t *m, const char *key)
{
    if (m->len == 0)
        return NULL;
    bool found;
    minik_strmap_slot_t *s = find(m, key, &found);
    return found ? s->value : NULL;
}

void *minik_strmap_put(minik_strmap_t *m, const char *key, void *value)
{
    /* Keep the load (including tombstones) under 3/4 so probes stay short and end. */
    if ((m->used + 1) * 4 > m->cap * 3)
        grow(m);
    bool found;
    minik_strmap_slot_t *s = find(m, key, &found);
    if (found) {
        void *prev = s->value;
        s->value = value;
        return prev;
    }
    if (s->key == NULL)
        m->used++;
    s->key = xstrdup(key);
    s->value = value;
    m->len++;
    return NULL;
}

void *minik_strmap_del(minik_strmap_t *m, const char *key)
{
    if (m->len == 0)
        return NULL;
    bool found;
    minik_strmap_slot_t *s = find(m, key, &found);
    if (!found)
        return NULL;
    void *v = s->value;
    free(s->key);
    s->key = TOMBSTONE;
    s->value = NULL;
    m->len--;
    return v;
}

void minik_strmap_foreach(const minik_strmap_t *m, void (*fn)(const char *, void *, void *),
                          void *ud)
{
    for (size_t i = 0; i < m->cap; i++) {
        const minik_strmap_slot_t *s = &m->slots[i];
        if (s->key != NULL && s->key != TOMBSTONE)
            fn(s->key, s->value, ud);
    }
}

void minik_strmap_clear(minik_strmap_t *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key != NULL && m->slots[i].key != TOMBSTONE)
            free(m->slots[i].key);
    }
    free(m->slots);
    m->slots = NULL;
    m->cap = m->len = m->used = 0;
}
