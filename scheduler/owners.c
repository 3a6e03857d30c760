#include "scheduler/owners.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/xalloc.h"

/* Namespaces never contain '/', so "ns/uid" is unambiguous whatever the uid holds. The key
 * is built in a stack buffer when it fits: this runs once per placement. */
#define KEY_STACK 160

static const char *owner_key(const minik_sched_pod_t *p, char *buf, size_t cap, char **heap)
{
    *heap = NULL;
    int n = snprintf(buf, cap, "%s/%s", p->ns, p->owner_uid);
    if (n >= 0 && (size_t)n < cap)
        return buf;
    *heap = xasprintf("%s/%s", p->ns, p->owner_uid);
    return *heap;
}

static void bump(minik_strmap_t *zones, const char *zone, intptr_t delta)
{
    intptr_t cur = (intptr_t)minik_strmap_get(zones, zone) + delta;
    if (cur > 0)
        minik_strmap_put(zones, zone, (void *)cur);
    else
        minik_strmap_del(zones, zone);
}

void minik_sched_owners_add(minik_sched_owners_t *o, minik_sched_pod_t *p, const char *zone)
{
    char buf[KEY_STACK], *heap;
    const char *key = owner_key(p, buf, sizeof(buf), &heap);
    minik_sched_owner_zones_t *z = minik_strmap_get(&o->by_owner, key);
    if (!z) {
        z = xcalloc(1, sizeof(*z));
        minik_strmap_put(&o->by_owner, key, z);
    }
    z->pods++;
    if (zone)
        bump(&z->zones, zone, 1);
    p->owner_group = z;
    free(heap);
}

void minik_sched_owners_remove(minik_sched_owners_t *o, minik_sched_pod_t *p, const char *zone)
{
    char buf[KEY_STACK], *heap;
    const char *key = owner_key(p, buf, sizeof(buf), &heap);
    minik_sched_owner_zones_t *z = minik_strmap_get(&o->by_owner, key);
    p->owner_group = NULL;
    if (z) {
        if (zone)
            bump(&z->zones, zone, -1);
        if (--z->pods == 0) {
            minik_strmap_del(&o->by_owner, key);
            minik_strmap_clear(&z->zones);
            free(z);
        }
    }
    free(heap);
}

const minik_sched_owner_zones_t *minik_sched_owners_get(const minik_sched_owners_t *o,
                                                        const minik_sched_pod_t *p)
{
    if (!o || !p->owner_uid)
        return NULL;
    char buf[KEY_STACK], *heap;
    const char *key = owner_key(p, buf, sizeof(buf), &heap);
    const minik_sched_owner_zones_t *z = minik_strmap_get(&o->by_owner, key);
    free(heap);
    return z;
}

size_t minik_sched_owner_zone_count(const minik_sched_owner_zones_t *z, const char *zone)
{
    return z && zone ? (size_t)(intptr_t)minik_strmap_get(&z->zones, zone) : 0;
}

void minik_sched_owners_move(minik_sched_owners_t *o, const minik_sched_pod_t *p,
                             const char *old_zone, const char *new_zone)
{
    minik_sched_owner_zones_t *z = (minik_sched_owner_zones_t *)p->owner_group;
    if (!z)
        return;
    if (old_zone)
        bump(&z->zones, old_zone, -1);
    if (new_zone)
        bump(&z->zones, new_zone, 1);
}

int64_t minik_sched_owner_pods_on(const minik_sched_owner_zones_t *z, const minik_sched_node_t *n,
                                  const minik_sched_pod_t *except)
{
    if (!z)
        return 0;
    for (size_t i = 0; i < n->n_owner_counts; i++) {
        if (n->owner_counts[i].group != z)
            continue;
        int64_t count = (int64_t)n->owner_counts[i].pods;
        if (except && except->on_node == n && except->owner_group == z)
            count--;
        return count;
    }
    return 0;
}

static void free_owner(const char *key, void *value, void *ud)
{
    minik_sched_owner_zones_t *z = value;
    minik_strmap_clear(&z->zones);
    free(z);
}

void minik_sched_owners_clear(minik_sched_owners_t *o)
{
    minik_strmap_foreach(&o->by_owner, free_owner, NULL);
    minik_strmap_clear(&o->by_owner);
}
