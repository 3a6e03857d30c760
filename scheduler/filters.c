/* The filter plugins. Wording and order follow kube-scheduler so that the message a user
 * reads for a Pending pod is the one they would search for. */
#include "scheduler/filters.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "lib/xalloc.h"

static bool fail(minik_sched_reasons_t *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static bool fail(minik_sched_reasons_t *out, const char *fmt, ...)
{
    if (out && out->n < MINIK_SCHED_MAX_REASONS) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(out->text[out->n], MINIK_SCHED_REASON_LEN, fmt, ap);
        va_end(ap);
        out->n++;
    }
    return false;
}

bool minik_sched_filter_unschedulable(const minik_sched_prefilter_t *pf,
                                      const minik_sched_pod_t *pod, const minik_sched_node_t *node,
                                      minik_sched_reasons_t *out)
{
    if (!node->unschedulable)
        return true;
    if (minik_sched_tolerates(pod, MINIK_TAINT_UNSCHEDULABLE, "", MINIK_TAINT_NO_SCHEDULE))
        return true;
    return fail(out, "%s", MINIK_REASON_UNSCHEDULABLE);
}

bool minik_sched_filter_taints(const minik_sched_prefilter_t *pf, const minik_sched_pod_t *pod,
                               const minik_sched_node_t *node, minik_sched_reasons_t *out)
{
    if (!node->ready &&
        !minik_sched_tolerates(pod, MINIK_TAINT_NOT_READY, "", MINIK_TAINT_NO_SCHEDULE))
        return fail(out, MINIK_REASON_TAINT_FMT, MINIK_TAINT_NOT_READY, "");
    /* The first untolerated taint is the one reported, as FindMatchingUntoleratedTaint. */
    for (size_t i = 0; i < node->n_taints; i++) {
        const minik_sched_taint_t *t = &node->taints[i];
        if (t->effect == MINIK_TAINT_PREFER_NO_SCHEDULE)
            continue;
        if (!minik_sched_tolerates(pod, t->key, t->value, t->effect))
            return fail(out, MINIK_REASON_TAINT_FMT, t->key, t->value);
    }
    return true;
}

static bool in_values(char *const *values, const char *v)
{
    for (size_t i = 0; values && values[i]; i++) {
        if (strcmp(values[i], v) == 0)
            return true;
    }
    return false;
}

static bool nsel_req_matches(const minik_sched_nsel_req_t *r, const char *v)
{
    switch (r->op) {
    case MINIK_NSEL_IN:
        return v && in_values(r->values, v);
    case MINIK_NSEL_NOT_IN:
        return !v || !in_values(r->values, v);
    case MINIK_NSEL_EXISTS:
        return v != NULL;
    case MINIK_NSEL_DOES_NOT_EXIST:
        return v == NULL;
    case MINIK_NSEL_GT:
    case MINIK_NSEL_LT: {
        /* A label that is not an integer matches neither, as in Kubernetes. */
        int64_t n;
        if (!v || minik_str_to_i64(v, INT64_MIN, INT64_MAX, &n, "label", NULL) < 0)
            return false;
        return r->op == MINIK_NSEL_GT ? n > r->number : n < r->number;
    }
    }
    return false;
}

bool minik_sched_nsel_term_matches(const minik_sched_nsel_term_t *t, const minik_sched_node_t *node)
{
    if (t->n_exprs == 0 && t->n_fields == 0)
        return false;
    for (size_t i = 0; i < t->n_exprs; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(node->labels, t->exprs[i].key);
        if (!nsel_req_matches(&t->exprs[i], cJSON_IsString(v) ? v->valuestring : NULL))
            return false;
    }
    for (size_t i = 0; i < t->n_fields; i++) {
        if (!nsel_req_matches(&t->fields[i], node->name))
            return false;
    }
    return true;
}

bool minik_sched_filter_node_affinity(const minik_sched_prefilter_t *pf,
                                      const minik_sched_pod_t *pod, const minik_sched_node_t *node,
                                      minik_sched_reasons_t *out)
{
    const cJSON *want;
    cJSON_ArrayForEach(want, pod->node_selector)
    {
        const cJSON *have = cJSON_GetObjectItemCaseSensitive(node->labels, want->string);
        if (!cJSON_IsString(have) || strcmp(have->valuestring, want->valuestring) != 0)
            return fail(out, "%s", MINIK_REASON_NODE_AFFINITY);
    }
    if (!pod->has_required)
        return true;
    for (size_t i = 0; i < pod->n_required; i++) {
        if (minik_sched_nsel_term_matches(&pod->required[i], node))
            return true;
    }
    return fail(out, "%s", MINIK_REASON_NODE_AFFINITY);
}

static bool ports_conflict(const minik_sched_port_t *a, const minik_sched_port_t *b)
{
    if (a->port != b->port || a->protocol != b->protocol)
        return false;
    /* 0.0.0.0 binds every address, so it collides with any hostIP on the same port. */
    return strcmp(a->host_ip, "0.0.0.0") == 0 || strcmp(b->host_ip, "0.0.0.0") == 0 ||
           strcmp(a->host_ip, b->host_ip) == 0;
}

bool minik_sched_filter_ports(const minik_sched_prefilter_t *pf, const minik_sched_pod_t *pod,
                              const minik_sched_node_t *node, minik_sched_reasons_t *out)
{
    if (pod->n_ports == 0)
        return true;
    for (size_t i = 0; i < node->n_pods; i++) {
        const minik_sched_pod_t *other = node->pods[i];
        for (size_t a = 0; a < pod->n_ports; a++) {
            for (size_t b = 0; b < other->n_ports; b++) {
                if (ports_conflict(&pod->ports[a], &other->ports[b]))
                    return fail(out, "%s", MINIK_REASON_PORTS);
            }
        }
    }
    return true;
}

bool minik_sched_filter_resources(const minik_sched_prefilter_t *pf, const minik_sched_pod_t *pod,
                                  const minik_sched_node_t *node, minik_sched_reasons_t *out)
{
    bool ok = true;
    /* Every shortage is reported, not just the first (NodeResourcesFit does the same). */
    if ((int64_t)node->n_pods + 1 > node->alloc.pods)
        ok = fail(out, "%s", MINIK_REASON_TOO_MANY_PODS);
    if (pod->req.milli_cpu > 0 &&
        pod->req.milli_cpu > node->alloc.milli_cpu - node->requested.milli_cpu)
        ok = fail(out, "%s", MINIK_REASON_CPU);
    if (pod->req.memory > 0 && pod->req.memory > node->alloc.memory - node->requested.memory)
        ok = fail(out, "%s", MINIK_REASON_MEMORY);
    return ok;
}

/* ---- pod anti-affinity ------------------------------------------------------------------ */

/* Does `term`, written in a pod of namespace `term_ns`, select pod `p`? */
static bool term_selects(const minik_sched_pod_term_t *term, const char *term_ns,
                         const minik_sched_pod_t *p)
{
    if (!term->all_namespaces) {
        if (term->namespaces ? !in_values(term->namespaces, p->ns) : strcmp(term_ns, p->ns) != 0)
            return false;
    }
    return minik_selector_matches(term->selector, p->labels);
}

static char *domain_key(const char *topology_key, const char *value)
{
    return xasprintf("%s\x1f%s", topology_key, value);
}

static void mark(minik_strmap_t *m, const char *topology_key, const char *value)
{
    char *k = domain_key(topology_key, value);
    minik_strmap_put(m, k, (void *)1);
    free(k);
}

static bool marked(const minik_strmap_t *m, const char *topology_key, const char *value)
{
    if (m->len == 0 || !value)
        return false;
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "%s\x1f%s", topology_key, value);
    if (n >= 0 && (size_t)n < sizeof(buf))
        return minik_strmap_get(m, buf) != NULL;
    char *k = domain_key(topology_key, value);
    bool r = minik_strmap_get(m, k) != NULL;
    free(k);
    return r;
}

static void add_key(char ***keys, size_t *n, const char *k)
{
    if (in_values(*keys, k))
        return;
    *keys = xrealloc(*keys, (*n + 2) * sizeof(char *));
    (*keys)[(*n)++] = xstrdup(k);
    (*keys)[*n] = NULL;
}

bool minik_sched_pod_term_selects(const minik_sched_pod_term_t *term, const char *term_ns,
                                  const minik_sched_pod_t *p)
{
    return term_selects(term, term_ns, p);
}

/* Does `p` match every term of `terms` (written in namespace `ns`)? */
static bool matches_all(const minik_sched_pod_term_t *terms, size_t n, const char *ns,
                        const minik_sched_pod_t *p)
{
    for (size_t t = 0; t < n; t++) {
        if (!term_selects(&terms[t], ns, p))
            return false;
    }
    return true;
}

void minik_sched_prefilter_init(minik_sched_prefilter_t *pf, const minik_sched_snapshot_t *snap,
                                const minik_sched_pod_t *pod)
{
    memset(pf, 0, sizeof(*pf));
    minik_sched_spread_init(&pf->spread, snap, pod);
    pf->self_affinity =
        pod->n_affinity > 0 && matches_all(pod->affinity, pod->n_affinity, pod->ns, pod);
    if (pod->n_anti == 0 && pod->n_affinity == 0 && !snap->any_pod_terms)
        return;
    for (size_t i = 0; i < snap->n_nodes; i++) {
        const minik_sched_node_t *node = snap->nodes[i];
        for (size_t j = 0; j < node->n_pods; j++) {
            const minik_sched_pod_t *other = node->pods[j];
            if (other == pod || (*pod->uid && strcmp(other->uid, pod->uid) == 0))
                continue;
            /* Required affinity counts pods that match all its terms (as Kubernetes). */
            if (pod->n_affinity > 0 &&
                matches_all(pod->affinity, pod->n_affinity, pod->ns, other)) {
                pf->affinity_matched = true;
                for (size_t t = 0; t < pod->n_affinity; t++) {
                    const char *v = minik_sched_node_label(node, pod->affinity[t].topology_key);
                    if (v)
                        mark(&pf->affinity, pod->affinity[t].topology_key, v);
                }
            }
            for (size_t t = 0; t < pod->n_anti; t++) {
                const minik_sched_pod_term_t *term = &pod->anti[t];
                const char *v = minik_sched_node_label(node, term->topology_key);
                if (v && term_selects(term, pod->ns, other))
                    mark(&pf->own, term->topology_key, v);
            }
            for (size_t t = 0; t < other->n_anti; t++) {
                const minik_sched_pod_term_t *term = &other->anti[t];
                const char *v = minik_sched_node_label(node, term->topology_key);
                if (!v || !term_selects(term, other->ns, pod))
                    continue;
                mark(&pf->existing, term->topology_key, v);
                add_key(&pf->existing_keys, &pf->n_existing_keys, term->topology_key);
            }
        }
    }
}

void minik_sched_prefilter_free(minik_sched_prefilter_t *pf)
{
    minik_strmap_clear(&pf->own);
    minik_strmap_clear(&pf->existing);
    minik_strmap_clear(&pf->affinity);
    minik_sched_spread_free(&pf->spread);
    minik_strv_free(pf->existing_keys);
    pf->existing_keys = NULL;
    pf->n_existing_keys = 0;
}

bool minik_sched_filter_pod_affinity(const minik_sched_prefilter_t *pf,
                                     const minik_sched_pod_t *pod, const minik_sched_node_t *node,
                                     minik_sched_reasons_t *out)
{
    if (!pf)
        return true;
    /* Kubernetes' order: affinity, the pod's anti-affinity, existing pods' anti-affinity. */
    if (pod->n_affinity > 0) {
        bool found = true;
        for (size_t t = 0; t < pod->n_affinity; t++) {
            const char *v = minik_sched_node_label(node, pod->affinity[t].topology_key);
            if (!v)
                return fail(out, "%s", MINIK_REASON_AFFINITY);
            if (!marked(&pf->affinity, pod->affinity[t].topology_key, v))
                found = false;
        }
        /* The first pod of a group that is affine to itself may go anywhere. */
        if (!found && !(!pf->affinity_matched && pf->self_affinity))
            return fail(out, "%s", MINIK_REASON_AFFINITY);
    }
    for (size_t t = 0; t < pod->n_anti; t++) {
        const char *k = pod->anti[t].topology_key;
        if (marked(&pf->own, k, minik_sched_node_label(node, k)))
            return fail(out, "%s", MINIK_REASON_ANTI_AFFINITY);
    }
    for (size_t i = 0; i < pf->n_existing_keys; i++) {
        const char *k = pf->existing_keys[i];
        if (marked(&pf->existing, k, minik_sched_node_label(node, k)))
            return fail(out, "%s", MINIK_REASON_EXISTING_ANTI);
    }
    return true;
}

bool minik_sched_filter_spread(const minik_sched_prefilter_t *pf, const minik_sched_pod_t *pod,
                               const minik_sched_node_t *node, minik_sched_reasons_t *out)
{
    const char *reason = NULL;
    if (!pf || pod->n_spread == 0 || minik_sched_spread_fits(&pf->spread, pod, node, &reason))
        return true;
    return fail(out, "%s", reason);
}

const minik_sched_filter_t minik_sched_filters[] = {
    {"NodeUnschedulable", minik_sched_filter_unschedulable},
    {"TaintToleration", minik_sched_filter_taints},
    {"NodeAffinity", minik_sched_filter_node_affinity},
    {"NodePorts", minik_sched_filter_ports},
    {"NodeResourcesFit", minik_sched_filter_resources},
    {"PodTopologySpread", minik_sched_filter_spread},
    {"InterPodAffinity", minik_sched_filter_pod_affinity},
    {NULL, NULL},
};

bool minik_sched_filter_node(const minik_sched_prefilter_t *pf, const minik_sched_pod_t *pod,
                             const minik_sched_node_t *node, minik_sched_reasons_t *out)
{
    for (const minik_sched_filter_t *f = minik_sched_filters; f->fn; f++) {
        if (!f->fn(pf, pod, node, out))
            return false;
    }
    return true;
}
