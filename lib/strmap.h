/* A string-keyed hash map (open addressing, linear probing), e.g. the scheduler's caches:
 * node name -> node, "ns/name" -> pod, reason -> count. Keys are copied; values are
 * borrowed pointers the caller owns. Not thread-safe (each user keeps it on one loop). */
#ifndef MINIK_LIB_STRMAP_H
#define MINIK_LIB_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct minik_strmap_slot {
    char *key; /* NULL = empty; MINIK_STRMAP_TOMBSTONE = deleted */
    void *value;
} minik_strmap_slot_t;

typedef struct minik_strmap {
    minik_strmap_slot_t *slots;
    size_t cap;  /* power of two, or 0 before the first insert */
    size_t len;  /* live entries */
    size_t used; /* live + tombstones, drives rehashing */
} minik_strmap_t;

#define MINIK_STRMAP_INIT                                                                          \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

/* The value stored under key, or NULL. */
void *minik_strmap_get(const minik_strmap_t *m, const char *key);
/* Insert or replace; returns the previous value (NULL if the key was new). */
void *minik_strmap_put(minik_strmap_t *m, const char *key, void *value);
/* Remove; returns the value that was stored (NULL if absent). */
void *minik_strmap_del(minik_strmap_t *m, const char *key);
/* Visit every entry (order unspecified). The map must not change during the walk. */
void minik_strmap_foreach(const minik_strmap_t *m,
                          void (*fn)(const char *key, void *value, void *ud), void *ud);
/* Release the keys and slots (not the values); the map is left empty and reusable. */
void minik_strmap_clear(minik_strmap_t *m);

#endif
