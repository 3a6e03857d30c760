/* Decoding Nodes and Pods into the scheduler's structs. Everything the filters need is
 * computed here once per object change, not once per (pod, node) pair. */
#include "scheduler/snapshot.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "proto/quantity.h"

const char *minik_taint_effect_name(minik_taint_effect_t e)
{
    static const char *const names[] = {
#define X(en, s) s,
        MINIK_TAINT_EFFECTS(X)
#undef X
    };
    if ((size_t)e < sizeof(names) / sizeof(names[0]))
        return names[e];
    return "";
}

static int effect_parse(const char *s, minik_taint_effect_t *out)
{
    static const char *const names[] = {
#define X(en, str) str,
        MINIK_TAINT_EFFECTS(X)
#undef X
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (minik_taint_effect_t)i;
            return 0;
        }
    }
    return -1;
}

/* ---- small JSON helpers -------------------------------------------------------------- */

static const cJSON *obj_get(const cJSON *o, const char *key)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

static const cJSON *path_get(const cJSON *o, const char *a, const char *b)
{
    return obj_get(obj_get(o, a), b);
}

static const char *str_or_null(const cJSON *v)
{
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The first problem found in a pod's scheduling fields; later ones are not reported. */
typedef struct pod_problem {
    char *msg;
} pod_problem_t;

static void problem(pod_problem_t *pp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(pod_problem_t *pp, const char *fmt, ...)
{
    if (pp->msg)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&pp->msg, fmt, ap) < 0)
        pp->msg = xstrdup("invalid pod spec");
    va_end(ap);
}

/* A quantity may arrive as a JSON string ("500m") or, from YAML/JSON numbers, as a
 * number (2, 0.5). */
static int quantity_of(const cJSON *v, minik_quantity_t *q, minik_error_t **err)
{
    if (cJSON_IsString(v))
        return minik_quantity_parse(v->valuestring, q, err);
    if (cJSON_IsNumber(v)) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%.17g", v->valuedouble);
        return minik_quantity_parse(buf, q, err);
    }
    return minik_error_set(err, 0, "quantity must be a string or a number");
}

/* ---- pods ---------------------------------------------------------------------------- */

typedef struct creq {
    minik_sched_res_t req, nonzero;
} creq_t;

static void res_add(minik_sched_res_t *a, const minik_sched_res_t *b)
{
    a->milli_cpu += b->milli_cpu;
    a->memory += b->memory;
}

static void res_max(minik_sched_res_t *a, const minik_sched_res_t *b)
{
    if (b->milli_cpu > a->milli_cpu)
        a->milli_cpu = b->milli_cpu;
    if (b->memory > a->memory)
        a->memory = b->memory;
}

/* Requests of one container. An absent request defaults to the limit, as the API server
 * defaults it; the scoring copy uses the scheduler's defaults when neither is set. */
static void container_requests(const cJSON *c, const char *where, pod_problem_t *pp, creq_t *out)
{
    memset(out, 0, sizeof(*out));
    const cJSON *res = obj_get(c, "resources");
    const cJSON *reqs = obj_get(res, "requests");
    const cJSON *lims = obj_get(res, "limits");
    static const char *const names[] = {"cpu", "memory"};
    for (int i = 0; i < 2; i++) {
        const cJSON *v = obj_get(reqs, names[i]);
        const char *from = "requests";
        if (!v) {
            v = obj_get(lims, names[i]);
            from = "limits";
        }
        if (!v) {
            if (i == 0)
                out->nonzero.milli_cpu = MINIK_SCHED_DEFAULT_MILLI_CPU;
            else
                out->nonzero.memory = MINIK_SCHED_DEFAULT_MEMORY;
            continue;
        }
        minik_quantity_t q;
        cleanup_error minik_error_t *e = NULL;
        if (quantity_of(v, &q, &e) < 0 || q.milli < 0) {
            problem(pp, "%s.resources.%s.%s: %s", where, from, names[i],
                    e ? e->msg : "must not be negative");
            continue;
        }
        if (i == 0)
            out->req.milli_cpu = out->nonzero.milli_cpu = q.milli;
        else
            out->req.memory = out->nonzero.memory = minik_quantity_value(&q);
    }
}

/* Kubernetes' AggregateContainerRequests: regular containers add up; each init container
 * runs alone (next to the restartable "sidecar" init containers started before it), so
 * the pod needs the larger of the two; sidecars also run alongside the app containers. */
static void pod_requests(minik_sched_pod_t *p, const cJSON *spec, pod_problem_t *pp)
{
    minik_sched_res_t req = {0}, nz = {0};
    const cJSON *c;
    int i = 0;
    cJSON_ArrayForEach(c, obj_get(spec, "containers"))
    {
        char where[64];
        snprintf(where, sizeof(where), "spec.containers[%d]", i++);
        creq_t cr;
        container_requests(c, where, pp, &cr);
        res_add(&req, &cr.req);
        res_add(&nz, &cr.nonzero);
    }
    minik_sched_res_t side = {0}, side_nz = {0}, init = {0}, init_nz = {0};
    i = 0;
    cJSON_ArrayForEach(c, obj_get(spec, "initContainers"))
    {
        char where[64];
        snprintf(where, sizeof(where), "spec.initContainers[%d]", i++);
        creq_t cr;
        container_requests(c, where, pp, &cr);
        if (minik_str_eq(str_or_null(obj_get(c, "restartPolicy")), "Always")) {
            res_add(&req, &cr.req);
            res_add(&nz, &cr.nonzero);
            res_add(&side, &cr.req);
            res_add(&side_nz, &cr.nonzero);
            res_max(&init, &side);
            res_max(&init_nz, &side_nz);
        } else {
            res_add(&cr.req, &side);
            res_add(&cr.nonzero, &side_nz);
            res_max(&init, &cr.req);
            res_max(&init_nz, &cr.nonzero);
        }
    }
    res_max(&req, &init);
    res_max(&nz, &init_nz);
    /* RuntimeClass overhead is charged on top of the containers. */
    const cJSON *ov = obj_get(spec, "overhead");
    if (ov) {
        minik_quantity_t q;
        cleanup_error minik_error_t *e = NULL;
        const cJSON *cpu = obj_get(ov, "cpu"), *mem = obj_get(ov, "memory");
        if (cpu && quantity_of(cpu, &q, &e) == 0 && q.milli >= 0) {
            req.milli_cpu += q.milli;
            nz.milli_cpu += q.milli;
        } else if (cpu) {
            problem(pp, "spec.overhead.cpu: %s", e ? e->msg : "must not be negative");
        }
        minik_error_clear(&e);
        if (mem && quantity_of(mem, &q, &e) == 0 && q.milli >= 0) {
            req.memory += minik_quantity_value(&q);
            nz.memory += minik_quantity_value(&q);
        } else if (mem) {
            problem(pp, "spec.overhead.memory: %s", e ? e->msg : "must not be negative");
        }
    }
    req.pods = nz.pods = 1;
    p->req = req;
    p->nonzero = nz;
}

static int protocol_parse(const char *s, minik_port_protocol_t *out)
{
    static const char *const names[] = {
#define X(e, str) str,
        MINIK_PORT_PROTOCOLS(X)
#undef X
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (minik_port_protocol_t)i;
            return 0;
        }
    }
    return -1;
}

static void pod_ports(minik_sched_pod_t *p, const cJSON *spec, pod_problem_t *pp)
{
    const cJSON *c;
    int ci = 0;
    cJSON_ArrayForEach(c, obj_get(spec, "containers"))
    {
        const cJSON *port;
        int pi = 0;
        cJSON_ArrayForEach(port, obj_get(c, "ports"))
        {
            const cJSON *hp = obj_get(port, "hostPort");
            if (!hp || (cJSON_IsNumber(hp) && hp->valuedouble == 0)) {
                pi++;
                continue;
            }
            if (!cJSON_IsNumber(hp) || hp->valuedouble < 1 || hp->valuedouble > 65535 ||
                hp->valuedouble != (double)(int32_t)hp->valuedouble) {
                problem(pp, "spec.containers[%d].ports[%d].hostPort: must be 1-65535", ci, pi);
                pi++;
                continue;
            }
            minik_port_protocol_t proto = MINIK_PORT_TCP;
            const char *ps = str_or_null(obj_get(port, "protocol"));
            if (ps && protocol_parse(ps, &proto) < 0) {
                problem(pp, "spec.containers[%d].ports[%d].protocol: unknown protocol \"%s\"", ci,
                        pi, ps);
                pi++;
                continue;
            }
            const char *ip = str_or_null(obj_get(port, "hostIP"));
            p->ports = xrealloc(p->ports, (p->n_ports + 1) * sizeof(*p->ports));
            minik_sched_port_t *sp = &p->ports[p->n_ports++];
            sp->host_ip = xstrdup(ip && *ip ? ip : "0.0.0.0");
            sp->port = (int32_t)hp->valuedouble;
            sp->protocol = proto;
            pi++;
        }
        ci++;
    }
}

static void pod_tolerations(minik_sched_pod_t *p, const cJSON *spec, pod_problem_t *pp)
{
    const cJSON *tols = obj_get(spec, "tolerations");
    int n = cJSON_IsArray(tols) ? cJSON_GetArraySize(tols) : 0;
    if (n == 0)
        return;
    p->tolerations = xcalloc((size_t)n, sizeof(*p->tolerations));
    const cJSON *t;
    int i = 0;
    cJSON_ArrayForEach(t, tols)
    {
        const char *key = str_or_null(obj_get(t, "key"));
        const char *op = str_or_null(obj_get(t, "operator"));
        const char *value = str_or_null(obj_get(t, "value"));
        const char *effect = str_or_null(obj_get(t, "effect"));
        minik_sched_toleration_t tol = {0};
        tol.effect = MINIK_TAINT_ANY_EFFECT;
        if (op && *op && strcmp(op, "Exists") != 0 && strcmp(op, "Equal") != 0) {
            problem(pp, "spec.tolerations[%d].operator: unknown operator \"%s\" (Equal or Exists)",
                    i, op);
            i++;
            continue;
        }
        if (effect && *effect && effect_parse(effect, &tol.effect) < 0) {
            problem(pp,
                    "spec.tolerations[%d].effect: unknown effect \"%s\" (NoSchedule, "
                    "PreferNoSchedule or NoExecute)",
                    i, effect);
            i++;
            continue;
        }
        tol.exists = op && strcmp(op, "Exists") == 0;
        tol.key = xstrdup(key ? key : "");
        tol.value = xstrdup(value ? value : "");
        p->tolerations[p->n_tolerations++] = tol;
        i++;
    }
}

static int nsel_op_parse(const char *s, minik_nsel_op_t *out)
{
    static const char *const names[] = {
#define X(e, str) str,
        MINIK_NODE_SEL_OPS(X)
#undef X
    };
    for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (minik_nsel_op_t)i;
            return 0;
        }
    }
    return -1;
}

static void nsel_req_free(minik_sched_nsel_req_t *r)
{
    free(r->key);
    minik_strv_free(r->values);
}

static void nsel_term_free(minik_sched_nsel_term_t *t)
{
    for (size_t i = 0; i < t->n_exprs; i++)
        nsel_req_free(&t->exprs[i]);
    for (size_t i = 0; i < t->n_fields; i++)
        nsel_req_free(&t->fields[i]);
    free(t->exprs);
    free(t->fields);
}

/* Decode a list of NodeSelectorRequirements; `fields` restricts keys to metadata.name
 * and operators to In/NotIn, as the API does for matchFields. */
static void nsel_reqs(const cJSON *arr, bool fields, const char *where, pod_problem_t *pp,
                      minik_sched_nsel_req_t **out, size_t *n_out)
{
    int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
    if (arr && !cJSON_IsArray(arr))
        problem(pp, "%s: must be a list", where);
    if (n == 0)
        return;
    *out = xcalloc((size_t)n, sizeof(**out));
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, arr)
    {
        const char *key = str_or_null(obj_get(e, "key"));
        const char *ops = str_or_null(obj_get(e, "operator"));
        const cJSON *vals = obj_get(e, "values");
        minik_sched_nsel_req_t r = {0};
        int nv = cJSON_IsArray(vals) ? cJSON_GetArraySize(vals) : 0;
        if (!key || !*key) {
            problem(pp, "%s[%d].key: required", where, i);
            goto next;
        }
        if (nsel_op_parse(ops, &r.op) < 0) {
            problem(pp,
                    "%s[%d].operator: unknown operator \"%s\" (In, NotIn, Exists, DoesNotExist, "
                    "Gt, Lt)",
                    where, i, ops ? ops : "");
            goto next;
        }
        if (fields && (strcmp(key, "metadata.name") != 0 ||
                       (r.op != MINIK_NSEL_IN && r.op != MINIK_NSEL_NOT_IN))) {
            problem(pp, "%s[%d]: only metadata.name with In or NotIn is supported", where, i);
            goto next;
        }
        if ((r.op == MINIK_NSEL_IN || r.op == MINIK_NSEL_NOT_IN) && nv == 0) {
            problem(pp, "%s[%d].values: must be non-empty for %s", where, i, ops);
            goto next;
        }
        if ((r.op == MINIK_NSEL_EXISTS || r.op == MINIK_NSEL_DOES_NOT_EXIST) && nv != 0) {
            problem(pp, "%s[%d].values: must be empty for %s", where, i, ops);
            goto next;
        }
        r.values = xcalloc((size_t)nv + 1, sizeof(char *));
        {
            const cJSON *v, *walk = nv > 0 ? vals : NULL;
            int j = 0;
            cJSON_ArrayForEach(v, walk)
            {
                if (!cJSON_IsString(v)) {
                    problem(pp, "%s[%d].values[%d]: must be a string", where, i, j);
                    minik_strv_free(r.values);
                    goto next;
                }
                r.values[j++] = xstrdup(v->valuestring);
            }
        }
        if (r.op == MINIK_NSEL_GT || r.op == MINIK_NSEL_LT) {
            cleanup_error minik_error_t *err = NULL;
            if (nv != 1 ||
                minik_str_to_i64(r.values[0], INT64_MIN, INT64_MAX, &r.number, "value", &err) < 0) {
                problem(pp, "%s[%d].values: %s needs exactly one integer value", where, i, ops);
                minik_strv_free(r.values);
                goto next;
            }
        }
        r.key = xstrdup(key);
        (*out)[(*n_out)++] = r;
    next:
        i++;
    }
}

static void nsel_term(const cJSON *term, const char *where, pod_problem_t *pp,
                      minik_sched_nsel_term_t *t)
{
    char w[160];
    snprintf(w, sizeof(w), "%s.matchExpressions", where);
    nsel_reqs(obj_get(term, "matchExpressions"), false, w, pp, &t->exprs, &t->n_exprs);
    snprintf(w, sizeof(w), "%s.matchFields", where);
    nsel_reqs(obj_get(term, "matchFields"), true, w, pp, &t->fields, &t->n_fields);
}

static void pod_node_affinity(minik_sched_pod_t *p, const cJSON *spec, pod_problem_t *pp)
{
    const cJSON *ns = obj_get(spec, "nodeSelector");
    if (ns && !cJSON_IsNull(ns)) {
        const cJSON *v;
        bool ok = cJSON_IsObject(ns);
        const cJSON *walk = ok ? ns : NULL;
        cJSON_ArrayForEach(v, walk) ok = ok && cJSON_IsString(v);
        if (ok)
            p->node_selector = ns;
        else
            problem(pp, "spec.nodeSelector: must map label names to strings");
    }
    const cJSON *na = path_get(spec, "affinity", "nodeAffinity");
    const cJSON *req = obj_get(na, "requiredDuringSchedulingIgnoredDuringExecution");
    if (req && !cJSON_IsNull(req)) {
        const cJSON *terms = obj_get(req, "nodeSelectorTerms");
        int n = cJSON_IsArray(terms) ? cJSON_GetArraySize(terms) : 0;
        p->has_required = true;
        if (terms && !cJSON_IsArray(terms))
            problem(pp, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
                        "nodeSelectorTerms: must be a list");
        if (n > 0)
            p->required = xcalloc((size_t)n, sizeof(*p->required));
        const cJSON *t, *walk = n > 0 ? terms : NULL;
        cJSON_ArrayForEach(t, walk)
        {
            char where[128];
            snprintf(where, sizeof(where),
                     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
                     "nodeSelectorTerms[%zu]",
                     p->n_required);
            nsel_term(t, where, pp, &p->required[p->n_required++]);
        }
    }
    const cJSON *pref = obj_get(na, "preferredDuringSchedulingIgnoredDuringExecution");
    int n = cJSON_IsArray(pref) ? cJSON_GetArraySize(pref) : 0;
    if (n > 0)
        p->preferred = xcalloc((size_t)n, sizeof(*p->preferred));
    const cJSON *t, *walk = n > 0 ? pref : NULL;
    cJSON_ArrayForEach(t, walk)
    {
        char where[128];
        size_t i = p->n_preferred;
        snprintf(where, sizeof(where),
                 "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[%zu]",
                 i);
        const cJSON *w = obj_get(t, "weight");
        minik_sched_nsel_term_t *term = &p->preferred[p->n_preferred++];
        if (!cJSON_IsNumber(w) || w->valuedouble < 1 || w->valuedouble > 100) {
            problem(pp, "%s.weight: must be 1-100", where);
            continue;
        }
        term->weight = (int32_t)w->valuedouble;
        char pw[160];
        snprintf(pw, sizeof(pw), "%s.preference", where);
        nsel_term(obj_get(t, "preference"), pw, pp, term);
    }
}

/* Decode a list of PodAffinityTerms (or, `weighted`, of WeightedPodAffinityTerms) at
 * `where` into *out. */
static void pod_terms(const cJSON *list, bool weighted, const char *where, pod_problem_t *pp,
                      minik_sched_pod_term_t **out, size_t *n_out)
{
    if (list && !cJSON_IsNull(list) && !cJSON_IsArray(list)) {
        problem(pp, "%s: must be a list", where);
        return;
    }
    int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0;
    if (n == 0)
        return;
    *out = xcalloc((size_t)n, sizeof(**out));
    const cJSON *item;
    int i = 0;
    cJSON_ArrayForEach(item, list)
    {
        const cJSON *t = item;
        minik_sched_pod_term_t term = {0};
        if (weighted) {
            const cJSON *w = obj_get(item, "weight");
            if (!cJSON_IsNumber(w) || w->valuedouble < 1 || w->valuedouble > 100) {
                problem(pp, "%s[%d].weight: must be 1-100", where, i);
                i++;
                continue;
            }
            term.weight = (int32_t)w->valuedouble;
            t = obj_get(item, "podAffinityTerm");
        }
        const char *sub = weighted ? ".podAffinityTerm" : "";
        const char *tk = str_or_null(obj_get(t, "topologyKey"));
        if (!tk || !*tk) {
            problem(pp, "%s[%d]%s.topologyKey: required", where, i, sub);
            i++;
            continue;
        }
        cleanup_error minik_error_t *e = NULL;
        if (minik_selector_from_json(obj_get(t, "labelSelector"), &term.selector, &e) < 0) {
            problem(pp, "%s[%d]%s.labelSelector: %s", where, i, sub, e->msg);
            i++;
            continue;
        }
        const cJSON *nss = obj_get(t, "namespaces");
        int nn = cJSON_IsArray(nss) ? cJSON_GetArraySize(nss) : 0;
        if (nn > 0) {
            term.namespaces = xcalloc((size_t)nn + 1, sizeof(char *));
            const cJSON *v;
            int j = 0;
            cJSON_ArrayForEach(v, nss)
            {
                if (cJSON_IsString(v))
                    term.namespaces[j++] = xstrdup(v->valuestring);
            }
        }
        /* namespaceSelector {} selects every namespace. A non-empty one would need the
         * Namespace objects' labels, which minik does not keep: it adds no namespaces. */
        const cJSON *nsel = obj_get(t, "namespaceSelector");
        if (cJSON_IsObject(nsel) && nsel->child == NULL)
            term.all_namespaces = true;
        term.topology_key = xstrdup(tk);
        (*out)[(*n_out)++] = term;
        i++;
    }
}

static void pod_inter_pod(minik_sched_pod_t *p, const cJSON *spec, pod_problem_t *pp)
{
    static const char req[] = "requiredDuringSchedulingIgnoredDuringExecution";
    static const char pref[] = "preferredDuringSchedulingIgnoredDuringExecution";
    const cJSON *anti = path_get(spec, "affinity", "podAntiAffinity");
    const cJSON *aff = path_get(spec, "affinity", "podAffinity");
    char where[96];
    snprintf(where, sizeof(where), "spec.affinity.podAntiAffinity.%s", req);
    pod_terms(obj_get(anti, req), false, where, pp, &p->anti, &p->n_anti);
    snprintf(where, sizeof(where), "spec.affinity.podAffinity.%s", req);
    pod_terms(obj_get(aff, req), false, where, pp, &p->affinity, &p->n_affinity);
    snprintf(where, sizeof(where), "spec.affinity.podAntiAffinity.%s", pref);
    pod_terms(obj_get(anti, pref), true, where, pp, &p->pref_anti, &p->n_pref_anti);
    snprintf(where, sizeof(where), "spec.affinity.podAffinity.%s", pref);
    pod_terms(obj_get(aff, pref), true, where, pp, &p->pref_affinity, &p->n_pref_affinity);
}

static bool policy_of(const cJSON *v, bool dflt_honor, const char *where, int i, const char *field,
                      pod_problem_t *pp)
{
    const char *s = str_or_null(v);
    if (!v || !s)
        return dflt_honor;
    if (strcmp(s, "Honor") == 0)
        return true;
    if (strcmp(s, "Ignore") != 0)
        problem(pp, "%s[%d].%s: unknown policy \"%s\" (Honor or Ignore)", where, i, field, s);
    return false;
}

static void pod_spread(minik_sched_pod_t *p, const cJSON *spec, pod_problem_t *pp)
{
    static const char where[] = "spec.topologySpreadConstraints";
    const cJSON *list = obj_get(spec, "topologySpreadConstraints");
    if (list && !cJSON_IsNull(list) && !cJSON_IsArray(list)) {
        problem(pp, "%s: must be a list", where);
        return;
    }
    int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0;
    if (n == 0)
        return;
    p->spread = xcalloc((size_t)n, sizeof(*p->spread));
    const cJSON *c;
    int i = 0;
    cJSON_ArrayForEach(c, list)
    {
        minik_sched_spread_t sc = {0};
        const cJSON *skew = obj_get(c, "maxSkew");
        const char *tk = str_or_null(obj_get(c, "topologyKey"));
        const char *when = str_or_null(obj_get(c, "whenUnsatisfiable"));
        const cJSON *md = obj_get(c, "minDomains");
        if (!cJSON_IsNumber(skew) || skew->valuedouble < 1 || skew->valuedouble > INT32_MAX) {
            problem(pp, "%s[%d].maxSkew: must be a positive integer", where, i++);
            continue;
        }
        if (!tk || !*tk) {
            problem(pp, "%s[%d].topologyKey: required", where, i++);
            continue;
        }
        if (!when || (strcmp(when, "DoNotSchedule") != 0 && strcmp(when, "ScheduleAnyway") != 0)) {
            problem(pp, "%s[%d].whenUnsatisfiable: must be DoNotSchedule or ScheduleAnyway", where,
                    i++);
            continue;
        }
        if (md && (!cJSON_IsNumber(md) || md->valuedouble < 1 || md->valuedouble > INT32_MAX)) {
            problem(pp, "%s[%d].minDomains: must be a positive integer", where, i++);
            continue;
        }
        /* matchLabelKeys: the pod's own values for those keys join the selector (so a
         * rollout's new pods spread among themselves, keyed by pod-template-hash). */
        cleanup_cjson cJSON *sel = cJSON_IsObject(obj_get(c, "labelSelector"))
                                       ? cJSON_Duplicate(obj_get(c, "labelSelector"), true)
                                       : NULL;
        const cJSON *k;
        cJSON_ArrayForEach(k, obj_get(c, "matchLabelKeys"))
        {
            const char *v =
                cJSON_IsString(k) ? str_or_null(obj_get(p->labels, k->valuestring)) : NULL;
            if (!v)
                continue;
            if (!sel)
                sel = cJSON_CreateObject();
            cJSON *ml = cJSON_GetObjectItemCaseSensitive(sel, "matchLabels");
            if (!cJSON_IsObject(ml)) {
                cJSON_DeleteItemFromObjectCaseSensitive(sel, "matchLabels");
                ml = cJSON_AddObjectToObject(sel, "matchLabels");
            }
            cJSON_DeleteItemFromObjectCaseSensitive(ml, k->valuestring);
            cJSON_AddStringToObject(ml, k->valuestring, v);
        }
        cleanup_error minik_error_t *e = NULL;
        if (minik_selector_from_json(sel, &sc.selector, &e) < 0) {
            problem(pp, "%s[%d].labelSelector: %s", where, i++, e->msg);
            continue;
        }
        sc.max_skew = (int32_t)skew->valuedouble;
        sc.topology_key = xstrdup(tk);
        sc.hard = strcmp(when, "DoNotSchedule") == 0;
        sc.min_domains = md ? (int32_t)md->valuedouble : 0;
        sc.honor_affinity =
            policy_of(obj_get(c, "nodeAffinityPolicy"), true, where, i, "nodeAffinityPolicy", pp);
        sc.honor_taints =
            policy_of(obj_get(c, "nodeTaintsPolicy"), false, where, i, "nodeTaintsPolicy", pp);
        p->spread[p->n_spread++] = sc;
        i++;
    }
}

bool minik_sched_pod_has_pod_terms(const minik_sched_pod_t *p)
{
    return p->n_anti || p->n_affinity || p->n_pref_affinity || p->n_pref_anti;
}

int minik_sched_pod_new(const cJSON *pod, minik_sched_pod_t **out, minik_error_t **err)
{
    const cJSON *meta = obj_get(pod, "metadata");
    const char *name = str_or_null(obj_get(meta, "name"));
    if (!name || !*name)
        return minik_error_set_code(err, 422, 0, "pod: metadata.name: required");
    minik_sched_pod_t *p = xcalloc(1, sizeof(*p));
    p->obj = cJSON_Duplicate(pod, true);
    meta = obj_get(p->obj, "metadata");
    p->name = str_or_null(obj_get(meta, "name"));
    p->ns = str_or_null(obj_get(meta, "namespace"));
    if (!p->ns || !*p->ns)
        p->ns = "default";
    p->uid = str_or_null(obj_get(meta, "uid"));
    if (!p->uid)
        p->uid = "";
    p->labels = obj_get(meta, "labels");
    if (p->labels && !cJSON_IsObject(p->labels))
        p->labels = NULL;
    const cJSON *ref;
    cJSON_ArrayForEach(ref, obj_get(meta, "ownerReferences"))
    {
        if (cJSON_IsTrue(obj_get(ref, "controller")) && str_or_null(obj_get(ref, "uid"))) {
            p->owner_uid = obj_get(ref, "uid")->valuestring;
            p->owner_hash = 1469598103934665603ULL; /* FNV-1a */
            for (const char *c = p->owner_uid; *c; c++)
                p->owner_hash = (p->owner_hash ^ (unsigned char)*c) * 1099511628211ULL;
            break;
        }
    }
    p->terminating = obj_get(meta, "deletionTimestamp") != NULL &&
                     !cJSON_IsNull(obj_get(meta, "deletionTimestamp"));
    const cJSON *spec = obj_get(p->obj, "spec");
    p->node_name = str_or_null(obj_get(spec, "nodeName"));
    if (p->node_name && !*p->node_name)
        p->node_name = NULL;
    p->scheduler_name = str_or_null(obj_get(spec, "schedulerName"));
    if (!p->scheduler_name || !*p->scheduler_name)
        p->scheduler_name = MINIK_DEFAULT_SCHEDULER_NAME;
    const char *phase = str_or_null(path_get(p->obj, "status", "phase"));
    p->finished = minik_str_eq(phase, "Succeeded") || minik_str_eq(phase, "Failed");

    pod_problem_t pp = {NULL};
    pod_requests(p, spec, &pp);
    pod_ports(p, spec, &pp);
    pod_tolerations(p, spec, &pp);
    pod_node_affinity(p, spec, &pp);
    pod_inter_pod(p, spec, &pp);
    pod_spread(p, spec, &pp);
    p->invalid = pp.msg;
    *out = p;
    return 0;
}

static void terms_free(minik_sched_pod_term_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        minik_selector_free(t[i].selector);
        minik_strv_free(t[i].namespaces);
        free(t[i].topology_key);
    }
    free(t);
}

void minik_sched_pod_free(minik_sched_pod_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_ports; i++)
        free(p->ports[i].host_ip);
    free(p->ports);
    for (size_t i = 0; i < p->n_tolerations; i++) {
        free(p->tolerations[i].key);
        free(p->tolerations[i].value);
    }
    free(p->tolerations);
    for (size_t i = 0; i < p->n_required; i++)
        nsel_term_free(&p->required[i]);
    free(p->required);
    for (size_t i = 0; i < p->n_preferred; i++)
        nsel_term_free(&p->preferred[i]);
    free(p->preferred);
    terms_free(p->anti, p->n_anti);
    terms_free(p->affinity, p->n_affinity);
    terms_free(p->pref_affinity, p->n_pref_affinity);
    terms_free(p->pref_anti, p->n_pref_anti);
    for (size_t i = 0; i < p->n_spread; i++) {
        minik_selector_free(p->spread[i].selector);
        free(p->spread[i].topology_key);
    }
    free(p->spread);
    free(p->assumed_node);
    free(p->invalid);
    cJSON_Delete(p->obj);
    free(p);
}

bool minik_sched_tolerates(const minik_sched_pod_t *p, const char *key, const char *value,
                           minik_taint_effect_t effect)
{
    for (size_t i = 0; i < p->n_tolerations; i++) {
        const minik_sched_toleration_t *t = &p->tolerations[i];
        if (t->effect != MINIK_TAINT_ANY_EFFECT && t->effect != effect)
            continue;
        if (*t->key && strcmp(t->key, key) != 0)
            continue;
        if (t->exists || strcmp(t->value, value) == 0)
            return true;
    }
    return false;
}

/* ---- nodes --------------------------------------------------------------------------- */

static int64_t alloc_of(const cJSON *status, const char *res, const char *node, bool is_cpu,
                        int64_t dflt)
{
    const cJSON *v = path_get(status, "allocatable", res);
    if (!v)
        v = path_get(status, "capacity", res);
    if (!v)
        return dflt;
    minik_quantity_t q;
    cleanup_error minik_error_t *e = NULL;
    if (quantity_of(v, &q, &e) < 0 || q.milli < 0) {
        cleanup_free char *what = xasprintf("status.allocatable.%s", res);
        minik_log_warn("node resource unusable, counted as 0", "node", node, "field", what, "error",
                       e ? e->msg : "negative", NULL);
        return 0;
    }
    return is_cpu ? q.milli : minik_quantity_value(&q);
}

static void node_clear(minik_sched_node_t *n)
{
    for (size_t i = 0; i < n->n_taints; i++) {
        free(n->taints[i].key);
        free(n->taints[i].value);
    }
    free(n->taints);
    n->taints = NULL;
    n->n_taints = 0;
    cJSON_Delete(n->obj);
    n->obj = NULL;
}

int minik_sched_node_update(minik_sched_node_t *n, const cJSON *node, bool ready,
                            minik_error_t **err)
{
    const char *name = str_or_null(path_get(node, "metadata", "name"));
    if (!name || !*name)
        return minik_error_set_code(err, 422, 0, "node: metadata.name: required");
    node_clear(n);
    n->obj = cJSON_Duplicate(node, true);
    n->name = path_get(n->obj, "metadata", "name")->valuestring;
    n->labels = path_get(n->obj, "metadata", "labels");
    if (n->labels && !cJSON_IsObject(n->labels))
        n->labels = NULL;
    n->ready = ready;
    n->zone = str_or_null(obj_get(n->labels, MINIK_LABEL_ZONE));
    if (!n->zone)
        n->zone = str_or_null(obj_get(n->labels, MINIK_LABEL_ZONE_LEGACY));
    const cJSON *spec = obj_get(n->obj, "spec");
    n->unschedulable = cJSON_IsTrue(obj_get(spec, "unschedulable"));
    const cJSON *status = obj_get(n->obj, "status");
    n->alloc.milli_cpu = alloc_of(status, "cpu", n->name, true, 0);
    n->alloc.memory = alloc_of(status, "memory", n->name, false, 0);
    n->alloc.pods = alloc_of(status, "pods", n->name, false, MINIK_SCHED_DEFAULT_MAX_PODS);
    const cJSON *taints = obj_get(spec, "taints");
    int nt = cJSON_IsArray(taints) ? cJSON_GetArraySize(taints) : 0;
    if (nt > 0)
        n->taints = xcalloc((size_t)nt, sizeof(*n->taints));
    const cJSON *t, *walk = nt > 0 ? taints : NULL;
    cJSON_ArrayForEach(t, walk)
    {
        const char *key = str_or_null(obj_get(t, "key"));
        const char *value = str_or_null(obj_get(t, "value"));
        const char *effect = str_or_null(obj_get(t, "effect"));
        minik_taint_effect_t e;
        if (!key || !effect || effect_parse(effect, &e) < 0) {
            /* A taint we cannot read still keeps pods off the node: fail safe. */
            minik_log_warn("node taint unreadable, treated as NoSchedule", "node", n->name, NULL);
            e = MINIK_TAINT_NO_SCHEDULE;
        }
        n->taints[n->n_taints].key = xstrdup(key ? key : "");
        n->taints[n->n_taints].value = xstrdup(value ? value : "");
        n->taints[n->n_taints].effect = e;
        n->n_taints++;
    }
    return 0;
}

int minik_sched_node_new(const cJSON *node, bool ready, minik_sched_node_t **out,
                         minik_error_t **err)
{
    minik_sched_node_t *n = xcalloc(1, sizeof(*n));
    int r = minik_sched_node_update(n, node, ready, err);
    if (r < 0) {
        free(n);
        return r;
    }
    *out = n;
    return 0;
}

void minik_sched_node_free(minik_sched_node_t *n)
{
    if (!n)
        return;
    node_clear(n);
    free(n->pods);
    free(n->owner_counts);
    free(n);
}

static void count_owner(minik_sched_node_t *n, const struct minik_sched_owner_zones *group,
                        bool add)
{
    for (size_t i = 0; i < n->n_owner_counts; i++) {
        if (n->owner_counts[i].group != group)
            continue;
        if (add)
            n->owner_counts[i].pods++;
        else if (--n->owner_counts[i].pods == 0)
            n->owner_counts[i] = n->owner_counts[--n->n_owner_counts];
        return;
    }
    if (!add)
        return;
    if (n->n_owner_counts == n->cap_owner_counts) {
        n->cap_owner_counts = n->cap_owner_counts ? n->cap_owner_counts * 2 : 4;
        n->owner_counts = xrealloc(n->owner_counts, n->cap_owner_counts * sizeof(*n->owner_counts));
    }
    n->owner_counts[n->n_owner_counts].group = group;
    n->owner_counts[n->n_owner_counts++].pods = 1;
}

void minik_sched_node_add_pod(minik_sched_node_t *n, minik_sched_pod_t *p)
{
    if (n->n_pods == n->cap_pods) {
        n->cap_pods = n->cap_pods ? n->cap_pods * 2 : 8;
        n->pods = xrealloc(n->pods, n->cap_pods * sizeof(*n->pods));
    }
    n->pods[n->n_pods++] = p;
    p->on_node = n;
    if (p->owner_group)
        count_owner(n, p->owner_group, true);
    res_add(&n->requested, &p->req);
    n->requested.pods += 1;
    res_add(&n->nonzero_requested, &p->nonzero);
    n->nonzero_requested.pods += 1;
}

bool minik_sched_node_remove_pod(minik_sched_node_t *n, const minik_sched_pod_t *p)
{
    for (size_t i = 0; i < n->n_pods; i++) {
        if (n->pods[i] != p)
            continue;
        /* Order does not matter to placement: swap with the last. */
        n->pods[i] = n->pods[--n->n_pods];
        ((minik_sched_pod_t *)p)->on_node = NULL;
        if (p->owner_group)
            count_owner(n, p->owner_group, false);
        n->requested.milli_cpu -= p->req.milli_cpu;
        n->requested.memory -= p->req.memory;
        n->requested.pods -= 1;
        n->nonzero_requested.milli_cpu -= p->nonzero.milli_cpu;
        n->nonzero_requested.memory -= p->nonzero.memory;
        n->nonzero_requested.pods -= 1;
        return true;
    }
    return false;
}

const char *minik_sched_node_label(const minik_sched_node_t *n, const char *key)
{
    const char *v = str_or_null(obj_get(n->labels, key));
    if (!v && strcmp(key, MINIK_LABEL_HOSTNAME) == 0)
        return n->name;
    return v;
}
