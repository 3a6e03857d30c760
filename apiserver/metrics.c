#include "apiserver/metrics.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

typedef struct counter {
    const char *verb, *resource;
    int code;
    uint64_t n;
} counter_t;

typedef struct histogram {
    const char *verb;
    uint64_t le[N_BUCKETS];
    uint64_t count;
    double sum;
} histogram_t;

struct minik_metrics {
    counter_t *counters;
    size_t n_counters, cap_counters;
    histogram_t *hists;
    size_t n_hists, cap_hists;
};

minik_metrics_t *minik_metrics_new(void)
{
    return xcalloc(1, sizeof(minik_metrics_t));
}

void minik_metrics_free(minik_metrics_t *m)
{
    if (!m)
        return;
    free(m->counters);
    free(m->hists);
    free(m);
}

/* Label sets are few (verbs x resources x codes), so a linear scan is fine and keeps the
 * pointers stable for the static strings we key on. */
void minik_metrics_observe(minik_metrics_t *m, const char *verb, const char *resource, int code,
                           double seconds)
{
    verb = verb ? verb : "unknown";
    resource = resource ? resource : "unknown";
    counter_t *c = NULL;
    for (size_t i = 0; i < m->n_counters && !c; i++)
        if (m->counters[i].code == code && strcmp(m->counters[i].verb, verb) == 0 &&
            strcmp(m->counters[i].resource, resource) == 0)
            c = &m->counters[i];
    if (!c) {
        if (m->n_counters == m->cap_counters) {
            m->cap_counters = m->cap_counters ? m->cap_counters * 2 : 32;
            m->counters = xrealloc(m->counters, m->cap_counters * sizeof(*m->counters));
        }
        c = &m->counters[m->n_counters++];
        *c = (counter_t){verb, resource, code, 0};
    }
    c->n++;
    histogram_t *h = NULL;
    for (size_t i = 0; i < m->n_hists && !h; i++)
        if (strcmp(m->hists[i].verb, verb) == 0)
            h = &m->hists[i];
    if (!h) {
        if (m->n_hists == m->cap_hists) {
            m->cap_hists = m->cap_hists ? m->cap_hists * 2 : 8;
            m->hists = xrealloc(m->hists, m->cap_hists * sizeof(*m->hists));
        }
        h = &m->hists[m->n_hists++];
        memset(h, 0, sizeof(*h));
        h->verb = verb;
    }
    for (size_t i = 0; i < N_BUCKETS; i++)
        if (seconds <= buckets[i])
            h->le[i]++;
    h->count++;
    h->sum += seconds;
}

void minik_metrics_render(const minik_metrics_t *m, minik_buf_t *out)
{
    minik_buf_append_str(out, "# HELP minik_apiserver_requests_total API requests by verb, "
                              "resource and HTTP code.\n"
                              "# TYPE minik_apiserver_requests_total counter\n");
    for (size_t i = 0; i < m->n_counters; i++) {
        const counter_t *c = &m->counters[i];
        minik_buf_appendf(out,
                          "minik_apiserver_requests_total{verb=\"%s\",resource=\"%s\",code=\"%d\"} "
                          "%llu\n",
                          c->verb, c->resource, c->code, (unsigned long long)c->n);
    }
    minik_buf_append_str(out, "# HELP minik_apiserver_request_duration_seconds API request "
                              "latency by verb.\n"
                              "# TYPE minik_apiserver_request_duration_seconds histogram\n");
    for (size_t i = 0; i < m->n_hists; i++) {
        const histogram_t *h = &m->hists[i];
        for (size_t b = 0; b < N_BUCKETS; b++)
            minik_buf_appendf(out,
                              "minik_apiserver_request_duration_seconds_bucket{verb=\"%s\","
                              "le=\"%g\"} %llu\n",
                              h->verb, buckets[b], (unsigned long long)h->le[b]);
        minik_buf_appendf(out,
                          "minik_apiserver_request_duration_seconds_bucket{verb=\"%s\",le=\"+Inf\"}"
                          " %llu\n"
                          "minik_apiserver_request_duration_seconds_sum{verb=\"%s\"} %.6f\n"
                          "minik_apiserver_request_duration_seconds_count{verb=\"%s\"} %llu\n",
                          h->verb, (unsigned long long)h->count, h->verb, h->sum, h->verb,
                          (unsigned long long)h->count);
    }
}
