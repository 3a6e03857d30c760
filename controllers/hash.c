/* The pod-template hash: names a Deployment's revision (the ReplicaSet name suffix and the
 * pod-template-hash label), so the same template always maps to the same ReplicaSet and an
 * undo finds the old one again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/internal.h"
#include "lib/xalloc.h"

/* Sort an object's members by key, recursively, so that the JSON text is canonical
 * whatever order a client sent the fields in. */
static void canonicalize(cJSON *n)
{
    if (!n)
        return;
    for (cJSON *c = n->child; c; c = c->next)
        canonicalize(c);
    if (!cJSON_IsObject(n) || !n->child)
        return;
    /* Insertion sort of the child list (templates are small). */
    cJSON *sorted = NULL;
    cJSON *c = n->child;
    while (c) {
        cJSON *next = c->next;
        c->prev = c->next = NULL;
        if (!sorted || strcmp(c->string, sorted->string) < 0) {
            c->next = sorted;
            sorted = c;
        } else {
            cJSON *p = sorted;
            while (p->next && strcmp(p->next->string, c->string) <= 0)
                p = p->next;
            c->next = p->next;
            p->next = c;
        }
        c = next;
    }
    /* cJSON keeps child->prev pointing at the last element. */
    cJSON *last = sorted;
    for (cJSON *p = sorted; p; p = p->next) {
        if (p->next)
            p->next->prev = p;
        last = p;
    }
    if (sorted)
        sorted->prev = last;
    n->child = sorted;
}

static cJSON *stripped(const cJSON *tmpl)
{
    cJSON *t = tmpl ? cJSON_Duplicate(tmpl, 1) : cJSON_CreateObject();
    cJSON *labels = (cJSON *)minik_ctl_get(t, "metadata.labels");
    if (labels) {
        cJSON_DeleteItemFromObjectCaseSensitive(labels, MINIK_LABEL_TEMPLATE_HASH);
        cJSON_DeleteItemFromObjectCaseSensitive(labels, MINIK_LABEL_REVISION_HASH);
    }
    canonicalize(t);
    return t;
}

char *minik_ctl_template_hash(const cJSON *tmpl)
{
    cJSON *t = stripped(tmpl);
    char *text = cJSON_PrintUnformatted(t);
    cJSON_Delete(t);
    /* FNV-1a 32, as Kubernetes' ComputeHash uses. */
    uint32_t h = 2166136261u;
    for (const char *p = text; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    free(text);
    static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    char buf[16];
    size_t n = 0;
    do {
        buf[n++] = alphabet[h % (sizeof(alphabet) - 1)];
        h /= (sizeof(alphabet) - 1);
    } while (h && n < sizeof(buf) - 1);
    buf[n] = '\0';
    return xstrdup(buf);
}

bool minik_ctl_template_equal(const cJSON *a, const cJSON *b)
{
    cJSON *x = stripped(a), *y = stripped(b);
    bool eq = cJSON_Compare(x, y, 1);
    cJSON_Delete(x);
    cJSON_Delete(y);
    return eq;
}
